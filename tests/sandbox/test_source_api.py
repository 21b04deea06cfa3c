"""The sandbox's inbound source API over real HTTP, and ``read_source`` reading it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pydantic import TypeAdapter

from lx_core.errors import SourceError, SourceUnavailableError
from lx_core.integration.sources import HttpsJsonSource, Source, read_source
from lx_sandbox.source_api import SourceApiServer, generate_applications
from tests.sandbox.test_emulator_isolation import FORBIDDEN, SANDBOX, _imports

COUNT = 23


@pytest.fixture(scope="module")
def source_server() -> Iterator[SourceApiServer]:
    with SourceApiServer(count=COUNT) as server:
        yield server


@pytest.fixture
def source(source_server: SourceApiServer) -> SourceApiServer:
    requests.delete(source_server.url + "/_source/faults", timeout=5)
    requests.delete(source_server.url + "/_source/requests", timeout=5)
    return source_server


def _auth(server: SourceApiServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token}"}


def _declare(url: str, paging: dict[str, Any] | None, **extra: Any) -> HttpsJsonSource:
    doc: dict[str, Any] = {
        "kind": "https",
        "url": url,
        "auth": {"setting": "SOURCE_TOKEN"},
        "mapping": {
            "items": "items",
            "id": "id",
            "type": "'Application'",
            "data": {
                "name": "attributes.name",
                "description": "attributes.description",
                "lifecycle": "attributes.lifecycle.phase",
                "criticality": "attributes.criticality",
            },
        },
        **extra,
    }
    if paging is not None:
        doc["paging"] = paging
    parsed = TypeAdapter(Source).validate_python(doc)
    assert isinstance(parsed, HttpsJsonSource)
    return parsed


def test_the_source_api_never_imports_lx_core() -> None:
    path = SANDBOX / "source_api.py"
    assert path.exists()
    assert [n for n in _imports(path) if n.split(".")[0] in FORBIDDEN] == []


def test_the_dataset_is_deterministic_and_nested() -> None:
    first, again = generate_applications(120), generate_applications(120)
    assert first == again
    assert [a["id"] for a in first[:2]] == ["app-0001", "app-0002"]
    assert len({a["attributes"]["name"] for a in first}) == 120, "names are unique"
    assert set(first[0]["attributes"]["lifecycle"]) == {"phase", "since"}


def test_items_need_the_bearer_token(source: SourceApiServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": source.token}):
        r = requests.get(source.items_url, headers=headers, timeout=5)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert requests.get(source.next_link_url, timeout=5).status_code == 401
    assert requests.get(source.items_url, headers=_auth(source), timeout=5).ok


def test_page_number_paging(source: SourceApiServer) -> None:
    def page(n: int) -> dict[str, Any]:
        r = requests.get(
            source.items_url, params={"page": n, "size": 10}, headers=_auth(source), timeout=5
        )
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        return body

    pages = [page(n) for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [10, 10, 3, 0]
    assert pages[0]["total"] == COUNT and pages[2]["page"] == 3
    assert [i["id"] for p in pages for i in p["items"]] == [f"app-{i:04d}" for i in range(1, 24)]
    bad = requests.get(source.items_url, params={"page": 0}, headers=_auth(source), timeout=5)
    assert bad.status_code == 400


def test_next_link_paging(source: SourceApiServer) -> None:
    url: str | None = source.next_link_url + "?size=8"
    seen: list[str] = []
    while url is not None:
        body = requests.get(url, headers=_auth(source), timeout=5).json()
        seen += [i["id"] for i in body["items"]]
        url = body["next"]
        assert url is None or url.startswith(source.next_link_url + "?")
    assert seen == [f"app-{i:04d}" for i in range(1, 24)]
    r = requests.get(
        source.next_link_url, params={"cursor": "garbage!"}, headers=_auth(source), timeout=5
    )
    assert r.status_code == 400


def test_faults_fail_the_next_requests(source: SourceApiServer) -> None:
    r = requests.post(
        source.url + "/_source/faults",
        json={"status": 503, "count": 2, "retryAfter": 1},
        timeout=5,
    )
    assert r.json()["faults"] == [{"status": 503, "count": 2, "retryAfter": 1}]
    answers = [requests.get(source.items_url, headers=_auth(source), timeout=5) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].headers["Retry-After"] == "1"
    log = requests.get(source.url + "/_source/requests", timeout=5).json()
    assert [entry["status"] for entry in log["requests"]] == [503, 503, 200]


def test_read_source_by_page_parameter(source: SourceApiServer) -> None:
    declared = _declare(source.items_url, {"pageParam": "page", "sizeParam": "size", "size": 5})
    reader = read_source(declared, env={"SOURCE_TOKEN": source.token})
    items = list(reader)
    expected = generate_applications(COUNT)
    assert [i["id"] for i in items] == [a["id"] for a in expected]
    assert items[4] == {
        "type": "Application",
        "id": "app-0005",
        "data": {
            "name": expected[4]["attributes"]["name"],
            "description": expected[4]["attributes"]["description"],
            "lifecycle": expected[4]["attributes"]["lifecycle"]["phase"],
            "criticality": expected[4]["attributes"]["criticality"],
        },
    }
    assert reader.stats.pages == 6  # 5 full pages of 5 (the last has 3) and the empty one


def test_read_source_by_next_link_with_the_url_from_a_setting(source: SourceApiServer) -> None:
    declared = _declare("%SOURCE_URL%", {"nextLink": "next"})
    env = {"SOURCE_TOKEN": source.token, "SOURCE_URL": source.next_link_url + "?size=10"}
    reader = read_source(declared, env=env)
    assert len(list(reader)) == COUNT and reader.stats.pages == 3
    sent = requests.get(source.url + "/_source/requests", timeout=5).json()["requests"]
    assert all(entry["authorization"] for entry in sent)


def test_read_source_retries_injected_503s(source: SourceApiServer) -> None:
    source.state.fail_next(2, status=503)
    waits: list[float] = []
    reader = read_source(
        _declare(source.items_url, {"pageParam": "page", "sizeParam": "size", "size": 50}),
        env={"SOURCE_TOKEN": source.token},
        sleep=waits.append,
    )
    assert len(list(reader)) == COUNT
    assert waits == [0.5, 1.0] and reader.stats.retries == 2


def test_read_source_gives_up_retryable_when_the_faults_last(source: SourceApiServer) -> None:
    source.state.fail_next(5, status=503)
    reader = read_source(
        _declare(source.items_url, None),
        env={"SOURCE_TOKEN": source.token},
        sleep=lambda _s: None,
    )
    with pytest.raises(SourceUnavailableError) as info:
        list(reader)
    assert info.value.status == 503 and info.value.retryable


def test_read_source_with_a_wrong_token(source: SourceApiServer) -> None:
    reader = read_source(_declare(source.items_url, None), env={"SOURCE_TOKEN": "nope-token"})
    with pytest.raises(SourceError) as info:
        list(reader)
    assert info.value.status == 401 and not info.value.retryable
    assert "SOURCE_TOKEN" in str(info.value) and "nope-token" not in str(info.value)
