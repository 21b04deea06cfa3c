"""A process-wide, thread-safe cache with a time-to-live, for what a warm instance should not
fetch on every invocation (tag groups, the data model).

Keys start with the client's cache scope (token host and a hash of the token), so workspaces
served side by side never see each other's entries.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from lx_core import deadline
from lx_core.errors import DeadlineExceededError

V = TypeVar("V")


class ProcessCache(Generic[V]):
    """``get_or_load(key, load, ttl, clock)``: one load per key and TTL, shared by all threads.

    Concurrent callers for a missing key wait for the one that is loading (a per-key lock, so
    different keys load in parallel) instead of each asking LeanIX. A failed load caches
    nothing; the next waiter tries itself. Waiting is bounded by the ambient deadline.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._loading: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, now: float) -> tuple[bool, V | None]:
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and now < hit[0]:
            return True, hit[1]
        return False, None

    def put(self, key: Hashable, value: V, expires_at: float) -> None:
        with self._lock:
            self._entries[key] = (expires_at, value)

    def get_or_load(
        self, key: Hashable, load: Callable[[], V], ttl: float, clock: Callable[[], float]
    ) -> V:
        found, value = self.get(key, clock())
        if found:
            return value  # type: ignore[return-value]
        with self._lock:
            key_lock = self._loading.setdefault(key, threading.Lock())
        left = deadline.remaining()
        if not key_lock.acquire(timeout=-1 if math.isinf(left) else left):
            raise DeadlineExceededError("no time left while another thread loads the same entry")
        try:
            found, value = self.get(key, clock())
            if found:
                return value  # type: ignore[return-value]
            value = load()
            self.put(key, value, clock() + ttl)
            return value
        finally:
            key_lock.release()

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
