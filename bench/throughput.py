"""Webhook throughput through the local functions host (SandboxStack: emulator PUSH → host →
``time_webhook`` → emulator).

Subject: the human user changes the fits of N Applications in a few batched (aliased) mutations;
the emulator PUSHes N FACT_SHEET_UPDATED events (plus the echo of each TIME write, which the
function ignores as its own); measured from the first mutation until the emulator reports every
delivery done, then checked: every edited Application carries its expected TIME tag, 0 failures.
Baseline, same stack, same run: N human edits of ITComponents, which the host delivers and the
function authenticates, parses and ignores without a LeanIX call. The ratio is events/s of the
baseline over the subject. The function's pace (1,800/min, 2 calls per event) bounds the subject
at 15 events/s; the table shows how close it gets. A sequential round trip to the host, timed
alone, catches Nagle-style (~40 ms) socket delays.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from bench import report
from bench.common import MAX_PACE, hermetic_env, require
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.graphql import FactSheetUpdate, Patch
from lx_sandbox.emulator.seed import FUNCTIONAL, TECHNICAL, expected_time
from lx_sandbox.stack import WEBHOOK_SECRET, SandboxStack, StackOptions

BATCH = 50  # aliased mutations per human request
READ, WRITE = "lxFactSheet", "lxUpdateFactSheet"  # the function's per-event operations
HUMAN_OPS = frozenset({"lxUpdateFactSheets"})  # the human's batched edits
COMBOS = [(f, t) for f in FUNCTIONAL for t in TECHNICAL]


@dataclass
class Phase:
    """One burst of N human edits and what the stack did with it."""

    events: int
    wall_s: float
    idle: bool
    succeeded: int
    failed: int
    dropped: int
    reads: int
    writes: int
    other_calls: int
    """LeanIX operations other than the function's read/write and the human's edits."""

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s


@dataclass
class ThroughputResult:
    events: int
    concurrency: int
    subject: Phase
    baseline: Phase
    correct: int
    host_roundtrip_ms: float
    pace_ceiling_per_s: float

    @property
    def ratio(self) -> float:
        return self.baseline.events_per_s / self.subject.events_per_s


@contextmanager
def _quiet_host_log() -> Iterator[None]:
    logger = logging.getLogger("werkzeug")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _new_fits(values: dict[str, Any], i: int) -> tuple[str, str]:
    """A (functional, technical) pair that differs from the current one, spread over classes."""
    current = (values.get("functionalSuitability"), values.get("technicalSuitability"))
    for k in range(len(COMBOS)):
        pair = COMBOS[(i + k) % len(COMBOS)]
        if pair != current:
            return pair
    raise AssertionError("unreachable")


def _edit(human: LeanIXClient, updates: list[FactSheetUpdate]) -> None:
    for start in range(0, len(updates), BATCH):
        outcomes = human.graphql.update_fact_sheets(updates[start : start + BATCH])
        failed = [o.id for o in outcomes if o.error is not None]
        require(not failed, f"human edits failed: {failed[:3]}")


def _phase(stack: SandboxStack, human: LeanIXClient, updates: list[FactSheetUpdate]) -> Phase:
    stack.admin("DELETE", "/stats")
    started = time.perf_counter()
    _edit(human, updates)
    idle = stack.wait_for_deliveries(timeout=max(60.0, len(updates) * 0.5))
    wall = time.perf_counter() - started
    stats = stack.admin("GET", "/stats")
    ops = stats["graphql"]["operationNames"]
    d = stats["deliveries"]
    return Phase(
        events=len(updates),
        wall_s=wall,
        idle=idle,
        succeeded=int(d["succeeded"]),
        failed=int(d["failed"]),
        dropped=int(d["dropped"]),
        reads=int(ops.get(READ, 0)),
        writes=int(ops.get(WRITE, 0)),
        other_calls=sum(int(n) for op, n in ops.items() if op not in HUMAN_OPS | {READ, WRITE}),
    )


def _roundtrip_ms(stack: SandboxStack, samples: int = 30) -> float:
    """Median of sequential ignored-event POSTs straight to the host (one connection each)."""
    host = stack.host
    if host is None:
        raise RuntimeError("the stack's functions host is not running")
    url = f"{stack.host_url}/api/leanix/time?code={host.function_key}"
    body = json.dumps(
        {"type": "FactSheetUpdatedEvent", "factSheet": {"id": "probe", "type": "ITComponent"}}
    )
    headers = {"Authorization": WEBHOOK_SECRET, "Content-Type": "application/json"}
    times: list[float] = []
    for _ in range(samples):
        started = time.perf_counter()
        resp = requests.post(url, data=body, headers=headers, timeout=10)
        times.append(time.perf_counter() - started)
        require(resp.status_code == 200, resp.text)
    return statistics.median(times) * 1000


def measure(events: int = 300, concurrency: int = 16) -> ThroughputResult:
    """Warm the stack up, then the baseline burst (ITComponents), then the subject burst."""
    options = StackOptions(
        seed=f"generated:{20 * (events + 1)}",  # apps/20 ITComponents: events+1 of them
        emulator={"delivery_concurrency": concurrency},
        app_settings={"LEANIX_REQUESTS_PER_MINUTE": str(MAX_PACE)},
    )
    with hermetic_env(), _quiet_host_log(), SandboxStack(options) as stack:
        stack.register_subscriptions()
        human = stack.human_client()
        try:
            return _run(stack, human, events, concurrency)
        finally:
            human.close()


def _run(
    stack: SandboxStack, human: LeanIXClient, events: int, concurrency: int
) -> ThroughputResult:
    fact_sheets = stack.admin("GET", "/factsheets", params={"limit": 1_000_000})["factSheets"]
    apps = [fs for fs in fact_sheets if fs["type"] == "Application"][: events + 1]
    components = [fs for fs in fact_sheets if fs["type"] == "ITComponent"][: events + 1]
    require(len(apps) == len(components) == events + 1, "workspace too small")

    def fits(fs: dict[str, Any], i: int) -> FactSheetUpdate:
        f, t = _new_fits(fs["values"], i)
        patches = (
            Patch(op="replace", path="/functionalSuitability", value=f),
            Patch(op="replace", path="/technicalSuitability", value=t),
        )
        return FactSheetUpdate(id=fs["id"], rev=None, patches=patches)

    def describe(fs: dict[str, Any], i: int) -> FactSheetUpdate:
        patch = Patch(op="replace", path="/description", value=f"bench edit {i}")
        return FactSheetUpdate(id=fs["id"], rev=None, patches=(patch,))

    app_updates = [fits(fs, i) for i, fs in enumerate(apps)]
    component_updates = [describe(fs, i) for i, fs in enumerate(components)]
    # Warm-up: one event of each kind (cold token, data model, tag group), not measured.
    _phase(stack, human, [app_updates[0], component_updates[0]])
    roundtrip = _roundtrip_ms(stack)
    baseline = _phase(stack, human, component_updates[1:])
    subject = _phase(stack, human, app_updates[1:])

    return ThroughputResult(
        events=events,
        concurrency=concurrency,
        subject=subject,
        baseline=baseline,
        correct=_correct(stack, app_updates[1:]),
        host_roundtrip_ms=roundtrip,
        pace_ceiling_per_s=MAX_PACE / 60 / 2,
    )


def _correct(stack: SandboxStack, updates: list[FactSheetUpdate]) -> int:
    """How many edited Applications carry exactly the TIME tag their new fits call for."""
    group = next(
        g for g in stack.admin("GET", "/workspace")["tagGroups"] if g["name"] == "TIME Model"
    )
    names = {t["id"]: t["name"] for t in group["tags"]}
    tag_ids = {fs["id"]: fs["tagIds"] for fs in stack.applications()}
    correct = 0
    for u in updates:
        want = expected_time(u.patches[0].value, u.patches[1].value)
        have = [names[t] for t in tag_ids[u.id] if t in names]
        correct += int(have == [want])
    return correct


def table(r: ThroughputResult) -> report.Table:
    s, b = r.subject, r.baseline
    rows = [
        report.Row(
            "events/s (relevant vs ignored)",
            f"{s.events_per_s:,.1f}/s",
            f"{b.events_per_s:,.1f}/s",
            report.ratio(r.ratio, "x slower"),
        ),
        report.Row(
            "wall time for N events",
            report.secs(s.wall_s),
            report.secs(b.wall_s),
        ),
        report.Row(
            "share of the pace ceiling (2 calls/event)",
            f"{s.events_per_s / r.pace_ceiling_per_s:.0%}",
            f"ceiling {r.pace_ceiling_per_s:.0f}/s",
        ),
        report.Row(
            "function's LeanIX reads + writes per event",
            f"{s.reads / s.events:.2f} + {s.writes / s.events:.2f}",
            f"{b.reads / b.events:.2f} + {b.writes / b.events:.2f}",
            goal="1 + ≤ 1 / 0 + 0",
            ok=report.check(
                s.reads == s.events
                and s.writes <= s.events
                and s.other_calls == 0
                and b.reads + b.writes + b.other_calls == 0
            ),
        ),
        report.Row(
            "deliveries ok / failed / dropped",
            f"{s.succeeded} / {s.failed} / {s.dropped}",
            f"{b.succeeded} / {b.failed} / {b.dropped}",
            goal="0 failed, all done",
            ok=report.check(
                s.idle and b.idle and s.failed == b.failed == 0 and s.dropped == b.dropped == 0
            ),
        ),
        report.Row(
            "edited Applications with the right TIME tag",
            f"{r.correct}/{s.events}",
            goal="all",
            ok=report.check(r.correct == s.events),
        ),
        report.Row(
            "host round trip, one ignored event, sequential",
            f"{r.host_roundtrip_ms:.1f} ms",
            goal="< 10 ms (no Nagle delay)",
            ok=report.check(r.host_roundtrip_ms < 10),
        ),
    ]
    notes = [
        f"N = {r.events} edits per burst, human edits in aliased batches of {BATCH}; emulator "
        f"delivery concurrency {r.concurrency}; emulator and host in this process.",
        "relevant deliveries include the echo of each TIME write (ignored by the function as "
        "its own write): N + writes deliveries; an edit whose class does not change costs "
        "1 read and no write.",
        f"the function's pace is {MAX_PACE}/min (LEANIX_REQUESTS_PER_MINUTE), so relevant "
        f"events cannot exceed {r.pace_ceiling_per_s:.0f}/s per technical user.",
    ]
    return report.Table(
        "throughput", "4. Webhook throughput through the functions host", rows, notes
    )
