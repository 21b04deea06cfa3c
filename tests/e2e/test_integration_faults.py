"""The connector timers under Integration API faults, over real HTTP with real Azurite state.

A create whose answer is lost (processed, then 502) must be adopted by its attempt id, never
created twice; a start whose answer is lost is sent again and the "already started" answer is
taken as success; 503s and 429s on every Integration API call must only slow the run down. The
run still ends FINISHED with the whole source imported, and there is exactly one run.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from lx_core import runtime
from tests.e2e.conftest import SyncWorld as World

pytestmark = pytest.mark.e2e

IMPORT = "applications-import"
RUNS = "/services/integration-api/v1/synchronizationRuns"


def _add_rule(world: World, rule: dict[str, Any]) -> None:
    response = requests.post(f"{world.emulator.url}/_sandbox/faults/rules", json=rule, timeout=10)
    response.raise_for_status()


def _fired(world: World) -> dict[str, int]:
    rules = world.admin("/faults/rules")["rules"]
    return {f"{r['kind']}:{r['status']}": int(r["fired"]) for r in rules}


def test_lost_create_and_start_answers_and_a_flaky_api_still_give_one_finished_run(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LX_INTEGRATION_START_RETRY_SECONDS", "0")
    runtime.reset_process_state()
    # The first rule that matches answers. The lost answers come first, so they hit the first
    # two POSTs under /synchronizationRuns: the create, then the start of the adopted run.
    _add_rule(
        sync_world,
        {"kind": "processed_then_fail", "method": "POST", "pathPrefix": RUNS, "count": 2},
    )
    _add_rule(
        sync_world,
        {"kind": "status", "status": 429, "retryAfter": 1, "service": "integration-api",
         "count": 3},
    )  # fmt: skip
    _add_rule(
        sync_world,
        {"kind": "status", "status": 503, "service": "integration-api", "rate": 0.3, "seed": 7},
    )

    first = runtime.sync_ticker(IMPORT).tick(start=True, budget_seconds=5)
    assert first.action == "retry_later", first  # the create's answer was lost
    assert len(sync_world.runs()) == 1, "the create was processed: one CREATED run exists"

    sync_world.fire_until_idle("sync_applications_import", IMPORT, timeout=60)

    runs = sync_world.runs()
    assert len(runs) == 1, runs
    [outcome] = sync_world.outcomes()
    assert outcome.status == "FINISHED" and not outcome.failed, outcome
    assert outcome.processed == 25
    assert outcome.run_id == runs[0]["id"]
    fired = _fired(sync_world)
    assert fired["processed_then_fail:502"] == 2
    assert fired["status:429"] == 3
    assert fired["status:503"] >= 1, fired
