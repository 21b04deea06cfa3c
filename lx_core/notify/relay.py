"""The relay tick: read notices from every source into the outbox, then deliver per channel.

Order is what makes it lose nothing:

1. **Read.** For each PULL batch, the outbox entry of each (item, channel) is written *before*
   the LeanIX cursor moves (items are stored in chunks; see ``outbox``). A tick that dies
   before the commit re-reads the batch next time, and items already queued are not queued
   twice. The outcome and notice logs are read the same way behind the relay's own cursors
   (with a look-back, so a row recorded late is not skipped).
2. **Deliver.** Per channel, from the outbox: pack items into as few messages as the channel's
   size allows, wait for its pace, send. Rows are marked delivered only after the channel
   accepted. A channel that is down keeps its rows and pauses; the other channels go on.
3. **Poison.** A row the channel refuses (or that cannot render) counts an attempt; a refused
   message of several items is split so the poison is found; at ``maxAttempts`` the row moves
   to the dead letters and is reported once to the fallback channel. It never blocks the rest.

Slack, Teams and SMTP take no idempotency key: a tick that dies after a send and before it
recorded the acceptance sends that one message again (with the same message id). Recording is
one transaction per message (its chunks and the channel's pace together; several only for a
message whose chunks pass one transaction's limits), so a tick that dies anywhere else resends
nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from lx_core import deadline
from lx_core.config import RelaySettings
from lx_core.decisions.notify_routing import channels_for
from lx_core.errors import ConfigurationError, LxError, StateConflictError, clip
from lx_core.jobs.sync_state import OUTCOMES_PARTITION, OutcomeLog
from lx_core.leanix.webhooks import PullBatch, Subscription
from lx_core.notify.crash import CrashPoints
from lx_core.notify.notices import NOTICE, DeadLetterNotice, Notice, notice_from_event
from lx_core.notify.outbox import (
    MAX_RECENT_KEYS,
    NOTICES,
    ChannelState,
    LogCursor,
    NoticeLog,
    Outbox,
    OutboxRow,
    item_of,
    recent_mark,
    time_key,
)
from lx_core.notify.pace import WindowPacer
from lx_core.notify.render import (
    Rendered,
    email_message,
    pack_by_count,
    pack_teams,
    render,
    slack_message,
)
from lx_core.notify.rules import Channel, EmailChannel, NotificationRules, SlackChannel
from lx_core.notify.senders.base import Outgoing, Sender, SendResult
from lx_core.notify.sources import notice_from_outcome
from lx_core.state.base import Row, StateStore
from lx_core.state.lease import Lease

log = logging.getLogger(__name__)

LEASE_NAME = "relay"


class PullApi(Protocol):
    """The part of ``WebhooksClient`` the relay reads PULL events with."""

    def list_subscriptions(self, identifier: str | None = None) -> list[Subscription]: ...

    def pull_events(self, subscription_id: str, *, timeout_seconds: int = 10) -> PullBatch: ...

    def commit_cursor(self, subscription_id: str, offset: int) -> None: ...


SenderFactory = Callable[[str, Channel], Sender]
#: Margin kept free at the end of a tick for the last writes.
_END_MARGIN = 1.0


@dataclass
class ChannelReport:
    delivered: int = 0
    messages: int = 0
    refused: int = 0
    deferred: int = 0
    dead_lettered: int = 0
    pending_left: bool = False
    status: str = "idle"
    detail: str = ""


@dataclass
class RelayReport:
    """What one tick did, for the log line and ``lx relay tick --json``."""

    busy: bool = False
    pulled: int = 0
    ignored: int = 0
    queued: int = 0
    duplicates: int = 0
    channels: dict[str, ChannelReport] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return sum(c.delivered for c in self.channels.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "busy": self.busy,
            "pulled": self.pulled,
            "ignored": self.ignored,
            "queued": self.queued,
            "duplicates": self.duplicates,
            "delivered": self.delivered,
            "channels": {name: vars(report) for name, report in self.channels.items()},
            "errors": self.errors,
        }

    def log_extra(self) -> dict[str, Any]:
        return {
            "lx_pulled": self.pulled,
            "lx_queued": self.queued,
            "lx_delivered": self.delivered,
            "lx_errors": len(self.errors),
        }


@dataclass
class _Item:
    row: Row
    data: OutboxRow
    notice: Notice
    rendered: Rendered
    #: Set aside during this tick: later messages of the page leave it out.
    dead: bool = False


def message_id(channel: str, recipient: str | None, keys: Sequence[str]) -> str:
    """Stable for the same items and recipient, so a resend carries the same id."""
    digest = hashlib.sha256("|".join([channel, recipient or "", *keys]).encode("utf-8"))
    return "lx-" + digest.hexdigest()[:32]


def _message_id(channel: str, recipient: str | None, items: Sequence[_Item]) -> str:
    return message_id(channel, recipient, [i.row.key for i in items])


class Relay:
    """One deployment's relay over a state store, its rules and one sender per channel."""

    def __init__(
        self,
        rules: NotificationRules,
        *,
        store: StateStore,
        settings: RelaySettings,
        senders: SenderFactory,
        webhooks: PullApi | None = None,
        workspace_url: str | None = None,
        owner: str = "relay",
        crash: CrashPoints | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rules = rules
        self.store = store
        self.outbox = Outbox(store)
        self.settings = settings
        self.webhooks = webhooks
        self.workspace_url = workspace_url
        self.owner = owner
        self.crash = crash or CrashPoints()
        self._make_sender = senders
        self._senders: dict[str, Sender] = {}
        self._subscription_ids: dict[str, str] = {}
        self._clock = clock
        self._sleep = sleep

    # -- the tick -----------------------------------------------------------------------------

    def tick(self, *, budget_seconds: float | None = None) -> RelayReport:
        """Read every source, then deliver every channel, within the budget."""
        report = RelayReport()
        budget = budget_seconds if budget_seconds is not None else self.settings.tick_seconds
        lease = Lease(self.store, LEASE_NAME, owner=self.owner, duration=budget + 60.0)
        if not lease.acquire():
            report.busy = True
            return report
        try:
            with deadline.within(budget):
                read_until = time.monotonic() + budget / 2
                for source in self.rules.sources.pull:
                    self._guarded(
                        report,
                        f"pull {source.subscription}",
                        self._read_pull,
                        source.subscription,
                        report,
                        read_until,
                    )
                if self.rules.sources.outcomes:
                    self._guarded(report, "outcome log", self._read_outcomes, report)
                if self.rules.sources.notices:
                    self._guarded(report, "notice log", self._read_notices, report)
                for name, channel in self.rules.channels.items():
                    channel_report = report.channels.setdefault(name, ChannelReport())
                    self._guarded(
                        report, f"channel {name}", self._deliver, name, channel, channel_report
                    )
                self._guarded(report, "prune", self._prune)
        finally:
            lease.release()
        return report

    def break_lease(self) -> None:
        """Remove whichever tick's lease is held (an operator's call after a killed run)."""
        from lx_core.state.lease import PARTITION

        self.store.delete(PARTITION, LEASE_NAME)

    @staticmethod
    def _guarded(report: RelayReport, what: str, step: Callable[..., None], *args: Any) -> None:
        """One source's or channel's failure is reported and does not stop the others. Our own
        errors are reported with their message; any other only by its type, since its text
        may quote a URL or a credential."""
        try:
            step(*args)
        except LxError as exc:
            log.warning("relay %s failed: %s: %s", what, type(exc).__name__, exc)
            report.errors.append(f"{what}: {type(exc).__name__}: {clip(str(exc), 200)}")
        except Exception as exc:  # one broken step must not stop the tick
            log.error("relay %s failed unexpectedly: %s", what, type(exc).__name__)
            report.errors.append(f"{what}: {type(exc).__name__}")

    # -- reading ------------------------------------------------------------------------------

    def _queue_all(self, notices: Sequence[Notice], report: RelayReport) -> None:
        """Route each notice and queue it per channel (transactions of 50 per channel)."""
        by_channel: dict[str, list[Notice]] = {}
        for notice in notices:
            for channel in channels_for(notice, self.rules):
                by_channel.setdefault(channel, []).append(notice)
        now = self._clock()
        for channel, items in by_channel.items():
            queued, duplicates = self.outbox.enqueue_many(channel, items, now=now)
            report.queued += queued
            report.duplicates += duplicates

    def _subscription_id(self, identifier: str) -> str:
        cached = self._subscription_ids.get(identifier)
        if cached is not None:
            return cached
        if self.webhooks is None:
            raise _missing_subscription(identifier)
        for sub in self.webhooks.list_subscriptions(identifier):
            if sub.identifier == identifier and sub.id and sub.delivery_type == "PULL":
                self._subscription_ids[identifier] = sub.id
                return sub.id
        raise _missing_subscription(identifier)

    def _read_pull(self, identifier: str, report: RelayReport, read_until: float) -> None:
        subscription_id = self._subscription_id(identifier)
        webhooks = self.webhooks
        if webhooks is None:
            raise _missing_subscription(identifier)
        for _ in range(self.settings.pull_max_batches):
            if time.monotonic() >= read_until:
                return
            batch = webhooks.pull_events(
                subscription_id, timeout_seconds=self.settings.pull_timeout_seconds
            )
            self.crash("after_pull")
            notices: list[Notice] = []
            for pulled in batch.events:
                report.pulled += 1
                notice = notice_from_event(pulled.event, workspace_url=self.workspace_url)
                if notice is None:
                    report.ignored += 1
                else:
                    notices.append(notice)
            self._queue_all(notices, report)
            self.crash("after_outbox_write")
            if batch.next_offset is None:
                return
            webhooks.commit_cursor(subscription_id, batch.next_offset)
            self.crash("after_cursor_commit")
            if not batch.events:
                return

    def _read_log(
        self,
        name: str,
        partition: str,
        to_notices: Callable[[Sequence[Row], RelayReport], list[Notice]],
        report: RelayReport,
    ) -> None:
        """Read a log (outcomes, notices) from ``lookback_seconds`` behind the relay's cursor,
        so a row recorded late is not skipped. The keys read inside that window are kept with
        the cursor, so a row is routed once, not once per tick for an hour."""
        cursor = self.outbox.log_cursor(name)
        recent = set(cursor.recent)
        after = None
        if cursor.after is not None:
            after = min(
                cursor.after, time_key(_key_time(cursor.after) - self.settings.lookback_seconds)
            )
        newest = cursor.after
        fresh_marks: list[str] = []
        while not _expired():
            rows = self.store.list(partition, limit=self.settings.page_size, after=after)
            marked = [(r, recent_mark(r.key)) for r in rows]
            fresh = [(r, m) for r, m in marked if m not in recent]
            self._queue_all(to_notices([r for r, _ in fresh], report), report)
            fresh_marks.extend(m for _, m in fresh)
            if rows:
                newest = max(newest or "", rows[-1].key)
            if len(rows) < self.settings.page_size:
                break
            after = rows[-1].key
        if not fresh_marks:
            return
        # Marks sort by their time prefix; only those inside the window are kept, newest last.
        window = time_key(_key_time(newest or "") - self.settings.lookback_seconds)
        kept = sorted(m for m in recent.union(fresh_marks) if m >= window)[-MAX_RECENT_KEYS:]
        self.outbox.save_log_cursor(name, LogCursor(after=newest, recent=kept))

    def _read_outcomes(self, report: RelayReport) -> None:
        def to_notices(rows: Sequence[Row], report: RelayReport) -> list[Notice]:
            notices: list[Notice] = []
            for record in OutcomeLog.parse(rows):
                notice = notice_from_outcome(record, workspace_url=self.workspace_url)
                if notice is None:
                    report.ignored += 1
                else:
                    notices.append(notice)
            return notices

        self._read_log("outcomes", OUTCOMES_PARTITION, to_notices, report)

    def _read_notices(self, report: RelayReport) -> None:
        def to_notices(rows: Sequence[Row], report: RelayReport) -> list[Notice]:
            notices: list[Notice] = []
            for row in rows:
                try:
                    notices.append(NOTICE.validate_python(row.data))
                except ValidationError:
                    log.warning("notice log row %s does not parse; skipped", row.key)
                    report.ignored += 1
            return notices

        self._read_log("notices", NOTICES, to_notices, report)

    # -- delivering ---------------------------------------------------------------------------

    def _sender(self, name: str, channel: Channel) -> Sender:
        sender = self._senders.get(name)
        if sender is None:
            sender = self._senders[name] = self._make_sender(name, channel)
        return sender

    def close(self) -> None:
        for sender in self._senders.values():
            sender.close()
        self._senders.clear()

    def _deliver(self, name: str, channel: Channel, report: ChannelReport) -> None:
        state = self.outbox.channel_state(name)
        now = self._clock()
        if state.paused_until > now:
            report.status = "paused"
            report.detail = f"for {state.paused_until - now:.0f} s more: {state.last_error}"
            report.pending_left = True
            return
        pacer = WindowPacer(channel.rate, state.sends)
        try:
            report.status = self._deliver_pages(name, channel, state, pacer, report)
        finally:
            # The pace of failed sends counts too. (A crash skips this, as a killed host would.)
            state.sends = pacer.history()
            self.outbox.save_channel_state(name, state)

    def _deliver_pages(
        self,
        name: str,
        channel: Channel,
        state: ChannelState,
        pacer: WindowPacer,
        report: ChannelReport,
    ) -> str:
        after: str | None = None
        while True:
            rows = self.outbox.pending(name, limit=self.settings.page_size, after=after)
            if not rows:
                return "drained" if report.messages else "idle"
            after = rows[-1].key
            items = self._load(name, rows, report)
            for parts, outgoing in self._messages(name, channel, items, state, report):
                wait = pacer.wait(self._clock())
                if wait + self.settings.send_timeout_seconds + _END_MARGIN > deadline.remaining():
                    report.pending_left = True
                    return "paced"
                if wait > 0:
                    self._sleep(wait)
                result = self._sender(name, channel).send(outgoing)
                pacer.record(self._clock())
                self.crash("after_send")
                if result.accepted:
                    state.failures, state.last_error = 0, None
                    state.sends = pacer.history()
                    self._settle(name, parts, state, report)
                    self.crash("after_mark")
                    report.messages += 1
                elif result.outcome == "retry":
                    self._pause(state, result)
                    report.pending_left = True
                    report.detail = _describe(result)
                    return "down"
                elif result.outcome == "deferred":
                    self._deferred(name, parts, result, report)
                else:
                    self._refused(name, [p.item for p in parts], result, report)

    def _load(self, name: str, rows: Sequence[Row], report: ChannelReport) -> list[_Item]:
        """Parse and render each row; one that cannot is refused (poison), not fatal."""
        items: list[_Item] = []
        for row in rows:
            try:
                data = OutboxRow.model_validate(row.data)
            except ValidationError:
                data = OutboxRow(item=dict(row.data), channel=name, enqueued_at=self._clock())
                self._refuse_row(name, row, data, "the outbox row is damaged", report)
                continue
            try:
                notice = NOTICE.validate_python(data.item)
                rendered = render(notice)
            except (ValidationError, ValueError, KeyError, TypeError) as exc:
                self._refuse_row(name, row, data, f"cannot render: {type(exc).__name__}", report)
                continue
            items.append(_Item(row, data, notice, rendered))
        return items

    def _messages(
        self,
        name: str,
        channel: Channel,
        items: Sequence[_Item],
        state: ChannelState,
        report: ChannelReport,
    ) -> Iterator[tuple[list[_Part], Outgoing]]:
        """The messages for a page of items: solo rows alone, the rest packed."""
        if isinstance(channel, EmailChannel):
            yield from self._emails(name, channel, items, state, report)
            return
        solo = [[i] for i in items if i.data.solo]
        rest = [i for i in items if not i.data.solo]
        if isinstance(channel, SlackChannel):
            groups = [
                *solo,
                *([rest[i] for i in g] for g in pack_by_count(len(rest), channel.max_items)),
            ]
            for group in groups:
                payload = slack_message([i.rendered for i in group])
                yield [_Part(i) for i in group], Outgoing(_message_id(name, None, group), payload)
            return
        for group in solo:
            [(_, payload)] = pack_teams(
                [group[0].rendered], max_items=1, max_bytes=channel.max_bytes
            )
            yield [_Part(group[0])], Outgoing(_message_id(name, None, group), payload)
        for indexes, payload in pack_teams(
            [i.rendered for i in rest], max_items=channel.max_items, max_bytes=channel.max_bytes
        ):
            group = [rest[i] for i in indexes]
            yield [_Part(i) for i in group], Outgoing(_message_id(name, None, group), payload)

    def _emails(
        self,
        name: str,
        channel: EmailChannel,
        items: Sequence[_Item],
        state: ChannelState,
        report: ChannelReport,
    ) -> Iterator[tuple[list[_Part], Outgoing]]:
        """One digest per recipient (solo items alone); an item nobody is left to receive is
        settled without a message."""
        by_recipient: dict[str, list[_Item]] = {}
        for item in items:
            todo = [r for r in _recipients(channel, item.notice) if r not in item.data.delivered_to]
            if not todo:
                log.info("relay %s: %s has no recipient left; settled", name, item_of(item.row))
                self.outbox.settle(name, [item.row], [], state)
                report.delivered += 1
                continue
            for recipient in todo:
                by_recipient.setdefault(recipient, []).append(item)
        for recipient, group in by_recipient.items():
            solo = [[i] for i in group if i.data.solo]
            rest = [i for i in group if not i.data.solo]
            chunks = [
                *solo,
                *([rest[i] for i in g] for g in pack_by_count(len(rest), channel.max_items)),
            ]
            for packed in chunks:
                chunk = [i for i in packed if not i.dead]  # set aside by an earlier message
                if not chunk:
                    continue
                mail = email_message(
                    [i.rendered for i in chunk], subject_prefix=channel.subject_prefix
                )
                yield (
                    [_Part(i, recipient) for i in chunk],
                    Outgoing(_message_id(name, recipient, chunk), mail=mail, recipient=recipient),
                )

    def _settle(
        self, name: str, parts: Sequence[_Part], state: ChannelState, report: ChannelReport
    ) -> None:
        """Record an accepted message in one write: each item delivered or, for e-mail, one
        more recipient served (an item is done once every recipient has it)."""
        channel = self.rules.channels[name]
        done: dict[str, _Item] = {}
        progressed: dict[str, _Item] = {}
        for part in parts:
            item = part.item
            if part.recipient is not None:
                served = [*dict.fromkeys([*item.data.delivered_to, part.recipient])]
                item.data.delivered_to = served
                if not set(_recipients(channel, item.notice)) <= set(served):
                    progressed[item.row.key] = item
                    continue
            done[item.row.key] = item
        written = self.outbox.settle(
            name,
            [i.row for i in done.values()],
            [(i.row, i.data) for i in progressed.values()],
            state,
        )
        for key, item in progressed.items():
            item.row = written.get(key, item.row)
        report.delivered += len(done)

    def _pause(self, state: ChannelState, result: SendResult) -> None:
        state.failures += 1
        backoff = min(
            self.settings.channel_backoff_max_seconds,
            self.settings.channel_backoff_seconds * 2 ** (state.failures - 1),
        )
        # A channel's own wait is honoured, but never longer than our longest backoff.
        wait = (
            min(result.retry_after, self.settings.channel_backoff_max_seconds)
            if result.retry_after is not None
            else backoff
        )
        state.paused_until = self._clock() + wait
        state.last_error = _describe(result)

    def _refused(
        self, name: str, items: Sequence[_Item], result: SendResult, report: ChannelReport
    ) -> None:
        """A refused message: one item counts an attempt; several are split to find the
        poison (each is sent alone from now on)."""
        reason = _describe(result)
        if len(items) == 1:
            item = items[0]
            written = self._refuse_row(name, item.row, item.data, reason, report)
            if written is None:
                item.dead = True
            else:
                item.row = written
            return
        for item in items:
            item.data.solo = True
            try:
                item.row = self.outbox.update(name, item.row, item.data)
            except StateConflictError:
                continue
        report.pending_left = True

    def _deferred(
        self, name: str, parts: Sequence[_Part], result: SendResult, report: ChannelReport
    ) -> None:
        """A "not now" for one message: its items wait untouched (no attempt counted, the
        channel goes on), unless one has waited longer than ``maxDeferredHours``."""
        reason = _describe(result)
        report.deferred += 1
        report.pending_left = True
        report.detail = reason
        limit = self.rules.dead_letter.max_deferred_hours
        now = self._clock()
        for part in parts:
            item = part.item
            if item.dead:
                continue
            item.data.last_error = reason
            if item.data.deferred_since is not None:
                if now - item.data.deferred_since > limit * 3600:
                    item.dead = True
                    self._dead_letter(
                        name, item.row, item.data, f"{reason}, for over {limit:g} h", report
                    )
                continue  # noted at the first deferral: later ones write nothing
            item.data.deferred_since = now  # the clock starts at the first "not now"
            try:
                item.row = self.outbox.update(name, item.row, item.data)
            except StateConflictError:
                log.warning(
                    "relay %s: %s changed meanwhile; deferral not noted", name, item.row.key
                )

    def _refuse_row(
        self, name: str, row: Row, data: OutboxRow, reason: str, report: ChannelReport
    ) -> Row | None:
        """Count a refusal against the row: the row as written (a later settle of the same
        item in this tick builds on it), or None once dead-lettered."""
        data.attempts += 1
        data.last_error = reason
        data.solo = True
        report.refused += 1
        if data.attempts < self.rules.dead_letter.max_attempts:
            try:
                return self.outbox.update(name, row, data)
            except StateConflictError:
                log.warning("relay %s: %s changed meanwhile; refusal not counted", name, row.key)
                return row
        self._dead_letter(name, row, data, reason, report)
        return None

    def _dead_letter(
        self, name: str, row: Row, data: OutboxRow, reason: str, report: ChannelReport
    ) -> None:
        """Set the row aside and report it once to the fallback channel."""
        self.outbox.dead_letter(name, row, data, now=self._clock(), reason=reason)
        report.dead_lettered += 1
        item_id = item_of(row)
        log.error(
            "relay %s: %s dead-lettered (%d refusals): %s", name, item_id, data.attempts, reason
        )
        if data.item.get("kind") == "dead_letter":
            return  # a report that cannot be delivered is not reported again
        fallback = self.rules.dead_letter.fallback_channel
        if fallback:
            dead = DeadLetterNotice(
                id=f"dead-{name}.{item_id}"[:200],
                severity="failure",
                channel=name,
                item_id=item_id,
                item_kind=_text(data.item.get("kind")),
                attempts=data.attempts,
                reason=reason,
            )
            self.outbox.enqueue(fallback, dead, now=self._clock())

    # -- housekeeping -------------------------------------------------------------------------

    def _prune(self) -> None:
        """A slice per channel per tick keeps the memory of queued items to the retention."""
        before = self._clock() - self.settings.delivered_retention_days * 86_400
        for name in self.rules.channels:
            cursor_name = f"prune.{name}"
            after = self.outbox.cursor(cursor_name)
            _, next_after = self.outbox.prune_seen(name, before=before, after=after, limit=200)
            self.outbox.save_cursor(cursor_name, next_after or "")
        NoticeLog(self.store).prune(before=before)


@dataclass
class _Part:
    """One item in one message (for e-mail: for one recipient)."""

    item: _Item
    recipient: str | None = None


def _recipients(channel: Channel, notice: Notice) -> list[str]:
    """Who an e-mail channel sends ``notice`` to: its own list, plus the notice's own
    recipients when the channel asks for them; each once."""
    if not isinstance(channel, EmailChannel):
        return []
    wanted = list(channel.to)
    if channel.notice_recipients:
        wanted.extend(notice.recipients)
    return list(dict.fromkeys(wanted))


def _expired() -> bool:
    return deadline.remaining() < _END_MARGIN


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _describe(result: SendResult) -> str:
    status = f"status {result.status}" if result.status else "no status"  # HTTP or SMTP
    return f"{result.outcome} ({status}){': ' + result.detail if result.detail else ''}"


def _key_time(key: str) -> float:
    """Epoch seconds of a log key's time prefix (0 when it has none)."""
    try:
        return datetime.strptime(key[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return 0.0


def _missing_subscription(identifier: str) -> ConfigurationError:
    return ConfigurationError(
        f"notifications.json: PULL subscription {identifier!r} does not exist in the workspace "
        "(apply webhooks.json first: lx config apply)"
    )
