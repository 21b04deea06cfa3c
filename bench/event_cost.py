"""Per-event cost of the TIME webhook function on a warm instance, LeanIX mocked (`responses`).

Measured: the registered ``time_webhook`` function called with a real ``func.HttpRequest``, for
events it acts on (each Application needs a new TIME tag: 1 read + 1 write) and, interleaved in
the same run, for events it ignores (an ITComponent update: auth + parse + answer, no LeanIX).
The ratio relevant/ignored is what LeanIX I/O (mocked, so the client's own cost) adds to the
plumbing every event pays. LeanIX calls per event come from the fake's operation log.

The client's pacer is kept (its bookkeeping runs) but its sleep is a no-op: a burst of events
would otherwise measure the 1,500/min pace rather than the handler. The pace floor is reported.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
import responses
from requests import PreparedRequest

from bench import report
from bench.common import clear_process_caches, hermetic_env, require
from lx_core import runtime
from lx_core.config import LeanIXSettings, load
from lx_core.leanix.auth import cache_scope
from lx_core.leanix.pacing import shared_bucket
from lx_core.leanix.testing import FakeClock
from tests.indexed_app import indexed_functions
from tests.unit.fake_leanix import FakeLeanIX

SECRET = "Bearer bench-hook-secret"  # noqa: S105 - a local benchmark value
READ_OPS = frozenset({"lxFactSheet"})
WRITE_OPS = frozenset({"lxUpdateFactSheet"})
FITS = (  # (functional, technical): one per TIME class, none of them tagged yet
    ("perfect", "adequate"),
    ("insufficient", "fullyAppropriate"),
    ("appropriate", "inappropriate"),
    ("unreasonable", "unreasonable"),
)
_ENV = {
    "LEANIX_API_TOKEN": "bench-api-token",
    "LEANIX_HOST": "app.leanix.net",
    "LEANIX_MAX_RETRIES": "0",
    "LX_WEBHOOK_AUTHORIZATION": SECRET,
}


@dataclass
class EventCost:
    """Handler times in microseconds; calls are per event, from the fake's operation log."""

    events: int
    relevant_median_us: float
    relevant_p95_us: float
    ignored_median_us: float
    ignored_p95_us: float
    mock_median_us: float
    settings_median_us: float
    """``runtime.webhook_settings()`` + ``runtime.time_tagger()`` alone (every event calls both)."""
    reads_per_event: float
    writes_per_event: float
    max_reads: int
    max_writes: int
    max_other: int
    ignored_calls: int
    statuses: dict[str, int]
    cold_ops: dict[str, int] = field(default_factory=dict)
    cold_token_exchanges: int = 0
    cold_us: float = 0.0
    pace_floor_ms: float = 0.0

    @property
    def ratio(self) -> float:
        return self.relevant_median_us / self.ignored_median_us

    @property
    def cold_calls(self) -> int:
        return sum(self.cold_ops.values()) + self.cold_token_exchanges


class _TimedFake(FakeLeanIX):
    """The unit tests' fake, timing its own GraphQL handler (a lower bound of the mock's cost)."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.fake_ns = 0
        super().__init__(rsps)

    def _graphql(self, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        started = time.perf_counter_ns()
        try:
            return super()._graphql(request)
        finally:
            self.fake_ns += time.perf_counter_ns() - started


def _event(fs_id: str, fs_type: str, n: int) -> func.HttpRequest:
    body = {
        "id": n,
        "type": "FactSheetUpdatedEvent",
        "userId": "human-1",
        "workspaceId": "ws-1",
        "transactionSequenceNumber": n,
        "factSheet": {"id": fs_id, "type": fs_type, "rev": 1, "fields": []},
    }
    return func.HttpRequest(
        method="POST",
        url="http://localhost/api/leanix/time",
        headers={"content-type": "application/json", "Authorization": SECRET},
        body=json.dumps(body).encode(),
    )


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def measure(events: int = 300, warmup: int = 20) -> EventCost:
    """Time ``events`` relevant and ``events`` ignored events, interleaved, after a warm-up."""
    handler = indexed_functions()["time_webhook"].get_user_function()
    with hermetic_env(), responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        os.environ.update(_ENV)
        clear_process_caches()
        runtime.reset_process_state()
        try:
            return _run(handler, rsps, events, warmup)
        finally:
            runtime.reset_process_state()
            clear_process_caches()


def _run(handler: Any, rsps: responses.RequestsMock, events: int, warmup: int) -> EventCost:
    fake = _TimedFake(rsps)
    settings = load(LeanIXSettings)
    # Pacing is not what this measures: the bucket runs on a clock that its own sleeps advance,
    # so no call waits and no reservation piles up past the webhook's deadline.
    pace_clock = FakeClock()
    shared_bucket(
        *cache_scope(settings),
        settings.requests_per_minute,
        clock=pace_clock,
        sleep=pace_clock.sleep,
    )
    total = 1 + warmup + events
    for i in range(total):
        fake.add_app(f"app-{i}", *FITS[i % len(FITS)])

    def call(req: func.HttpRequest) -> tuple[int, dict[str, Any], int]:
        started = time.perf_counter_ns()
        resp = handler(req)
        answer = json.loads(resp.get_body())
        return resp.status_code, answer, time.perf_counter_ns() - started

    # Cold: the first relevant event on a fresh instance (token, data model, tag group).
    status, _answer, cold_ns = call(_event("app-0", "Application", 0))
    require(status == 200, _answer)
    cold_ops = dict(Counter(fake.ops))
    cold_exchanges = runtime.leanix_client().stats.token_exchanges

    relevant: list[float] = []
    ignored: list[float] = []
    mock: list[float] = []
    per_event: list[Counter[str]] = []
    ignored_calls = 0
    statuses: Counter[str] = Counter()
    for i in range(1, total):
        measured = i > warmup
        relevant_req = _event(f"app-{i}", "Application", i)
        ignored_req = _event(f"component-{i}", "ITComponent", i)
        before, fake_before = len(fake.ops), fake.fake_ns
        status, answer, ns = call(relevant_req)
        require(status == 200, answer)
        if measured:
            relevant.append(ns / 1000)
            mock.append((fake.fake_ns - fake_before) / 1000)
            per_event.append(Counter(fake.ops[before:]))
            statuses[str(answer["status"])] += 1
        before = len(fake.ops)
        status, answer, ns = call(ignored_req)
        require(status == 200 and answer["status"] == "ignored", answer)
        if measured:
            ignored.append(ns / 1000)
            ignored_calls += len(fake.ops) - before

    settings_us: list[float] = []
    for _ in range(events):  # the per-event set-up both paths pay, timed alone
        started = time.perf_counter_ns()
        runtime.webhook_settings()
        runtime.time_tagger()
        settings_us.append((time.perf_counter_ns() - started) / 1000)

    reads = [sum(c[op] for op in READ_OPS) for c in per_event]
    writes = [sum(c[op] for op in WRITE_OPS) for c in per_event]
    other = [sum(n for op, n in c.items() if op not in READ_OPS | WRITE_OPS) for c in per_event]
    slots_per_event = (sum(reads) + sum(writes)) / len(per_event)
    return EventCost(
        events=events,
        relevant_median_us=statistics.median(relevant),
        relevant_p95_us=_p95(relevant),
        ignored_median_us=statistics.median(ignored),
        ignored_p95_us=_p95(ignored),
        mock_median_us=statistics.median(mock),
        settings_median_us=statistics.median(settings_us),
        reads_per_event=sum(reads) / len(reads),
        writes_per_event=sum(writes) / len(writes),
        max_reads=max(reads),
        max_writes=max(writes),
        max_other=max(other),
        ignored_calls=ignored_calls,
        statuses=dict(statuses),
        cold_ops=cold_ops,
        cold_token_exchanges=cold_exchanges,
        cold_us=cold_ns / 1000,
        pace_floor_ms=slots_per_event * 60_000 / settings.requests_per_minute,
    )


def table(r: EventCost) -> report.Table:
    cold = ", ".join(f"{op} {n}" for op, n in sorted(r.cold_ops.items()))
    rows = [
        report.Row(
            "handler time, median (relevant vs ignored)",
            report.us(r.relevant_median_us),
            report.us(r.ignored_median_us),
            report.ratio(r.ratio),
        ),
        report.Row(
            "handler time, p95",
            report.us(r.relevant_p95_us),
            report.us(r.ignored_p95_us),
            report.ratio(r.relevant_p95_us / r.ignored_p95_us),
        ),
        report.Row("of which in the mocked LeanIX (median)", report.us(r.mock_median_us)),
        report.Row(
            "of which building settings from env (median)",
            report.us(r.settings_median_us),
            report.us(r.settings_median_us),
            f"{r.settings_median_us / r.ignored_median_us:.0%} of ignored",
        ),
        report.Row(
            "LeanIX reads per warm event (max)",
            f"{r.reads_per_event:.2f} ({r.max_reads})",
            "0" if r.ignored_calls == 0 else f"{r.ignored_calls} total",
            goal="exactly 1 / ignored: 0",
            ok=report.check(r.max_reads == 1 and r.reads_per_event == 1 and r.ignored_calls == 0),
        ),
        report.Row(
            "LeanIX writes per warm event (max)",
            f"{r.writes_per_event:.2f} ({r.max_writes})",
            "0",
            goal="≤ 1",
            ok=report.check(r.max_writes <= 1),
        ),
        report.Row(
            "other LeanIX calls per warm event (max)",
            str(r.max_other),
            goal="0 (caches warm)",
            ok=report.check(r.max_other == 0),
        ),
        report.Row(
            "cold first event: LeanIX calls (time)",
            f"{r.cold_calls} ({report.us(r.cold_us)})",
            goal="token + data model + tag group + 1 read + ≤ 1 write",
        ),
    ]
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))
    notes = [
        f"{r.events} relevant (Application, every one needing a new TIME tag: {statuses}) and "
        f"{r.events} ignored (ITComponent) events, interleaved, after a warm-up; the registered "
        "function called with a real func.HttpRequest; LeanIX = tests/unit/fake_leanix.py.",
        f"cold first event: token exchange {r.cold_token_exchanges}, GraphQL {cold}.",
        f"pacer sleep disabled for the burst; at the default 1,500/min a relevant event needs "
        f"{r.pace_floor_ms:.0f} ms of pace sustained (2 calls), far above its handler time.",
    ]
    return report.Table("event_cost", "2. Per-event cost of the TIME webhook (warm)", rows, notes)
