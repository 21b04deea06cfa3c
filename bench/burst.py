"""A burst: N changes arriving at once, through the whole stack (emulator PUSH → host → function).

Subject: the human user changes the fits of N Applications in one go (aliased batch mutations,
a few seconds in all), each to fits whose TIME class differs from the tag it carries, so every
event needs 1 read and 1 write. The emulator queues the N deliveries and pushes them with its
usual concurrency; the function works through them at its pace. Measured from the first edit
until every edited Application carries its expected TIME tag (converged), then until no
delivery is pending (the echoes of the function's own writes, ignored without a LeanIX call).

Baseline, same run: the pace's lower bound, the technical user's LeanIX calls divided by the
pace (``LEANIX_REQUESTS_PER_MINUTE`` / 60): no client can finish sooner without exceeding it.
Goals: at most 2.2 LeanIX calls per event, and converging within 1.2 x that bound.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import report
from bench.common import MAX_PACE, hermetic_env, require
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.graphql import FactSheetUpdate, Patch
from lx_sandbox.emulator.seed import FUNCTIONAL, TECHNICAL, expected_time
from lx_sandbox.stack import SandboxStack, StackOptions

BATCH = 50  # aliased mutations per human request
TIME_GROUP = "TIME Model"
CALLS_PER_EVENT_GOAL = 2.2
CONVERGE_GOAL = 1.2
COMBOS = [(f, t) for f in FUNCTIONAL for t in TECHNICAL]


@dataclass
class BurstResult:
    events: int
    pace_per_minute: int
    concurrency: int
    edit_s: float
    converge_s: float
    idle_s: float
    converged: bool
    right: int
    calls: int
    reads: int
    writes: int
    token_exchanges: int
    rate_limited: int
    deliveries: dict[str, int] = field(default_factory=dict)

    @property
    def calls_per_event(self) -> float:
        return self.calls / self.events

    @property
    def bound_s(self) -> float:
        """The pace's lower bound: these calls cannot be made faster at this pace."""
        return self.calls / (self.pace_per_minute / 60)

    @property
    def ratio(self) -> float:
        return self.converge_s / self.bound_s


@contextmanager
def _quiet_logs() -> Iterator[None]:
    """One line per delivery (and a warning per 503) would bury the table: errors only."""
    loggers = [logging.getLogger(n) for n in ("werkzeug", "functions", "lx_sandbox.funchost")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _technical(stats: dict[str, Any]) -> dict[str, Any]:
    for user in stats["users"].values():
        if user["username"] == "lx-functions-technical-user":
            return dict(user)
    return {"requests": 0, "tokenExchanges": 0, "rateLimited": 0}


def _time_tags(stack: SandboxStack) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
    names = {
        t["id"]: t["name"]
        for g in stack.admin("GET", "/workspace")["tagGroups"]
        if g["name"] == TIME_GROUP
        for t in g["tags"]
    }
    apps = {a["id"]: a for a in stack.applications()}
    return {i: sorted(names[t] for t in a["tagIds"] if t in names) for i, a in apps.items()}, apps


def _plan(apps: list[dict[str, Any]], tags: dict[str, list[str]], n: int) -> list[FactSheetUpdate]:
    """One update per Application: new fits, whose class differs from the TIME tag it has now."""
    rng = random.Random(5)
    updates = []
    for app in apps[:n]:
        have = tags[app["id"]]
        now = (
            app["values"].get("functionalSuitability"),
            app["values"].get("technicalSuitability"),
        )
        choices = [c for c in COMBOS if [expected_time(*c)] != have and c != now]
        f, t = rng.choice(choices)
        patches = (
            Patch(op="replace", path="/functionalSuitability", value=f),
            Patch(op="replace", path="/technicalSuitability", value=t),
        )
        updates.append(FactSheetUpdate(id=app["id"], rev=None, patches=patches))
    return updates


def _edit(human: LeanIXClient, updates: list[FactSheetUpdate]) -> None:
    for start in range(0, len(updates), BATCH):
        outcomes = human.graphql.update_fact_sheets(updates[start : start + BATCH])
        failed = [o.id for o in outcomes if o.error is not None]
        require(not failed, f"human edits failed: {failed[:3]}")


def _right(stack: SandboxStack, updates: list[FactSheetUpdate]) -> int:
    tags, _ = _time_tags(stack)
    return sum(
        int(tags[u.id] == [expected_time(u.patches[0].value, u.patches[1].value)]) for u in updates
    )


def measure(
    events: int = 1000, pace: int = MAX_PACE, concurrency: int = 16, timeout: float = 600.0
) -> BurstResult:
    options = StackOptions(
        seed=f"generated:{int(events * 1.25) + 20}",
        emulator={"delivery_concurrency": concurrency, "delivery_max_attempts": 10},
        app_settings={"LEANIX_REQUESTS_PER_MINUTE": str(pace)},
        state=False,
    )
    with hermetic_env(), _quiet_logs(), SandboxStack(options) as stack:
        stack.register_subscriptions()
        human = stack.human_client()
        try:
            return _run(stack, human, events, pace, concurrency, timeout)
        finally:
            human.close()


def _run(
    stack: SandboxStack,
    human: LeanIXClient,
    events: int,
    pace: int,
    concurrency: int,
    timeout: float,
) -> BurstResult:
    tags, by_id = _time_tags(stack)
    apps = [a for a in by_id.values() if a["status"] == "ACTIVE"]
    require(len(apps) > events, "workspace too small for the burst")
    updates = _plan(apps, tags, events + 1)
    # Warm-up: one event (cold token, data model, tag group), not measured.
    _edit(human, updates[:1])
    require(stack.wait_for_deliveries(60), "warm-up delivery did not finish")
    updates = updates[1:]
    stack.admin("DELETE", "/stats")

    started = time.perf_counter()
    _edit(human, updates)
    edit_s = time.perf_counter() - started
    deadline = started + timeout
    right = 0
    while time.perf_counter() < deadline:
        right = _right(stack, updates)
        if right == len(updates):
            break
        time.sleep(0.25)
    converge_s = time.perf_counter() - started
    idle = stack.wait_for_deliveries(max(1.0, deadline - time.perf_counter()))
    idle_s = time.perf_counter() - started
    stats = stack.admin("GET", "/stats")
    tech = _technical(stats)
    ops = Counter(stats["graphql"]["operationNames"])
    answers = Counter(str(d["httpStatus"]) for d in stack.admin("GET", "/deliveries")["deliveries"])
    return BurstResult(
        events=len(updates),
        pace_per_minute=pace,
        concurrency=concurrency,
        edit_s=edit_s,
        converge_s=converge_s,
        idle_s=idle_s,
        converged=right == len(updates) and idle,
        right=right,
        calls=int(tech["requests"]),
        reads=int(ops.get("lxFactSheet", 0)),
        writes=int(ops.get("lxUpdateFactSheet", 0)),
        token_exchanges=int(tech.get("tokenExchanges", 0)),
        rate_limited=int(tech.get("rateLimited", 0)),
        deliveries=dict(answers),
    )


def table(r: BurstResult) -> report.Table:
    rows = [
        report.Row(
            "LeanIX calls per event (technical user)",
            f"{r.calls_per_event:.2f}",
            f"{r.calls:,} calls",
            goal=f"≤ {CALLS_PER_EVENT_GOAL}",
            ok=report.check(r.calls_per_event <= CALLS_PER_EVENT_GOAL),
        ),
        report.Row(
            "time to converge vs the pace's lower bound",
            report.secs(r.converge_s),
            report.secs(r.bound_s),
            report.ratio(r.ratio),
            goal=f"≤ {CONVERGE_GOAL}x",
            ok=report.check(r.converged and r.ratio <= CONVERGE_GOAL),
        ),
        report.Row(
            "edited Applications with the right TIME tag",
            f"{r.right}/{r.events}",
            goal="all",
            ok=report.check(r.right == r.events),
        ),
        report.Row(
            "reads + writes per event",
            f"{r.reads / r.events:.2f} + {r.writes / r.events:.2f}",
        ),
        report.Row("human edits sent (all N)", report.secs(r.edit_s)),
        report.Row("until no delivery is pending", report.secs(r.idle_s)),
        report.Row(
            "delivery answers",
            " ".join(f"{k}:{v}" for k, v in sorted(r.deliveries.items())),
        ),
        report.Row(
            "token exchanges / rate-limited (429) answers",
            f"{r.token_exchanges} / {r.rate_limited}",
        ),
    ]
    notes = [
        f"N = {r.events} changes at once: human edits in aliased batches of {BATCH}, every one "
        "moving its Application to another TIME class; the emulator queues N deliveries "
        f"(+ the echo of each TIME write) and pushes {r.concurrency} at a time.",
        f"pace {r.pace_per_minute}/min (LEANIX_REQUESTS_PER_MINUTE); lower bound = calls ÷ "
        f"{r.pace_per_minute / 60:.0f}/s.",
    ]
    return report.Table("burst", "6. A burst of changes arriving at once", rows, notes)
