"""The resumable reconcile over an in-memory workspace and store: checkpoint, lease, restarts."""

from __future__ import annotations

from typing import Any

import pytest

from lx_core import runtime
from lx_core.config import TimeSettings
from lx_core.errors import (
    AuthenticationError,
    ConfigurationError,
    GraphQLError,
    PermissionDeniedError,
)
from lx_core.jobs.reconcile_summary import ReconcileSummary
from lx_core.jobs.time_reconcile import CHECKPOINT_PARTITION, LAST_RUN_PARTITION, ReconcileRun
from lx_core.jobs.time_tagging import TimeTagger
from lx_core.leanix.testing import FakeClock
from lx_core.state.lease import Lease
from lx_core.state.memory import MemoryStore
from tests.unit.fake_leanix import FakeLeanIX

FITS = [("perfect", "adequate"), ("unreasonable", "inappropriate"), (None, "adequate")]


@pytest.fixture
def workspace(fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch) -> FakeLeanIX:
    monkeypatch.setenv("LEANIX_PAGE_SIZE", "10")
    runtime.reset_process_state()
    for i in range(40):
        fake_leanix.add_app(f"a{i:03}", *FITS[i % 3])
    return fake_leanix


def make_run(store: MemoryStore | None, clock: FakeClock | None = None, **kw: Any) -> ReconcileRun:
    tagger = TimeTagger(runtime.leanix_client(), TimeSettings(batch_size=5))
    if clock is None:
        return ReconcileRun(tagger, store, **kw)
    return ReconcileRun(tagger, store, clock=clock, monotonic=clock, **kw)


def wrong(fake: FakeLeanIX) -> list[str]:
    """Applications whose TIME tag is not what their fits say."""
    expected: dict[tuple[str | None, str | None], list[str]] = {
        ("perfect", "adequate"): [fake.tag("Invest")],
        ("unreasonable", "inappropriate"): [fake.tag("Eliminate")],
        (None, "adequate"): [],
    }
    return [a.id for a in fake.apps.values() if a.tags != expected[(a.functional, a.technical)]]


def test_a_run_checkpoints_every_page_and_finishes_with_a_last_run_row(
    workspace: FakeLeanIX,
) -> None:
    store = MemoryStore()
    seen: list[int] = []
    summary = make_run(store).run(on_progress=lambda s: seen.append(s.examined))
    assert summary.state == "finished" and summary.examined == 40 and summary.failed == 0
    assert wrong(workspace) == []
    checkpoints = [w for w in store.writes if w[1] == CHECKPOINT_PARTITION]
    assert len(checkpoints) >= 4  # one per page, at least
    assert store.list(CHECKPOINT_PARTITION) == []  # deleted at the end
    (last,) = store.list(LAST_RUN_PARTITION)
    assert last.data["examined"] == 40 and last.data["state"] == "finished"
    assert store.list("leases") == []  # released


def test_out_of_time_pauses_between_pages_and_the_next_invocation_resumes(
    workspace: FakeLeanIX,
) -> None:
    store = MemoryStore()
    clock = FakeClock(start=1000.0)

    def slow_pages(summary: ReconcileSummary) -> None:
        clock.advance(4.0)  # every page "takes" four seconds

    first = make_run(store, clock).run(on_progress=slow_pages, budget_seconds=14)
    assert first.state == "paused"
    assert 0 < first.examined < 40
    stored = store.get(CHECKPOINT_PARTITION, make_run(store).key)
    assert stored is not None and stored.data["cursor"] == str(first.examined)
    pages_before = workspace.count("lxFactSheetPage")

    second = make_run(store, clock).run(resume_only=True)
    assert second.state == "finished" and second.examined == 40
    assert second.invocations == 2
    # Resumed from the cursor: only the remaining pages were read again.
    assert workspace.count("lxFactSheetPage") - pages_before == 4 - first.examined // 10
    assert wrong(workspace) == []


def test_resume_only_is_idle_without_a_checkpoint(workspace: FakeLeanIX) -> None:
    workspace.ops.clear()
    summary = make_run(MemoryStore()).run(resume_only=True)
    assert summary.state == "idle"
    assert [op for op in workspace.ops if op != "lxType"] == []


def test_a_second_run_is_refused_while_the_lease_is_held(workspace: FakeLeanIX) -> None:
    store = MemoryStore()
    run = make_run(store)
    other = Lease(store, "time-reconcile." + run.key, owner="timer-elsewhere", duration=120)
    assert other.acquire()
    workspace.ops.clear()
    summary = run.run()
    assert (summary.state, summary.blocked_by) == ("busy", "timer-elsewhere")
    assert workspace.count("lxFactSheetPage") == 0
    assert workspace.count("lxUpdateFactSheets") == 0


def test_a_rejected_cursor_restarts_the_walk_and_counts_it(workspace: FakeLeanIX) -> None:
    store = MemoryStore()
    clock = FakeClock(start=1000.0)
    make_run(store, clock).run(on_progress=lambda s: clock.advance(4.0), budget_seconds=14)
    original = workspace._op_fact_sheet_page

    rejected: list[str] = []

    def expired_once(v: dict[str, Any], q: str) -> tuple[Any, Any]:
        if v.get("after") and not rejected:
            rejected.append(v["after"])
            return None, [{"message": "cursor expired", "extensions": {"errorType": "X"}}]
        return original(v, q)

    workspace._op_fact_sheet_page = expired_once  # type: ignore[method-assign]
    summary = make_run(store).run()
    assert rejected  # the stored cursor was tried first
    assert summary.state == "finished" and summary.restarts == 1
    assert summary.examined == 40
    assert wrong(workspace) == []


def test_restarts_are_bounded(workspace: FakeLeanIX) -> None:
    store = MemoryStore()
    clock = FakeClock(start=1000.0)
    make_run(store, clock).run(on_progress=lambda s: clock.advance(4.0), budget_seconds=14)

    def always_expired(v: dict[str, Any], q: str) -> tuple[Any, Any]:
        return None, [{"message": "cursor expired", "extensions": {"errorType": "X"}}]

    workspace._op_fact_sheet_page = always_expired  # type: ignore[method-assign]
    with pytest.raises(GraphQLError):
        make_run(store, max_restarts=2).run()
    # The checkpoint survives the failed invocation.
    assert store.get(CHECKPOINT_PARTITION, make_run(store).key) is not None


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("LeanIX rejected the bearer token", status=401),
        PermissionDeniedError("the technical user lacks the permission", status=403),
        ConfigurationError("TIME_TAG_GROUP is wrong", settings=["TIME_TAG_GROUP"]),
    ],
)
def test_an_auth_permission_or_config_error_in_a_batch_aborts_the_run(
    workspace: FakeLeanIX, error: Exception
) -> None:
    """Retrying cannot cure these: the run stops instead of failing every item."""
    store = MemoryStore()

    def rejected(v: dict[str, Any], q: str) -> tuple[Any, Any]:
        raise error

    workspace._op_update_fact_sheets = rejected  # type: ignore[method-assign]
    with pytest.raises(type(error)):
        make_run(store).run()
    assert workspace.count("lxFactSheet") == 0  # no per-item fallback was tried


def test_without_a_store_the_run_works_unguarded(workspace: FakeLeanIX) -> None:
    summary = make_run(None).run()
    assert summary.state == "finished" and wrong(workspace) == []


def test_dry_run_lists_what_would_change_and_writes_no_state(workspace: FakeLeanIX) -> None:
    store = MemoryStore()
    summary = make_run(store).run(dry_run=True)
    assert summary.dry_run and summary.changed == len(summary.would_change) > 0
    change = summary.would_change[0].as_dict()
    assert change == {"id": "a000", "name": "a000", "from": None, "to": "invest"}
    assert store.writes == []
    assert workspace.count("lxUpdateFactSheets") == 0


def test_a_failed_data_model_read_fails_the_run_before_any_write(workspace: FakeLeanIX) -> None:
    from lx_core.errors import ServerError

    workspace.fail_ops["lxType"] = 500
    with pytest.raises(ServerError):
        make_run(MemoryStore()).run()
    assert workspace.count("lxUpdateFactSheets") == 0


def test_an_unreadable_checkpoint_is_discarded_and_the_run_starts_over(
    workspace: FakeLeanIX,
) -> None:
    store = MemoryStore()
    run = make_run(store)
    store.upsert(CHECKPOINT_PARTITION, run.key, {"version": 99, "cursor": 5})
    summary = run.run()
    assert summary.state == "finished" and summary.examined == 40 and summary.invocations == 1
    assert wrong(workspace) == []
