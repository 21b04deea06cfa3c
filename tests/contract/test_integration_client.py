"""IntegrationAPI and RunWatcher against the emulator's Integration API over real HTTP:
configurations, the run lifecycle, results 204 then 200, warnings pages, stop, FAILED, the
large-input path (the emulator's own upload URL, and a real SAS into Azurite), and a watch that
hands over at its budget and is resumed by a second watcher."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from lx_core.config import IntegrationSettings
from lx_core.errors import BadRequestError, NotFoundError
from lx_core.integration.identity import ConnectorIdentity
from lx_core.integration.ldif import LdifHeader
from lx_core.jobs.run_watcher import RunNotFoundError, RunWatcher
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.integration_api import IntegrationAPI, RunProgress, RunStatus
from lx_sandbox.azurite import Azurite
from lx_sandbox.emulator import SandboxConfig, SandboxServer
from tests.contract.conftest import Admin, ClientFactory, make_settings

pytestmark = pytest.mark.sandbox

RUNS = "/services/integration-api/v1/synchronizationRuns"
INBOUND = ConnectorIdentity(
    connector_type="hrImport",
    connector_id="hr-apps",
    connector_version="1.0.0",
    processing_direction="inbound",
)
OUTBOUND = ConnectorIdentity(
    connector_type="appExport",
    connector_id="app-export",
    connector_version="1.0.0",
    processing_direction="outbound",
)


def _inbound_config(
    *, name_expr: str = "${data.name}", description_expr: str | None = None
) -> dict[str, Any]:
    updates = [{"key": {"expr": "name"}, "values": [{"expr": name_expr}]}]
    if description_expr is not None:
        updates.append({"key": {"expr": "description"}, "values": [{"expr": description_expr}]})
    return {
        **INBOUND.params(),
        "processors": [
            {
                "processorType": "inboundFactSheet",
                "processorName": "Apps from hr",
                "type": "Application",
                "filter": {"exactType": "hrApp"},
                "identifier": {
                    "external": {"id": {"expr": "${content.id}"}, "type": {"expr": "externalId"}}
                },
                "run": 0,
                "updates": updates,
            }
        ],
    }


def _outbound_config() -> dict[str, Any]:
    return {
        **OUTBOUND.params(),
        "scope": {"facetFilters": [{"facetKey": "FactSheetTypes", "keys": ["Application"]}]},
        "processors": [
            {
                "processorType": "outboundFactSheet",
                "processorName": "Export apps",
                "fields": ["name"],
                "output": [{"key": {"expr": "name"}, "values": [{"expr": "${lx.factsheet.name}"}]}],
            }
        ],
    }


def _header(identity: ConnectorIdentity = INBOUND) -> LdifHeader:
    return LdifHeader(**identity.params(), lx_version="1.0.0")


def _ldif(identity: ConnectorIdentity = INBOUND, n: int = 3) -> dict[str, Any]:
    doc = _header(identity).header_document()
    doc["content"] = list(_items(n)) if identity is INBOUND else []
    return doc


def _items(n: int, prefix: str = "hr") -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"type": "hrApp", "id": f"{prefix}-{i}", "data": {"name": f"HR App {prefix}-{i}"}}


def _watch_settings(**overrides: Any) -> IntegrationSettings:
    values: dict[str, Any] = {
        "poll_min_seconds": 0.05,
        "poll_max_seconds": 0.2,
        "warnings_limit": 500,
        "handover": "keep_watching",
        "url_input_threshold_bytes": 8 * 1024 * 1024,
    }
    values.update(overrides)
    return IntegrationSettings(**values)


def _durations(admin: Admin, *, pending: float = 0.05, run: float = 0.2, **more: Any) -> None:
    admin.call(
        "PUT", "/integration/config", json={"pendingSeconds": pending, "runSeconds": run, **more}
    )


@pytest.fixture
def api(client: LeanIXClient, admin: Admin) -> IntegrationAPI:
    _durations(admin)
    return IntegrationAPI(client.transport, settings=_watch_settings())


def _watcher(api: IntegrationAPI, **settings: Any) -> RunWatcher:
    return RunWatcher(api, _watch_settings(**settings))


def _names(admin: Admin) -> set[str]:
    return {fs["name"] for fs in admin.fact_sheets("Application") if fs["status"] == "ACTIVE"}


# --- configurations ---------------------------------------------------------------------------


def test_configuration_upsert_get_list_delete(api: IntegrationAPI) -> None:
    assert api.get_configuration(INBOUND) is None
    api.upsert_configuration(_inbound_config())
    stored = api.get_configuration(INBOUND)
    assert stored is not None
    assert stored["processors"][0]["processorName"] == "Apps from hr"
    api.upsert_configuration(_inbound_config(name_expr="${data.name} (hr)"))  # an upsert
    again = api.get_configuration(INBOUND)
    assert again is not None
    assert again["processors"][0]["updates"][0]["values"][0]["expr"] == "${data.name} (hr)"
    assert [c["connectorId"] for c in api.list_configurations()] == ["hr-apps"]
    api.delete_configuration(INBOUND)
    assert api.get_configuration(INBOUND) is None
    with pytest.raises(NotFoundError):
        api.delete_configuration(INBOUND)
    api.delete_configuration(INBOUND, missing_ok=True)


# --- the run lifecycle --------------------------------------------------------------------------


def test_create_start_status_progress_and_watch_to_finished(
    api: IntegrationAPI, admin: Admin
) -> None:
    api.upsert_configuration(_inbound_config())
    run_id = api.create_run(_ldif(n=3))
    assert api.status(run_id).status == "CREATED"
    assert run_id in {r.id for r in api.list_runs()}
    started_at = time.time()
    api.start_run(run_id)
    api.start_run(run_id)  # a replayed start: 400 "already started", and the status agrees
    assert api.status(run_id).status in ("PENDING", "IN_PROGRESS", "FINISHED")

    seen: list[tuple[str, RunProgress | None]] = []

    def show(status: RunStatus, progress: RunProgress | None) -> None:
        seen.append((status.status, progress))

    watcher = RunWatcher(api, _watch_settings(), on_progress=show)
    result = watcher.watch(run_id, started_at=started_at, budget_seconds=10)
    outcome = result.outcome
    assert outcome is not None, result
    assert outcome.status == "FINISHED"
    assert (outcome.processed, outcome.error_count, outcome.warnings_total) == (3, 0, 0)
    assert outcome.items_in_scope == 3
    assert outcome.warnings == []
    assert outcome.result_location is None  # inbound without writeToLdif: no results
    assert 0 < outcome.duration_seconds < 10
    assert seen[-1][0] == "FINISHED" and len(seen) == result.polls
    assert api.results(run_id) is None  # 204: no LDIF to produce
    assert {"HR App hr-0", "HR App hr-1", "HR App hr-2"} <= _names(admin)
    progress = api.progress(run_id)
    assert progress.processed_content_count == 3
    assert isinstance(progress.status, int)


def test_a_test_run_changes_nothing(api: IntegrationAPI, admin: Admin) -> None:
    api.upsert_configuration(_inbound_config())
    run_id = api.create_run(_ldif(n=2), start=True, test=True)
    result = _watcher(api).watch(run_id, started_at=time.time(), budget_seconds=10)
    assert result.outcome is not None and result.outcome.status == "FINISHED"
    assert not {"HR App hr-0", "HR App hr-1"} & _names(admin)


def test_outbound_results_are_204_until_finished_then_streamed(
    api: IntegrationAPI, admin: Admin
) -> None:
    _durations(admin, pending=0.05, run=0.6)
    api.upsert_configuration(_outbound_config())
    started_at = time.time()
    run_id = api.create_run(_ldif(OUTBOUND), start=True)
    assert api.results(run_id) is None  # not ready yet
    assert api.results_url(run_id) is None
    result = _watcher(api).watch(run_id, started_at=started_at, budget_seconds=10)
    assert result.outcome is not None and result.outcome.status == "FINISHED"
    stream = api.results(run_id)
    assert stream is not None
    with stream:
        document = stream.json()
    names = {item["data"]["name"] for item in document["content"]}
    assert names == {
        fs["name"] for fs in admin.fact_sheets("Application") if fs["status"] == "ACTIVE"
    }
    assert result.outcome.result_location is not None
    downloaded = requests.get(result.outcome.result_location, timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.json() == document


def test_warnings_are_paged(api: IntegrationAPI, admin: Admin) -> None:
    # An expression outside the JUEL subset is a run warning per item, not a crash.
    api.upsert_configuration(_inbound_config(description_expr="${data.name.reverse()}"))
    run_id = api.create_run(_ldif(n=5), start=True)
    result = _watcher(api, warnings_limit=3).watch(
        run_id, started_at=time.time(), budget_seconds=10
    )
    outcome = result.outcome
    assert outcome is not None
    assert (outcome.warnings_total, outcome.error_count, outcome.processed) == (5, 0, 5)
    assert len(outcome.warnings) == 3
    assert {w.content for w in outcome.warnings} <= {f"hr-{i}" for i in range(5)}
    assert all(w.processor is not None and w.processor.name for w in outcome.warnings)
    page = api.warnings(run_id, offset=4, limit=2)
    assert [w.content for w in page] == ["hr-4"]
    everything = list(api.iter_warnings(run_id, max_items=100, page_size=2))
    assert [w.content for w in everything] == [f"hr-{i}" for i in range(5)]


def test_stop_a_running_run(api: IntegrationAPI, admin: Admin) -> None:
    _durations(admin, pending=0.0, run=30)
    api.upsert_configuration(_inbound_config())
    run_id = api.create_run(_ldif(n=3), start=True)
    api.stop_run(run_id)
    assert api.status(run_id).status == "STOPPED"
    api.stop_run(run_id)  # 400 "not pending/running", but it has ended: done
    fresh = api.create_run(_ldif(n=1))
    with pytest.raises(BadRequestError):
        api.stop_run(fresh)  # a CREATED run cannot be stopped


def test_watch_to_failed(api: IntegrationAPI, admin: Admin) -> None:
    _durations(admin, failNext=1)
    api.upsert_configuration(_inbound_config())
    run_id = api.create_run(_ldif(n=4), start=True)
    result = _watcher(api).watch(run_id, started_at=time.time(), budget_seconds=10)
    assert result.outcome is not None
    assert result.outcome.status == "FAILED"
    assert result.outcome.description
    assert result.outcome.result_location is None


def test_deadline_handover_then_resumed_watch(api: IntegrationAPI, admin: Admin) -> None:
    _durations(admin, pending=0.05, run=1.2)
    api.upsert_configuration(_inbound_config())
    started_at = time.time()
    run_id = api.create_run(_ldif(n=3), start=True)
    first = _watcher(api).watch(run_id, started_at=started_at, budget_seconds=0.3)
    assert first.handed_over and first.outcome is None
    assert first.last_status is not None and not first.last_status.terminal
    assert time.time() - started_at < 1.0  # the budget was kept
    second = _watcher(api).watch(run_id, started_at=started_at, budget_seconds=10)
    assert second.outcome is not None and second.outcome.status == "FINISHED"
    assert second.outcome.duration_seconds >= 1.2


def test_stop_handover_stops_the_run(api: IntegrationAPI, admin: Admin) -> None:
    _durations(admin, pending=0.0, run=30)
    api.upsert_configuration(_inbound_config())
    run_id = api.create_run(_ldif(n=3), start=True)
    result = _watcher(api, handover="stop").watch(
        run_id, started_at=time.time(), budget_seconds=0.2
    )
    assert result.stop_requested
    assert result.outcome is not None and result.outcome.status == "STOPPED"


def test_an_unknown_run_is_not_watched_forever(api: IntegrationAPI) -> None:
    with pytest.raises(NotFoundError):
        api.status("no-such-run")
    with pytest.raises(RunNotFoundError):
        _watcher(api).watch("no-such-run", started_at=time.time(), budget_seconds=5)


# --- variants -------------------------------------------------------------------------------------


def test_with_config_and_fast_runs(api: IntegrationAPI, admin: Admin) -> None:
    run_id = api.create_run_with_config(_ldif(n=1), _inbound_config(), start=True)
    result = _watcher(api).watch(run_id, started_at=time.time(), budget_seconds=10)
    assert result.outcome is not None and result.outcome.status == "FINISHED"
    assert "HR App hr-0" in _names(admin)

    ldif = {**_ldif(n=2), "content": list(_items(2, prefix="fast"))}
    dry = api.fast_run_with_config(ldif, _inbound_config(), test=True)
    assert dry.status == "FINISHED"
    assert dry.stats is not None and dry.stats.processed_content_count == 2
    assert "HR App fast-0" not in _names(admin)
    api.upsert_configuration(_inbound_config())
    assert api.fast_run(ldif).status == "FINISHED"
    assert "HR App fast-0" in _names(admin)
    api.upsert_configuration(_outbound_config())
    with pytest.raises(BadRequestError, match="outbound"):
        api.fast_run(_ldif(OUTBOUND))


# --- large inputs ---------------------------------------------------------------------------------


def test_submit_small_goes_inline_and_big_through_the_upload(
    api: IntegrationAPI, admin: Admin
) -> None:
    api.upsert_configuration(_inbound_config())
    admin.clear_stats()
    small = api.submit(_header(), _items(2, prefix="small"), start=True)
    assert admin.requests_to("POST " + RUNS) == 1
    big = api.submit(_header(), _items(300, prefix="big"), start=True, threshold_bytes=4096)
    assert admin.requests_to("GET /services/integration-api/v1/storages/azure") == 1
    assert admin.requests_to("POST " + RUNS + "/withUrlInput") == 1
    assert admin.requests_to("POST " + RUNS) == 1  # the big one was not posted inline
    for run_id in (small, big):
        result = _watcher(api).watch(run_id, started_at=time.time(), budget_seconds=10)
        assert result.outcome is not None and result.outcome.status == "FINISHED"
    assert result.outcome is not None and result.outcome.processed == 300
    names = _names(admin)
    assert {"HR App small-0", "HR App big-0", "HR App big-299"} <= names


def test_submit_big_through_a_real_sas_into_azurite(azurite: Azurite) -> None:
    config = SandboxConfig(
        seed="demo",
        integration_pending_seconds=0.02,
        integration_run_seconds=0.1,
        integration_blob_connection_string=azurite.connection_string,
    )
    with SandboxServer(config) as server:
        client = LeanIXClient(make_settings(server.url))
        try:
            api = IntegrationAPI(client.transport, settings=_watch_settings())
            api.upsert_configuration(_inbound_config())
            sas = api.storage_sas()
            assert sas.shown_url.startswith(azurite.blob_endpoint)
            run_id = api.submit(
                _header(), _items(200, prefix="az"), start=True, threshold_bytes=2048
            )
            result = _watcher(api).watch(run_id, started_at=time.time(), budget_seconds=10)
            assert result.outcome is not None and result.outcome.status == "FINISHED"
            assert result.outcome.processed == 200
        finally:
            client.close()


def test_client_facade_exposes_the_integration_api(make_client: ClientFactory) -> None:
    client = make_client()
    assert client.integration.list_runs() == []
