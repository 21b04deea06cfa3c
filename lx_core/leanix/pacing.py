"""A thread-safe token bucket that keeps one technical user under LeanIX's per-user limit.

LeanIX counts requests per user (1,800/min), not per client object, so every client in the
process that uses the same token on the same host shares one bucket. The bucket holds at most one
second's worth of requests, so a burst cannot front-load a whole minute's allowance.

Callers reserve a slot under the lock and sleep outside it; a reservation can drive the balance
negative, which queues later callers behind earlier ones in arrival order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from lx_core import assumptions

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """Allows ``requests_per_minute`` on average with bursts of up to one second's worth."""

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

    def acquire(self) -> float:
        """Take one slot, sleeping as long as needed. Returns the seconds waited."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait


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
