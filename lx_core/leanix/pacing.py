"""Pacers: keep one technical user under LeanIX's per-user limit (1,800 requests/min).

LeanIX counts requests per user, not per client object, so every client in the process that uses
the same token on the same host shares one pacer. ``TokenBucket`` paces one process; the shared
budget in ``lx_core.leanix.shared_pace`` paces a whole deployment through the state store. Both
slow down on their own when LeanIX answers 429 anyway (someone else is using the same user), and
recover gradually: multiplicative decrease, additive increase.

A pacer never sleeps past the caller's patience: ``acquire(max_wait)`` answers None without
reserving anything when the slot would come later than that, so the caller can give up at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from lx_core import assumptions

Clock = Callable[[], float]
Sleep = Callable[[float], None]

#: On a 429 the pace halves, down to this fraction of the configured rate.
MIN_RATE_FACTOR = 0.125
#: Afterwards it climbs back by this fraction of the configured rate per second.
RECOVERY_PER_SECOND = 0.05


class Pacer(Protocol):
    """What HttpTransport needs from a pacer."""

    def acquire(self, max_wait: float = math.inf) -> float | None:
        """Take one request slot, sleeping until it is due. Returns the seconds waited, or
        None (nothing taken, nothing slept) if the slot is further away than ``max_wait``."""
        ...

    def throttled(self, retry_after: float | None) -> None:
        """LeanIX answered 429: slow down (and pause for ``retry_after`` when given)."""
        ...


class Slowdown:
    """The adaptive part shared by every pacer: a rate factor in [MIN_RATE_FACTOR, 1] and a
    pause. Not thread-safe on its own; callers hold their lock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.factor = 1.0
        self._updated = clock()
        self.paused_until = -math.inf

    def current(self, now: float) -> float:
        """The factor now, after the recovery since the last look."""
        self.factor = min(1.0, self.factor + (now - self._updated) * RECOVERY_PER_SECOND)
        self._updated = now
        return self.factor

    def throttle(self, now: float, retry_after: float | None) -> None:
        self.factor = max(MIN_RATE_FACTOR, self.current(now) / 2)
        if retry_after:
            self.paused_until = max(self.paused_until, now + retry_after)


class TokenBucket:
    """Allows ``requests_per_minute`` on average with bursts of up to one second's worth.

    Callers reserve a slot under the lock and sleep outside it; a reservation can drive the
    balance negative, which queues later callers behind earlier ones in arrival order.
    """

    def __init__(
        self,
        requests_per_minute: int,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if not 1 <= requests_per_minute <= assumptions.RATE_LIMIT_PER_MINUTE:
            raise ValueError(f"requests_per_minute must be 1..{assumptions.RATE_LIMIT_PER_MINUTE}")
        self.rate = requests_per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.capacity
        self._updated = clock()
        self._slowdown = Slowdown(clock)

    def acquire(self, max_wait: float = math.inf) -> float | None:
        with self._lock:
            now = self._clock()
            rate = self.rate * self._slowdown.current(now)
            elapsed = max(0.0, now - self._updated)
            tokens = min(self.capacity, self._tokens + elapsed * rate) - 1.0
            wait = 0.0 if tokens >= 0 else -tokens / rate
            wait = max(wait, self._slowdown.paused_until - now)
            if wait > max_wait:
                return None
            self._tokens, self._updated = tokens, now
        if wait > 0:
            self._sleep(wait)
        return wait

    def throttled(self, retry_after: float | None) -> None:
        with self._lock:
            now = self._clock()
            # Settle the balance at the old rate before the rate changes.
            rate = self.rate * self._slowdown.current(now)
            self._tokens = min(self.capacity, self._tokens + max(0.0, now - self._updated) * rate)
            self._updated = now
            self._slowdown.throttle(now, retry_after)


_registry_lock = threading.Lock()
_buckets: dict[tuple[str, str], TokenBucket] = {}


def shared_bucket(
    host: str,
    token_hash: str,
    requests_per_minute: int,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> TokenBucket:
    """The process-wide bucket for one user on one host; the first caller's rate wins."""
    key = (host, token_hash)
    with _registry_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(requests_per_minute, clock=clock, sleep=sleep)
            _buckets[key] = bucket
        return bucket


def clear_buckets() -> None:
    """Forget every shared bucket (tests; a process that rotates tokens)."""
    with _registry_lock:
        _buckets.clear()
