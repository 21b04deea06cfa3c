"""The Integration API storm: connector timers fired at random by several hosts at once, under
429/503s and lost create/start answers, while host processes are SIGKILLed mid-tick.

Afterwards, with the faults off, the watch tick must bring every connector back to idle, and:
no run is left CREATED (every lost create was adopted), no connector ever had two runs going
at once, every started run has exactly one outcome and every outcome is FINISHED, and the
inbound source was imported in full. Used by tests/reliability/test_integration_storm.py (CI
size in `make test`, full size in `make storm`).
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from lx_core import runtime
from lx_core.jobs.sync_state import OutcomeLog
from tests.e2e.conftest import SyncWorld, open_sync_world

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = ("applications-import", "applications-export")
TIMERS = ("sync_applications_import", "sync_applications_export", "sync_watch")
RUNS = "/services/integration-api/v1/synchronizationRuns"


@dataclass
class IntegrationStormFigures:
    scenario: str
    seconds: float = 0.0
    ticks: int = 0
    failed_invocations: int = 0
    kills: int = 0
    runs: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    faults_fired: dict[str, int] = field(default_factory=dict)
    #: What must be zero.
    created_left: int = 0
    overlaps: int = 0
    runs_without_one_outcome: int = 0
    outcomes_without_run: int = 0
    imported: int = 0
    expected_imported: int = 0

    def problems(self) -> list[str]:
        found = []
        if self.created_left:
            found.append(f"{self.created_left} runs left CREATED (a lost create not adopted)")
        if self.overlaps:
            found.append(f"{self.overlaps} overlapping runs of one connector")
        if self.runs_without_one_outcome:
            found.append(f"{self.runs_without_one_outcome} started runs without exactly 1 outcome")
        if self.outcomes_without_run:
            found.append(f"{self.outcomes_without_run} outcomes of runs LeanIX does not know")
        if set(self.outcomes) - {"FINISHED"}:
            found.append(f"outcomes other than FINISHED: {dict(self.outcomes)}")
        if self.imported != self.expected_imported:
            found.append(f"imported {self.imported} of {self.expected_imported} Applications")
        if not self.outcomes:
            found.append("no run ended at all")
        return found

    def lines(self) -> list[str]:
        return [
            f"integration storm ({self.scenario}): {self.seconds:.1f} s, {self.ticks} timer "
            f"invocations ({self.failed_invocations} failed and retried by the next), "
            f"{self.kills} hosts SIGKILLed mid-tick",
            f"  runs {dict(self.runs)}, outcomes {dict(self.outcomes)}",
            f"  faults fired {self.faults_fired}",
            f"  left CREATED {self.created_left}, overlaps {self.overlaps}, runs without one "
            f"outcome {self.runs_without_one_outcome}, outcomes without a run "
            f"{self.outcomes_without_run}, imported {self.imported}/{self.expected_imported}",
        ]


def _add_rule(world: SyncWorld, rule: dict[str, Any]) -> None:
    answer = requests.post(f"{world.emulator.url}/_sandbox/faults/rules", json=rule, timeout=10)
    answer.raise_for_status()


def _faults_on(world: SyncWorld, seed: int) -> None:
    # First matching rule answers: lost answers first, then 429s, then 503s.
    _add_rule(
        world,
        {"kind": "processed_then_fail", "method": "POST", "pathPrefix": RUNS, "rate": 0.15,
         "seed": seed},
    )  # fmt: skip
    _add_rule(
        world,
        {"kind": "status", "status": 429, "retryAfter": 1, "service": "integration-api",
         "rate": 0.05, "seed": seed + 1},
    )  # fmt: skip
    _add_rule(
        world,
        {"kind": "status", "status": 503, "service": "integration-api", "rate": 0.2,
         "seed": seed + 2},
    )  # fmt: skip
    world.source.state.fail_next(3)


def _fired(world: SyncWorld) -> dict[str, int]:
    rules = world.admin("/faults/rules")["rules"]
    return {f"{r['kind']}:{r['status']}": int(r["fired"]) for r in rules}


def _host(world: SyncWorld, rng: random.Random, end: float, figures: IntegrationStormFigures,
          lock: threading.Lock) -> None:  # fmt: skip
    while time.monotonic() < end:
        name = rng.choice(TIMERS)
        try:
            world.fire(name)
            failed = 0
        except Exception:  # an invocation that fails is retried by the next, as in Azure
            failed = 1
        with lock:
            figures.ticks += 1
            figures.failed_invocations += failed
        time.sleep(rng.uniform(0.0, 0.2))


def _killed_host(world: SyncWorld, rng: random.Random) -> None:
    """A host process that starts ticking one connector and is SIGKILLed at a random moment."""
    connector = rng.choice(CONNECTORS)
    code = (
        "from lx_core import runtime\n"
        f"runtime.sync_ticker({connector!r}).tick(start=True, budget_seconds=120)\n"
    )
    child = subprocess.Popen(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **world.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(rng.uniform(0.5, 2.5))  # somewhere in import, intent, create, start or watch
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)


def _settle(world: SyncWorld, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            world.fire("sync_watch")
        except Exception:  # noqa: S112 - the next tick retries, as in Azure
            continue
        if all(world.state(c).phase == "idle" for c in CONNECTORS):
            return
        time.sleep(0.2)
    phases = {c: world.state(c).phase for c in CONNECTORS}
    raise AssertionError(f"not idle after {timeout:.0f} s without faults: {phases}")


def _judge(world: SyncWorld, figures: IntegrationStormFigures) -> None:
    runs = [r for r in world.runs() if not r.get("test")]
    store = runtime.state_store()
    if store is None:
        raise AssertionError("the storm needs the state store")
    outcomes = OutcomeLog(store).read(limit=100_000)
    figures.runs = Counter(str(r["status"]) for r in runs)
    figures.outcomes = Counter(o.status for o in outcomes)
    figures.created_left = figures.runs["CREATED"]
    per_run = Counter(o.run_id for o in outcomes)
    started = [r for r in runs if r.get("startedAt")]
    figures.runs_without_one_outcome = sum(per_run[r["id"]] != 1 for r in started)
    known = {r["id"] for r in runs}
    figures.outcomes_without_run = sum(o.run_id not in known for o in outcomes)
    by_connector: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for run in started:
        by_connector[run["connectorId"]].append((run["startedAt"], run["finishedAt"] or "~"))
    for spans in by_connector.values():
        spans.sort()
        figures.overlaps += sum(b[0] < a[1] for a, b in itertools.pairwise(spans))
    imported = world.admin("/factsheets", type="Application", limit=100_000)["factSheets"]
    figures.imported = sum(str(fs.get("externalId") or "").startswith("app-") for fs in imported)


def run_integration_storm(
    connection_string: str,
    *,
    seconds: float,
    hosts: int,
    kills: int,
    items: int,
    scenario: str,
    seed: int = 7,
) -> IntegrationStormFigures:
    figures = IntegrationStormFigures(scenario, expected_imported=items)
    env = {
        "LX_INTEGRATION_START_RETRY_SECONDS": "0.1",
        "LX_INTEGRATION_START_ATTEMPTS": "50",
    }
    began = time.monotonic()
    with open_sync_world(connection_string, items=items, run_seconds=1.0, env=env) as world:
        _faults_on(world, seed)
        end = time.monotonic() + seconds
        lock = threading.Lock()
        threads = [
            threading.Thread(
                target=_host, args=(world, random.Random(seed + i), end, figures, lock)
            )
            for i in range(hosts)
        ]
        for thread in threads:
            thread.start()
        rng = random.Random(seed * 31)
        for _ in range(kills):
            if time.monotonic() >= end:
                break
            _killed_host(world, rng)
            figures.kills += 1
            time.sleep(rng.uniform(0.0, max(0.0, (end - time.monotonic()) / max(1, kills))))
        for thread in threads:
            thread.join(seconds + 120)
        figures.faults_fired = _fired(world)
        requests.delete(f"{world.emulator.url}/_sandbox/faults", timeout=10).raise_for_status()
        _settle(world, timeout=90)
        _judge(world, figures)
    figures.seconds = time.monotonic() - began
    return figures
