"""Integration API benchmarks: status polling, LDIF serialisation, the emulator's engine.

* **Polling.** ``RunWatcher`` against simulated runs of 5 s, 60 s and 600 s on a fake clock,
  compared with a fixed 1 s poller and a loop with no sleep (each call costs
  ``CALL_LATENCY_S`` of fake time). Counted: ``/status`` calls per run, and how late the end is
  noticed.
* **LDIF.** Build, validate and serialise N content items with ``write_ldif`` (streamed into a
  null sink), against a bare ``json.dumps`` of the same items in the same run; peak traced
  memory at 100,000 and 1,000,000 items from a generator.
* **Engine.** The emulator's processor engine through ``POST /fastSynchronizationRuns`` (it
  answers when the run is done): 10,000 inbound items against 1,000.
"""

from __future__ import annotations

import gc
import json
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench import report
from bench.common import hermetic_env, require
from lx_core.config import IntegrationSettings
from lx_core.integration.ldif import LdifHeader, write_ldif
from lx_core.jobs.run_watcher import RunWatcher
from lx_core.leanix.integration_api import RunProgress, RunStatus, RunWarning

CALL_LATENCY_S = 0.05
DURATIONS = (5.0, 60.0, 600.0)
HEADER = LdifHeader.model_validate(
    {
        "connectorType": "bench",
        "connectorId": "bench",
        "connectorVersion": "1.0.0",
        "lxVersion": "1.0.0",
        "processingDirection": "inbound",
    }
)


# -- polling -------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class _SimulatedRun:
    """A run that ends ``duration`` after 0; every call costs CALL_LATENCY_S of fake time."""

    def __init__(self, clock: _Clock, duration: float) -> None:
        self.clock = clock
        self.duration = duration
        self.status_calls = 0

    def status(self, run_id: str) -> RunStatus:
        self.status_calls += 1
        self.clock.sleep(CALL_LATENCY_S)
        done = self.clock.now >= self.duration
        return RunStatus(id=run_id, status="FINISHED" if done else "IN_PROGRESS")

    def progress(self, run_id: str) -> RunProgress:
        return RunProgress()

    def iter_warnings(
        self, run_id: str, *, max_items: int, page_size: int = 100
    ) -> Iterator[RunWarning]:
        return iter(())

    def results_url(self, run_id: str) -> str | None:
        return None

    def stop_run(self, run_id: str) -> None:
        return None


def _fixed_poller(duration: float, interval: float | None) -> tuple[int, float]:
    """Calls and lag of a loop polling every ``interval`` s (None: no sleep at all)."""
    clock = _Clock()
    run = _SimulatedRun(clock, duration)
    while run.status("r").status != "FINISHED":
        if interval is not None:
            clock.sleep(interval)
    return run.status_calls, clock.now - duration


@dataclass
class PollRow:
    duration: float
    watcher_calls: int
    watcher_lag: float
    fixed_calls: int
    fixed_lag: float
    busy_calls: int


def measure_polling() -> list[PollRow]:
    settings = IntegrationSettings()
    rows: list[PollRow] = []
    for duration in DURATIONS:
        clock = _Clock()
        run = _SimulatedRun(clock, duration)
        watcher = RunWatcher(run, settings, clock=clock, sleep=clock.sleep)
        result = watcher.watch("r", started_at=0.0, budget_seconds=duration * 10)
        require(result.outcome is not None, f"the {duration:.0f} s run was not seen to end")
        fixed_calls, fixed_lag = _fixed_poller(duration, 1.0)
        busy_calls, _ = _fixed_poller(duration, None)
        rows.append(
            PollRow(
                duration=duration,
                watcher_calls=run.status_calls,
                watcher_lag=clock.now - duration,
                fixed_calls=fixed_calls,
                fixed_lag=fixed_lag,
                busy_calls=busy_calls,
            )
        )
    return rows


# -- LDIF ----------------------------------------------------------------------------------


def _items(count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        yield {
            "type": "Application",
            "id": f"app-{i:07d}",
            "data": {"name": f"Application {i}", "phase": "active", "cost": i % 1000},
        }


class _NullSink:
    """A binary file that counts bytes and keeps none (the spool's cost is not the subject)."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


@dataclass
class LdifRow:
    items: int
    ours_s: float
    baseline_s: float
    peak_bytes: int


def _time_ours(count: int) -> float:
    sink = _NullSink()
    start = time.perf_counter()
    written = write_ldif(HEADER, _items(count), sink)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    require(written == count and sink.size > count * 50, "write_ldif wrote too little")
    return elapsed


def _time_baseline(count: int) -> float:
    start = time.perf_counter()
    text = json.dumps({**HEADER.model_dump(by_alias=True), "content": list(_items(count))})
    elapsed = time.perf_counter() - start
    require(len(text) > count * 50, "the baseline wrote too little")
    return elapsed


def _peak_ours(count: int) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        write_ldif(HEADER, _items(count), _NullSink())  # type: ignore[arg-type]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure_ldif(sizes: tuple[int, ...]) -> list[LdifRow]:
    rows = []
    for count in sizes:
        # Interleave ours and the baseline, best of three each, so load hits both alike.
        ours = min(_time_ours(count) for _ in range(3 if count <= 200_000 else 1))
        base = min(_time_baseline(count) for _ in range(3 if count <= 200_000 else 1))
        rows.append(LdifRow(count, ours, base, _peak_ours(count)))
    return rows


# -- engine --------------------------------------------------------------------------------


ENGINE_CONFIG = {
    "connectorType": "bench",
    "connectorId": "bench",
    "connectorVersion": "1.0.0",
    "processingDirection": "inbound",
    "processingMode": "partial",
    "processors": [
        {
            "processorType": "inboundFactSheet",
            "processorName": "Applications",
            "type": "Application",
            "filter": {"exactType": "Application"},
            "identifier": {
                "external": {"id": {"expr": "${content.id}"}, "type": {"expr": "externalId"}}
            },
            "run": 0,
            "updates": [
                {"key": {"expr": "name"}, "values": [{"expr": "${data.name}"}]},
                {"key": {"expr": "description"}, "values": [{"expr": "${data.phase} app"}]},
            ],
        }
    ],
}


@dataclass
class EngineRow:
    items: int
    seconds: float


def measure_engine(sizes: tuple[int, ...] = (1_000, 10_000), repeats: int = 3) -> list[EngineRow]:
    """Each size on a freshly reset (empty) workspace, so both sizes create every fact sheet;
    the best of ``repeats`` tries, since a 1,000-item run is short enough for noise to matter."""
    import requests

    from bench.common import EmulatorProcess, make_client

    rows = []
    with EmulatorProcess("empty") as emu:
        client = make_client(emu.url)
        api = client.integration
        for count in sizes:
            body = {**HEADER.model_dump(by_alias=True), "content": list(_items(count))}
            data = json.dumps(body).encode()
            best = float("inf")
            for _ in range(repeats):
                reset = requests.post(f"{emu.url}/_sandbox/reset", timeout=30)
                require(reset.ok, f"the emulator's reset answered {reset.status_code}")
                api.upsert_configuration(ENGINE_CONFIG)
                start = time.perf_counter()
                answer = api.fast_run(data)
                best = min(best, time.perf_counter() - start)
                require(str(answer.status) == "FINISHED", f"the fast run ended {answer.status}")
            rows.append(EngineRow(count, best))
        client.close()
    return rows


# -- all -------------------------------------------------------------------------------------


@dataclass
class IntegrationBench:
    polling: list[PollRow]
    ldif: list[LdifRow]
    engine: list[EngineRow]


def measure(ldif_sizes: tuple[int, ...] = (100_000, 1_000_000)) -> IntegrationBench:
    with hermetic_env():
        return IntegrationBench(measure_polling(), measure_ldif(ldif_sizes), measure_engine())


def table(result: IntegrationBench) -> report.Table:
    t = report.Table("integration", "Integration API: polling, LDIF, engine")
    for row in result.polling:
        t.rows.append(
            report.Row(
                f"status calls, {row.duration:.0f} s run",
                report.count(row.watcher_calls),
                f"1 s poller {report.count(row.fixed_calls)}, "
                f"no sleep {report.count(row.busy_calls)}",
                report.ratio(row.watcher_calls / row.fixed_calls),
                "≤ 0.1x at 600 s" if row.duration == 600 else "",
                report.check(row.watcher_calls * 10 <= row.fixed_calls)
                if row.duration == 600
                else None,
            )
        )
        allowed = 0.1 * row.duration + 1.0
        t.rows.append(
            report.Row(
                f"end noticed after, {row.duration:.0f} s run",
                report.secs(row.watcher_lag),
                f"1 s poller {report.secs(row.fixed_lag)}",
                "",
                f"≤ {report.secs(allowed)}",
                report.check(row.watcher_lag <= allowed),
            )
        )
    for ldif_row in result.ldif:
        rate = ldif_row.baseline_s / ldif_row.ours_s
        t.rows.append(
            report.Row(
                f"LDIF rate, {report.count(ldif_row.items)} items",
                report.secs(ldif_row.ours_s),
                f"json.dumps {report.secs(ldif_row.baseline_s)}",
                report.ratio(rate),
                "≥ 0.33x",
                report.check(rate >= 1 / 3),
            )
        )
    if len(result.ldif) >= 2:
        small, large = result.ldif[0], result.ldif[-1]
        growth = large.peak_bytes / max(1, small.peak_bytes)
        t.rows.append(
            report.Row(
                f"LDIF peak memory, {report.count(large.items)} items",
                report.mib(large.peak_bytes),
                f"{report.count(small.items)} items {report.mib(small.peak_bytes)}",
                report.ratio(growth),
                "≤ 1.2x",
                report.check(growth <= 1.2),
            )
        )
    if len(result.engine) >= 2:
        small_e, large_e = result.engine[0], result.engine[-1]
        growth = large_e.seconds / small_e.seconds
        t.rows.append(
            report.Row(
                f"engine, {report.count(large_e.items)} inbound items",
                report.secs(large_e.seconds),
                f"{report.count(small_e.items)} items {report.secs(small_e.seconds)}",
                report.ratio(growth),
                "≤ 12x",
                report.check(growth <= 12),
            )
        )
    t.notes.append(
        f"Simulated runs on a fake clock; each status call costs {CALL_LATENCY_S * 1000:.0f} ms. "
        "The watcher polls at 10% of the run's age (1 s to LX_INTEGRATION_POLL_MAX_SECONDS)."
    )
    return t
