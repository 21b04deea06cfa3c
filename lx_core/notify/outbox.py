"""The relay's durable rows in the state store: the outbox, what was delivered, dead letters,
the read cursors of the logs, and each channel's pace and pause.

    relay-pending-<channel>   one row per (item, channel) still to deliver, keyed by item id
    relay-sent-<channel>      one row per settled item, delivered or dead-lettered (kept a while,
                              so a re-read of a log or a PULL batch never queues it again)
    relay-dead                items set aside after too many refusals, keyed <channel>.<item>
    relay-cursors             how far the relay has read the outcome and notice logs
    relay-channels            per channel: recent send times, pause, the marking journal
    relay-notices             notices recorded by the webhook handlers (a log, read in order)

Only the relay writes the outbox, and only one relay tick runs at a time (its lease), so plain
get-then-insert de-duplication is safe; every write is still conditional where a row is
replaced, so a tick that lost its lease cannot overwrite a newer one.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lx_core.errors import StateConflictError
from lx_core.notify.notices import Notice
from lx_core.state.base import Row, StateStore

DEAD = "relay-dead"
CURSORS = "relay-cursors"
CHANNELS = "relay-channels"
NOTICES = "relay-notices"


def pending_partition(channel: str) -> str:
    return f"relay-pending-{channel}"


def sent_partition(channel: str) -> str:
    return f"relay-sent-{channel}"


class OutboxRow(BaseModel):
    """One item waiting for one channel. ``item`` stays raw JSON, so a row whose notice no
    longer parses can still be listed and dead-lettered."""

    model_config = ConfigDict(extra="ignore")

    item: dict[str, Any]
    channel: str
    enqueued_at: float
    #: Refusals by the channel (or failures to render); at the limit the row is dead-lettered.
    attempts: int = 0
    last_error: str | None = None
    #: Send alone: a message holding this row was refused, so find the poison among its items.
    solo: bool = False
    #: E-mail: recipients who have this item already.
    delivered_to: list[str] = Field(default_factory=list)
    #: W3C trace context of the event that caused the item (set by the observability work).
    traceparent: str | None = None


class DeadRow(OutboxRow):
    dead_at: float
    reason: str


class ChannelState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sends: list[float] = Field(default_factory=list)
    paused_until: float = 0.0
    failures: int = 0
    last_error: str | None = None
    #: Parts of the last accepted message, [item id, recipient or ""]: if a tick dies while
    #: marking them, the next tick finishes the marking instead of sending them again.
    marking: list[tuple[str, str]] = Field(default_factory=list)


class Outbox:
    """Typed access to the relay's rows."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    # -- queueing -----------------------------------------------------------------------------

    def is_settled(self, channel: str, item_id: str) -> bool:
        """Delivered, or set aside as a dead letter: either way never queued again."""
        return self.store.get(sent_partition(channel), item_id) is not None

    def enqueue(
        self, channel: str, notice: Notice, *, now: float, traceparent: str | None = None
    ) -> bool:
        """Queue ``notice`` for ``channel``; False when it is queued or settled already."""
        if self.is_settled(channel, notice.id):
            return False
        row = OutboxRow(
            item=notice.model_dump(mode="json"),
            channel=channel,
            enqueued_at=now,
            traceparent=traceparent,
        )
        try:
            self.store.insert(pending_partition(channel), notice.id, row.model_dump(mode="json"))
        except StateConflictError:
            return False
        return True

    def pending(self, channel: str, *, limit: int, after: str | None = None) -> list[Row]:
        return self.store.list(pending_partition(channel), limit=limit, after=after)

    def count_pending(self, channel: str, *, cap: int = 10_000) -> int:
        """Pending rows, counted up to ``cap`` (a status figure, not a hot path)."""
        total, after = 0, None
        while total < cap:
            rows = self.store.list(pending_partition(channel), limit=1000, after=after)
            total += len(rows)
            if len(rows) < 1000:
                break
            after = rows[-1].key
        return total

    # -- outcomes -----------------------------------------------------------------------------

    def mark_delivered(self, channel: str, row: Row, *, now: float, message_id: str) -> None:
        """Remember the item as delivered, then drop its pending row (in that order: a crash
        between the two leaves a row that the next tick finishes, never a resend)."""
        with contextlib.suppress(StateConflictError):  # delivered already: keep the first
            self.store.insert(
                sent_partition(channel), row.key, {"delivered_at": now, "message_id": message_id}
            )
        self.store.delete(pending_partition(channel), row.key)

    def update(self, channel: str, row: Row, data: OutboxRow) -> Row:
        """Replace the pending row if nobody changed it since it was read."""
        return self.store.replace(
            pending_partition(channel), row.key, data.model_dump(mode="json"), etag=row.etag
        )

    def dead_letter(
        self, channel: str, row: Row, data: OutboxRow, *, now: float, reason: str
    ) -> None:
        """Set the row aside: the dead letter, then the settled mark, then the pending row goes
        (a crash in between leaves a row the next tick settles again, harmlessly)."""
        dead = DeadRow(**data.model_dump(), dead_at=now, reason=reason)
        self.store.upsert(DEAD, f"{channel}.{row.key}", dead.model_dump(mode="json"))
        self.store.upsert(sent_partition(channel), row.key, {"delivered_at": now, "dead": True})
        self.store.delete(pending_partition(channel), row.key)

    # -- dead letters -------------------------------------------------------------------------

    def dead_letters(self, *, limit: int = 1000) -> list[tuple[str, DeadRow]]:
        """``(channel/item, row)`` of every dead letter that still parses."""
        out: list[tuple[str, DeadRow]] = []
        for row in self.store.list(DEAD, limit=limit):
            try:
                dead = DeadRow.model_validate(row.data)
            except ValidationError:
                continue
            channel, _, item = row.key.partition(".")
            out.append((f"{channel}/{item}", dead))
        return out

    def replay(self, channel: str, item_id: str, *, now: float) -> bool:
        """Queue a dead letter again with a clean slate; False if there is no such letter."""
        key = f"{channel}.{item_id}"
        row = self.store.get(DEAD, key)
        if row is None:
            return False
        dead = DeadRow.model_validate(row.data)
        fresh = OutboxRow(item=dead.item, channel=channel, enqueued_at=now)
        self.store.upsert(pending_partition(channel), item_id, fresh.model_dump(mode="json"))
        self.store.delete(sent_partition(channel), item_id)
        self.store.delete(DEAD, key, etag=row.etag)
        return True

    # -- channel state, cursors ---------------------------------------------------------------

    def channel_state(self, channel: str) -> ChannelState:
        row = self.store.get(CHANNELS, channel)
        if row is None:
            return ChannelState()
        try:
            return ChannelState.model_validate(row.data)
        except ValidationError:
            return ChannelState()  # pace and pause are advisory: start them afresh

    def save_channel_state(self, channel: str, state: ChannelState) -> None:
        self.store.upsert(CHANNELS, channel, state.model_dump(mode="json"))

    def cursor(self, name: str) -> str | None:
        row = self.store.get(CURSORS, name)
        value = row.data.get("after") if row is not None else None
        return value if isinstance(value, str) else None

    def save_cursor(self, name: str, after: str) -> None:
        self.store.upsert(CURSORS, name, {"after": after})

    def prune_delivered(
        self, channel: str, *, before: float, after: str | None, limit: int
    ) -> tuple[int, str | None]:
        """Forget delivered items older than ``before`` in one slice of the partition; the
        number deleted and where the next slice starts (None: wrapped around)."""
        rows = self.store.list(sent_partition(channel), limit=limit, after=after)
        deleted = 0
        for row in rows:
            when = row.data.get("delivered_at")
            if isinstance(when, int | float) and when < before:
                try:
                    self.store.delete(sent_partition(channel), row.key, etag=row.etag)
                except StateConflictError:
                    continue
                deleted += 1
        return deleted, (rows[-1].key if len(rows) == limit else None)


def notice_log_key(when: float, notice_id: str) -> str:
    """Time first, so the notice log reads in order, then the notice's id."""
    stamp = datetime.fromtimestamp(when, UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}.{notice_id}"


def time_key(when: float) -> str:
    """A key that sorts just before every log row recorded at ``when`` or later (both the
    notice log's and the outcome log's keys start with the same time format)."""
    return datetime.fromtimestamp(max(0.0, when), UTC).strftime("%Y%m%dT%H%M%S")


class NoticeLog:
    """Notices recorded by the webhook handlers, for the relay to route. Recording answers
    fast; delivery follows the relay's rules."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def record(self, notice: Notice, *, now: float) -> str:
        key = notice_log_key(now, notice.id)
        with contextlib.suppress(StateConflictError):  # the same notice, the same microsecond
            self.store.insert(NOTICES, key, notice.model_dump(mode="json"))
        return key

    def read(self, *, after: str | None, limit: int) -> list[Row]:
        return self.store.list(NOTICES, limit=limit, after=after)

    def prune(self, *, before: float, limit: int = 200) -> int:
        cutoff = time_key(before)
        deleted = 0
        for row in self.store.list(NOTICES, limit=limit):
            if row.key >= cutoff:
                break
            self.store.delete(NOTICES, row.key, etag=row.etag)
            deleted += 1
        return deleted
