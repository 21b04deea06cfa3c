"""Claims by event id, for handlers that act once per event rather than re-reading.

A claim is a row inserted before the work (an insert: two instances racing on one delivery
cannot both win) and marked done after it. A second delivery of a done event is a
``duplicate``; one that arrives while the first is still working is told to come back later
(503: LeanIX redelivers). A claim whose owner died is taken over once it is older than the
claim's lifetime (the owner's deadline plus a margin), so a crash never blocks an event for
long: LeanIX's redelivery after a crash finds the claim dead. A failed attempt gives its claim
back, so the redelivery does the work.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from lx_core import deadline
from lx_core.errors import StateConflictError, StateUnavailableError
from lx_core.state.base import Row, StateStore

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
Claim = Literal["claimed", "duplicate"]
log = logging.getLogger(__name__)


class EventInProgressError(StateUnavailableError):
    """Another instance is handling this event right now: answer 503, LeanIX redelivers
    (``retry_after``: when that instance's claim runs out)."""

    def __init__(self, message: str, *, partition: str, retry_after: float | None) -> None:
        super().__init__(message, partition=partition)
        self.retry_after = retry_after


def event_key(event_id: str) -> str:
    """A row key for an event id. Ids are UUIDs or numbers and stay as they are; anything else
    is made safe and keeps a digest of the original, so two ids never share a row."""
    safe = _UNSAFE.sub("_", event_id)
    if safe == event_id and 0 < len(event_id) <= 200:
        return event_id
    digest = hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:24]
    return f"{safe[:170]}~{digest}"


#: The row keeping where the next prune slice starts ("~" sorts after every event id).
_PRUNE_CURSOR = "~prune"
#: Seconds a claim outlives its owner's deadline before another instance may take it over.
CLAIM_MARGIN_SECONDS = 10.0
#: A claim's lifetime when no deadline is in scope (a CLI or test call).
DEFAULT_LIFETIME_SECONDS = 120.0


class EventClaims:
    def __init__(
        self,
        store: StateStore,
        handler: str,
        *,
        lifetime_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.partition = f"handler-events-{handler}"
        self._lifetime = lifetime_seconds
        self._clock = clock

    def lifetime(self) -> float:
        """How long a new claim holds: the owner's own deadline plus a margin, so a claim dies
        soon after the invocation that made it (a redelivery after a crash finds it dead),
        never while that invocation can still be working."""
        if self._lifetime is not None:
            return self._lifetime
        left = deadline.remaining()
        return DEFAULT_LIFETIME_SECONDS if left == float("inf") else left + CLAIM_MARGIN_SECONDS

    def _working(self, now: float) -> dict[str, object]:
        return {"state": "working", "at": now, "until": now + self.lifetime()}

    def claim(self, event_id: str) -> tuple[Claim, Row | None]:
        """``claimed`` with the claim row, or ``duplicate``; EventInProgressError while another
        owner's live claim holds it, or when another instance won a race for it just now."""
        key = event_key(event_id)
        now = self._clock()
        try:
            return "claimed", self.store.insert(self.partition, key, self._working(now))
        except StateConflictError:
            pass
        row = self.store.get(self.partition, key)
        try:
            if row is None:  # given back between our insert and read: try once more
                return "claimed", self.store.insert(self.partition, key, self._working(now))
            if row.data.get("state") == "done":
                return "duplicate", None
            until = _until(row.data)
            if until is not None and now < until:
                raise EventInProgressError(
                    "this event is being handled by another instance",
                    partition=self.partition,
                    retry_after=max(1.0, until - now),
                )
            return "claimed", self.store.replace(
                self.partition, key, self._working(now), etag=row.etag
            )
        except StateConflictError:
            # Another instance inserted or took over the claim between our read and write.
            raise EventInProgressError(
                "another instance took this event just now",
                partition=self.partition,
                retry_after=None,
            ) from None

    def done(self, claim: Row) -> None:
        """Mark the work done. If the claim was taken over meanwhile (this owner overran), the
        new owner's row stands: it re-reads or re-claims, and one of the two marks it done."""
        try:
            self.store.replace(
                self.partition, claim.key, {"state": "done", "at": self._clock()}, etag=claim.etag
            )
        except StateConflictError:
            log.warning(
                "%s/%s: claim taken over before it was marked done", self.partition, claim.key
            )

    def give_back(self, claim: Row) -> None:
        with contextlib.suppress(StateConflictError):  # taken over: the new owner decides
            self.store.delete(self.partition, claim.key, etag=claim.etag)

    def prune(self, *, before: float, limit: int = 200) -> int:
        """Forget done claims older than ``before``, a slice per call. The slice moves on
        through the partition (its place kept in a ``~prune`` row), so a front of young claims
        never hides the old ones behind it."""
        cursor_row = self.store.get(self.partition, _PRUNE_CURSOR)
        after = cursor_row.data.get("after") if cursor_row is not None else None
        rows = self.store.list(
            self.partition, limit=limit, after=after if isinstance(after, str) else None
        )
        deleted = 0
        for row in rows:
            at = row.data.get("at")
            if row.data.get("state") == "done" and isinstance(at, int | float) and at < before:
                try:
                    self.store.delete(self.partition, row.key, etag=row.etag)
                except StateConflictError:
                    continue
                deleted += 1
        next_after = rows[-1].key if len(rows) == limit else ""  # "": start over next time
        self.store.upsert(self.partition, _PRUNE_CURSOR, {"after": next_after or None})
        return deleted


def _until(data: Mapping[str, Any]) -> float | None:
    """When a working claim runs out (rows written before ``until`` existed: ``at`` + 120 s)."""
    until = data.get("until")
    if isinstance(until, int | float) and not isinstance(until, bool):
        return float(until)
    started = data.get("at")
    if isinstance(started, int | float) and not isinstance(started, bool):
        return float(started) + DEFAULT_LIFETIME_SECONDS
    return None
