"""The relay's durable rows in the state store: the outbox, what was settled, dead letters, the
read cursors of the logs, and each channel's pace and pause.

    relay-<channel>   c          the channel's state: recent send times, pause, failures
                      p.<item>   an item still to deliver to this channel
                      s.<item>   the item was queued once (kept a while): a re-read of a log or
                                 a PULL batch never queues it again, delivered or dead
    relay-dead        <channel>.<item>   items set aside after too many refusals
    relay-cursors     how far the relay has read the outcome and notice logs
    relay-notices     notices recorded by the webhook handlers (a log, read in order)

One channel is one partition, so its writes go in transactions: an item's ``s.`` and ``p.``
rows are written together (an item is queued exactly once, without reading first), and an
accepted message's rows are settled together with the channel's pace in one write (a message
of more than 99 items in several, in order), so a tick that dies while marking leaves the
message's items all pending, or none, or (past 99 items) the later part pending. Only one
relay tick runs at a time (its lease); every replace is still ETag-guarded.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lx_core.errors import StateConflictError, StateError, StateUnavailableError
from lx_core.notify.notices import Notice
from lx_core.state.base import MAX_TRANSACTION_OPS, Op, Row, StateStore, transaction_chunks

log = logging.getLogger(__name__)

DEAD = "relay-dead"
CURSORS = "relay-cursors"
NOTICES = "relay-notices"
STATE_KEY = "c"
PENDING = "p."
SEEN = "s."
#: Items queued per transaction (two rows each).
_QUEUE_CHUNK = MAX_TRANSACTION_OPS // 2


def channel_partition(channel: str) -> str:
    return f"relay-{channel}"


def item_of(row: Row) -> str:
    """The item id of a ``p.`` or ``s.`` row."""
    return row.key[2:]


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
    #: When a recipient first said "not now" (the clock of ``deadLetter.maxDeferredHours``).
    deferred_since: float | None = None
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


#: Look-back keys a log cursor remembers. Each is kept as ``<time>|<digest>`` (33 characters,
#: about 36 in JSON), so the cursor row stays near 180K characters, under the store's 256K.
MAX_RECENT_KEYS = 5000


def recent_mark(key: str) -> str:
    """What a log cursor remembers of a key: its time prefix (to age it out of the look-back
    window) and a 64-bit digest (a log key can be 250 characters; 5,000 of them would not fit
    one row)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()
    return f"{key[:15]}|{digest}"


class LogCursor(BaseModel):
    """How far the relay read a log, and the keys it read inside the look-back window (as
    ``recent_mark``s, oldest first)."""

    model_config = ConfigDict(extra="ignore")

    after: str | None = None
    recent: list[str] = Field(default_factory=list)


class Outbox:
    """Typed access to the relay's rows."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    # -- queueing -----------------------------------------------------------------------------

    def enqueue_many(
        self,
        channel: str,
        notices: Sequence[Notice],
        *,
        now: float,
        traceparent: str | None = None,
    ) -> tuple[int, int]:
        """Queue each notice for ``channel`` unless it was queued before; (queued, duplicates).
        One transaction per 50 items; a chunk holding a duplicate is retried item by item."""
        unique = list({n.id: n for n in notices}.values())
        queued = sum(
            self._queue_chunk(channel, unique[i : i + _QUEUE_CHUNK], now, traceparent)
            for i in range(0, len(unique), _QUEUE_CHUNK)
        )
        return queued, len(notices) - queued

    def _queue_chunk(
        self, channel: str, chunk: Sequence[Notice], now: float, traceparent: str | None
    ) -> int:
        partition = channel_partition(channel)
        ops = [op for n in chunk for op in self._queue_ops(channel, n, now, traceparent)]
        parts = transaction_chunks(partition, ops)
        if len(parts) == 1:  # the usual case: 50 small items, one write
            try:
                self.store.transact(partition, ops)
                return len(chunk)
            except StateConflictError:
                pass
        queued = 0
        for notice in chunk:
            with contextlib.suppress(StateConflictError):
                self.store.transact(partition, self._queue_ops(channel, notice, now, traceparent))
                queued += 1
        return queued

    @staticmethod
    def _queue_ops(channel: str, notice: Notice, now: float, traceparent: str | None) -> list[Op]:
        row = OutboxRow(
            item=notice.model_dump(mode="json"),
            channel=channel,
            enqueued_at=now,
            traceparent=traceparent,
        )
        return [
            Op.insert(SEEN + notice.id, {"at": now}),
            Op.insert(PENDING + notice.id, row.model_dump(mode="json")),
        ]

    def enqueue(self, channel: str, notice: Notice, *, now: float) -> bool:
        """Queue one notice; False when it was queued before."""
        return self.enqueue_many(channel, [notice], now=now)[0] == 1

    def pending(self, channel: str, *, limit: int, after: str | None = None) -> list[Row]:
        """Up to ``limit`` pending rows, in key order, after the row key ``after``."""
        rows = self.store.list(channel_partition(channel), limit=limit, after=after or PENDING)
        return [r for r in rows if r.key.startswith(PENDING)]

    def count_pending(self, channel: str, *, cap: int = 100_000) -> int:
        """Pending rows, counted up to ``cap`` (a status figure, not a hot path)."""
        total, after = 0, None
        while total < cap:
            rows = self.pending(channel, limit=1000, after=after)
            total += len(rows)
            if len(rows) < 1000:
                break
            after = rows[-1].key
        return total

    # -- settling -----------------------------------------------------------------------------

    def settle(
        self,
        channel: str,
        done: Sequence[Row],
        progressed: Sequence[tuple[Row, OutboxRow]],
        state: ChannelState,
    ) -> dict[str, Row]:
        """One accepted message: drop the rows it delivered, record progress on the others
        (e-mail recipients), and save the channel's pace, in one transaction (several, within
        the store's limits, for very large messages). The rows written, by key."""
        ops = [Op.delete(r.key, r.etag) for r in done]
        ops += [Op.replace(r.key, d.model_dump(mode="json"), r.etag) for r, d in progressed]
        ops.append(Op.upsert(STATE_KEY, state.model_dump(mode="json")))
        partition = channel_partition(channel)
        written: dict[str, Row] = {}
        for chunk in transaction_chunks(partition, ops):
            try:
                rows = self.store.transact(partition, chunk)
            except StateConflictError:
                rows = self._settle_one_by_one(partition, chunk)
            written.update({r.key: r for r in rows if r is not None})
        return written

    def _settle_one_by_one(self, partition: str, ops: Sequence[Op]) -> list[Row | None]:
        """A row changed under us (it should not, under the lease): settle what still can be,
        so an accepted message is never sent again for a neighbour's sake. A progressed row
        that changed is merged (its recipients served are the union), never overwritten."""
        out: list[Row | None] = []
        for op in ops:
            if op.kind == "delete":
                self.store.delete(partition, op.key)
                out.append(None)
            elif op.data is not None:
                try:
                    out.append(self.store.transact(partition, [op])[0])
                except StateConflictError:
                    out.append(self._merge_progress(partition, op))
        return out

    def _merge_progress(self, partition: str, op: Op) -> Row | None:
        current = self.store.get(partition, op.key)
        if current is None or op.data is None or not op.key.startswith(PENDING):
            return current
        try:
            mine, theirs = OutboxRow.model_validate(op.data), OutboxRow.model_validate(current.data)
        except ValidationError:
            return current
        theirs.delivered_to = [*dict.fromkeys([*theirs.delivered_to, *mine.delivered_to])]
        try:
            return self.store.replace(
                partition, op.key, theirs.model_dump(mode="json"), etag=current.etag
            )
        except StateConflictError:
            log.warning(
                "relay %s/%s: progress not merged; recipients may get it again", partition, op.key
            )
            return None

    def update(self, channel: str, row: Row, data: OutboxRow) -> Row:
        """Replace the pending row if nobody changed it since it was read."""
        return self.store.replace(
            channel_partition(channel), row.key, data.model_dump(mode="json"), etag=row.etag
        )

    def dead_letter(
        self, channel: str, row: Row, data: OutboxRow, *, now: float, reason: str
    ) -> None:
        """Set the row aside (its ``s.`` row stays, so no re-read queues it again). The dead
        letter is written first: a crash in between leaves a row the next tick sets aside
        again, harmlessly."""
        dead = DeadRow(**data.model_dump(), dead_at=now, reason=reason)
        self.store.upsert(DEAD, f"{channel}.{item_of(row)}", dead.model_dump(mode="json"))
        self.store.delete(channel_partition(channel), row.key)

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
        # Recipients who had it already keep it: a replay serves only the rest.
        fresh = OutboxRow(
            item=dead.item,
            channel=channel,
            enqueued_at=now,
            delivered_to=dead.delivered_to,
            traceparent=dead.traceparent,
        )
        self.store.upsert(
            channel_partition(channel), PENDING + item_id, fresh.model_dump(mode="json")
        )
        self.store.delete(DEAD, key, etag=row.etag)
        return True

    # -- channel state, cursors ---------------------------------------------------------------

    def channel_state(self, channel: str) -> ChannelState:
        row = self.store.get(channel_partition(channel), STATE_KEY)
        if row is None:
            return ChannelState()
        try:
            return ChannelState.model_validate(row.data)
        except ValidationError:
            return ChannelState()  # pace and pause are advisory: start them afresh

    def save_channel_state(self, channel: str, state: ChannelState) -> None:
        self.store.upsert(channel_partition(channel), STATE_KEY, state.model_dump(mode="json"))

    def log_cursor(self, name: str) -> LogCursor:
        row = self.store.get(CURSORS, f"log.{name}")
        if row is None:
            return LogCursor()
        try:
            return LogCursor.model_validate(row.data)
        except ValidationError:
            return LogCursor()  # re-read from the start: the outbox drops what it has

    def save_log_cursor(self, name: str, cursor: LogCursor) -> None:
        """Save the cursor; if the store refuses its look-back memory, save the position
        alone, so the log still moves on (a re-read then falls back on the ``s.`` rows)."""
        key = f"log.{name}"
        try:
            self.store.upsert(CURSORS, key, cursor.model_dump(mode="json"))
        except StateUnavailableError:
            raise
        except StateError as exc:
            log.warning("relay cursor %s: look-back memory not saved: %s", name, exc)
            self.store.upsert(CURSORS, key, {"after": cursor.after, "recent": []})

    def cursor(self, name: str) -> str | None:
        row = self.store.get(CURSORS, name)
        value = row.data.get("after") if row is not None else None
        return value if isinstance(value, str) else None

    def save_cursor(self, name: str, after: str) -> None:
        self.store.upsert(CURSORS, name, {"after": after})

    def prune_seen(
        self, channel: str, *, before: float, after: str | None, limit: int
    ) -> tuple[int, str | None]:
        """Forget items queued before ``before`` in one slice of the ``s.`` rows; the number
        forgotten and where the next slice starts (None: wrapped around). An item still pending
        needs no ``s.`` row: its ``p.`` row alone makes a second queueing fail."""
        partition = channel_partition(channel)
        rows = [
            r
            for r in self.store.list(partition, limit=limit, after=after or SEEN)
            if r.key.startswith(SEEN)
        ]
        old = [
            r for r in rows if isinstance(r.data.get("at"), int | float) and r.data["at"] < before
        ]
        for start in range(0, len(old), MAX_TRANSACTION_OPS):
            with contextlib.suppress(StateConflictError):
                self.store.transact(
                    partition,
                    [Op.delete(r.key, r.etag) for r in old[start : start + MAX_TRANSACTION_OPS]],
                )
        return len(old), (rows[-1].key if len(rows) == limit else None)


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
