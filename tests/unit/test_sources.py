"""Inbound source declarations and readers: validation, paging, auth, retries, mapping, blobs.

HTTP is mocked with ``responses``; ``tests/sandbox/test_source_api.py`` reads the sandbox's
source API over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from pydantic import TypeAdapter, ValidationError
from responses import matchers

from lx_core import deadline
from lx_core.errors import (
    BlobNotFoundError,
    ConfigurationError,
    LxError,
    SourceError,
    SourceUnavailableError,
)
from lx_core.integration import sources
from lx_core.integration.sources import (
    BlobSource,
    HttpsJsonSource,
    JMESPath,
    NextLinkPaging,
    PageParamPaging,
    Source,
    read_source,
)
from lx_core.leanix.testing import FakeClock
from lx_core.storage.memory import MemoryBlobStore

SECRET = "s3cr3t-token-value"
API = "https://apps.example.com/api/items"
SOURCE = TypeAdapter(Source)
MAPPING: dict[str, Any] = {
    "items": "items",
    "id": "id",
    "type": "'Application'",
    "data": {"name": "attributes.name", "phase": "attributes.lifecycle.phase"},
}


def _source(**overrides: Any) -> HttpsJsonSource:
    doc: dict[str, Any] = {"kind": "https", "url": API, "mapping": MAPPING}
    doc.update(overrides)
    parsed = SOURCE.validate_python(doc)
    assert isinstance(parsed, HttpsJsonSource)
    return parsed


def _app(i: int) -> dict[str, Any]:
    return {
        "id": f"app-{i}",
        "attributes": {"name": f"App {i}", "lifecycle": {"phase": "active"}},
    }


def _errors(doc: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as info:
        SOURCE.validate_python(doc)
    return [(tuple(e["loc"]), e["msg"]) for e in info.value.errors()]


class Sleeps:
    """A sleep that records its waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


# ---------------------------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------------------------


def test_a_full_https_declaration_validates_and_round_trips() -> None:
    source = _source(
        auth={"setting": "APPS_TOKEN"},
        paging={"nextLink": "links.next"},
        maxPages=20,
        timeoutSeconds=5,
    )
    assert isinstance(source.paging, NextLinkPaging)
    assert source.paging.next_link == JMESPath("links.next")
    assert source.auth is not None and source.auth.header == "Authorization"
    assert source.auth.scheme == "Bearer"
    dumped = source.model_dump(by_alias=True, mode="json")
    assert dumped["paging"] == {"nextLink": "links.next"}
    assert dumped["mapping"]["data"]["phase"] == "attributes.lifecycle.phase"
    assert SOURCE.validate_python(json.loads(json.dumps(dumped))) == source


def test_paging_kinds_are_told_apart_by_their_keys() -> None:
    page = _source(paging={"pageParam": "p", "start": 0, "sizeParam": "n", "size": 50}).paging
    assert isinstance(page, PageParamPaging)
    assert (page.page_param, page.start, page.size_param, page.size) == ("p", 0, "n", 50)
    assert isinstance(_source(paging={}).paging, PageParamPaging)
    assert isinstance(_source(paging={"nextLink": "next"}).paging, NextLinkPaging)


def test_a_bad_jmespath_is_one_error_naming_its_field() -> None:
    errors = _errors({"kind": "https", "url": API, "mapping": {**MAPPING, "id": "a[?b=="}})
    assert len(errors) == 1
    loc, message = errors[0]
    assert loc == ("https", "mapping", "id")
    assert "invalid JMESPath expression 'a[?b=='" in message and "\n" not in message


def test_the_deprecated_backtick_string_literal_is_refused() -> None:
    ((loc, message),) = _errors(
        {"kind": "https", "url": API, "mapping": {**MAPPING, "type": "`App`"}}
    )
    assert loc == ("https", "mapping", "type") and "'text'" in message
    assert JMESPath('`"App"`').search({}) == "App" == JMESPath("'App'").search({})


def test_a_bad_data_expression_names_its_key() -> None:
    mapping = {**MAPPING, "data": {"name": "attributes.name", "owner": "owner.["}}
    (loc, _), *_ = _errors({"kind": "https", "url": API, "mapping": mapping})
    assert loc == ("https", "mapping", "data", "owner")


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://apps.example.com/x?api-version=2", True),
        ("http://127.0.0.1:8080/items", True),
        ("http://localhost/items", True),
        ("http://[::1]:9/items", True),
        ("%APPS_URL%", True),
        ("http://apps.example.com/items", False),
        ("https://user:pw@apps.example.com/", False),
        ("https://apps.example.com/#frag", False),
        ("ftp://apps.example.com/", False),
        ("apps.example.com/items", False),
    ],
)
def test_source_urls(url: str, accepted: bool) -> None:
    doc = {"kind": "https", "url": url, "mapping": MAPPING}
    if accepted:
        SOURCE.validate_python(doc)
    else:
        ((loc, _),) = _errors(doc)
        assert loc == ("https", "url")


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"kind": "https", "url": API, "mapping": MAPPING, "extra": 1}, ("https", "extra")),
        (
            {"kind": "https", "url": API, "mapping": {**MAPPING, "x": "y"}},
            ("https", "mapping", "x"),
        ),
        (
            {"kind": "https", "url": API, "mapping": MAPPING, "auth": {"setting": "no-dash"}},
            ("https", "auth", "setting"),
        ),
        (
            {"kind": "https", "url": API, "mapping": MAPPING, "paging": {"size": 5}},
            ("https", "paging", "pageParam"),
        ),
        ({"kind": "https", "url": API, "mapping": MAPPING, "maxPages": 0}, ("https", "maxPages")),
        ({"kind": "blob", "name": "/abs.json"}, ("blob", "name")),
        ({"kind": "blob", "name": "a/../b"}, ("blob", "name")),
        ({"kind": "blob", "name": "a.json", "container": "Bad_Name"}, ("blob", "container")),
        ({"kind": "blob", "name": "a.json", "format": "xml"}, ("blob", "format")),
    ],
)
def test_invalid_declarations_name_the_field(doc: dict[str, Any], where: tuple[str, ...]) -> None:
    assert where in [loc for loc, _ in _errors(doc)]


def test_an_unknown_kind_is_rejected() -> None:
    ((loc, message),) = _errors({"kind": "ftp", "url": API})
    assert loc == () and "'ftp'" in message


def test_blob_source_defaults_to_the_sources_container_and_ldif() -> None:
    source = SOURCE.validate_python({"kind": "blob", "name": "in/apps.json"})
    assert isinstance(source, BlobSource)
    assert (source.container, source.format) == ("lx-sources", "ldif")


# ---------------------------------------------------------------------------------------------
# https reading
# ---------------------------------------------------------------------------------------------


def test_a_single_page_maps_nested_data_and_drops_nulls(http: responses.RequestsMock) -> None:
    items = [_app(1), {"id": "app-2", "attributes": {"name": "Two"}}]
    http.get(API, json={"items": items})
    reader = read_source(_source(), env={})
    assert list(reader) == [
        {"type": "Application", "id": "app-1", "data": {"name": "App 1", "phase": "active"}},
        {"type": "Application", "id": "app-2", "data": {"name": "Two"}},
    ]
    assert (reader.stats.pages, reader.stats.requests, reader.stats.items) == (1, 1, 2)


def test_the_auth_header_carries_the_setting(http: responses.RequestsMock) -> None:
    http.get(
        API,
        json={"items": [_app(1)]},
        match=[matchers.header_matcher({"Authorization": f"Bearer {SECRET}"})],
    )
    source = _source(auth={"setting": "APPS_TOKEN"})
    assert len(list(read_source(source, env={"APPS_TOKEN": SECRET}))) == 1


def test_a_custom_header_without_scheme(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": []}, match=[matchers.header_matcher({"X-Api-Key": SECRET})])
    source = _source(auth={"header": "X-Api-Key", "scheme": None, "setting": "KEY"})
    assert list(read_source(source, env={"KEY": SECRET})) == []


@pytest.mark.parametrize("value", ["", "   ", "@Microsoft.KeyVault(SecretUri=x)", "a\nb"])
def test_a_missing_or_unusable_secret_names_the_setting_not_the_value(value: str) -> None:
    source = _source(auth={"setting": "APPS_TOKEN"})
    env = {} if value == "" else {"APPS_TOKEN": value}
    with pytest.raises(ConfigurationError) as info:
        read_source(source, env=env)  # raised at once, before any request
    assert info.value.settings == ("APPS_TOKEN",)
    assert "APPS_TOKEN" in str(info.value)
    if value.strip():
        assert value not in str(info.value)


def test_the_url_can_come_from_a_setting(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": [_app(1)]})
    source = _source(url="%APPS_URL%")
    assert len(list(read_source(source, env={"APPS_URL": API}))) == 1
    with pytest.raises(ConfigurationError, match="APPS_URL") as info:
        read_source(source, env={})
    assert info.value.settings == ("APPS_URL",)
    with pytest.raises(ConfigurationError, match="must use https"):
        read_source(source, env={"APPS_URL": "http://apps.example.com/"})


def test_paging_by_next_link_follows_relative_and_absolute_links(
    http: responses.RequestsMock,
) -> None:
    http.get(API, json={"items": [_app(1)], "links": {"next": "items?cursor=b"}})
    http.get(
        API + "?cursor=b",
        json={"items": [_app(2)], "links": {"next": API + "?cursor=c"}},
        match=[matchers.query_param_matcher({"cursor": "b"})],
    )
    http.get(
        API + "?cursor=c",
        json={"items": [_app(3)], "links": {"next": None}},
        match=[matchers.query_param_matcher({"cursor": "c"})],
    )
    reader = read_source(_source(paging={"nextLink": "links.next"}), env={})
    assert [item["id"] for item in reader] == ["app-1", "app-2", "app-3"]
    assert reader.stats.pages == 3


def test_paging_is_lazy_one_page_at_a_time(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": [_app(1), _app(2)], "next": API + "?c=2"})
    http.get(API + "?c=2", json={"items": [_app(3)], "next": None})
    reader = read_source(_source(paging={"nextLink": "next"}), env={})
    assert len(http.calls) == 0
    assert next(reader)["id"] == "app-1"
    assert next(reader)["id"] == "app-2"
    assert len(http.calls) == 1, "the second page is fetched only when the first is used up"
    assert next(reader)["id"] == "app-3"
    assert len(http.calls) == 2


def test_a_next_link_to_another_origin_is_not_followed(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": [_app(1)], "next": "https://evil.example.net/steal"})
    source = _source(paging={"nextLink": "next"}, auth={"setting": "T"})
    reader = read_source(source, env={"T": SECRET})
    with pytest.raises(SourceError, match="another origin") as info:
        list(reader)
    assert SECRET not in str(info.value)
    assert len(http.calls) == 1


def test_a_next_link_that_repeats_is_an_error(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": [_app(1)], "next": API + "?c=1"})
    http.get(API + "?c=1", json={"items": [_app(2)], "next": API + "?c=1"})
    with pytest.raises(SourceError, match="repeats"):
        list(read_source(_source(paging={"nextLink": "next"}), env={}))


def test_paging_by_page_parameter_until_an_empty_page(http: responses.RequestsMock) -> None:
    url = API + "?api-version=2"
    for page, ids in ((1, [1, 2]), (2, [3]), (3, [])):
        http.get(
            API,
            json={"items": [_app(i) for i in ids]},
            match=[matchers.query_param_matcher({"api-version": "2", "p": str(page), "n": "2"})],
        )
    source = _source(url=url, paging={"pageParam": "p", "sizeParam": "n", "size": 2})
    reader = read_source(source, env={})
    assert [item["id"] for item in reader] == ["app-1", "app-2", "app-3"]
    assert reader.stats.pages == 3  # the empty page that ends it counts


def test_the_page_parameter_replaces_one_already_in_the_url(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": [_app(1)]}, match=[matchers.query_param_matcher({"page": "0"})])
    http.get(API, json={"items": []}, match=[matchers.query_param_matcher({"page": "1"})])
    source = _source(url=API + "?page=7", paging={"pageParam": "page", "start": 0})
    assert len(list(read_source(source, env={}))) == 1


@pytest.mark.parametrize("paging", [{"nextLink": "next"}, {"pageParam": "page"}])
def test_max_pages_bounds_the_read(http: responses.RequestsMock, paging: dict[str, Any]) -> None:
    by_link = "nextLink" in paging
    for page in range(1, 4):
        query = {} if by_link and page == 1 else {"page": str(page)}
        http.get(
            API,
            json={"items": [_app(page)], "next": f"{API}?page={page + 1}"},
            match=[matchers.query_param_matcher(query)],
        )
    reader = read_source(_source(paging=paging, maxPages=3), env={})
    got: list[str] = []
    with pytest.raises(SourceError, match="more than maxPages=3") as info:
        got.extend(item["id"] for item in reader)
    assert got == ["app-1", "app-2", "app-3"]
    assert not info.value.retryable
    assert len(http.calls) == 3


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_final_and_name_the_setting(
    http: responses.RequestsMock, sleeps: Sleeps, status: int
) -> None:
    http.get(API, status=status, json={"error": "no"})
    source = _source(auth={"setting": "APPS_TOKEN"})
    with pytest.raises(SourceError) as info:
        list(read_source(source, env={"APPS_TOKEN": SECRET}, sleep=sleeps))
    error = info.value
    assert not isinstance(error, SourceUnavailableError) and not error.retryable
    assert error.status == status and "APPS_TOKEN" in str(error)
    assert SECRET not in str(error) and sleeps.waits == []


def test_other_4xx_are_final_and_the_message_drops_the_query(
    http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.get(API, status=404)
    with pytest.raises(SourceError) as info:
        list(read_source(_source(url=API + "?key=very-secret"), env={}, sleep=sleeps))
    assert info.value.status == 404 and not info.value.retryable
    assert info.value.url == API and "very-secret" not in str(info.value)
    assert len(http.calls) == 1


def test_a_redirect_is_not_followed(http: responses.RequestsMock) -> None:
    http.get(API, status=302, headers={"Location": "https://elsewhere.example.org/"})
    with pytest.raises(SourceError, match="redirect") as info:
        list(read_source(_source(auth={"setting": "T"}), env={"T": SECRET}))
    assert info.value.status == 302 and len(http.calls) == 1


def test_5xx_is_retried_then_succeeds(http: responses.RequestsMock, sleeps: Sleeps) -> None:
    http.get(API, status=503)
    http.get(API, status=502)
    http.get(API, json={"items": [_app(1)]})
    reader = read_source(_source(), env={}, sleep=sleeps)
    assert [item["id"] for item in reader] == ["app-1"]
    assert sleeps.waits == [0.5, 1.0]
    assert (reader.stats.requests, reader.stats.retries, reader.stats.pages) == (3, 2, 1)


def test_429_honours_retry_after(http: responses.RequestsMock, sleeps: Sleeps) -> None:
    http.get(API, status=429, headers={"Retry-After": "3"})
    http.get(API, json={"items": [_app(1)]})
    assert len(list(read_source(_source(), env={}, sleep=sleeps))) == 1
    assert sleeps.waits == [3.0]


def test_retries_are_bounded_and_end_retryable(
    http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    for _ in range(sources.ATTEMPTS):
        http.get(API, status=500)
    with pytest.raises(SourceUnavailableError) as info:
        list(read_source(_source(), env={}, sleep=sleeps))
    assert info.value.retryable and info.value.status == 500
    assert len(http.calls) == sources.ATTEMPTS and len(sleeps.waits) == sources.ATTEMPTS - 1


def test_a_retry_after_too_long_is_not_waited_for(
    http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.get(API, status=503, headers={"Retry-After": "600"})
    with pytest.raises(SourceUnavailableError) as info:
        list(read_source(_source(), env={}, sleep=sleeps))
    assert info.value.retry_after == 600 and sleeps.waits == []


def test_transport_errors_are_retried(http: responses.RequestsMock, sleeps: Sleeps) -> None:
    http.get(API, body=requests.ConnectionError("refused"))
    http.get(API, body=requests.ReadTimeout("slow"))
    http.get(API, json={"items": [_app(1)]})
    assert len(list(read_source(_source(), env={}, sleep=sleeps))) == 1
    assert len(sleeps.waits) == 2


def test_the_deadline_caps_the_timeout_and_stops_retries(http: responses.RequestsMock) -> None:
    clock = FakeClock()
    http.get(API, status=503)
    http.get(API, status=503)
    with deadline.within(0.8, clock=clock), pytest.raises(SourceUnavailableError) as info:
        list(read_source(_source(timeoutSeconds=30), env={}, sleep=clock.sleep))
    # 0.5 s of back-off fits in the 0.8 s; the next 1.0 s would not, so the read gives up.
    assert clock.sleeps == [0.5]
    timeouts = [c.request.req_kwargs["timeout"] for c in http.calls]  # type: ignore[attr-defined]
    assert timeouts == [pytest.approx(0.8), pytest.approx(0.3)]
    assert info.value.retryable and info.value.status == 503


def test_an_expired_deadline_sends_nothing(http: responses.RequestsMock) -> None:
    clock = FakeClock()
    with deadline.within(1.0, clock=clock):
        clock.advance(5)
        with pytest.raises(SourceUnavailableError, match="deadline"):
            list(read_source(_source(), env={}))
    assert len(http.calls) == 0


def test_a_body_that_is_not_json(http: responses.RequestsMock) -> None:
    http.get(API, body="<html>proxy</html>", status=200)
    with pytest.raises(SourceError, match="not JSON"):
        list(read_source(_source(), env={}))


def test_a_page_over_max_page_bytes(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": [{"id": "x" * 3000}]})
    with pytest.raises(SourceError, match="maxPageBytes=1024"):
        list(read_source(_source(maxPageBytes=1024), env={}))


def test_items_that_are_not_a_list_is_a_mapping_error(http: responses.RequestsMock) -> None:
    http.get(API, json={"data": [_app(1)]})
    with pytest.raises(SourceError, match=r"page 1: mapping\.items 'items' selected nothing"):
        list(read_source(_source(), env={}))


def test_items_without_usable_id_or_type_are_skipped_and_counted(
    http: responses.RequestsMock,
) -> None:
    mapping = {**MAPPING, "type": "kind"}
    items = [
        {"id": "a", "kind": "Application"},
        {"id": None, "kind": "Application"},
        {"id": 7, "kind": "Application"},
        {"id": "b"},
        {"id": "", "kind": "Application"},
        {"id": "c", "kind": "ITComponent"},
    ]
    http.get(API, json={"items": items})
    reader = read_source(_source(mapping=mapping), env={})
    assert [(i["type"], i["id"]) for i in reader] == [("Application", "a"), ("ITComponent", "c")]
    assert reader.stats.items == 2 and reader.stats.skipped == 4
    assert reader.stats.skipped_examples == [
        "page 1 item 1: id is null",
        "page 1 item 2: id is a int, not a string",
        "page 1 item 3: type is null",
        "page 1 item 4: id is empty",
    ]


def test_numeric_ids_map_with_to_string(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": [{"id": 7}]})
    mapping = {"items": "items", "id": "to_string(id)", "type": "'Application'"}
    assert [i["id"] for i in read_source(_source(mapping=mapping), env={})] == ["7"]


def test_a_mapping_that_matches_no_item_is_an_error(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": [{"key": "a"}, {"key": "b"}]})
    with pytest.raises(SourceError, match="all 2 items were skipped"):
        list(read_source(_source(), env={}))


def test_an_empty_source_is_not_an_error(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": []})
    assert list(read_source(_source(), env={})) == []


def test_a_given_session_is_used_and_left_open(http: responses.RequestsMock) -> None:
    http.get(API, json={"items": [_app(1)]})
    session = requests.Session()
    session.headers["X-Trace"] = "t1"
    assert len(list(read_source(_source(), env={}, session=session))) == 1
    assert http.calls[0].request.headers["X-Trace"] == "t1"
    session.close()


def test_source_errors_are_lx_errors() -> None:
    assert issubclass(SourceError, LxError) and SourceUnavailableError.retryable
    assert not SourceError.retryable


# ---------------------------------------------------------------------------------------------
# blob reading
# ---------------------------------------------------------------------------------------------


def _blob(fmt: str, name: str = "in/apps") -> BlobSource:
    source = SOURCE.validate_python({"kind": "blob", "name": name, "format": fmt})
    assert isinstance(source, BlobSource)
    return source


def _content(i: int) -> dict[str, Any]:
    return {"type": "Application", "id": f"app-{i}", "data": {"name": f"App {i}"}}


def test_a_blob_source_needs_a_store() -> None:
    with pytest.raises(ConfigurationError, match="LX_BLOB_"):
        read_source(_blob("ldif"), env={})


def test_an_ldif_blob_yields_its_content() -> None:
    store = MemoryBlobStore(chunk_bytes=7)
    ldif = {"connectorId": "x", "content": [_content(1), _content(2)]}
    store.upload("lx-sources", "in/apps", [json.dumps(ldif).encode()])
    assert list(read_source(_blob("ldif"), env={}, blob=store)) == [_content(1), _content(2)]


def test_a_json_list_blob_skips_what_is_not_content() -> None:
    store = MemoryBlobStore()
    doc = [_content(1), "text", {"type": "Application", "id": "b", "data": [1]}, _content(3)]
    store.upload("lx-sources", "in/apps", [json.dumps(doc).encode()])
    reader = read_source(_blob("json-list"), env={}, blob=store)
    assert [i["id"] for i in reader] == ["app-1", "app-3"]
    assert reader.stats.skipped_examples == [
        "item 1: a str, not an object",
        "item 2: data is not an object",
    ]


def test_a_jsonl_blob_streams_lines_across_chunks() -> None:
    store = MemoryBlobStore(chunk_bytes=5)  # lines cut at every 5th byte
    text = "\n".join(json.dumps(_content(i)) for i in range(1, 40)) + "\n\n"
    store.upload("lx-sources", "in/apps", [text.encode()])
    items = list(read_source(_blob("jsonl"), env={}, blob=store))
    assert items == [_content(i) for i in range(1, 40)]


def test_a_jsonl_blob_without_final_newline_and_a_bad_line() -> None:
    store = MemoryBlobStore()
    store.upload("lx-sources", "a", [(json.dumps(_content(1)) + "\n" + "{nope").encode()])
    reader = read_source(_blob("jsonl", "a"), env={}, blob=store)
    assert next(reader) == _content(1)
    with pytest.raises(SourceError, match="line 2 is not JSON"):
        next(reader)


@pytest.mark.parametrize(
    ("fmt", "body", "message"),
    [
        ("ldif", b"[]", "no 'content' list"),
        ("ldif", b"{oops", "not JSON"),
        ("json-list", b"{}", "not a JSON list"),
    ],
)
def test_malformed_blobs(fmt: str, body: bytes, message: str) -> None:
    store = MemoryBlobStore()
    store.upload("lx-sources", "in/apps", [body])
    with pytest.raises(SourceError, match=message) as info:
        list(read_source(_blob(fmt), env={}, blob=store))
    assert info.value.url == "lx-sources/in/apps"


def test_a_whole_blob_over_the_cap_points_at_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_BLOB_SOURCE_BYTES", 100)
    store = MemoryBlobStore(chunk_bytes=10)
    store.upload("lx-sources", "in/apps", [json.dumps([_content(i) for i in range(9)]).encode()])
    with pytest.raises(SourceError, match="jsonl"):
        list(read_source(_blob("json-list"), env={}, blob=store))


def test_a_missing_blob_is_a_storage_error() -> None:
    with pytest.raises(BlobNotFoundError):
        list(read_source(_blob("ldif"), env={}, blob=MemoryBlobStore()))
