"""The relay's durable rows in the state store: the outbox, what was settled, dead letters, the
read cursors of the logs, and each channel's pace and pause.

    relay-<channel>   c          the channel's state: recent send times, pause, failures
                      q.<time>.<n>  a chunk of items still to deliver to this channel, queued
                                 together (each item's row within it, listed as ``p.<item>``)
                      s.<item>   the item was queued once (kept a while): a re-read of a log or
                                 a PULL batch never queues it again, delivered or dead
    relay-dead        <channel>.<item>   items set aside after too many refusals
    relay-cursors     how far the relay has read the outcome and notice logs
    relay-notices     notices recorded by the webhook handlers (a log, read in order)

One channel is one partition, so its writes go in transactions: a chunk's ``s.`` rows and the
chunk row are written together (an item is queued exactly once, without reading first), and
an accepted message's chunks are rewritten together with the channel's pace in one write, so
a tick that dies while marking leaves the message's items all pending or none. (A message whose
chunks pass one transaction's limits, 100 writes or 2.5M characters, is settled in several, in
order: a crash between them leaves the later part pending.) Only one
relay tick runs at a time (its lease); every replace is still ETag-guarded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lx_core import deadline
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
CHUNK = "q."
#: Present once a channel's pending rows of the earlier layout were moved into chunks.
LAYOUT_KEY = "v"
K = TypeVar("K")
#: Items in one chunk row, and its most characters (the row limit is 256K).
_CHUNK_ITEMS = 50
_CHUNK_CHARS = 200_000


def _chunk_key(now: float) -> str:
    """Queue time first (chunks list oldest first), then a random part: two writers never
    collide."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%S.%f")
    return f"{CHUNK}{stamp}.{uuid.uuid4().hex[:12]}"


_EMPTY = Row("", "", {}, "")


def _time_of(chunk_key: str) -> float:
    """The queue time in a chunk key (now, for a key without one)."""
    try:
        stamp = chunk_key[len(CHUNK) : len(CHUNK) + 22]
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return time.time()


def _items(chunk: Row) -> dict[str, Any]:
    """A chunk row's items (item id → its OutboxRow JSON); {} for a damaged row."""
    items = chunk.data.get("items")
    return items if isinstance(items, dict) else {}


def _chunked(pairs: Sequence[tuple[K, dict[str, Any]]]) -> list[list[tuple[K, dict[str, Any]]]]:
    """Items in chunks of at most 50 and 200K characters (an item alone may be larger)."""
    chunks: list[list[tuple[K, dict[str, Any]]]] = []
    size = 0
    for pair in pairs:
        chars = len(json.dumps(pair[1], separators=(",", ":")))
        if not chunks or len(chunks[-1]) == _CHUNK_ITEMS or size + chars > _CHUNK_CHARS:
            chunks.append([])
            size = 0
        chunks[-1].append(pair)
        size += chars
    return chunks


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
    """Typed access to the relay's rows.

    Items are listed, refused and settled one by one (``pending`` hands out one ``Row`` per
    item, keyed ``p.<item>``), but stored a chunk at a time: a chunk row ``q.`` holds the items
    queued together, so queueing costs one ``s.`` row per item and one chunk row per 50, and
    settling a message rewrites the few chunk rows it touched rather than one row per item.
    Entity writes are what an outbox costs (each one is a multipart part the Azure Tables SDK
    encodes and parses); this keeps them near one per item. An item row's ``etag`` names its
    chunk; the chunk's own ETag is kept here and guards every rewrite.
    """

    def __init__(self, store: StateStore) -> None:
        self.store = store
        #: The newest version of each chunk row this instance has read or written.
        self._chunks: dict[tuple[str, str], Row] = {}
        #: Per channel: the last item ``pending`` handed out, and the chunk it came from.
        self._listed: dict[str, tuple[str, str]] = {}
        #: Channels whose pending rows of the earlier layout were moved into chunks.
        self._adopted: set[str] = set()
        #: Items a rewrite moved to another chunk (a chunk grew past its size).
        self._moved: dict[tuple[str, str], str] = {}

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
        One transaction per chunk (its items' ``s.`` rows and the chunk row); a chunk holding
        a duplicate is retried item by item."""
        unique = list({n.id: n for n in notices}.values())
        queued = sum(
            self._queue_chunk(channel, chunk, now, traceparent)
            for chunk in _chunked(
                [(n, self._row_json(channel, n, now, traceparent)) for n in unique]
            )
        )
        return queued, len(notices) - queued

    @staticmethod
    def _row_json(
        channel: str, notice: Notice, now: float, traceparent: str | None
    ) -> dict[str, Any]:
        row = OutboxRow(
            item=notice.model_dump(mode="json", exclude_none=True),
            channel=channel,
            enqueued_at=now,
            traceparent=traceparent,
        )
        return row.model_dump(mode="json", exclude_defaults=True)

    def _queue_chunk(
        self,
        channel: str,
        chunk: Sequence[tuple[Notice, dict[str, Any]]],
        now: float,
        traceparent: str | None,
    ) -> int:
        partition = channel_partition(channel)
        ops = [Op.insert(SEEN + n.id, {"at": now}) for n, _ in chunk]
        ops.append(Op.insert(_chunk_key(now), {"items": {n.id: data for n, data in chunk}}))
        try:
            self.store.transact(partition, ops)
            return len(chunk)
        except StateConflictError:
            if len(chunk) == 1:
                return 0
        queued = 0
        for notice, data in chunk:
            single = [
                Op.insert(SEEN + notice.id, {"at": now}),
                Op.insert(_chunk_key(now), {"items": {notice.id: data}}),
            ]
            with contextlib.suppress(StateConflictError):
                self.store.transact(partition, single)
                queued += 1
        return queued

    def enqueue(self, channel: str, notice: Notice, *, now: float) -> bool:
        """Queue one notice; False when it was queued before."""
        return self.enqueue_many(channel, [notice], now=now)[0] == 1

    # -- listing ------------------------------------------------------------------------------

    def _chunk_rows(self, channel: str, *, limit: int, after: str | None) -> list[Row]:
        rows = self.store.list(channel_partition(channel), limit=limit, after=after or CHUNK)
        return [r for r in rows if r.key.startswith(CHUNK)]

    def pending(self, channel: str, *, limit: int, after: str | None = None) -> list[Row]:
        """Pending items, oldest chunk first: whole chunks until at least ``limit`` items (or
        none left), after the item ``after`` (the last one of the previous call; the chunk it
        came from may be settled and gone by now)."""
        if channel not in self._adopted:
            self._adopt_legacy(channel)
        listed = self._listed.get(channel)
        chunk_after = listed[1] if after is not None and listed and listed[0] == after else None
        out: list[Row] = []
        while len(out) < limit:
            chunks = self._chunk_rows(channel, limit=limit // _CHUNK_ITEMS + 1, after=chunk_after)
            for chunk in chunks:
                self._chunks[(channel, chunk.key)] = chunk
                out.extend(self._items_of(channel, chunk))
            if not chunks:
                break
            chunk_after = chunks[-1].key
        if out and chunk_after is not None:
            self._listed[channel] = (out[-1].key, chunk_after)
        return out

    def _adopt_legacy(self, channel: str) -> None:
        """Move pending rows of the earlier layout (one ``p.<item>`` row per item) into
        chunks, each move one transaction, so an upgrade delivers what was queued before it.
        Once none are left a marker row says so, and later ticks pay one point read."""
        self._adopted.add(channel)
        partition = channel_partition(channel)
        if self.store.get(partition, LAYOUT_KEY) is not None:
            return
        while deadline.remaining() > 2.0:
            rows = [
                r
                for r in self.store.list(partition, limit=_CHUNK_ITEMS, after=PENDING)
                if r.key.startswith(PENDING)
            ]
            if not rows:
                self.store.upsert(partition, LAYOUT_KEY, {"chunks": 1})
                return
            by_id = {item_of(r): r for r in rows}
            for part in _chunked([(item_of(r), dict(r.data)) for r in rows]):
                queued = [by_id[item_id].data.get("enqueued_at") for item_id, _ in part]
                when = min((q for q in queued if isinstance(q, int | float)), default=time.time())
                ops = [Op.delete(by_id[item_id].key, by_id[item_id].etag) for item_id, _ in part]
                ops.append(Op.insert(_chunk_key(when), {"items": dict(part)}))
                try:
                    self.store.transact(partition, ops)
                except StateConflictError:
                    return  # moved by someone else meanwhile: the next tick looks again
            log.info("relay %s: moved %d pending rows into chunks", channel, len(rows))

    def _items_of(self, channel: str, chunk: Row) -> list[Row]:
        items = _items(chunk)
        if not items and chunk.data.get("items") != {}:
            self._set_aside_damaged(channel, chunk)
            return []
        return [
            Row(
                chunk.partition,
                PENDING + item_id,
                dict(data) if isinstance(data, dict) else {},
                chunk.key,
            )
            for item_id, data in items.items()
        ]

    def _set_aside_damaged(self, channel: str, chunk: Row) -> None:
        """A chunk that no longer parses goes to the dead letters whole (``lx relay
        dead-letters`` shows it), so it is seen once rather than skipped every tick."""
        log.error("relay %s: chunk %s is damaged; set aside", channel, chunk.key)
        dead = DeadRow(
            item={"chunk": dict(chunk.data)},
            channel=channel,
            enqueued_at=_time_of(chunk.key),
            dead_at=time.time(),
            reason="the outbox chunk is damaged",
        )
        self.store.upsert(DEAD, f"{channel}.{chunk.key}", dead.model_dump(mode="json"))
        with contextlib.suppress(StateConflictError):
            self.store.delete(channel_partition(channel), chunk.key, etag=chunk.etag)
        self._chunks.pop((channel, chunk.key), None)

    def count_pending(self, channel: str, *, cap: int = 100_000) -> int:
        """Pending items, counted up to ``cap`` (a status figure, not a hot path)."""
        total, after = 0, None
        while total < cap:
            chunks = self._chunk_rows(channel, limit=1000, after=after)
            total += sum(len(_items(c)) for c in chunks)
            if len(chunks) < 1000:
                break
            after = chunks[-1].key
        return total

    # -- settling -----------------------------------------------------------------------------

    def _chunk(self, channel: str, key: str) -> Row | None:
        cached = self._chunks.get((channel, key))
        if cached is not None:
            return cached
        return self.store.get(channel_partition(channel), key)

    def _chunk_of(self, channel: str, row: Row) -> str:
        """The chunk an item handed out by ``pending`` lives in now (a rewrite that grew a
        chunk past its size moves items into a new one)."""
        return self._moved.get((channel, item_of(row)), row.etag)

    def _rewrite(
        self, channel: str, edits: dict[str, dict[str, dict[str, Any] | None]]
    ) -> list[Op]:
        """Ops that apply ``edits`` (chunk key → item id → new data, or None to remove) to
        the chunk rows as last seen: a replace, a delete once a chunk is empty, and, when the
        edits grew a chunk past its size (recipients served, errors noted), inserts of new
        chunks for the items that no longer fit."""
        ops: list[Op] = []
        for key, changes in edits.items():
            chunk = self._chunk(channel, key)
            if chunk is None:
                continue
            items = dict(_items(chunk))
            for item_id, data in changes.items():
                if data is None:
                    items.pop(item_id, None)
                elif item_id in items:
                    items[item_id] = data
            if not items:
                ops.append(Op.delete(key, chunk.etag))
                continue
            parts = _chunked(list(items.items()))
            ops.append(Op.replace(key, {"items": dict(parts[0])}, chunk.etag))
            for part in parts[1:]:
                moved_to = _chunk_key(_time_of(key))
                ops.append(Op.insert(moved_to, {"items": dict(part)}))
                for item_id, _ in part:
                    self._moved[(channel, item_id)] = moved_to
        return ops

    def settle(
        self,
        channel: str,
        done: Sequence[Row],
        progressed: Sequence[tuple[Row, OutboxRow]],
        state: ChannelState,
    ) -> dict[str, Row]:
        """One accepted message: drop the items it delivered, record progress on the others
        (e-mail recipients), and save the channel's pace, in one transaction (several, within
        the store's limits, for very large messages). The item rows written, by key."""
        edits: dict[str, dict[str, dict[str, Any] | None]] = {}
        for row in done:
            edits.setdefault(self._chunk_of(channel, row), {})[item_of(row)] = None
        for row, data in progressed:
            edits.setdefault(self._chunk_of(channel, row), {})[item_of(row)] = data.model_dump(
                mode="json"
            )
        ops = [*self._rewrite(channel, edits), Op.upsert(STATE_KEY, state.model_dump(mode="json"))]
        partition = channel_partition(channel)
        for part in transaction_chunks(partition, ops):
            try:
                written = self.store.transact(partition, part)
                self._remember(channel, part, written)
            except StateConflictError:
                self._settle_again(channel, part, edits)
        return {
            row.key: Row(row.partition, row.key, data.model_dump(mode="json"), row.etag)
            for row, data in progressed
        }

    def _remember(self, channel: str, ops: Sequence[Op], written: Sequence[Row | None]) -> None:
        for op, row in zip(ops, written, strict=True):
            if not op.key.startswith(CHUNK):
                continue
            if row is None:
                self._chunks.pop((channel, op.key), None)
            else:
                self._chunks[(channel, op.key)] = row

    def _settle_again(
        self, channel: str, ops: Sequence[Op], edits: dict[str, dict[str, dict[str, Any] | None]]
    ) -> None:
        """A chunk changed under us (it should not, under the lease): read each again and
        apply its edits alone, merging the recipients served, so an accepted message is never
        sent again for a neighbour's sake."""
        for op in ops:
            if op.key == STATE_KEY and op.data is not None:
                self.store.upsert(channel_partition(channel), STATE_KEY, op.data)
                continue
            self._chunks.pop((channel, op.key), None)
            current = self._chunk(channel, op.key)
            if current is None:
                continue
            merged: dict[str, dict[str, Any] | None] = {}
            for item_id, data in edits.get(op.key, {}).items():
                theirs = _items(current).get(item_id)
                if data is not None and isinstance(theirs, dict):
                    served = [*theirs.get("delivered_to", ()), *data.get("delivered_to", ())]
                    data = {**data, "delivered_to": list(dict.fromkeys(served))}
                merged[item_id] = data
            again = self._rewrite(channel, {op.key: merged})
            try:
                self._remember(
                    channel, again, self.store.transact(channel_partition(channel), again)
                )
            except StateConflictError:
                log.warning(
                    "relay %s/%s: not settled; its items may be sent again", channel, op.key
                )

    def update(self, channel: str, row: Row, data: OutboxRow) -> Row:
        """Rewrite one item in its chunk, if the chunk did not change since it was read."""
        key = self._chunk_of(channel, row)
        if item_of(row) not in _items(self._chunk(channel, key) or _EMPTY):
            raise StateConflictError(
                "the item's chunk is gone", partition=channel_partition(channel), key=key
            )
        ops = self._rewrite(channel, {key: {item_of(row): data.model_dump(mode="json")}})
        try:
            written = self.store.transact(channel_partition(channel), ops)
        except StateConflictError:
            self._chunks.pop((channel, key), None)  # read it afresh next time
            raise
        self._remember(channel, ops, written)
        return Row(row.partition, row.key, data.model_dump(mode="json"), row.etag)

    def dead_letter(
        self, channel: str, row: Row, data: OutboxRow, *, now: float, reason: str
    ) -> None:
        """Set the item aside (its ``s.`` row stays, so no re-read queues it again). The dead
        letter is written first: a crash in between leaves an item the next tick sets aside
        again, harmlessly."""
        dead = DeadRow(**data.model_dump(), dead_at=now, reason=reason)
        self.store.upsert(DEAD, f"{channel}.{item_of(row)}", dead.model_dump(mode="json"))
        key = self._chunk_of(channel, row)
        for _ in range(2):  # a stale chunk is read again once
            ops = self._rewrite(channel, {key: {item_of(row): None}})
            if not ops:
                return
            try:
                self._remember(channel, ops, self.store.transact(channel_partition(channel), ops))
                return
            except StateConflictError:
                self._chunks.pop((channel, key), None)
        log.warning(
            "relay %s: %s set aside but still queued; the next tick retries", channel, row.key
        )

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
        # One fixed chunk per replayed item: replaying again before it is delivered (or after
        # a crash between these two writes) finds it queued and adds no second copy.
        with contextlib.suppress(StateConflictError):
            self.store.insert(
                channel_partition(channel),
                f"{CHUNK}replay.{item_id}",
                {"items": {item_id: fresh.model_dump(mode="json", exclude_defaults=True)}},
            )
        with contextlib.suppress(StateConflictError):
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
        forgotten and where the next slice starts (None: wrapped around). The ``s.`` row of an
        item still pending is what keeps it from being queued twice, so nothing queued after
        the oldest pending chunk is forgotten."""
        partition = channel_partition(channel)
        oldest = self._chunk_rows(channel, limit=1, after=None)
        if oldest:
            before = min(before, _time_of(oldest[0].key) - 1.0)
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
