"""SharedPace: one request budget per LeanIX user for the whole deployment, in the state store.

LeanIX counts requests per user across every instance of the app (Flex Consumption runs up to 40),
so a per-process bucket at the full rate overshoots once two instances are busy, and one at
rate / instances starves a lone busy instance. Here every instance shares ONE token bucket:

- The bucket is a GCRA ("theoretical arrival time") in a single row per user, ``pace/<key>``
  with key = SHA-256 of host and token hash (never the token). Slots are ``spacing`` apart at
  90 % of ``requests_per_minute``; after idle time up to ``burst`` slots are due at once.
- An instance leases a BLOCK of n slots with one ETag-guarded write (``tat += n * spacing``) and
  spends them locally, each at its own due time. n adapts to the instance's own demand: it
  doubles while whole blocks get used, up to one second of the rate, and halves when slots lapse
  or other instances' slots queue ahead (busy instances converge on equal shares).
- A lease may lie in the future: the instance sleeps until its first slot, so busy instances
  queue in arrival order instead of polling. Past ``max_wait`` nothing is written.
- Why one GCRA row rather than a ring of per-window counter rows: nothing to clean up, no window
  boundary where two windows' budgets meet, and a bound for ANY sliding window of W seconds: at
  most 1 + rate * (W + late) + burst requests, where ``late`` is how long a slot stays spendable
  after it is due. ``burst`` and ``late`` come out of the 10 % margin, so the bound stays within
  LeanIX's quota per window, whether LeanIX slides its window or not.
- A 429 (someone else uses the same user) halves the shared rate for everyone (at most once per
  second, recovering like ``pacing.Slowdown``) and pauses every instance for ``Retry-After``.
- If the store fails (unreachable, misconfigured, or none configured) the instance paces itself
  with a local TokenBucket at requests_per_minute / pace_fallback_instances, logs once per outage,
  tries the store again after 30 s, and never fails a request for it.

Times in the row are wall-clock seconds (instances agree on them within NTP skew).
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from lx_core.config import LeanIXSettings
from lx_core.errors import ConfigurationError, StateConflictError, StateError
from lx_core.leanix.auth import cache_scope
from lx_core.leanix.pacing import (
    MIN_RATE_FACTOR,
    RECOVERY_PER_SECOND,
    Clock,
    Pacer,
    Sleep,
    TokenBucket,
    shared_bucket,
)
from lx_core.state.base import Row, StateStore, check_key

log = logging.getLogger(__name__)

PARTITION: Final = "pace"
#: Share of requests_per_minute the deployment plans to use; the rest is the slack that pays for
#: bursts, slots spent late and transit jitter.
MARGIN: Final = 0.9
#: The largest block covers this many seconds of the shared rate.
LEASE_SECONDS: Final = 1.0
#: Of the lateness the margin allows, the share a slot may be spent late; the rest covers the
#: jitter between sending and LeanIX counting.
SPEND_LATE_SHARE: Final = 0.75
MIN_LATE_SECONDS: Final = 0.05
#: A 429 halves the shared rate at most once per this many seconds (many instances see the same
#: burst of 429s; it is one congestion event).
CUT_INTERVAL_SECONDS: Final = 1.0
#: After a store failure, pace locally this long before asking the store again.
STORE_RETRY_SECONDS: Final = 30.0
#: Back-off after a lost race for the row: up to min(MAX, BASE * 2**attempt) seconds, jittered.
CONFLICT_BACKOFF_SECONDS: Final = 0.002
CONFLICT_BACKOFF_MAX_SECONDS: Final = 0.05
THROTTLE_ATTEMPTS: Final = 3

StoreSource = StateStore | Callable[[], StateStore | None] | None


@dataclass(frozen=True)
class Budget:
    """The shared bucket's shape for one user: slots per second, the burst after idle time, and
    how long a slot may be spent after it is due."""

    rate: float
    burst: int
    late: float
    max_block: int

    @classmethod
    def of(cls, requests_per_minute: int, window_seconds: float) -> Budget:
        quota = requests_per_minute * window_seconds / 60.0  # what LeanIX admits per window
        rate = MARGIN * requests_per_minute / 60.0
        slack = (1.0 - MARGIN) * quota - 1.0  # the bound: 1 + rate*(W + late) + burst <= quota
        burst = max(0, math.floor(slack / 2))
        late = max(MIN_LATE_SECONDS, (slack - burst) / rate)
        # A window too small for the margin to pay for ``late``: slow down to keep the bound,
        # but never below half the planned rate (a quota of a few requests is best effort).
        fitting = (quota - 1.0 - burst) / (window_seconds + late)
        rate = max(min(rate, fitting), rate / 2)
        return cls(rate, burst, late, max(1, round(rate * LEASE_SECONDS)))


def row_key(host: str, token_hash: str) -> str:
    """The row of one user on one host: a hash of both, never the token."""
    return hashlib.sha256(f"{host}\n{token_hash}".encode()).hexdigest()[:40]


def _number(data: Mapping[str, Any], name: str, default: float) -> float:
    value = data.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return default


@dataclass(frozen=True)
class _Shared:
    """The row's content: next free slot (``tat``), the 429 factor and when it was last cut."""

    tat: float
    factor: float
    cut: float

    @classmethod
    def read(cls, row: Row | None, now: float) -> _Shared:
        """The state at ``now`` (factor recovered since it was written); a damaged row reads as
        an idle bucket at full rate and is overwritten by the next lease."""
        data: Mapping[str, Any] = row.data if row is not None else {}
        factor = min(1.0, max(MIN_RATE_FACTOR, _number(data, "factor", 1.0)))
        since = max(0.0, now - _number(data, "at", now))
        factor = min(1.0, factor + since * RECOVERY_PER_SECOND)
        return cls(_number(data, "tat", 0.0), factor, _number(data, "cut", 0.0))

    def data(self, now: float) -> dict[str, float]:
        return {"tat": self.tat, "factor": self.factor, "at": now, "cut": self.cut}


class _Fallback:
    """Marker: pace this call with the local fallback bucket."""


_FALLBACK: Final = _Fallback()


@dataclass
class PaceStats:
    """What one instance's SharedPace did (for tests, logs and the README figures)."""

    leases: int = 0
    leased_slots: int = 0
    conflicts: int = 0
    lapsed: int = 0
    fallback_calls: int = 0


class SharedPace:
    """A Pacer whose budget is shared through ``store`` by every instance using ``key``.

    ``store`` is a StateStore, a callable returning one (or None) at first need, or None (no
    store: always the local fallback). Thread-safe; store I/O happens only when a block runs out.
    """

    def __init__(
        self,
        store: StoreSource,
        key: str,
        requests_per_minute: int,
        *,
        window_seconds: float = 60.0,
        fallback_instances: int = 40,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not window_seconds > 0:
            raise ValueError("window_seconds must be positive")
        self.key = check_key(key)
        self.budget = Budget.of(requests_per_minute, window_seconds)
        self.fallback_per_minute = max(1, requests_per_minute // max(1, fallback_instances))
        self.stats = PaceStats()
        self._source = store
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._spacing = 1.0 / self.budget.rate
        self._tolerance = self.budget.burst * self._spacing
        self._spend_late = self.budget.late * SPEND_LATE_SHARE
        self._fallback = TokenBucket(self.fallback_per_minute, clock=clock, sleep=sleep)
        self._lock = threading.Lock()
        # The current block: slot j has its place u = head + j * step in the shared schedule; it
        # may be spent from u - tolerance (the burst) until u + spend_late, then it lapses.
        self._head = 0.0
        self._step = self._spacing
        self._count = self._next = self._lapsed = 0
        #: How far ahead of "now" a lease places its first slot: the store's recent round trip,
        #: so that slots do not lapse while the write is still on its way.
        self._lead = 0.0
        #: The ``tat`` this instance wrote last: a row still holding it has no one else's slots.
        self._wrote_tat = math.nan
        self._want = 1
        self._paused_until = -math.inf
        self._store_down_until = -math.inf
        self._outage_logged = False

    # --- Pacer ---------------------------------------------------------------------------------

    def acquire(self, max_wait: float = math.inf) -> float | None:
        max_wait = max(0.0, max_wait)
        started = self._clock()
        if not self._lock.acquire(timeout=-1 if math.isinf(max_wait) else max_wait):
            return None
        try:
            plan = self._plan(started, max_wait)
        finally:
            self._lock.release()
        if plan is None:
            return None
        if isinstance(plan, _Fallback):
            waited = self._fallback.acquire(max(0.0, max_wait - (self._clock() - started)))
            return None if waited is None else max(waited, self._clock() - started)
        if plan > 0:
            self._sleep(plan)
        return max(plan, self._clock() - started)

    def throttled(self, retry_after: float | None) -> None:
        with self._lock:
            now = self._clock()
            if retry_after:
                self._paused_until = max(self._paused_until, now + retry_after)
            if self._next < self._count:  # slots leased at the old pace: give them up
                self._lapsed += self._count - self._next
                self._count = self._next
            self._fallback.throttled(retry_after)
            if now < self._store_down_until:
                return
            self._throttle_shared(now, retry_after)

    # --- local block -----------------------------------------------------------------------------

    def _next_due(self, now: float) -> float | None:
        """Due time of the next unspent slot of the block, skipping slots that lapsed."""
        while self._next < self._count:
            place = self._head + self._next * self._step
            if now <= place + self._spend_late:
                return place - self._tolerance
            self._next += 1
            self._lapsed += 1
            self.stats.lapsed += 1
        return None

    def _plan(self, started: float, max_wait: float) -> float | _Fallback | None:
        """Under the lock: the seconds to sleep for a slot taken, the fallback, or None."""
        while True:
            now = self._clock()
            left = max_wait - (now - started)
            due = self._next_due(now)
            if due is not None:
                wait = max(0.0, due - now, self._paused_until - now)
                if wait > left:
                    return None
                self._next += 1
                return wait
            if self._paused_until - now > left:
                return None
            if now < self._store_down_until:
                self.stats.fallback_calls += 1
                return _FALLBACK
            leased = self._lease(started, max_wait)
            if leased is not True:
                if isinstance(leased, _Fallback):
                    self.stats.fallback_calls += 1
                return leased

    def _next_want(self, used_up: bool, lapsed: bool, contended: bool) -> int:
        """The next block's size: half when others queue too (busy instances converge on equal
        shares, as TCP flows do) or when slots lapsed, double when the last block was used up."""
        if contended or lapsed:
            return max(1, self._want // 2)
        if used_up:
            return min(self.budget.max_block, self._want * 2)
        return self._want

    # --- the shared row --------------------------------------------------------------------------

    def _store(self) -> StateStore | None:
        source = self._source
        if source is None or isinstance(source, StateStore):
            return source
        return source()

    def _lease(self, started: float, max_wait: float) -> bool | _Fallback | None:
        """Reserve the next block in the row: True when installed, None when its first slot is
        further than ``max_wait`` (nothing written), the fallback when the store fails."""
        used_up, lapsed = self._count > 0 and not self._lapsed, self._lapsed > 0
        self._count = self._next = self._lapsed = 0
        now = self._clock()
        try:
            store = self._store()
        except (StateError, ConfigurationError) as exc:
            return self._store_failed(now, exc)
        if store is None:
            return self._store_failed(now, None)
        attempt = 0
        while True:
            try:
                row = store.get(PARTITION, self.key)
                now = self._clock()
                shared = _Shared.read(row, now)
                head = max(shared.tat, now + self._lead, self._paused_until + self._tolerance)
                first = max(head - self._tolerance, now)
                if first - now > max_wait - (now - started):
                    return None
                step = self._spacing / shared.factor
                queued = head - self._tolerance - now  # > 0: slots before ours are not due yet
                contended = queued > 0 and shared.tat != self._wrote_tat  # ... not all ours
                want = self._next_want(used_up, lapsed, contended)
                size = want
                if contended:  # keep the queue within about a second
                    size = min(want, max(1, math.floor((LEASE_SECONDS - queued) / step)))
                new = _Shared(head + size * step, shared.factor, shared.cut).data(now)
                if row is None:
                    store.insert(PARTITION, self.key, new)
                else:
                    store.replace(PARTITION, self.key, new, etag=row.etag)
            except StateConflictError:
                self.stats.conflicts += 1
                attempt += 1
                pause = self._rng() * min(
                    CONFLICT_BACKOFF_MAX_SECONDS, CONFLICT_BACKOFF_SECONDS * 2**attempt
                )
                if self._clock() - started + pause > max_wait:
                    return None
                self._sleep(pause)
                continue
            except StateError as exc:
                return self._store_failed(now, exc)
            break
        trip = self._clock() - now
        self._lead = min(self._spend_late / 2, 0.8 * self._lead + 0.2 * trip)
        self._head, self._step, self._count, self._want = head, step, size, want
        self._wrote_tat = float(new["tat"])
        self.stats.leases += 1
        self.stats.leased_slots += size
        if self._outage_logged:
            self._outage_logged = False
            log.info("state store answers again: the deployment-wide LeanIX pace is back")
        return True

    def _throttle_shared(self, now: float, retry_after: float | None) -> None:
        """Halve the shared rate (once per CUT_INTERVAL_SECONDS) and pause everyone for
        ``retry_after``; best effort, a lost race or a failing store only costs the cut."""
        try:
            store = self._store()
        except (StateError, ConfigurationError) as exc:
            self._store_failed(now, exc)
            return
        if store is None:
            self._store_failed(now, None)
            return
        for _ in range(THROTTLE_ATTEMPTS):
            try:
                row = store.get(PARTITION, self.key)
                now = self._clock()
                shared = _Shared.read(row, now)
                factor, cut, tat = shared.factor, shared.cut, shared.tat
                if now - cut >= CUT_INTERVAL_SECONDS:
                    factor, cut = max(MIN_RATE_FACTOR, factor / 2), now
                if retry_after:
                    tat = max(tat, now + retry_after + self._tolerance)
                if (factor, tat) == (shared.factor, shared.tat):
                    return
                new = _Shared(tat, factor, cut).data(now)
                if row is None:
                    store.insert(PARTITION, self.key, new)
                else:
                    store.replace(PARTITION, self.key, new, etag=row.etag)
                self._wrote_tat = tat
                return
            except StateConflictError:
                self.stats.conflicts += 1
            except StateError as exc:
                self._store_failed(now, exc)
                return

    def _store_failed(self, now: float, exc: Exception | None) -> _Fallback:
        self._store_down_until = now + STORE_RETRY_SECONDS
        if not self._outage_logged:
            self._outage_logged = True
            reason = (
                "no state store is configured (LX_STATE_*)"
                if exc is None
                else f"the state store failed ({type(exc).__name__}: {exc})"
            )
            log.warning(
                "LEANIX_PACE_SCOPE=deployment but %s: this instance paces itself at %d "
                "requests/min until the store answers",
                reason,
                self.fallback_per_minute,
            )
        return _FALLBACK


_registry_lock = threading.Lock()
_paces: dict[tuple[str, str], SharedPace] = {}


def deployment_pace(
    settings: LeanIXSettings,
    store: StoreSource,
    *,
    clock: Clock = time.time,
    sleep: Sleep = time.sleep,
) -> SharedPace:
    """The process's SharedPace for one user on one host (the first caller's settings win; a
    later caller's store fills in one registered without)."""
    scope = cache_scope(settings)
    with _registry_lock:
        pace = _paces.get(scope)
        if pace is None:
            pace = _paces[scope] = SharedPace(
                store,
                row_key(*scope),
                settings.requests_per_minute,
                window_seconds=settings.pace_window_seconds,
                fallback_instances=settings.pace_fallback_instances,
                clock=clock,
                sleep=sleep,
            )
        elif pace._source is None and store is not None:
            pace._source = store
        return pace


def pacer_for(
    settings: LeanIXSettings,
    *,
    clock: Clock = time.monotonic,
    wall_clock: Clock = time.time,
    sleep: Sleep = time.sleep,
) -> Pacer:
    """The pacer HttpTransport uses when none is given: the deployment-wide pace for
    ``LEANIX_PACE_SCOPE=deployment`` (``lx_core.runtime`` registers it with the state store;
    without one it paces at the fallback share), else the process-wide bucket."""
    if settings.pace_scope == "deployment":
        return deployment_pace(settings, None, clock=wall_clock, sleep=sleep)
    host, token_hash = cache_scope(settings)
    return shared_bucket(host, token_hash, settings.requests_per_minute, clock=clock, sleep=sleep)


def clear_paces() -> None:
    """Forget every deployment pace of this process (tests; ``runtime.reset_process_state``)."""
    with _registry_lock:
        _paces.clear()
