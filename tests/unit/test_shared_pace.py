"""SharedPace: one budget per user for every instance, through the state store.

Most tests are a discrete-event simulation on a FakeClock: several SharedPace objects (the
instances) share one MemoryStore; the instance whose next request is earliest runs next, a
request leaves at the clock plus the wait the pacer answered, and the emulator's rule (at most
``quota`` requests in any sliding window) is checked on the times they left.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from pydantic import SecretStr

from lx_core import runtime
from lx_core.config import LeanIXSettings
from lx_core.errors import StateUnavailableError
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.shared_pace import (
    PARTITION,
    STORE_RETRY_SECONDS,
    Budget,
    SharedPace,
    deployment_pace,
    pacer_for,
    row_key,
)
from lx_core.leanix.testing import FakeClock
from lx_core.state.base import Row
from lx_core.state.memory import MemoryStore

KEY = "user-hash"
RPM = 1800


def quota(rpm: int, window: float) -> float:
    return rpm * window / 60.0


def most_in_any_window(times: Sequence[float], window: float) -> int:
    """The emulator's count: the most requests in any (t - window, t]."""
    ordered = sorted(times)
    most = first = 0
    for last, t in enumerate(ordered):
        while ordered[first] <= t - window:
            first += 1
        most = max(most, last - first + 1)
    return most


class Sim:
    """Instances on one store and one fake clock, each a loop of acquire → send → maybe idle."""

    def __init__(self, store: MemoryStore | None = None, *, window: float = 2.0) -> None:
        self.clock = FakeClock(start=1_000.0)
        self.store = store if store is not None else MemoryStore()
        self.window = window
        self.paces: list[SharedPace] = []
        self.ready: list[float] = []
        self.sent: list[list[float]] = []

    def add(self, *, rpm: int = RPM, source: Any = None, **kw: Any) -> SharedPace:
        pace = SharedPace(
            self.store if source is None else source,
            KEY,
            rpm,
            window_seconds=self.window,
            clock=self.clock,
            sleep=lambda s: None,  # a request leaves at clock + wait; the clock moves by events
            rng=lambda: 0.5,
            **kw,
        )
        self.paces.append(pace)
        self.ready.append(self.clock.now)
        self.sent.append([])
        return pace

    def run(
        self,
        until: float,
        *,
        service: float = 0.004,
        idle_after_first: Sequence[int] = (),
        gap: Mapping[int, float] | Callable[[int], float] | None = None,
    ) -> None:
        """Every instance sends as fast as its pacer lets it (``service`` seconds per request,
        plus ``gap[i]``) until ``until``; those in ``idle_after_first`` send once, then idle."""
        while True:
            i = min(range(len(self.paces)), key=lambda j: self.ready[j])
            if self.ready[i] >= until:
                return
            self.clock.now = max(self.clock.now, self.ready[i])
            waited = self.paces[i].acquire()
            assert waited is not None and waited >= 0
            left = self.clock.now + waited
            self.sent[i].append(left)
            pause = gap(i) if callable(gap) else (gap or {}).get(i, 0.0)
            self.ready[i] = math.inf if i in idle_after_first else left + service + pause

    def all_sent(self) -> list[float]:
        return [t for times in self.sent for t in times]

    def count(self, i: int, start: float, end: float) -> int:
        return sum(start <= t < end for t in self.sent[i])


# --- the budget -------------------------------------------------------------------------------


@pytest.mark.parametrize(("rpm", "window"), [(1800, 60.0), (1500, 60.0), (1800, 2.0), (600, 5.0)])
def test_budget_keeps_any_sliding_window_under_the_quota(rpm: int, window: float) -> None:
    b = Budget.of(rpm, window)
    assert 1 + b.rate * (window + b.late) + b.burst <= quota(rpm, window) + 1e-9
    assert b.rate >= 0.85 * rpm / 60  # the margin is 10 %, not more
    assert 1 <= b.max_block <= math.ceil(b.rate)


def test_the_row_key_is_a_hash_of_host_and_token_never_the_token() -> None:
    key = row_key("https://app.leanix.net", "abc123")
    assert len(key) == 40 and "abc123" not in key
    assert key != row_key("https://eu.leanix.net", "abc123")


# --- (a) the whole deployment stays under the limit -------------------------------------------


@pytest.mark.parametrize(("instances", "window", "seconds"), [(4, 2.0, 30.0), (12, 60.0, 240.0)])
def test_busy_instances_together_never_exceed_the_window_budget(
    instances: int, window: float, seconds: float
) -> None:
    sim = Sim(window=window)
    for _ in range(instances):
        sim.add()
    # Uneven, bursty instances: now and then one pauses for up to twice the time a slot stays
    # spendable, so blocks grown while it was alone lapse, and others find the bucket refilled.
    late = Budget.of(RPM, window).late
    rng = random.Random(7)

    def gap(i: int) -> float:
        if rng.random() < 0.02:  # a long pause: the others have the budget to themselves
            return rng.uniform(0, min(3 * window, 6.0))
        return rng.uniform(0, 2 * late) if rng.random() < 0.05 * (1 + i % 3) else 0.0

    sim.run(sim.clock.now + seconds, gap=gap)
    sent = sim.all_sent()
    assert most_in_any_window(sent, window) <= quota(RPM, window)
    # ... and together they use the budget: at least 80 % of the limit.
    assert len(sent) >= 0.8 * RPM / 60 * seconds
    assert sum(p.stats.lapsed for p in sim.paces) > 0  # the lapse path was exercised
    assert len(sim.store.list(PARTITION)) == 1  # one row per user, however long it runs


def test_threads_of_several_instances_racing_for_the_row_stay_under_the_limit() -> None:
    """Real threads, real time: instances lose ETag races and retry, nothing exceeds the quota."""

    class RacyStore(MemoryStore):
        def get(self, partition: str, key: str) -> Row | None:
            row = super().get(partition, key)
            time.sleep(0.001)  # widen the window between read and conditional write
            return row

    store = RacyStore()
    window, seconds = 2.0, 3.0
    paces = [SharedPace(store, KEY, RPM, window_seconds=window) for _ in range(3)]
    sent: list[float] = []
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(pace: SharedPace) -> None:
        while time.time() < stop:
            assert pace.acquire() is not None
            with lock:
                sent.append(time.time())

    threads = [threading.Thread(target=worker, args=(p,)) for p in paces for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most_in_any_window(sent, window) <= quota(RPM, window)
    assert len(sent) >= 0.7 * RPM / 60 * seconds
    assert sum(p.stats.conflicts for p in paces) > 0


def test_busy_instances_get_about_equal_shares() -> None:
    sim = Sim(window=60.0)
    for _ in range(4):
        sim.add()
    start = sim.clock.now
    sim.run(start + 60)
    counts = [len(times) for times in sim.sent]
    assert min(counts) >= 0.8 * max(counts), counts


# --- (b) one busy instance gets most of the budget --------------------------------------------


@pytest.mark.parametrize("window", [2.0, 60.0])
def test_one_busy_instance_gets_most_of_the_budget_while_the_others_idle(window: float) -> None:
    sim = Sim(window=window)
    for _ in range(4):
        sim.add()
    start = sim.clock.now
    sim.run(start + 3 * window, idle_after_first=(1, 2, 3))
    for w in range(3):
        lo = start + w * window
        assert sim.count(0, lo, lo + window) >= 0.8 * quota(RPM, window)
    assert most_in_any_window(sim.all_sent(), window) <= quota(RPM, window)
    # Its blocks grew to about a second of the rate, so the store sees about one lease a second.
    assert sim.paces[0].stats.leases <= 1.2 * 3 * window + 10


def test_blocks_follow_an_instance_s_own_demand() -> None:
    sim = Sim(window=60.0)
    busy, trickle = sim.add(), sim.add()
    sim.run(sim.clock.now + 20, gap={1: 2.0})  # the second sends one request every 2 s
    assert busy.stats.leased_slots / busy.stats.leases > 15
    assert trickle.stats.leased_slots / trickle.stats.leases < 4
    # The trickling instance wastes little of the shared budget.
    assert trickle.stats.lapsed <= trickle.stats.leased_slots / 2 + 2


# --- max_wait ---------------------------------------------------------------------------------


def test_max_wait_answers_none_and_reserves_nothing() -> None:
    sim = Sim(window=60.0)
    busy, late = sim.add(), sim.add()
    # The busy instance reserves far ahead (its requests leave in the future; time stands still).
    while busy.acquire() is not None and sim.store.get(PARTITION, KEY) is not None:
        row = sim.store.get(PARTITION, KEY)
        assert row is not None
        if row.data["tat"] > sim.clock.now + busy.budget.burst / busy.budget.rate + 0.5:
            break
    writes, row_before = len(sim.store.writes), sim.store.get(PARTITION, KEY)
    assert late.acquire(max_wait=0.1) is None
    assert late.acquire(max_wait=0.0) is None
    assert len(sim.store.writes) == writes
    assert sim.store.get(PARTITION, KEY) == row_before
    assert late.stats.leases == 0
    waited = late.acquire(max_wait=5.0)
    assert waited is not None and 0.1 < waited <= 5.0


def test_max_wait_leaves_a_local_slot_for_the_next_caller() -> None:
    clock = FakeClock(start=1_000.0)
    sleeps: list[float] = []
    pace = SharedPace(MemoryStore(), KEY, 60, window_seconds=60, clock=clock, sleep=sleeps.append)
    for _ in range(3):  # 0.9 per second: the burst, then a slot every ~1.1 s
        pace.acquire()
    taken = pace.stats.leased_slots
    assert pace.acquire(max_wait=0.0001) is None
    assert pace.stats.leased_slots == taken
    waited = pace.acquire()
    assert waited is not None and waited > 0.0001
    assert sleeps[-1] == waited  # slept only when a slot was taken


def test_a_real_sleep_never_exceeds_max_wait() -> None:
    pace = SharedPace(MemoryStore(), KEY, 60, window_seconds=60)  # 0.9/s
    for _ in range(pace.budget.burst + 1):
        pace.acquire(max_wait=0.05)
    started = time.monotonic()
    results = [pace.acquire(max_wait=0.05) for _ in range(5)]
    assert time.monotonic() - started < 0.2
    assert all(r is None or r <= 0.05 + 0.01 for r in results)


# --- 429 --------------------------------------------------------------------------------------


def test_a_429_slows_every_instance_down_and_recovers() -> None:
    sim = Sim(window=2.0)
    a, _ = sim.add(), sim.add()
    t0 = sim.clock.now
    sim.run(t0 + 6)
    steady = sim.count(0, t0 + 4, t0 + 6) + sim.count(1, t0 + 4, t0 + 6)
    a.throttled(None)
    row = sim.store.get(PARTITION, KEY)
    assert row is not None and row.data["factor"] == pytest.approx(0.5)
    a.throttled(None)  # the same congestion event: no second cut within a second
    row = sim.store.get(PARTITION, KEY)
    assert row is not None and row.data["factor"] == pytest.approx(0.5)
    t1 = sim.clock.now
    sim.run(t1 + 4)
    slowed = sim.count(0, t1 + 1.5, t1 + 3.5) + sim.count(1, t1 + 1.5, t1 + 3.5)
    assert slowed < 0.75 * steady
    assert sim.count(1, t1 + 1.5, t1 + 3.5) > 0  # b slowed too, it did not stop
    sim.run(t1 + 20)  # 0.05 per second: back to full rate after 10 s
    recovered = sim.count(0, t1 + 18, t1 + 20) + sim.count(1, t1 + 18, t1 + 20)
    assert recovered >= 0.9 * steady


def test_retry_after_pauses_every_instance() -> None:
    sim = Sim(window=2.0)
    a, _ = sim.add(), sim.add()
    sim.run(sim.clock.now + 4)
    row = sim.store.get(PARTITION, KEY)
    assert row is not None
    reserved = float(row.data["tat"])  # b may still spend what it leased before the 429
    t = sim.clock.now = max(sim.all_sent())  # the 429 answers the latest request
    a.throttled(3.0)
    sim.run(t + 6)
    assert sim.count(0, t + 1e-6, t + 3) == 0
    assert sim.count(1, max(t + 1e-6, reserved), t + 3) == 0
    assert sim.count(0, t + 3, t + 6) > 0 and sim.count(1, t + 3, t + 6) > 0


def test_retry_after_pauses_the_others_even_when_the_throttled_one_goes_quiet() -> None:
    sim = Sim(window=2.0)
    a, _ = sim.add(), sim.add()
    sim.run(sim.clock.now + 4)
    row = sim.store.get(PARTITION, KEY)
    assert row is not None
    reserved = float(row.data["tat"])
    t = sim.clock.now = max(sim.all_sent())
    a.throttled(3.0)
    sim.ready[0] = math.inf  # a sends nothing more
    sim.run(t + 6)
    assert sim.count(1, max(t + 1e-6, reserved), t + 3) == 0
    assert sim.count(1, t + 3, t + 6) > 0


# --- the store fails --------------------------------------------------------------------------


class FlakyStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.failures = 0

    def get(self, partition: str, key: str) -> Row | None:
        if self.down:
            self.failures += 1
            raise StateUnavailableError("state table unreachable (test)")
        return super().get(partition, key)


def test_store_unavailable_falls_back_to_a_local_share_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="lx_core.leanix.shared_pace")
    store = FlakyStore()
    store.down = True
    sim = Sim(store, window=60.0)
    pace = sim.add(fallback_instances=10)  # 1,800 / 10 = 180/min while the store is down
    t0 = sim.clock.now
    sim.run(t0 + 20)
    assert sim.count(0, t0, t0 + 20) == pytest.approx(180 / 60 * 20, abs=4)
    assert pace.stats.fallback_calls == len(sim.sent[0])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "StateUnavailableError" in warnings[0].getMessage()
    assert store.list(PARTITION) == []
    assert store.failures == 1  # asked again only after STORE_RETRY_SECONDS, not per request

    store.down = False  # back: after STORE_RETRY_SECONDS the shared pace resumes
    sim.run(t0 + STORE_RETRY_SECONDS + 10)
    assert store.get(PARTITION, KEY) is not None
    assert sim.count(0, t0 + STORE_RETRY_SECONDS + 5, t0 + STORE_RETRY_SECONDS + 10) > 100
    assert any("back" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_a_store_that_fails_on_429_does_not_fail_the_caller() -> None:
    store = FlakyStore()
    sim = Sim(store)
    pace = sim.add()
    sim.run(sim.clock.now + 1)
    store.down = True
    t = sim.clock.now = max(sim.all_sent())
    pace.throttled(2.0)  # no exception; the local pause still holds
    sim.run(t + 4)
    assert sim.count(0, t + 1e-6, t + 2) == 0 and sim.count(0, t + 2, t + 4) > 0


def test_without_a_store_the_pace_is_local_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    sim = Sim()
    pace = sim.add(source=lambda: None, fallback_instances=40)
    sim.run(sim.clock.now + 10)
    assert pace.stats.fallback_calls == len(sim.sent[0]) <= 1800 / 40 / 60 * 10 + 2
    assert any("no state store" in r.getMessage() for r in caplog.records)


def test_a_damaged_row_is_overwritten() -> None:
    sim = Sim()
    sim.store.insert(PARTITION, KEY, {"tat": "soon", "factor": None})
    pace = sim.add()
    sim.run(sim.clock.now + 2)
    row = sim.store.get(PARTITION, KEY)
    assert row is not None and isinstance(row.data["tat"], float)
    assert pace.stats.leases > 0


# --- wiring -----------------------------------------------------------------------------------


def _settings(**overrides: Any) -> LeanIXSettings:
    values: dict[str, Any] = {
        "api_token": SecretStr("api-token-shared"),
        "host": "app.leanix.net",
        "requests_per_minute": 1800,
        "pace_scope": "deployment",
        "pace_window_seconds": 60.0,
        "pace_fallback_instances": 40,
    }
    values.update(overrides)
    return LeanIXSettings(**values)


@pytest.fixture
def fresh_runtime(monkeypatch: pytest.MonkeyPatch) -> Any:
    import os

    for name in list(os.environ):
        if name.startswith("LX_STATE_"):
            monkeypatch.delenv(name)
    runtime.reset_process_state()
    yield
    runtime.reset_process_state()


def test_pace_scope_defaults_to_process() -> None:
    assert LeanIXSettings(api_token=SecretStr("t")).pace_scope == "process"
    assert not isinstance(pacer_for(_settings(pace_scope="process")), SharedPace)


def test_the_runtime_client_uses_the_deployment_pace_over_the_state_store(
    fresh_runtime: None,
) -> None:
    settings = _settings()
    client = runtime.leanix_client(settings)
    pacer = client.transport._pacer
    assert isinstance(pacer, SharedPace)
    assert pacer._source is runtime.state_store  # opened at the first lease, not at cold start
    assert pacer is deployment_pace(settings, None)
    # A second client of the same user in this process shares it.
    other = LeanIXClient(settings)
    assert other.transport._pacer is pacer
    other.close()
    runtime.reset_process_state()
    assert runtime.leanix_client(settings).transport._pacer is not pacer
