"""A process-wide, thread-safe cache with a time-to-live, for what a warm instance should not
fetch on every invocation (tag groups, the data model).

Keys start with the client's cache scope (token host and a hash of the token), so workspaces
served side by side never see each other's entries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ProcessCache(Generic[V]):
    """``get_or_load(key, load, ttl, now)``: one load per key and TTL, shared by all threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, V]] = {}

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
        value = load()
        self.put(key, value, clock() + ttl)
        return value

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
