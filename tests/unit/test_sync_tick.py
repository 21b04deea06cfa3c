"""The connector run state machine: every crash point, lost answers, overlap, results pending."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lx_core.config import IntegrationSettings
from lx_core.errors import LxError, StorageUnavailableError
from lx_core.integration.connectors import Connector, load_connector
from lx_core.jobs.sync_state import OutcomeLog, SyncStates
from lx_core.jobs.sync_tick import SyncTicker
from lx_core.state.lease import Lease
from lx_core.state.memory import MemoryStore
from lx_core.storage.memory import MemoryBlobStore
from tests.unit.fake_integration import CrashError, FakeClock, FakeIntegration

IDENTITY = {
    "connectorType": "test",
    "connectorId": "apps",
    "connectorVersion": "1.0.0",
    "processingDirection": "inbound",
    "processingMode": "partial",
}
PROCESSORS = {
    **IDENTITY,
    "processors": [
        {
            "processorType": "inboundFactSheet",
            "processorName": "Apps",
            "type": "Application",
            "filter": {"exactType": "app"},
            "identifier": {
                "external": {"id": {"expr": "${content.id}"}, "type": {"expr": "externalId"}}
            },
            "updates": [{"key": {"expr": "name"}, "values": [{"expr": "${data.name}"}]}],
        }
    ],
}


def write_connector(tmp_path: Path, **overrides: Any) -> Connector:
    identity = {**IDENTITY, **overrides.pop("identity", {})}
    processors: dict[str, Any] = {**PROCESSORS, **identity}
    if identity["processingDirection"] == "outbound":
        processors["scope"] = {"facetFilters": [], "ids": []}
        processors["processors"] = [{"processorType": "outboundFactSheet", "processorName": "X"}]
    (tmp_path / "procs.json").write_text(json.dumps(processors))
    spec: dict[str, Any] = {
        "name": "apps",
        "schedule": "0 0 2 * * *",
        "connector": identity,
        "processors": "procs.json",
        **overrides,
    }
    if identity["processingDirection"] == "inbound":
        spec.setdefault(
            "source",
            {"kind": "blob", "container": "lx-sources", "name": "apps.json", "format": "json-list"},
        )
    (tmp_path / "apps.json").write_text(json.dumps(spec))
    return load_connector(tmp_path / "apps.json")


class World:
    """One LeanIX fake, one state store, one blob store, shared by every "host"."""

    def __init__(self, tmp_path: Path, **overrides: Any) -> None:
        self.clock = FakeClock()
        self.api = FakeIntegration(self.clock)
        self.store = MemoryStore()
        self.blob = MemoryBlobStore()
        items = [{"type": "app", "id": f"a{i}", "data": {"name": f"App {i}"}} for i in range(3)]
        self.blob.upload("lx-sources", "apps.json", [json.dumps(items).encode()])
        self.connector = write_connector(tmp_path, **overrides)
        self.settings = IntegrationSettings(tick_invocation_seconds=20, lease_seconds=120)

    def ticker(self, owner: str = "host-a") -> SyncTicker:
        return SyncTicker(
            self.connector,
            api=self.api,  # type: ignore[arg-type]
            store=self.store,
            settings=self.settings,
            blob=self.blob,
            owner=owner,
            clock=self.clock,
            sleep=self.clock.sleep,
        )

    def state(self) -> Any:
        return SyncStates(self.store).get("apps")[0]

    def outcomes(self) -> list[Any]:
        return OutcomeLog(self.store).read()


def test_a_run_outlives_several_ticks_and_ends_in_one_outcome(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.duration = 50
    first = world.ticker().tick(start=True, budget_seconds=20)
    assert first.action == "watching"
    assert world.state().phase == "started"
    assert world.api.calls.count("upsert_configuration") == 1
    second = world.ticker().tick(start=True, budget_seconds=20)  # the next schedule: no new run
    assert second.action == "watching"
    third = world.ticker().tick(start=False, budget_seconds=20)
    assert third.action == "finished"
    assert len(world.api.runs) == 1
    [outcome] = world.outcomes()
    assert outcome.status == "FINISHED" and not outcome.failed
    assert outcome.processed == 3 and outcome.items_in_scope == 3
    assert world.state().phase == "idle"
    assert world.state().last_outcome == outcome


def test_an_unchanged_configuration_is_not_written_again(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.duration = 1
    for _ in range(2):
        assert world.ticker().tick(start=True, budget_seconds=20).action == "finished"
    assert world.api.calls.count("upsert_configuration") == 1
    assert len(world.api.runs) == 2


def test_a_crash_after_the_intent_creates_the_run_once(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.unavailable.add("submit")
    report = world.ticker().tick(start=True, budget_seconds=20)
    assert report.action == "retry_later"
    assert world.state().phase == "intent"
    world.api.unavailable.clear()
    world.clock.sleep(61)
    report = world.ticker().tick(start=False, budget_seconds=60)
    assert report.action == "finished"
    assert len(world.api.runs) == 1
    assert "list_runs" in world.api.calls  # it looked for an orphan before creating


def test_a_lost_create_answer_adopts_the_orphan_instead_of_duplicating(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.crash.add("submit")
    with pytest.raises(CrashError):
        world.ticker().tick(start=True, budget_seconds=20)
    assert world.state().phase == "intent" and world.state().run_id is None
    world.clock.sleep(200)  # the dead host's lease expires
    report = world.ticker("host-b").tick(start=True, budget_seconds=60)
    assert report.action == "finished"
    assert len(world.api.runs) == 1, "the orphan was adopted, not duplicated"
    assert world.outcomes()[0].run_id == "run-1"


def test_a_crash_after_start_resumes_watching_the_same_run(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.crash.add("start_run")
    with pytest.raises(CrashError):
        world.ticker().tick(start=True, budget_seconds=20)
    assert world.state().phase == "created"
    world.clock.sleep(200)
    report = world.ticker("host-b").tick(start=False, budget_seconds=60)
    assert report.action == "finished"
    assert len(world.api.runs) == 1
    assert world.api.calls.count("start_run") == 2  # the replayed start counted as done


def test_two_hosts_at_once_start_one_run(tmp_path: Path) -> None:
    world = World(tmp_path)
    holder = Lease(world.store, "sync.apps", owner="host-a", duration=120, clock=world.clock)
    assert holder.acquire()
    busy = world.ticker("host-b").tick(start=True, budget_seconds=20)
    assert busy.action == "busy" and "host-a" in (busy.message or "")
    assert world.api.runs == {}
    holder.release()
    assert world.ticker("host-b").tick(start=True, budget_seconds=60).action == "finished"
    assert len(world.api.runs) == 1


def test_failed_run_is_a_failure_by_policy_and_marked_for_notification(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.fail_next_runs = 1
    report = world.ticker().tick(start=True, budget_seconds=60)
    assert report.outcome is not None
    assert report.outcome.status == "FAILED"
    assert report.outcome.failed and report.outcome.notify
    assert "status FAILED" in report.outcome.reasons


def test_start_failures_are_bounded_then_recorded_as_not_started(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.unavailable.add("submit")
    reports = []
    for _ in range(world.settings.start_attempts):
        reports.append(world.ticker().tick(start=True, budget_seconds=20))
        world.clock.sleep(3600)
    assert [r.action for r in reports] == ["retry_later"] * (world.settings.start_attempts - 1) + [
        "given_up"
    ]
    [outcome] = world.outcomes()
    assert outcome.status == "NOT_STARTED" and outcome.failed
    assert world.state().phase == "idle"


def test_retry_waits_for_its_backoff(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.unavailable.add("submit")
    world.ticker().tick(start=True, budget_seconds=20)
    world.api.unavailable.clear()
    assert world.ticker().tick(start=False, budget_seconds=20).action == "retry_later"
    assert world.api.calls.count("submit") == 1


def test_outbound_results_land_in_the_blob_and_a_blob_outage_keeps_them_pending(
    tmp_path: Path,
) -> None:
    outbound = {"processingDirection": "outbound"}
    world = World(
        tmp_path, identity=outbound, target={"path": "{connector}/{timestamp}-{run_id}.json"}
    )
    world.api.duration = 1
    world.api.results_body = b'{"content": [{"id": "1", "type": "Application", "data": {}}]}'
    world.blob.fail_next(1)
    with pytest.raises(StorageUnavailableError):
        world.ticker().tick(start=True, budget_seconds=20)
    assert world.state().phase == "results_pending"
    assert world.outcomes() == [], "no outcome before the results are safe"
    report = world.ticker().tick(start=False, budget_seconds=20)
    assert report.action == "finished"
    [outcome] = world.outcomes()
    assert outcome.result_blob is not None
    assert outcome.result_blob.container == "lx-results"
    assert outcome.result_blob.name.startswith("apps/") and outcome.result_blob.name.endswith(
        "-run-1.json"
    )
    stored = b"".join(world.blob.open_chunks("lx-results", outcome.result_blob.name))
    assert stored == world.api.results_body


def test_a_run_leanix_forgot_is_recorded_as_lost(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.duration = 100
    world.ticker().tick(start=True, budget_seconds=5)
    world.api.runs.clear()
    report = world.ticker().tick(start=False, budget_seconds=5)
    assert report.outcome is not None and report.outcome.status == "LOST" and report.outcome.failed


def test_an_overdue_run_is_stopped_when_the_connector_says_so(tmp_path: Path) -> None:
    world = World(tmp_path, deadlineSeconds=60, onDeadline="stop")
    world.api.duration = 10_000
    world.ticker().tick(start=True, budget_seconds=5)
    world.clock.sleep(120)
    report = world.ticker().tick(start=False, budget_seconds=5)
    assert "stop_run" in world.api.calls
    assert report.outcome is not None and report.outcome.status == "STOPPED"


def test_a_damaged_state_row_is_refused_not_guessed(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.store.upsert("sync", "apps", {"phase": "exploded"})
    with pytest.raises(LxError, match="damaged"):
        world.ticker().tick(start=True, budget_seconds=5)
    assert world.api.runs == {}


def test_test_runs_of_outbound_connectors_use_the_test_scope(tmp_path: Path) -> None:
    scope = {"facetFilters": [], "ids": ["fs-1"]}
    world = World(
        tmp_path,
        identity={"processingDirection": "outbound"},
        testScope=scope,
    )
    world.api.duration = 1
    report = world.ticker().tick(start=True, test=True, trigger="manual", budget_seconds=20)
    assert report.action == "finished"
    run = world.api.runs["run-1"]
    assert run.header["config"]["scope"] == scope
    assert run.test
    assert "upsert_configuration" not in world.api.calls
    assert report.outcome is not None and report.outcome.test


def test_run_to_end_ticks_through_a_long_run_and_a_failed_start(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.duration = 70  # several 20 s ticks
    world.api.unavailable.add("submit")
    ticker = world.ticker()

    def sleep(seconds: float) -> None:  # LeanIX is back after the first wait
        world.api.unavailable.clear()
        world.clock.sleep(seconds)

    ticker.sleep = sleep
    report = ticker.run_to_end(timeout_seconds=600)
    assert report.action == "finished", report
    assert report.outcome is not None and report.outcome.status == "FINISHED"
    assert len(world.api.runs) == 1 and world.state().phase == "idle"


def test_run_to_end_gives_up_waiting_but_leaves_the_run_open(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.api.duration = 10_000
    began = world.clock()
    report = world.ticker().run_to_end(timeout_seconds=90)
    assert report.action == "watching"
    assert world.state().phase == "started", "the watch tick takes the run over"
    assert 90 <= world.clock() - began < 120


def test_the_end_of_a_tick_never_stops_a_run_whatever_the_handover_setting(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    world.settings = IntegrationSettings(
        tick_invocation_seconds=20, lease_seconds=120, handover="stop"
    )
    world.api.duration = 100
    assert world.ticker().tick(start=True, budget_seconds=20).action == "watching"
    assert "stop_run" not in world.api.calls
    assert world.state().phase == "started"


def test_the_outcome_log_reads_on_from_a_cursor_and_prunes_only_old_rows(
    tmp_path: Path,
) -> None:
    from lx_core.jobs.sync_state import outcome_key

    world = World(tmp_path)
    world.api.duration = 1
    for _ in range(3):
        world.ticker().tick(start=True, budget_seconds=20)
        world.clock.sleep(86_400)  # a day between runs
    log = OutcomeLog(world.store)
    first, second, third = log.read()
    assert log.read(after=outcome_key(first)) == [second, third]
    assert log.prune(before=second.finished_at) == 1
    assert log.read() == [second, third]
    assert log.prune(before=second.finished_at) == 0
