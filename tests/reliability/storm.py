"""The storm: human edits and the reconcile through the whole local stack, under LeanIX trouble.

``run_storm`` starts a SandboxStack (emulator + local functions host + Azurite state) on a
generated workspace, then:

1. switches the faults on, for the technical user only (a rule target, so the human's own edits
   always land): 30% of its LeanIX calls answered 5xx or 429 (half 5xx, spread over 500/502/503/
   504; half 429, half of those with ``Retry-After``), 20 ms latency on every call, access tokens
   that live 30 s, and 10% of PUSH deliveries dropped. With ``outage_seconds`` a time-boxed rule
   adds a total Pathfinder outage (every technical-user call answered 503) in the middle of the
   edits; ``storm_faults=False`` leaves the outage alone;
2. a human changes the fits of ``edits`` Applications via GraphQL, spread over the edit phase
   (some Applications more than once, so deliveries overlap);
3. waits until the emulator has no delivery pending, and judges the edited Applications;
4. fires ``time_reconcile`` once through the host's admin API, then ``time_reconcile_resume``
   until the run is finished (read from the state table: no checkpoint row, a last-run row),
   faults still on;
5. judges every Application against ``seed.expected_time`` (the emulator's independent reading
   of the TIME rules; archived ones and those with an unset fit excluded) and collects the
   emulator's counters into ``StormFigures``.

``python -m tests.reliability.storm`` (``make storm``) runs the full storm and the 60 s outage
side by side, each in its own process with its own stack, prints one figures table and fails
on any problem ``check_figures`` finds; ``tests/reliability/test_storm.py`` runs the same
scenarios through pytest (CI size by default, full size with ``-m storm``).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import random
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from pydantic import SecretStr

from bench.common import hermetic_env
from lx_core.config import StateSettings
from lx_core.jobs.time_reconcile import CHECKPOINT_PARTITION, LAST_RUN_PARTITION
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.graphql import Patch
from lx_core.state.azure_table import AzureTableStore
from lx_sandbox.emulator import TECHNICAL_TOKEN
from lx_sandbox.emulator.seed import FUNCTIONAL, TECHNICAL, expected_time, generate_workspace
from lx_sandbox.stack import SandboxStack, StackOptions

TIME_GROUP = "TIME Model"
PAGE_OP, BATCH_OP = "lxFactSheetPage", "lxUpdateFactSheets"
COMBOS = [(f, t) for f in FUNCTIONAL for t in TECHNICAL]

#: Share of the technical user's calls answered with each fault (30% in all).
FAULT_SHARES: tuple[tuple[dict[str, Any], float], ...] = (
    ({"status": 500}, 0.0375),
    ({"status": 502}, 0.0375),
    ({"status": 503}, 0.0375),
    ({"status": 504}, 0.0375),
    ({"status": 429, "retryAfter": 1}, 0.075),
    ({"status": 429}, 0.075),
)
LATENCY_MS = 20
TOKEN_LIFETIME_SECONDS = 30
DELIVERY_DROP_RATE = 0.1
#: The technical user's pace: LeanIX's (and the emulator's) limit, the most the client allows.
#: Under the storm's 429s the client's adaptive pace stays far below it anyway.
PACE = 1800

#: Redelivery generous enough to outlast a one-minute outage (0.5, 1, 2, 4, then 5 s apart).
EMULATOR_OPTIONS: dict[str, Any] = {
    "delivery_max_attempts": 25,
    "delivery_backoff_seconds": 0.5,
    "delivery_max_backoff_seconds": 5.0,
    "delivery_concurrency": 8,
}


def fault_rules(
    shares: Sequence[tuple[dict[str, Any], float]] = FAULT_SHARES,
) -> list[dict[str, Any]]:
    """The 5xx/429 rules for the technical user, as conditional rates.

    The emulator tries answering rules in order and stops at the first that fires, so rule i's
    own rate is its overall share divided by what the rules before it left over.
    """
    rules: list[dict[str, Any]] = []
    left = 1.0
    for answer, share in shares:
        rules.append({**answer, "token": TECHNICAL_TOKEN, "rate": share / left})
        left -= share
    return rules


def faults_document(
    *,
    storm_faults: bool,
    outage_start: float | None,
    outage_seconds: float,
    seed: int,
    shares: Sequence[tuple[dict[str, Any], float]] = FAULT_SHARES,
) -> dict[str, Any]:
    """``PUT /_sandbox/faults`` for one scenario (the outage rule first: it wins inside its box)."""
    rules: list[dict[str, Any]] = []
    if outage_seconds > 0 and outage_start is not None:
        rules.append(
            {
                "pathPrefix": "/services/pathfinder",
                "token": TECHNICAL_TOKEN,
                "status": 503,
                "startAfterSeconds": outage_start,
                "durationSeconds": outage_seconds,
            }
        )
    doc: dict[str, Any] = {"seed": seed, "latencyMs": LATENCY_MS, "rules": rules}
    if storm_faults:
        rules.extend(fault_rules(shares))
        doc["tokenLifetimeSeconds"] = TOKEN_LIFETIME_SECONDS
        doc["delivery"] = {"dropRate": DELIVERY_DROP_RATE}
    return doc


# -- figures ----------------------------------------------------------------------------------


@dataclass
class Judgement:
    """TIME tags of a set of Applications compared with the expected class."""

    judged: int = 0
    wrong: int = 0  #: carries TIME tag(s), but not exactly the expected one
    missing: int = 0  #: carries no TIME tag although one is expected
    examples: list[str] = field(default_factory=list)

    @property
    def not_right(self) -> int:
        return self.wrong + self.missing


@dataclass
class StormFigures:
    """What one scenario did and how it ended."""

    scenario: str
    applications: int
    archived: int
    edits: int
    edited_applications: int
    outage_seconds: float
    storm_faults: bool
    pace_per_minute: int
    #: Edited Applications without exactly their expected TIME tag once deliveries settled.
    wrong_after_webhooks: int
    #: The whole workspace before the reconcile (seeded wrong/missing tags included).
    workspace_not_right_before_reconcile: int
    wrong_after_reconcile: int
    missing_after_reconcile: int
    judged_after_reconcile: int
    archived_changed: int
    noop_writes: int
    token_exchanges: int
    leanix_calls: int
    leanix_calls_webhooks: int
    leanix_calls_reconcile: int
    reconcile_pages: int
    reconcile_batches: int
    reconcile_invocations: int
    reconcile_finished: bool
    reconcile_summary: dict[str, Any]
    events_delivered: int
    failed_deliveries: int  #: events whose deliveries never got a 2xx (dropped ones included)
    dropped_attempts: int
    delivery_attempts: int
    webhook_answers: dict[str, int]
    faults_injected: int
    rate_limited: int
    edit_seconds: float
    settle_seconds: float
    reconcile_seconds: float
    wall_seconds: float
    examples: list[str] = field(default_factory=list)

    @property
    def reconcile_requests(self) -> int:
        return self.reconcile_pages + self.reconcile_batches

    @property
    def call_bound(self) -> int:
        """4 calls per edit, plus 2 per reconcile request (pages + batch writes)."""
        return 4 * self.edits + 2 * self.reconcile_requests

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "call_bound": self.call_bound}


ROWS: tuple[tuple[str, str], ...] = (
    ("Applications (archived)", "_apps"),
    ("faults / pace (requests/min)", "_setup"),
    ("human edits (Applications)", "_edits"),
    ("wrong tags after webhooks", "wrong_after_webhooks"),
    ("not right in workspace before reconcile", "workspace_not_right_before_reconcile"),
    ("wrong tags after reconcile", "wrong_after_reconcile"),
    ("missing tags after reconcile", "missing_after_reconcile"),
    ("archived Applications changed", "archived_changed"),
    ("no-op writes", "noop_writes"),
    ("token exchanges", "token_exchanges"),
    ("LeanIX calls (technical user)", "leanix_calls"),
    ("  during edits / reconcile", "_calls_split"),
    ("  bound 4 x edits + 2 x (pages + batches)", "_bound"),
    ("reconcile pages + batches, invocations", "_reconcile"),
    ("failed deliveries (never 2xx)", "failed_deliveries"),
    ("  dropped attempts / attempts", "_deliveries"),
    ("webhook answers", "_answers"),
    ("faults injected / rate limited", "_faults"),
    ("wall time (edits, settle, reconcile)", "_wall"),
)


def _cell(f: StormFigures, key: str) -> str:
    cells = {
        "_apps": f"{f.applications} ({f.archived})",
        "_setup": (
            ("storm" if f.storm_faults else "none")
            + (f" + {f.outage_seconds:g} s outage" if f.outage_seconds else "")
            + f" / {f.pace_per_minute}"
        ),
        "_edits": f"{f.edits} ({f.edited_applications})",
        "_calls_split": f"{f.leanix_calls_webhooks} / {f.leanix_calls_reconcile}",
        "_bound": f"{f.call_bound} ({'ok' if f.leanix_calls <= f.call_bound else 'EXCEEDED'})",
        "_reconcile": f"{f.reconcile_pages} + {f.reconcile_batches}, {f.reconcile_invocations}",
        "_deliveries": f"{f.dropped_attempts} / {f.delivery_attempts}",
        "_answers": " ".join(f"{k}:{v}" for k, v in sorted(f.webhook_answers.items())),
        "_faults": f"{f.faults_injected} / {f.rate_limited}",
        "_wall": f"{f.wall_seconds:.1f} s ({f.edit_seconds:.1f}, {f.settle_seconds:.1f}, "
        f"{f.reconcile_seconds:.1f})",
    }
    if key in cells:
        return cells[key]
    return str(getattr(f, key))


def figures_table(figures: Sequence[StormFigures]) -> str:
    """A plain-text table, one column per scenario."""
    header = ["figure", *(f.scenario for f in figures)]
    body = [[label, *(_cell(f, key) for f in figures)] for label, key in ROWS]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(lines)


# -- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    fact_sheet_id: str
    functional: str
    technical: str


def plan_edits(apps: Sequence[Mapping[str, Any]], edits: int, rng: random.Random) -> list[Edit]:
    """``edits`` fit changes over active Applications: about a fifth hit one edited before."""
    active = [a for a in apps if a["status"] == "ACTIVE"]
    fits = {
        a["id"]: (a["values"].get("functionalSuitability"), a["values"].get("technicalSuitability"))
        for a in active
    }
    fresh = iter(rng.sample(active, min(len(active), edits)))
    edited: list[str] = []
    plan: list[Edit] = []
    for _ in range(edits):
        app = next(fresh, None)
        if edited and (app is None or rng.random() < 0.2):
            fs_id = rng.choice(edited)
        elif app is not None:
            fs_id = str(app["id"])
            edited.append(fs_id)
        else:  # pragma: no cover - no active Application at all
            raise ValueError("the workspace has no active Application to edit")
        choices = [c for c in COMBOS if c != fits[fs_id]]
        functional, technical = rng.choice(choices)
        fits[fs_id] = (functional, technical)
        plan.append(Edit(fs_id, functional, technical))
    return plan


def _time_tags(app: Mapping[str, Any], names: Mapping[str, tuple[str, str]]) -> list[str]:
    return sorted(names[t][1] for t in app["tagIds"] if names.get(t, ("", ""))[0] == TIME_GROUP)


def judge(
    apps: Sequence[Mapping[str, Any]],
    names: Mapping[str, tuple[str, str]],
    only: set[str] | None = None,
) -> Judgement:
    """Compare each active, classifiable Application's TIME tags with the expected class."""
    result = Judgement()
    for app in apps:
        if app["status"] != "ACTIVE" or (only is not None and app["id"] not in only):
            continue
        values = app["values"]
        want = expected_time(
            values.get("functionalSuitability"), values.get("technicalSuitability")
        )
        if want is None:
            continue  # TIME_ON_UNSET=keep: whatever tag it has is left alone
        result.judged += 1
        have = _time_tags(app, names)
        if have == [want]:
            continue
        if have:
            result.wrong += 1
        else:
            result.missing += 1
        if len(result.examples) < 10:
            result.examples.append(f"{app['name']}: want {want}, have {have}")
    return result


def _tech_user(stats: Mapping[str, Any]) -> dict[str, Any]:
    for user in stats["users"].values():
        if user["username"] == "lx-functions-technical-user":
            return dict(user)
    return {"requests": 0, "tokenExchanges": 0, "noopWrites": 0, "rateLimited": 0}


def _ops(stats: Mapping[str, Any]) -> Counter[str]:
    return Counter({k: int(v) for k, v in stats["graphql"]["operationNames"].items()})


class StormRunner:
    """One scenario on one running stack (kept separate so tests can reuse the pieces)."""

    def __init__(self, stack: SandboxStack, *, rng: random.Random) -> None:
        self.stack = stack
        self.rng = rng
        host = stack.host
        if host is None:
            raise RuntimeError("the stack is not running")
        self.master_key = host.master_key

    # -- reconcile through the host ------------------------------------------------------------

    def state_store(self) -> AzureTableStore:
        env = self.stack.state_settings()
        settings = StateSettings(
            connection_string=SecretStr(env["LX_STATE_CONNECTION_STRING"]),
            table_name=env["LX_STATE_TABLE_NAME"],
        )
        return AzureTableStore.from_settings(settings)

    def _invocations(self, name: str) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.stack.host_url}/admin/host/invocations",
            headers={"x-functions-key": self.master_key},
            timeout=10,
        )
        response.raise_for_status()
        return [r for r in response.json() if r["name"] == name]

    def fire(self, name: str, timeout: float) -> dict[str, Any]:
        """Fire timer ``name`` through the host's admin API and wait for its record."""
        before = len(self._invocations(name))
        response = requests.post(
            f"{self.stack.host_url}/admin/functions/{name}",
            json={"input": ""},
            headers={"x-functions-key": self.master_key},
            timeout=10,
        )
        if response.status_code != 202:
            raise RuntimeError(f"firing {name}: HTTP {response.status_code} {response.text}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            records = self._invocations(name)
            if len(records) > before:
                return records[-1]
            time.sleep(0.2)
        raise TimeoutError(f"{name} did not finish within {timeout:.0f} s")

    def reconcile(self, timeout: float) -> tuple[bool, int, dict[str, Any]]:
        """``time_reconcile`` once, then ``time_reconcile_resume`` until the run is finished.

        Returns (finished, invocations, last-run row).
        """
        deadline = time.monotonic() + timeout
        with self.state_store() as store:
            started = time.time()
            invocations = 0
            name = "time_reconcile"
            while time.monotonic() < deadline:
                self.fire(name, max(1.0, deadline - time.monotonic()))
                invocations += 1
                name = "time_reconcile_resume"
                pending = store.list(CHECKPOINT_PARTITION)
                last = [
                    r
                    for r in store.list(LAST_RUN_PARTITION)
                    if float(r.data.get("finished_at", 0)) >= started
                ]
                if not pending and last:
                    return True, invocations, dict(last[0].data)
                time.sleep(0.5)
        return False, invocations, {}

    # -- edits --------------------------------------------------------------------------------

    def edit(self, human: LeanIXClient, plan: Sequence[Edit], seconds: float) -> None:
        """Apply ``plan`` as the human user, evenly spread over ``seconds``."""
        began = time.monotonic()
        interval = seconds / max(1, len(plan))
        for i, e in enumerate(plan):
            wait = began + i * interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            human.graphql.update_fact_sheet(
                e.fact_sheet_id,
                [
                    Patch(op="replace", path="/functionalSuitability", value=e.functional),
                    Patch(op="replace", path="/technicalSuitability", value=e.technical),
                ],
                rev=None,
            )

    def settle(self, timeout: float) -> bool:
        """Wait until no PUSH delivery is pending (redeliveries included)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stack.wait_for_deliveries(min(20.0, max(1.0, deadline - time.monotonic()))):
                return True
        return False


def delivery_figures(deliveries: Sequence[Mapping[str, Any]]) -> tuple[int, int, Counter[str]]:
    """(events delivered, events never answered 2xx, answers by HTTP status)."""
    ok: dict[str, bool] = {}
    answers: Counter[str] = Counter()
    for d in deliveries:
        event = str(d.get("eventId"))
        ok[event] = ok.get(event, False) or bool(d.get("success"))
        if "drop" in (d.get("faults") or []):
            answers["dropped"] += 1
        elif d.get("httpStatus") is None:
            answers["no answer"] += 1
        else:
            answers[str(d["httpStatus"])] += 1
    return len(ok), sum(1 for v in ok.values() if not v), answers


def run_storm(
    edits: int,
    apps: int,
    outage_seconds: float = 0.0,
    *,
    storm_faults: bool = True,
    archived: float = 0.05,
    edit_seconds: float | None = None,
    seed: int = 7,
    state_connection_string: str | None = None,
    app_settings: Mapping[str, str] | None = None,
    emulator: Mapping[str, Any] | None = None,
    settle_timeout: float | None = None,
    reconcile_timeout: float = 300.0,
    scenario: str | None = None,
    fault_shares: Sequence[tuple[dict[str, Any], float]] = FAULT_SHARES,
) -> StormFigures:
    """Run one scenario end to end and return its figures (see the module docstring).

    ``edit_seconds`` spreads the edits (default: 8 per second, and at least the outage plus
    10 s so the outage sits in the middle of the edits). ``state_connection_string`` reuses a
    running Azurite (the test session's); otherwise the stack starts its own.
    """
    wall_began = time.monotonic()
    rng = random.Random(seed)
    spread = edit_seconds if edit_seconds is not None else max(edits / 8, outage_seconds + 10)
    outage_start = max(0.0, (spread - outage_seconds) / 2) if outage_seconds > 0 else None
    doc = generate_workspace(apps, seed, archived=archived)
    options = StackOptions(
        seed=doc,
        emulator={**EMULATOR_OPTIONS, "fault_seed": seed, **(emulator or {})},
        app_settings={
            # Pause and resume at least once in a big run (the checkpoint is part of the test).
            "TIME_RECONCILE_INVOCATION_SECONDS": "30",
            "LEANIX_REQUESTS_PER_MINUTE": str(PACE),
            **(app_settings or {}),
        },
        state_connection_string=state_connection_string,
    )
    with hermetic_env(), SandboxStack(options) as stack:
        stack_settings = stack.app_settings()
        stack.register_subscriptions()
        runner = StormRunner(stack, rng=rng)
        names = stack.tag_names()
        before = stack.applications()
        archived_tags = {a["id"]: a["tagIds"] for a in before if a["status"] == "ARCHIVED"}
        plan = plan_edits(before, edits, rng)
        edited = {e.fact_sheet_id for e in plan}
        stack.admin("DELETE", "/stats")
        stack.admin(
            "PUT",
            "/faults",
            json=faults_document(
                storm_faults=storm_faults,
                outage_start=outage_start,
                outage_seconds=outage_seconds,
                seed=seed,
                shares=fault_shares,
            ),
        )
        # Bearers issued before the faults (registering the subscription) live an hour: expire
        # them, so every token from now on lives TOKEN_LIFETIME_SECONDS.
        stack.admin("POST", "/tokens/expire")
        human = stack.human_client()
        try:
            began = time.monotonic()
            runner.edit(human, plan, spread)
            edit_s = time.monotonic() - began
        finally:
            human.close()
        # Generous: under the storm's 429s the client paces itself near its floor (~5 calls/s).
        settle_timeout = settle_timeout or max(240.0, edits * 1.5)
        began = time.monotonic()
        settled = runner.settle(settle_timeout)
        settle_s = time.monotonic() - began
        if not settled:
            raise TimeoutError(f"deliveries still pending after {settle_timeout:.0f} s")
        after_webhooks = stack.applications()
        webhooks = judge(after_webhooks, names, only=edited)
        workspace_before = judge(after_webhooks, names)
        mid = stack.admin("GET", "/stats")

        began = time.monotonic()
        finished, invocations, last_run = runner.reconcile(reconcile_timeout)
        reconcile_s = time.monotonic() - began
        runner.settle(60.0)  # the echoes of the reconcile's writes (ignored, no LeanIX call)
        final = stack.applications()
        end = stack.admin("GET", "/stats")
        deliveries = stack.admin("GET", "/deliveries")["deliveries"]

    after = judge(final, names)
    archived_changed = sum(
        1 for a in final if a["id"] in archived_tags and a["tagIds"] != archived_tags[a["id"]]
    )
    events, never_ok, answers = delivery_figures(deliveries)
    tech_mid, tech_end = _tech_user(mid), _tech_user(end)
    ops = _ops(end) - _ops(mid)
    return StormFigures(
        scenario=scenario or ("outage" if outage_seconds > 0 else "storm"),
        applications=apps,
        archived=len(archived_tags),
        edits=edits,
        edited_applications=len(edited),
        outage_seconds=outage_seconds,
        storm_faults=storm_faults,
        pace_per_minute=int(stack_settings.get("LEANIX_REQUESTS_PER_MINUTE", "1500")),
        wrong_after_webhooks=webhooks.not_right,
        workspace_not_right_before_reconcile=workspace_before.not_right,
        wrong_after_reconcile=after.wrong,
        missing_after_reconcile=after.missing,
        judged_after_reconcile=after.judged,
        archived_changed=archived_changed,
        noop_writes=int(tech_end.get("noopWrites", 0)),
        token_exchanges=int(tech_end.get("tokenExchanges", 0)),
        leanix_calls=int(tech_end["requests"]),
        leanix_calls_webhooks=int(tech_mid["requests"]),
        leanix_calls_reconcile=int(tech_end["requests"]) - int(tech_mid["requests"]),
        reconcile_pages=ops[PAGE_OP],
        reconcile_batches=ops[BATCH_OP],
        reconcile_invocations=invocations,
        reconcile_finished=finished,
        reconcile_summary={k: v for k, v in last_run.items() if k != "failures"},
        events_delivered=events,
        failed_deliveries=never_ok,
        dropped_attempts=int(end["deliveries"]["dropped"]),
        delivery_attempts=int(end["deliveries"]["attempts"]),
        webhook_answers=dict(answers),
        faults_injected=int(end["faultsInjected"]),
        rate_limited=int(tech_end.get("rateLimited", 0)),
        edit_seconds=edit_s,
        settle_seconds=settle_s,
        reconcile_seconds=reconcile_s,
        wall_seconds=time.monotonic() - wall_began,
        examples=after.examples or webhooks.examples,
    )


# -- python -m tests.reliability.storm ------------------------------------------------------


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Only errors from the app, the host and the SDKs (a storm logs thousands of warnings)."""
    loggers = [logging.getLogger(n) for n in ("functions", "lx_core", "lx_sandbox", "werkzeug")]
    loggers.append(logging.getLogger("azure"))
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def check_figures(f: StormFigures) -> list[str]:
    """What is wrong with a scenario's outcome (empty: it passed). Shared by the tests and
    ``python -m tests.reliability.storm``."""
    problems = []
    if not f.reconcile_finished or f.reconcile_summary.get("failed") != 0:
        problems.append(f"reconcile not finished cleanly: {f.reconcile_summary}")
    if f.wrong_after_reconcile or f.missing_after_reconcile:
        problems.append(
            f"{f.wrong_after_reconcile} wrong, {f.missing_after_reconcile} missing after the "
            f"reconcile: {f.examples}"
        )
    if f.archived_changed:
        problems.append(f"{f.archived_changed} archived Applications changed")
    if f.noop_writes:
        problems.append(f"{f.noop_writes} no-op writes")
    other_5xx = {s: n for s, n in f.webhook_answers.items() if s.startswith("5") and s != "503"}
    if other_5xx:
        problems.append(f"webhook answered 5xx other than 503: {other_5xx}")
    if f.leanix_calls > f.call_bound:
        problems.append(
            f"{f.leanix_calls} technical-user calls > bound {f.call_bound} (4 x {f.edits} edits "
            f"+ 2 x ({f.reconcile_pages} pages + {f.reconcile_batches} batches))"
        )
    return problems


def scenario(kwargs: dict[str, Any]) -> StormFigures:
    with quiet_logs():
        return run_storm(**kwargs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.reliability.storm", description=__doc__)
    p.add_argument("--edits", type=int, default=1000)
    p.add_argument("--apps", type=int, default=3000)
    p.add_argument("--outage-edits", type=int, default=400)
    p.add_argument("--outage-apps", type=int, default=1000)
    p.add_argument("--outage-seconds", type=float, default=60.0)
    p.add_argument("--only", choices=("storm", "outage"), action="append", default=[])
    p.add_argument(
        "--serial", action="store_true", help="one scenario after the other (default: side by side)"
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = p.parse_args(argv)
    scenarios = {
        "storm": {"edits": args.edits, "apps": args.apps, "scenario": "storm (full)"},
        "outage": {
            "edits": args.outage_edits,
            "apps": args.outage_apps,
            "outage_seconds": args.outage_seconds,
            "storm_faults": False,
            "scenario": f"outage {args.outage_seconds:g} s (full)",
        },
    }
    wanted = [scenarios[name] for name in args.only or ["storm", "outage"]]
    # Each scenario has its own emulator, host, Azurite and technical-user pace, so they can
    # run side by side in their own processes; they are pace-bound, not CPU-bound.
    if args.serial or len(wanted) == 1:
        figures = [scenario(kwargs) for kwargs in wanted]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=len(wanted), mp_context=context) as pool:
            figures = list(pool.map(scenario, wanted))
    print(figures_table(figures))
    if args.json:
        print(json.dumps([f.as_dict() for f in figures], indent=2))
    bad = []
    for f in figures:
        problems = check_figures(f)
        bad += [f.scenario] if problems else []
        for problem in problems:
            print(f"FAIL {f.scenario}: {problem}")
    print(f"{len(figures) - len(bad)} passed, {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
