"""Contract: the resumable reconcile against the emulator, with its state on real Azurite.

A generated workspace with a custom value order and archived Applications; the run is killed
mid-walk, its cursor expires, its writes' answers are lost, and it still converges.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from lx_core.jobs.reconcile_summary import ReconcileSummary
from lx_core.jobs.time_reconcile import CHECKPOINT_PARTITION, ReconcileRun
from lx_core.jobs.time_tagging import TimeTagger
from lx_core.state.azure_table import AzureTableStore
from lx_sandbox.emulator.seed import expected_time_of
from tests.contract.conftest import Admin, ClientFactory, make_time_settings

APPS = 240
ORDERS = {
    "functionalSuitability": ["fBad", "fPoor", "fMid", "fGood", "fTop"],
    "technicalSuitability": ["tBad", "tPoor", "tMid", "tGood", "tTop"],
}


class Killed(Exception):  # noqa: N818 - reads as what happens, not an error
    """The process "dies" here: nothing after this point runs."""


@pytest.fixture
def world(admin: Admin) -> Admin:
    admin.seed(
        {
            "generated": {
                "applications": APPS,
                "seed": 7,
                "archived": 0.1,
                "dataModel": {"Application": ORDERS},
            }
        }
    )
    return admin


def wrong_tags(admin: Admin) -> list[str]:
    """Active Applications whose TIME tag differs from what the emulator expects."""
    names = {t["id"]: t["name"] for g in admin.workspace()["tagGroups"] for t in g["tags"]}
    time_names = {"Invest", "Tolerate", "Migrate", "Eliminate"}
    model = admin.datamodel()
    bad = []
    for fs in admin.fact_sheets("Application"):
        if fs["status"] != "ACTIVE":
            continue
        tags = [names.get(t) for t in fs["tagIds"] if names.get(t) in time_names]
        want = expected_time_of(fs, model)
        if want is not None and tags != [want]:
            bad.append(fs["id"])
    return bad


def make_run(make_client: ClientFactory, store: AzureTableStore, **kw: Any) -> ReconcileRun:
    client = make_client(page_size=40)
    return ReconcileRun(TimeTagger(client, make_time_settings(batch_size=10)), store, **kw)


def test_a_killed_run_resumes_from_its_checkpoint_and_converges(
    world: Admin, make_client: ClientFactory, state_store: AzureTableStore
) -> None:
    pages_seen: list[int] = []

    def die_after_two_pages(summary: ReconcileSummary) -> None:
        pages_seen.append(summary.examined)
        if len(pages_seen) == 2:
            raise Killed

    first = make_run(make_client, state_store, lease_seconds=10)
    with pytest.raises(Killed):
        first.run(on_progress=die_after_two_pages)
    row = state_store.get(CHECKPOINT_PARTITION, first.key)
    assert row is not None and row.data["examined"] == 80 and row.data["cursor"]

    world.clear_stats()
    summary = make_run(make_client, state_store).run()
    assert summary.state == "finished" and summary.failed == 0
    assert summary.invocations == 2 and summary.examined == 216  # 240 less 10 % archived
    # Only the four pages after the checkpoint were read again.
    assert world.stats()["graphql"]["operationNames"]["lxFactSheetPage"] == 4
    assert wrong_tags(world) == []
    assert world.stats()["noopWrites"] == 0
    assert state_store.get(CHECKPOINT_PARTITION, first.key) is None


def test_an_expired_cursor_restarts_the_walk_and_is_counted(
    world: Admin, make_client: ClientFactory, state_store: AzureTableStore
) -> None:
    def die_at_once(summary: ReconcileSummary) -> None:
        raise Killed

    world.call("PUT", "/config", json={"cursorTtlSeconds": 1.5})
    with pytest.raises(Killed):
        make_run(make_client, state_store).run(on_progress=die_at_once)
    time.sleep(1.7)  # the stored cursor outlives its (undocumented) lifetime
    summary = make_run(make_client, state_store).run()
    world.call("PUT", "/config", json={"cursorTtlSeconds": None})
    assert summary.state == "finished" and summary.restarts == 1
    assert summary.examined == 216  # counted once, from the restart
    assert wrong_tags(world) == []


def test_lost_answers_of_applied_writes_count_as_done(
    world: Admin, make_client: ClientFactory, state_store: AzureTableStore
) -> None:
    """Every batch write is applied and then answered 502 once: the replay clashes, the
    re-read shows the wanted tag, and the item counts as changed, never failed or no-op."""
    need = len(wrong_tags(world))
    assert need > 20
    world.add_fault(
        kind="processed_then_fail", failAs="status", status=502, operation="mutation", count=3
    )
    summary = make_run(make_client, state_store).run()
    assert world.stats()["faultsByKind"]["processed_then_fail:status"] == 3
    assert summary.failed == 0 and summary.state == "finished"
    assert summary.changed == need
    assert wrong_tags(world) == []
    assert world.stats()["noopWrites"] == 0
