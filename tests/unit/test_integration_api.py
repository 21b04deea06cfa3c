"""IntegrationAPI with `responses`: every §5.1 endpoint, its error statuses, what is replayed,
the large-input path, and the transport extensions it needs (raw bodies, headers, streams)."""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import responses
from requests import PreparedRequest
from responses import matchers

from lx_core.config import IntegrationSettings
from lx_core.errors import (
    BadRequestError,
    DeadlineExceededError,
    LdifError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransportError,
)
from lx_core.integration.identity import ConnectorIdentity
from lx_core.integration.ldif import ContentItem, Ldif, LdifHeader
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.integration_api import (
    FastRunResponse,
    IntegrationAPI,
    ResultsStream,
    RunState,
    SasTarget,
)
from lx_core.leanix.testing import FakeClock

BASE = "https://acme.leanix.net/services/integration-api/v1"
CONFIGS = BASE + "/configurations"
RUNS = BASE + "/synchronizationRuns"
TOKEN_URL = "https://app.leanix.net/services/mtm/v1/oauth2/token"
SAS_URL = "https://blobs.example.net/ldif/run-input.json?sv=2021-12-02&sig=TOPSECRETSIGNATURE123"
SAS_BLOB = SAS_URL.split("?", 1)[0]

IDENTITY = ConnectorIdentity(
    connector_type="hrImport",
    connector_id="hr-apps",
    connector_version="1.0.0",
    processing_direction="inbound",
    processing_mode="partial",
)
HEADER = LdifHeader(
    connector_type="hrImport",
    connector_id="hr-apps",
    connector_version="1.0.0",
    lx_version="1.0.0",
    processing_direction="inbound",
)

pytestmark = pytest.mark.usefixtures("token_ready")


@pytest.fixture
def token_ready(leanix_token: Callable[..., str]) -> None:
    leanix_token()


@pytest.fixture
def api(leanix_client: LeanIXClient) -> IntegrationAPI:
    return IntegrationAPI(
        leanix_client.transport,
        settings=IntegrationSettings(url_input_threshold_bytes=4096),
    )


def _calls(rsps: responses.RequestsMock) -> list[responses.Call]:
    return [c for c in rsps.calls if c.request.url != TOKEN_URL]


def _raw(body: Any) -> bytes:
    """A request body as bytes (`responses` may hand over a file or a str)."""
    if hasattr(body, "read"):
        body.seek(0)
        body = body.read()
    return body.encode() if isinstance(body, str) else bytes(body or b"")


def _body(call: responses.Call) -> Any:
    return json.loads(_raw(call.request.body) or b"null")


def _items(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"type": "Application", "id": f"app-{i}", "data": {"name": f"App {i}", "n": i}}


# --- configurations ---------------------------------------------------------------------------


def test_get_configuration_sends_the_identity_as_query(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    doc = {**IDENTITY.params(), "processors": [{"processorType": "inboundFactSheet"}]}
    leanix_http.add(
        responses.GET,
        CONFIGS,
        json=doc,
        match=[matchers.query_param_matcher(IDENTITY.params())],
    )
    assert api.get_configuration(IDENTITY) == doc


def test_get_configuration_404_is_none(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, CONFIGS, json={"message": "not found"}, status=404)
    assert api.get_configuration(IDENTITY) is None


def test_get_configuration_picks_ours_from_an_unfiltered_list(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    other = {**IDENTITY.params(), "connectorId": "other"}
    ours = {k: v for k, v in IDENTITY.params().items() if k != "processingMode"}  # default mode
    leanix_http.add(responses.GET, CONFIGS, json=[other, ours])
    assert api.get_configuration(IDENTITY) == ours
    leanix_http.replace(responses.GET, CONFIGS, json=[other])
    assert api.get_configuration(IDENTITY) is None


def test_get_configuration_403_is_permission_denied(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, CONFIGS, json={"message": "no"}, status=403)
    with pytest.raises(PermissionDeniedError):
        api.get_configuration(IDENTITY)


def test_list_configurations_accepts_a_list_or_one_object(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, CONFIGS, json=[IDENTITY.params(), "junk"])
    assert api.list_configurations() == [IDENTITY.params()]
    leanix_http.replace(responses.GET, CONFIGS, json=IDENTITY.params())
    assert api.list_configurations() == [IDENTITY.params()]


def test_upsert_is_a_put_of_the_document_and_is_retried(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    doc = {**IDENTITY.params(), "processors": []}
    leanix_http.add(responses.PUT, CONFIGS, status=503)
    leanix_http.add(responses.PUT, CONFIGS, status=204)
    api.upsert_configuration(doc)
    calls = _calls(leanix_http)
    assert len(calls) == 2
    assert _body(calls[1]) == doc


def test_delete_sends_the_identity_and_maps_errors(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    match = [matchers.query_param_matcher(IDENTITY.params())]
    leanix_http.add(responses.DELETE, CONFIGS, status=204, match=match)
    api.delete_configuration(IDENTITY)
    for status, error in ((400, BadRequestError), (404, NotFoundError), (422, BadRequestError)):
        leanix_http.replace(responses.DELETE, CONFIGS, json={"message": "x"}, status=status)
        with pytest.raises(error) as caught:
            api.delete_configuration(IDENTITY)
        assert caught.value.status == status
    leanix_http.replace(responses.DELETE, CONFIGS, json={"message": "gone"}, status=404)
    api.delete_configuration(IDENTITY, missing_ok=True)


# --- runs: create, start, stop ------------------------------------------------------------------


def test_list_runs_parses_status_and_keeps_unknown_states(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.GET,
        RUNS,
        json=[
            {"id": "r1", "status": "IN_PROGRESS", "connectorId": "hr-apps"},
            {"id": "r2", "status": "ARCHIVED_LATER"},
        ],
    )
    first, second = api.list_runs()
    assert first.state is RunState.IN_PROGRESS
    assert first.model_extra == {"connectorId": "hr-apps"}
    assert second.status == "ARCHIVED_LATER"
    assert second.state is None
    assert not second.terminal


def test_create_run_posts_the_ldif_with_start_and_test(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    ldif = Ldif(**HEADER.model_dump(), content=[ContentItem(type="A", id="1", data={"x": 1})])
    leanix_http.add(
        responses.POST,
        RUNS,
        json={"id": "run-1"},
        match=[matchers.query_param_matcher({"start": "true", "test": "true"})],
    )
    assert api.create_run(ldif, start=True, test=True) == "run-1"
    sent = _body(_calls(leanix_http)[0])
    assert sent["connectorId"] == "hr-apps"
    assert sent["content"] == [{"type": "A", "id": "1", "data": {"x": 1}}]


def test_create_run_tolerates_a_list_answer(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.POST,
        RUNS,
        json=[{"id": "run-2", "status": "CREATED"}],
        match=[matchers.query_param_matcher({"start": "false", "test": "false"})],
    )
    assert api.create_run({"connectorId": "x"}) == "run-2"


@pytest.mark.parametrize("body", [{}, [], {"id": ""}, {"id": 5}, "run-3"])
def test_create_run_without_an_id_is_malformed(
    api: IntegrationAPI, leanix_http: responses.RequestsMock, body: Any
) -> None:
    leanix_http.add(responses.POST, RUNS, json=body)
    with pytest.raises(MalformedResponseError):
        api.create_run({"connectorId": "x"})
    assert len(_calls(leanix_http)) == 1  # a create is never replayed


def test_create_run_sends_bytes_raw(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, RUNS, json={"id": "run-4"})
    raw = b'{"connectorId":"x","content":[]}'
    assert api.create_run(raw) == "run-4"
    request = _calls(leanix_http)[0].request
    assert request.body == raw
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"].startswith("Bearer ")


def test_a_test_run_that_is_not_started_is_refused_before_sending(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    with pytest.raises(ValueError, match="start=True"):
        api.create_run({"connectorId": "x"}, test=True)
    with pytest.raises(ValueError, match="start=True"):
        api.submit(HEADER, [], test=True)
    assert _calls(leanix_http) == []


def test_create_run_5xx_is_not_replayed(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, RUNS, status=503)
    with pytest.raises(ServerError):
        api.create_run({"connectorId": "x"})
    assert len(_calls(leanix_http)) == 1


def test_create_run_429_is_retried_because_it_was_not_processed(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, RUNS, status=429, headers={"Retry-After": "1"})
    leanix_http.add(responses.POST, RUNS, json={"id": "run-5"})
    assert api.create_run(b'{"a":1}') == "run-5"
    calls = _calls(leanix_http)
    assert [c.request.body for c in calls] == [b'{"a":1}', b'{"a":1}']


def test_start_sends_test_and_is_not_replayed(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    url = RUNS + "/r1/start"
    leanix_http.add(
        responses.POST, url, status=200, match=[matchers.query_param_matcher({"test": "true"})]
    )
    api.start_run("r1", test=True)
    leanix_http.replace(responses.POST, url, status=502)
    with pytest.raises(ServerError):
        api.start_run("r1")
    assert len(_calls(leanix_http)) == 2


def test_start_400_counts_as_done_only_when_status_shows_it_started(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, RUNS + "/r1/start", json={"message": "started"}, status=400)
    leanix_http.add(responses.GET, RUNS + "/r1/status", json={"id": "r1", "status": "PENDING"})
    api.start_run("r1")
    leanix_http.replace(responses.GET, RUNS + "/r1/status", json={"id": "r1", "status": "CREATED"})
    with pytest.raises(BadRequestError):
        api.start_run("r1")


def test_start_404_is_not_found(api: IntegrationAPI, leanix_http: responses.RequestsMock) -> None:
    leanix_http.add(responses.POST, RUNS + "/nope/start", status=404)
    with pytest.raises(NotFoundError):
        api.start_run("nope")


def test_stop_400_counts_as_done_only_for_an_ended_run(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, RUNS + "/r1/stop", status=200)
    api.stop_run("r1")
    leanix_http.replace(responses.POST, RUNS + "/r1/stop", json={"message": "no"}, status=400)
    leanix_http.add(responses.GET, RUNS + "/r1/status", json={"id": "r1", "status": "FINISHED"})
    api.stop_run("r1")
    leanix_http.replace(responses.GET, RUNS + "/r1/status", json={"id": "r1", "status": "CREATED"})
    with pytest.raises(BadRequestError):
        api.stop_run("r1")


def test_run_ids_are_quoted_and_must_not_be_empty(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, RUNS + "/a%2Fb/status", json={"status": "PENDING"})
    assert api.status("a/b").id == "a/b"
    with pytest.raises(ValueError, match="empty"):
        api.status("")


# --- runs: reading ------------------------------------------------------------------------------


def test_status_is_parsed_and_terminal_states_are_known(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.GET,
        RUNS + "/r1/status",
        json={"id": "r1", "status": "FAILED", "description": "boom"},
    )
    status = api.status("r1")
    assert status.state is RunState.FAILED
    assert status.terminal
    assert status.description == "boom"


def test_status_with_a_broken_body_is_retried_then_malformed(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, RUNS + "/r1/status", body="<html>proxy</html>")
    with pytest.raises(MalformedResponseError):
        api.status("r1")
    assert len(_calls(leanix_http)) == 6  # 1 + max_retries
    leanix_http.replace(responses.GET, RUNS + "/r1/status", json={"id": "r1"})
    with pytest.raises(MalformedResponseError, match="RunStatus"):
        api.status("r1")


def test_status_404_is_not_found(api: IntegrationAPI, leanix_http: responses.RequestsMock) -> None:
    leanix_http.add(responses.GET, RUNS + "/r1/status", status=404)
    with pytest.raises(NotFoundError):
        api.status("r1")


def test_progress_reads_every_count_and_keeps_extras(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.GET,
        RUNS + "/r1/progress",
        json={
            "processedContentCount": 7,
            "errorCount": 1,
            "warningsCount": 2,
            "itemsInScopeCount": 10,
            "contentsCount": 3,
            "graphQLRequestCount": 12,
            "runLevelIndex": 1,
            "status": 2,
            "somethingNew": True,
        },
    )
    progress = api.progress("r1")
    assert (progress.processed_content_count, progress.error_count) == (7, 1)
    assert (progress.warnings_count, progress.items_in_scope_count) == (2, 10)
    assert (progress.contents_count, progress.graphql_request_count) == (3, 12)
    assert (progress.run_level_index, progress.status) == (1, 2)
    assert progress.model_extra == {"somethingNew": True}


def test_results_204_is_none_and_200_is_streamed(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    url = RUNS + "/r1/results"
    leanix_http.add(responses.GET, url, status=204)
    assert api.results("r1") is None
    document = {"connectorId": "x", "content": [{"id": str(i)} for i in range(5000)]}
    raw = json.dumps(document).encode()
    leanix_http.replace(
        responses.GET,
        url,
        body=raw,
        content_type="application/json",
        auto_calculate_content_length=True,
    )
    stream = api.results("r1")
    assert stream is not None
    with stream:
        assert stream.content_length == len(raw)
        chunks = list(stream.iter_bytes(chunk_size=1024))
    assert len(chunks) > 10
    assert b"".join(chunks) == raw
    out = io.BytesIO()
    with api.results("r1") as again:  # type: ignore[union-attr]
        assert again.copy_to(out) == len(raw)
    assert json.loads(out.getvalue()) == document
    with api.results("r1") as third:  # type: ignore[union-attr]
        assert third.json() == document


def test_results_errors_are_mapped_and_retried(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    url = RUNS + "/r1/results"
    leanix_http.add(responses.GET, url, status=503)
    leanix_http.add(responses.GET, url, body=b"{}")
    stream = api.results("r1")
    assert stream is not None
    assert stream.json() == {}
    leanix_http.replace(responses.GET, url, json={"message": "denied"}, status=403)
    with pytest.raises(PermissionDeniedError, match="denied"):
        api.results("r1")
    leanix_http.replace(responses.GET, url, status=404)
    with pytest.raises(NotFoundError):
        api.results("r1")


def test_results_broken_mid_stream_is_a_transport_error() -> None:
    def broken(chunk_size: int = 1) -> Iterator[bytes]:
        yield b'{"a":'
        raise requests.exceptions.ChunkedEncodingError("connection broken")

    response = requests.Response()
    response.status_code = 200
    response.iter_content = broken  # type: ignore[method-assign,assignment]
    response.raw = io.BytesIO()
    with ResultsStream(response, path="/r1/results") as stream:
        parts = stream.iter_bytes()
        assert next(parts) == b'{"a":'
        with pytest.raises(TransportError):
            next(parts)


def test_results_url_is_none_until_finished(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    url = RUNS + "/r1/resultsUrl"
    leanix_http.add(responses.GET, url, json={"url": None})
    assert api.results_url("r1") is None
    leanix_http.replace(responses.GET, url, status=204)
    assert api.results_url("r1") is None
    leanix_http.replace(responses.GET, url, json={"url": "https://files.example/r1.json"})
    assert api.results_url("r1") == "https://files.example/r1.json"
    leanix_http.replace(responses.GET, url, json={"url": 12})
    with pytest.raises(MalformedResponseError):
        api.results_url("r1")


def test_warnings_page_is_parsed(api: IntegrationAPI, leanix_http: responses.RequestsMock) -> None:
    leanix_http.add(
        responses.GET,
        RUNS + "/r1/warnings",
        json=[
            {
                "processor": {"name": "Apps", "index": 0},
                "content": "app-1",
                "message": "field unknown",
                "detail": "lifecycle",
                "category": "UPDATE",
                "status": "WARNING",
                "extra": 1,
            },
            {"processor": "Rel", "content": {"id": "app-2"}, "status": "ERROR"},
        ],
        match=[matchers.query_param_matcher({"offset": "5", "limit": "10"})],
    )
    first, second = api.warnings("r1", offset=5, limit=10)
    assert first.processor is not None
    assert (first.processor.name, first.processor.index) == ("Apps", 0)
    assert (first.content, first.message, first.detail) == ("app-1", "field unknown", "lifecycle")
    assert (first.category, first.status) == ("UPDATE", "WARNING")
    assert first.model_extra == {"extra": 1}
    assert second.processor is not None and second.processor.name == "Rel"
    assert second.content == "app-2"


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, 0), (0, 101)])
def test_warnings_bounds_are_checked_before_sending(
    api: IntegrationAPI, leanix_http: responses.RequestsMock, offset: int, limit: int
) -> None:
    with pytest.raises(ValueError, match=r"offset|limit"):
        api.warnings("r1", offset=offset, limit=limit)
    assert _calls(leanix_http) == []


def test_warnings_that_are_not_a_list_are_malformed(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, RUNS + "/r1/warnings", json={"data": []})
    with pytest.raises(MalformedResponseError):
        api.warnings("r1")


def _warnings_server(total: int, *, honour_offset: bool = True) -> Callable[..., Any]:
    def answer(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = dict(p.split("=") for p in (request.url or "").split("?", 1)[1].split("&"))
        offset = int(query["offset"]) if honour_offset else 0
        limit = int(query["limit"])
        page = [{"message": f"w{i}"} for i in range(offset, min(total, offset + limit))]
        return 200, {}, json.dumps(page)

    return answer


def test_iter_warnings_follows_pages_to_the_end(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add_callback(responses.GET, RUNS + "/r1/warnings", callback=_warnings_server(250))
    got = [w.message for w in api.iter_warnings("r1", max_items=1000)]
    assert got == [f"w{i}" for i in range(250)]
    assert len(_calls(leanix_http)) == 3  # 100 + 100 + 50 (short page ends it)


def test_iter_warnings_is_bounded_by_max_items(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add_callback(
        responses.GET,
        RUNS + "/r1/warnings",
        callback=_warnings_server(10_000, honour_offset=False),
    )
    got = list(api.iter_warnings("r1", max_items=230))
    assert len(got) == 230
    assert len(_calls(leanix_http)) == 3
    assert "limit=30" in (_calls(leanix_http)[-1].request.url or "")


# --- variants ------------------------------------------------------------------------------------


def test_with_config_posts_input_and_configuration(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.POST,
        RUNS + "/withConfig",
        json={"id": "run-c"},
        match=[matchers.query_param_matcher({"start": "true", "test": "false"})],
    )
    config = {**IDENTITY.params(), "processors": []}
    assert api.create_run_with_config(HEADER, config, start=True) == "run-c"
    sent = _body(_calls(leanix_http)[0])
    assert sent["processorConfiguration"] == config
    assert sent["input"]["connectorId"] == "hr-apps"


def test_with_url_input_and_execution_group(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.POST,
        RUNS + "/withUrlInput",
        json={"id": "run-u", "processorConfiguration": {}},
        match=[
            matchers.query_param_matcher({"start": "true", "test": "false"}),
            matchers.json_params_matcher({"url": SAS_URL, "type": "azureStorage"}),
        ],
    )
    assert api.create_run_with_url(SAS_URL, start=True) == "run-u"
    leanix_http.add(
        responses.POST,
        RUNS + "/withExecutionGroup",
        json={"id": "run-g", "processorConfiguration": {}},
        match=[
            matchers.query_param_matcher(
                {"groupName": "nightly", "start": "false", "test": "false"}
            )
        ],
    )
    assert api.create_run_with_execution_group({"connectorId": "x"}, "nightly") == "run-g"
    leanix_http.replace(
        responses.POST, RUNS + "/withExecutionGroup", json={"message": "mixed"}, status=400
    )
    with pytest.raises(BadRequestError, match="mixed"):
        api.create_run_with_execution_group({"connectorId": "x"}, "nightly")
    with pytest.raises(ValueError, match="group_name"):
        api.create_run_with_execution_group({}, "")


def test_fast_runs_answer_synchronously(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    answer = {
        "status": "FINISHED",
        "warnings": [{"message": "w"}],
        "stats": {"duration": "PT0.5S", "processedContentCount": 3, "processorCount": 1},
        "results": None,
    }
    fast = BASE + "/fastSynchronizationRuns"
    leanix_http.add(
        responses.POST, fast, json=answer, match=[matchers.query_param_matcher({"test": "true"})]
    )
    result = api.fast_run({"connectorId": "x"}, test=True)
    assert isinstance(result, FastRunResponse)
    assert result.status == "FINISHED"
    assert result.stats is not None and result.stats.processed_content_count == 3
    assert [w.message for w in result.warnings] == ["w"]
    leanix_http.add(responses.POST, fast + "/withConfig", json=answer)
    assert api.fast_run_with_config(HEADER, {"processors": []}).status == "FINISHED"
    assert _body(_calls(leanix_http)[-1])["processorConfiguration"] == {"processors": []}
    leanix_http.replace(
        responses.POST,
        fast,
        json={"message": "Fast execution does not support outbound yet"},
        status=400,
    )
    with pytest.raises(BadRequestError, match="outbound"):
        api.fast_run({"connectorId": "x"})


def test_a_fast_run_that_writes_is_not_replayed_but_a_test_one_is(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    fast = BASE + "/fastSynchronizationRuns"
    leanix_http.add(responses.POST, fast, status=503)
    with pytest.raises(ServerError):
        api.fast_run({"connectorId": "x"})
    assert len(_calls(leanix_http)) == 1
    leanix_http.add(responses.POST, fast, json={"status": "FINISHED"})
    assert api.fast_run({"connectorId": "x"}, test=True).status == "FINISHED"


# --- large inputs ---------------------------------------------------------------------------------


def test_storage_sas_hides_the_signature(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.GET, BASE + "/storages/azure", json={"SAS": SAS_URL, "expireAt": "2030-01-01"}
    )
    target = api.storage_sas()
    assert isinstance(target, SasTarget)
    assert target.url == SAS_URL
    assert target.shown_url == SAS_BLOB
    assert "TOPSECRET" not in repr(target) and "TOPSECRET" not in str(target)
    leanix_http.replace(responses.GET, BASE + "/storages/azure", json={"expireAt": "x"})
    with pytest.raises(MalformedResponseError, match="SasTarget"):
        api.storage_sas()


def test_submit_small_ldif_is_posted_inline(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.POST,
        RUNS,
        json={"id": "run-small"},
        match=[matchers.query_param_matcher({"start": "true", "test": "false"})],
    )
    assert api.submit(HEADER, _items(3), start=True) == "run-small"
    [call] = _calls(leanix_http)
    sent = _body(call)
    assert sent["connectorId"] == "hr-apps"
    assert [c["id"] for c in sent["content"]] == ["app-0", "app-1", "app-2"]
    assert call.request.headers["Content-Type"] == "application/json"


def _sas_routes(rsps: responses.RequestsMock, seen: dict[str, Any]) -> None:
    rsps.add(
        responses.GET, BASE + "/storages/azure", json={"SAS": SAS_URL, "expireAt": "2030-01-01"}
    )

    def upload(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = request.body
        digest = hashlib.sha256()
        size = 0
        if isinstance(body, bytes):
            chunks: Iterator[bytes] = iter([body])
        else:
            chunks = iter(lambda: body.read(65536), b"")  # type: ignore[union-attr]
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            if size <= 200:
                seen.setdefault("head", b"")
                seen["head"] += chunk[:200]
        seen.update(headers=dict(request.headers), size=size, sha=digest.hexdigest())
        return 201, {}, ""

    rsps.add_callback(responses.PUT, SAS_BLOB, callback=upload)
    rsps.add(
        responses.POST,
        RUNS + "/withUrlInput",
        json={"id": "run-big"},
        match=[matchers.json_params_matcher({"url": SAS_URL, "type": "azureStorage"})],
    )


def test_submit_big_ldif_goes_through_the_sas_upload(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    seen: dict[str, Any] = {}
    _sas_routes(leanix_http, seen)
    items = list(_items(300))
    assert api.submit(HEADER, items, start=True) == "run-big"
    expected = io.BytesIO()
    from lx_core.integration.ldif import write_ldif

    write_ldif(HEADER, items, expected)
    assert seen["size"] == len(expected.getvalue()) > 4096
    assert seen["sha"] == hashlib.sha256(expected.getvalue()).hexdigest()
    assert seen["headers"]["x-ms-blob-type"] == "BlockBlob"
    assert seen["headers"]["Content-Length"] == str(seen["size"])
    assert "Authorization" not in seen["headers"]  # the bearer never goes to the blob store
    urls = [c.request.url for c in _calls(leanix_http)]
    assert [u.split("?")[0] for u in urls if u] == [
        BASE + "/storages/azure",
        SAS_BLOB,
        RUNS + "/withUrlInput",
    ]


def test_submit_threshold_can_be_overridden(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    seen: dict[str, Any] = {}
    _sas_routes(leanix_http, seen)
    assert api.submit(HEADER, _items(3), threshold_bytes=64) == "run-big"
    assert seen["size"] > 64


def test_submit_memory_stays_bounded_by_the_threshold(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = IntegrationAPI(
        leanix_client.transport, settings=IntegrationSettings(url_input_threshold_bytes=64 * 1024)
    )
    seen: dict[str, Any] = {}
    _sas_routes(leanix_http, seen)
    uploaded: dict[str, int] = {"size": 0}

    def streaming_put(url: str, *, data: Any, **kwargs: Any) -> requests.Response:
        # `responses` reads a file body whole; a real socket reads it in blocks, like this.
        for chunk in iter(lambda: data.read(8192), b""):
            uploaded["size"] += len(chunk)
        response = requests.Response()
        response.status_code = 201
        response.raw = io.BytesIO()
        return response

    monkeypatch.setattr(requests, "put", streaming_put)
    tracemalloc.start()
    try:
        api.submit(HEADER, _items(25_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert uploaded["size"] > 1_400_000
    assert peak < 800_000, peak  # ~ threshold + a writer batch, not the 1.4+ MB LDIF


def test_sas_upload_failure_never_shows_the_signature(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, BASE + "/storages/azure", json={"SAS": SAS_URL})
    leanix_http.add(
        responses.PUT,
        SAS_BLOB,
        body="<Error><Message>Signature TOPSECRETSIGNATURE123 did not match</Message></Error>",
        status=403,
    )
    with pytest.raises(PermissionDeniedError) as caught:
        api.submit(HEADER, _items(300))
    assert "TOPSECRET" not in str(caught.value)
    assert caught.value.path == SAS_BLOB
    assert not [c for c in _calls(leanix_http) if "withUrlInput" in (c.request.url or "")]

    leanix_http.replace(
        responses.PUT, SAS_BLOB, body=requests.exceptions.ConnectionError(f"cannot reach {SAS_URL}")
    )
    with pytest.raises(TransportError) as broken:
        api.submit(HEADER, _items(300))
    assert "TOPSECRET" not in str(broken.value)
    assert broken.value.__cause__ is None and broken.value.__suppress_context__


def test_sas_upload_respects_the_deadline(
    api: IntegrationAPI, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    from lx_core import deadline

    target = SasTarget.model_validate({"SAS": SAS_URL})
    with deadline.within(0.01, clock=leanix_clock), pytest.raises(DeadlineExceededError):
        api.upload(target, io.BytesIO(b"{}"), size=2)
    assert _calls(leanix_http) == []


def test_submit_with_a_bad_item_sends_nothing(
    api: IntegrationAPI, leanix_http: responses.RequestsMock
) -> None:
    with pytest.raises(LdifError):
        api.submit(HEADER, [{"type": "A", "id": "1", "data": {}}, {"type": "A", "data": {}}])
    assert _calls(leanix_http) == []


# --- transport extensions -------------------------------------------------------------------------


def test_file_body_is_rewound_for_a_retry_and_headers_cannot_replace_the_bearer(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    seen: list[tuple[bytes, dict[str, str]]] = []

    def answer(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.append((_raw(request.body), dict(request.headers)))
        return (429, {}, "") if len(seen) == 1 else (200, {}, '{"id": "x"}')

    leanix_http.add_callback(responses.POST, RUNS, callback=answer)
    body = io.BytesIO(b'{"hello":"world"}')
    leanix_client.transport.request(
        "POST",
        "/services/integration-api/v1/synchronizationRuns",
        data=body,
        headers={"Authorization": "Bearer forged", "X-Extra": "1"},
        idempotent=False,
    )
    assert [data for data, _ in seen] == [b'{"hello":"world"}'] * 2
    for _, headers in seen:
        assert headers["Authorization"] != "Bearer forged"
        assert headers["X-Extra"] == "1"


def test_file_body_is_rewound_for_the_401_replay(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: Callable[..., str],
) -> None:
    leanix_token()  # the second exchange after the 401
    seen: list[bytes] = []

    def answer(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.append(_raw(request.body))
        return (401, {}, "") if len(seen) == 1 else (200, {}, '{"id": "x"}')

    leanix_http.add_callback(responses.POST, RUNS, callback=answer)
    leanix_client.transport.request(
        "POST",
        "/services/integration-api/v1/synchronizationRuns",
        data=io.BytesIO(b"[1,2,3]"),
        idempotent=False,
    )
    assert seen == [b"[1,2,3]", b"[1,2,3]"]


def test_json_and_data_together_are_refused(leanix_client: LeanIXClient) -> None:
    with pytest.raises(ValueError, match="json or data"):
        leanix_client.transport.request(
            "POST", "/services/x", json={}, data=b"{}", idempotent=False
        )


def test_client_exposes_the_integration_api(leanix_client: LeanIXClient) -> None:
    assert isinstance(leanix_client.integration, IntegrationAPI)
    assert leanix_client.integration is leanix_client.integration
