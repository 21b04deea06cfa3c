"""Claims by event id, for handlers that act once per event rather than re-reading.

A claim is a row inserted before the work (an insert: two instances racing on one delivery
cannot both win) and marked done after it. A second delivery of a done event is a
``duplicate``; one that arrives while the first is still working is told to come back later
(503: LeanIX redelivers). A claim whose owner died is taken over once it is older than the
claim's lifetime, so a crash never blocks an event for good. A failed attempt gives its claim
back, so the redelivery does the work.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from typing import Literal

from lx_core.errors import StateConflictError, StateUnavailableError
from lx_core.state.base import Row, StateStore

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
Claim = Literal["claimed", "duplicate"]


class EventInProgressError(StateUnavailableError):
    """Another instance is handling this event right now: answer 503, LeanIX redelivers."""


def event_key(event_id: str) -> str:
    return _UNSAFE.sub("_", event_id)[:200] or "_"


class EventClaims:
    def __init__(
        self,
        store: StateStore,
        handler: str,
        *,
        lifetime_seconds: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.partition = f"handler-events-{handler}"
        self.lifetime = lifetime_seconds
        self._clock = clock

    def claim(self, event_id: str) -> tuple[Claim, Row | None]:
        """``claimed`` with the claim row, or ``duplicate``; EventInProgressError while another
        owner's live claim holds it."""
        key = event_key(event_id)
        now = self._clock()
        try:
            return "claimed", self.store.insert(
                self.partition, key, {"state": "working", "at": now}
            )
        except StateConflictError:
            pass
        row = self.store.get(self.partition, key)
        if row is None:  # given back between our insert and read: try once more
            return "claimed", self.store.insert(
                self.partition, key, {"state": "working", "at": now}
            )
        if row.data.get("state") == "done":
            return "duplicate", None
        started = row.data.get("at")
        if isinstance(started, int | float) and now - started < self.lifetime:
            raise EventInProgressError(
                "this event is being handled by another instance", partition=self.partition
            )
        return "claimed", self.store.replace(
            self.partition, key, {"state": "working", "at": now}, etag=row.etag
        )

    def done(self, claim: Row) -> None:
        self.store.replace(
            self.partition, claim.key, {"state": "done", "at": self._clock()}, etag=claim.etag
        )

    def give_back(self, claim: Row) -> None:
        with contextlib.suppress(StateConflictError):  # taken over: the new owner decides
            self.store.delete(self.partition, claim.key, etag=claim.etag)

    def prune(self, *, before: float, limit: int = 200) -> int:
        """Forget done claims older than ``before`` (a slice per call)."""
        deleted = 0
        for row in self.store.list(self.partition, limit=limit):
            at = row.data.get("at")
            if row.data.get("state") == "done" and isinstance(at, int | float) and at < before:
                try:
                    self.store.delete(self.partition, row.key, etag=row.etag)
                except StateConflictError:
                    continue
                deleted += 1
        return deleted
