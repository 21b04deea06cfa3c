"""The relay's order of writes, batching, poison handling and crash windows, on MemoryStore
with an in-memory PULL endpoint and sender (the HTTP versions are in tests/e2e)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lx_core.jobs.sync_state import OutcomeLog, OutcomeRecord
from lx_core.notify.crash import SimulatedCrash
from lx_core.notify.notices import FactSheetNotice, IntegrationRunNotice
from lx_core.notify.outbox import ChannelState, NoticeLog, Outbox, OutboxRow
from lx_core.notify.senders.base import Outgoing, SendResult
from lx_core.state.lease import Lease
from lx_core.state.memory import MemoryStore
from tests.unit.fake_relay import FakePull, FakeSender, relay, rules, run_event


def _items(sender: FakeSender) -> list[str]:
    return sender.accepted_items()


def test_a_pulled_run_is_queued_then_the_cursor_moves_then_it_is_delivered() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    pull.add(run_event("run-1", errors=2))
    report = relay(store, pull, {"ops": slack}).tick()
    assert (report.pulled, report.queued, report.delivered) == (1, 1, 1)
    assert pull.commits == [1]
    [message] = slack.sent
    assert message.payload is not None
    text = message.payload["blocks"][0]["text"]["text"]
    assert text.startswith("*⚠️ Integration run finished with problems: hr-apps*")
    assert "<https://app.leanix.net/acme/admin/synclog/run-1|Sync log>" in text
    assert Outbox(store).pending("ops", limit=1000) == []


def test_ignored_events_move_the_cursor_and_send_nothing() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    pull.add(run_event("run-1", progress="RUNNING"))
    pull.add({"id": "x", "type": "FACT_SHEET_UPDATED", "payload": {"factSheet": {}}})
    report = relay(store, pull, {"ops": slack}).tick()
    assert (report.pulled, report.ignored, report.queued) == (2, 2, 0)
    assert pull.commits == [2] and slack.sent == []


def test_the_event_and_the_outcome_row_of_one_run_give_one_message() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    pull.add(run_event("run-7"))
    OutcomeLog(store).record(
        OutcomeRecord(
            connector="hr-apps",
            connector_key="lx/hr-apps/1.0.0/inbound/full",
            attempt="a1",
            run_id="run-7",
            status="FINISHED",
            finished_at=1_700_000_000.0,
            failed=False,
            notify=True,
        )
    )
    report = relay(store, pull, {"ops": slack}).tick()
    assert (report.queued, report.duplicates, report.delivered) == (1, 1, 1)
    assert len(_items(slack)) == 1
    # A later tick re-reads the outcome log behind its cursor and still sends nothing new.
    again = relay(store, pull, {"ops": slack}).tick()
    assert again.queued == 0 and len(slack.sent) == 1


def test_a_down_channel_keeps_its_rows_while_the_cursor_moves_then_each_arrives_once() -> None:
    store, pull = MemoryStore(), FakePull()
    down = {"on": True}

    def script(_m: Outgoing) -> SendResult:
        return SendResult("retry", status=500) if down["on"] else SendResult("accepted", 200)

    slack = FakeSender(script=script)
    for i in range(30):
        pull.add(run_event(f"run-{i}"))
    for _ in range(3):
        report = relay(store, pull, {"ops": slack}).tick()
        assert report.delivered == 0 and report.channels["ops"].status == "down"
    assert pull.cursor == 30  # the outbox holds the rows
    assert len(Outbox(store).pending("ops", limit=1000)) == 30
    down["on"] = False
    slack.sent.clear()
    report = relay(store, pull, {"ops": slack}).tick()
    assert report.delivered == 30
    headlines = _items(slack)
    assert len(headlines) == 30 and len(set(headlines)) == 30
    assert relay(store, pull, {"ops": slack}).tick().delivered == 0


def test_a_channel_that_asks_to_wait_is_paused_for_that_long() -> None:
    store, pull = MemoryStore(), FakePull()
    slack = FakeSender(script=lambda _m: SendResult("retry", status=429, retry_after=120))
    pull.add(run_event("run-1"))
    relay(store, pull, {"ops": slack}).tick()
    report = relay(store, pull, {"ops": slack}).tick()
    assert report.channels["ops"].status == "paused"
    assert len(slack.sent) == 1  # the second tick did not knock


def test_a_burst_goes_out_in_as_few_messages_as_the_block_limit_allows() -> None:
    store, pull, slack = MemoryStore(), FakePull(batch_size=500), FakeSender()
    for i in range(100):
        pull.add(run_event(f"run-{i:03}"))
    report = relay(store, pull, {"ops": slack}).tick()
    assert report.delivered == 100 and report.channels["ops"].messages == 3
    for message in slack.sent:
        assert message.payload is not None and len(message.payload["blocks"]) <= 50


def test_a_crash_after_the_outbox_write_rereads_the_batch_without_duplicates() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    for i in range(5):
        pull.add(run_event(f"run-{i}"))
    with pytest.raises(SimulatedCrash):
        relay(store, pull, {"ops": slack}, crash=("after_outbox_write",)).tick()
    assert pull.commits == [] and len(Outbox(store).pending("ops", limit=1000)) == 5
    Lease(store, "relay", owner="relay", duration=1).release()  # a dead host's lease: ours again
    report = relay(store, pull, {"ops": slack}).tick()
    assert (report.pulled, report.queued, report.duplicates) == (5, 0, 5)
    assert len(_items(slack)) == 5


def test_a_crash_after_the_send_duplicates_exactly_that_one_message() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    for i in range(3):
        pull.add(run_event(f"run-{i}"))
    with pytest.raises(SimulatedCrash):
        relay(store, pull, {"ops": slack}, crash=("after_send",)).tick()
    relay(store, pull, {"ops": slack}).tick()
    assert len(slack.sent) == 2  # the message, and its one documented resend
    assert slack.sent[0].message_id == slack.sent[1].message_id
    assert sorted(_items(slack)) == sorted(_items(slack)[:3] * 2)


def test_a_crash_right_after_the_mark_resends_nothing() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    for i in range(3):
        pull.add(run_event(f"run-{i}"))
    with pytest.raises(SimulatedCrash):
        relay(store, pull, {"ops": slack}, crash=("after_mark",)).tick()
    report = relay(store, pull, {"ops": slack}).tick()
    assert report.delivered == 0 and len(slack.sent) == 1
    assert Outbox(store).pending("ops", limit=1000) == []


def test_a_poison_row_is_found_dead_lettered_reported_once_and_replayable() -> None:
    store, pull = MemoryStore(), FakePull()
    ops = FakeSender(
        script=lambda m: (
            SendResult("rejected", status=400, detail="invalid_payload")
            if "Errors: 99" in str(m.payload)
            else SendResult("accepted", 200)
        )
    )
    for i in range(3):
        pull.add(run_event(f"run-{i}"))
    pull.add(run_event("poison", errors=99))
    # Tick 1 splits the refused message; ticks 2-4 count three refusals; tick 5 reports it.
    reports = [relay(store, pull, {"ops": ops}).tick() for _ in range(5)]
    assert sum(r.delivered for r in reports) == 3 + 1  # three runs, then the dead-letter report
    assert sum(r.channels["ops"].dead_lettered for r in reports) == 1
    outbox = Outbox(store)
    [(ident, dead)] = outbox.dead_letters()
    assert ident == "ops/run-poison" and dead.attempts == 3 and "invalid_payload" in dead.reason
    reported = [h for h in _items(ops) if "could not be delivered" in h]
    assert len(set(reported)) == 1
    assert outbox.replay("ops", "run-poison", now=0.0)
    assert outbox.dead_letters() == []
    assert len(Outbox(store).pending("ops", limit=1000)) == 1


def test_an_undecodable_row_is_poison_not_a_crash() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    store.insert(
        "relay-ops",
        "q.20260101T000000.000000.bad",
        {"items": {"bad": {"item": {"kind": "nonsense"}, "channel": "ops", "enqueued_at": 0}}},
    )
    store.insert("relay-ops", "q.20260101T000001.000000.worse", {"items": "not a mapping"})
    for _ in range(3):
        relay(store, pull, {"ops": slack}).tick()
    letters = sorted(i for i, _ in Outbox(store).dead_letters())
    assert letters == ["ops/bad", "ops/q.20260101T000001.000000.worse"]  # item, whole chunk
    assert not [r for r in store.list("relay-ops") if r.key.startswith("q.")]


def test_a_second_tick_while_one_holds_the_lease_does_nothing() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    pull.add(run_event("run-1"))
    assert Lease(store, "relay", owner="other", duration=60).acquire()
    report = relay(store, pull, {"ops": slack}).tick()
    assert report.busy and pull.pulls == 0 and slack.sent == []


def test_recorded_notices_reach_email_as_one_digest_per_recipient() -> None:
    store, pull, mail = MemoryStore(), FakePull(), FakeSender()
    log = NoticeLog(store)
    for i in range(3):
        log.record(
            FactSheetNotice(
                id=f"archived-{i}",
                kind="fact_sheet_archived",
                fact_sheet_name=f"App {i}",
                recipients=("owner@example.com",) if i == 0 else (),
            ),
            now=1_700_000_000.0 + i,
        )
    channel = {"type": "email", "to": ["ea@example.com"], "noticeRecipients": True}
    report = relay(store, pull, {"ea": mail}, rules_=rules(ea=channel)).tick()
    assert report.delivered == 3
    by_recipient = {m.recipient or "": m for m in mail.sent}
    assert sorted(by_recipient) == ["ea@example.com", "owner@example.com"]
    ea = by_recipient["ea@example.com"].mail
    assert ea is not None and ea.subject == "[LeanIX] 3 LeanIX notifications"
    assert "App 2" in ea.text and "App 2" in ea.html
    owner = by_recipient["owner@example.com"].mail
    assert owner is not None and "App 0" in owner.subject


def test_a_dead_letter_is_not_queued_again_when_its_source_is_read_again() -> None:
    store, pull = MemoryStore(), FakePull()
    refuse = FakeSender(script=lambda _m: SendResult("rejected", status=400))
    OutcomeLog(store).record(
        OutcomeRecord(
            connector="c",
            connector_key="lx/c/1/inbound/full",
            attempt="a",
            run_id="r1",
            status="FAILED",
            finished_at=1_700_000_000.0,
            failed=True,
            notify=True,
        )
    )
    for _ in range(3):
        relay(store, pull, {"ops": refuse}).tick()
    assert [i for i, _ in Outbox(store).dead_letters()] == ["ops/run-r1"]
    report = relay(store, pull, {"ops": FakeSender()}).tick()  # re-reads the outcome log
    assert (report.queued, report.duplicates) == (0, 0)  # the log cursor knows the row
    again = IntegrationRunNotice(id="run-r1", status="FAILED")
    assert not Outbox(store).enqueue("ops", again, now=0.0)  # and so does the outbox
    assert report.delivered == 1  # only the one dead-letter report, queued by the third tick
    assert Outbox(store).pending("ops", limit=10) == []


def test_re_reading_the_look_back_window_routes_nothing_twice() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    log = OutcomeLog(store)
    for i in range(20):
        log.record(
            OutcomeRecord(
                connector=f"c{i}",
                connector_key=f"lx/c{i}/1/inbound/full",
                attempt="a",
                run_id=f"r{i}",
                status="FINISHED",
                finished_at=1_700_000_000.0 + i,
                failed=False,
                notify=True,
            )
        )
    assert relay(store, pull, {"ops": slack}).tick().delivered == 20
    writes = len(store.writes)
    report = relay(store, pull, {"ops": slack}).tick()
    assert (report.queued, report.duplicates, report.delivered) == (0, 0, 0)
    relay_partition_writes = [
        w for w in store.writes[writes:] if w[1] == "relay-ops" and w[2] != "c"
    ]
    assert relay_partition_writes == []


def test_a_look_back_window_of_thousands_of_long_keys_still_moves_the_cursor() -> None:
    """The cursor's look-back memory is capped by size: 6,000 notices with 150-character ids
    inside one window neither overflow the cursor row nor stall the log."""
    store, pull, mail = MemoryStore(), FakePull(), FakeSender()
    log, start = NoticeLog(store), float(int(time.time()) - 120)
    for i in range(6000):
        log.record(
            FactSheetNotice(id=f"archived-{i:05}-" + "x" * 140, kind="fact_sheet_archived"),
            now=start + i / 100,
        )
    channel = {"type": "email", "to": ["ea@example.com"]}
    first = relay(store, pull, {"ea": mail}, rules_=rules(ea=channel)).tick(budget_seconds=120)
    assert first.errors == [] and first.queued == 6000
    cursor = Outbox(store).log_cursor("notices")
    assert cursor.after is not None and cursor.after.endswith("x" * 140)
    assert len(cursor.recent) == 5000
    # The next tick re-reads the window: the newest 5,000 are known by the cursor, the oldest
    # 1,000 by the outbox's own memory. Nothing is queued twice.
    again = relay(store, pull, {"ea": mail}, rules_=rules(ea=channel)).tick(budget_seconds=120)
    assert again.errors == [] and (again.queued, again.duplicates) == (0, 1000)


def test_one_recipient_refused_and_another_served_in_one_tick_serves_nobody_twice() -> None:
    """The refusal rewrites the row (new ETag); the other recipient's settle must still land,
    or the next tick would mail them again."""
    store, pull = MemoryStore(), FakePull()
    refusing = {"a@example.com"}

    def script(message: Outgoing) -> SendResult:
        if message.recipient in refusing:
            return SendResult("rejected", status=550)
        return SendResult("accepted", status=250)

    mail = FakeSender(script=script)
    NoticeLog(store).record(
        FactSheetNotice(id="archived-1", kind="fact_sheet_archived"), now=time.time()
    )
    channel = {"type": "email", "to": ["a@example.com", "b@example.com"]}
    rules_ = rules(ea=channel)
    first = relay(store, pull, {"ea": mail}, rules_=rules_).tick()
    assert first.errors == [] and first.channels["ea"].refused == 1
    [row] = Outbox(store).pending("ea", limit=10)
    data = OutboxRow.model_validate(row.data)
    assert data.delivered_to == ["b@example.com"] and data.attempts == 1
    refusing.clear()
    relay(store, pull, {"ea": mail}, rules_=rules_).tick()
    accepted = [m.recipient for m in mail.sent if m.recipient == "b@example.com"]
    assert accepted == ["b@example.com"]  # once, not again on the second tick
    assert Outbox(store).pending("ea", limit=10) == []


def test_a_replayed_dead_letter_serves_only_the_recipients_who_lack_it() -> None:
    store, pull = MemoryStore(), FakePull()
    refuse_a = FakeSender(
        script=lambda m: (
            SendResult("rejected", 550)
            if m.recipient == "a@example.com"
            else SendResult("accepted", 250)
        )
    )
    NoticeLog(store).record(
        FactSheetNotice(id="archived-2", kind="fact_sheet_archived"), now=time.time()
    )
    rules_ = rules(ea={"type": "email", "to": ["a@example.com", "b@example.com"]})
    for _ in range(3):
        relay(store, pull, {"ea": refuse_a}, rules_=rules_).tick()
    [(letter, dead)] = Outbox(store).dead_letters()
    assert letter == "ea/archived-2" and dead.delivered_to == ["b@example.com"]
    assert Outbox(store).replay("ea", "archived-2", now=time.time())
    fine = FakeSender()
    relay(store, pull, {"ea": fine}, rules_=rules_).tick()
    archived = [m.recipient for m in fine.sent if m.mail and "archived" in m.mail.subject]
    assert archived == ["a@example.com"]  # b had it before the item died


def test_a_channel_failing_unexpectedly_stops_neither_the_tick_nor_leaks_its_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, pull = MemoryStore(), FakePull()

    def broken(_m: Outgoing) -> SendResult:
        raise ValueError("unknown url type: https://hooks.example/secret-token")

    pull.add(run_event("run-1"))
    channels = {
        "a": {"type": "slack", "url": "https://a.example/x"},
        "b": {"type": "slack", "url": "https://b.example/x"},
    }
    good = FakeSender()
    report = relay(
        store, pull, {"a": FakeSender(script=broken), "b": good}, rules_=rules(**channels)
    ).tick()
    assert report.errors == ["channel a: ValueError"]
    assert report.channels["b"].delivered == 1 and len(good.sent) == 1
    assert "secret-token" not in caplog.text
    assert len(Outbox(store).pending("a", limit=10)) == 1  # kept for the next tick


def test_a_deferred_item_waits_uncounted_and_is_set_aside_after_max_deferred_hours() -> None:
    store, pull = MemoryStore(), FakePull()
    later = FakeSender(script=lambda _m: SendResult("deferred", 451, "recipient refused for now"))
    pull.add(run_event("run-1"))
    for _ in range(10):  # far more ticks than maxAttempts (3): deferral is not refusal
        report = relay(store, pull, {"ops": later}).tick()
        assert report.channels["ops"].deferred == 1 and report.channels["ops"].status != "down"
    [row] = Outbox(store).pending("ops", limit=10)
    data = OutboxRow.model_validate(row.data)
    assert data.attempts == 0 and Outbox(store).dead_letters() == []
    assert data.deferred_since is not None  # the clock runs from the first "not now"
    Outbox(store).update("ops", row, OutboxRow.model_validate({**row.data, "deferred_since": 1.0}))
    report = relay(store, pull, {"ops": later}).tick()
    assert report.channels["ops"].dead_lettered == 1
    [(letter, dead)] = Outbox(store).dead_letters()
    assert letter == "ops/run-run-1" and "for over 24 h" in dead.reason


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_a_revoked_webhook_pauses_the_channel_and_keeps_every_item(status: int) -> None:
    """A webhook that is gone refuses every message: that is the channel's problem, not
    the items', so nothing is dead-lettered while someone fixes the URL."""
    store, pull = MemoryStore(), FakePull()
    from lx_core.notify.senders.base import classify_status

    gone = FakeSender(script=lambda _m: SendResult(classify_status(status), status))
    for i in range(5):
        pull.add(run_event(f"run-{i}"))
    for _ in range(6):  # more ticks than maxAttempts (3)
        report = relay(store, pull, {"ops": gone}).tick()
        assert report.channels["ops"].status in ("down", "paused")
    assert len(Outbox(store).pending("ops", limit=10)) == 5 and Outbox(store).dead_letters() == []


def test_a_retry_after_longer_than_the_longest_backoff_is_capped() -> None:
    store, pull = MemoryStore(), FakePull()
    slow = FakeSender(script=lambda _m: SendResult("retry", status=429, retry_after=86_400 * 30))
    pull.add(run_event("run-1"))
    relay(store, pull, {"ops": slow}, channel_backoff_max_seconds=900).tick()
    state = Outbox(store).channel_state("ops")
    assert state.paused_until - time.time() <= 900 + 5


def test_an_old_item_deferred_for_the_first_time_is_not_set_aside() -> None:
    """The deferral clock starts at the first "not now", not at queueing: mail that waited
    out a long outage is not dead-lettered by the first greylisting after it."""
    store, pull = MemoryStore(), FakePull()
    later = FakeSender(script=lambda _m: SendResult("deferred", 451, "recipient refused for now"))
    pull.add(run_event("run-1"))
    relay(store, pull, {"ops": FakeSender(script=lambda _m: SendResult("retry", 503))}).tick()
    [row] = Outbox(store).pending("ops", limit=10)
    Outbox(store).update("ops", row, OutboxRow.model_validate({**row.data, "enqueued_at": 0.0}))
    Outbox(store).save_channel_state("ops", ChannelState())  # the outage is over
    report = relay(store, pull, {"ops": later}).tick()
    assert (report.channels["ops"].deferred, report.channels["ops"].dead_lettered) == (1, 0)
    assert len(Outbox(store).pending("ops", limit=10)) == 1


def test_a_deferral_past_the_limit_sets_the_item_aside_once_and_mails_nobody_else() -> None:
    store, pull = MemoryStore(), FakePull()
    NoticeLog(store).record(
        FactSheetNotice(id="archived-9", kind="fact_sheet_archived"), now=time.time()
    )
    rules_ = rules(ea={"type": "email", "to": ["a@example.com", "b@example.com"]})
    later = FakeSender(script=lambda _m: SendResult("deferred", 451, "recipient refused for now"))
    relay(store, pull, {"ea": later}, rules_=rules_).tick()  # both deferred: the clock starts
    [row] = Outbox(store).pending("ea", limit=10)
    Outbox(store).update("ea", row, OutboxRow.model_validate({**row.data, "deferred_since": 1.0}))
    later.sent.clear()
    report = relay(store, pull, {"ea": later}, rules_=rules_).tick()
    assert report.channels["ea"].dead_lettered == 1
    archived = [m for m in later.sent if m.mail and "archived" in m.mail.subject]
    assert len(archived) == 1  # a@ deferred again and set aside; b@ was not mailed after it
    assert [i for i, _ in Outbox(store).dead_letters()] == ["ea/archived-9"]


def test_a_cursor_whose_look_back_memory_is_refused_still_moves() -> None:
    from lx_core.errors import StateError
    from lx_core.notify.outbox import LogCursor

    class Refusing(MemoryStore):
        def upsert(self, partition: str, key: str, data: Any) -> Any:
            if data.get("recent"):
                raise StateError("row data is too large", partition=partition, key=key)
            return super().upsert(partition, key, data)

    store = Refusing()
    Outbox(store).save_log_cursor("notices", LogCursor(after="20261203T000000", recent=["x"]))
    assert Outbox(store).log_cursor("notices") == LogCursor(after="20261203T000000", recent=[])


def test_a_settle_that_meets_a_changed_row_merges_the_recipients_served() -> None:
    store = MemoryStore()
    outbox = Outbox(store)
    assert outbox.enqueue("ea", FactSheetNotice(id="n1", kind="fact_sheet_archived"), now=1.0)
    [row] = outbox.pending("ea", limit=10)
    other = OutboxRow.model_validate({**row.data, "delivered_to": ["a@example.com"]})
    Outbox(store).update("ea", row, other)  # another instance served a@: our chunk is stale
    mine = OutboxRow.model_validate({**row.data, "delivered_to": ["b@example.com"]})
    outbox.settle("ea", [], [(row, mine)], ChannelState())
    [merged] = outbox.pending("ea", limit=10)
    assert sorted(merged.data["delivered_to"]) == ["a@example.com", "b@example.com"]


def test_the_outbox_writes_about_one_entity_per_item() -> None:
    """Items are stored a chunk at a time: 120 runs through one channel cost 120 seen rows,
    3 chunk rows when queued, and a rewrite of the chunks each message touched when settled,
    not one pending row per item queued and deleted again."""
    store, pull, slack = MemoryStore(), FakePull(batch_size=500), FakeSender()
    for i in range(120):
        pull.add(run_event(f"run-{i:03}"))
    report = relay(store, pull, {"ops": slack}).tick()
    assert report.delivered == 120 and report.channels["ops"].messages == 3
    writes = [w for w in store.writes if w[1] == "relay-ops"]
    seen = [w for w in writes if w[2].startswith("s.")]
    chunks = [w for w in writes if w[2].startswith("q.")]
    assert len(seen) == 120 and all(kind == "insert" for kind, _, _ in seen)
    assert len([w for w in chunks if w[0] == "insert"]) == 3
    assert len(chunks) <= 3 + 3 * 2  # each of 3 messages rewrites at most 2 chunks
    assert len(writes) <= 1.1 * 120 + 5  # plus the channel state
    assert Outbox(store).count_pending("ops") == 0
    assert not [r for r in store.list("relay-ops") if r.key.startswith("q.")]  # all settled


def test_items_queued_in_the_earlier_one_row_per_item_layout_are_still_delivered() -> None:
    store, pull, slack = MemoryStore(), FakePull(), FakeSender()
    notice = IntegrationRunNotice(id="run-legacy", status="FAILED", connector_id="hr-apps")
    store.insert(
        "relay-ops",
        "p.run-legacy",
        {"item": notice.model_dump(mode="json"), "channel": "ops", "enqueued_at": time.time()},
    )
    store.insert("relay-ops", "s.run-legacy", {"at": time.time()})
    report = relay(store, pull, {"ops": slack}).tick()
    assert report.delivered == 1 and len(slack.sent) == 1
    assert not [r for r in store.list("relay-ops") if r.key[:2] in ("p.", "q.")]


def test_a_chunk_that_grows_past_its_size_is_split_and_its_items_still_settle() -> None:
    """200 recipients served one by one grow each item's ``delivered_to``: the chunk splits
    instead of overflowing the row limit, and every item is still delivered exactly once."""
    from lx_core.notify import outbox as outbox_module

    store, pull = MemoryStore(), FakePull()
    log_ = NoticeLog(store)
    for i in range(6):
        log_.record(FactSheetNotice(id=f"n{i}", kind="fact_sheet_archived"), now=time.time())
    to = [f"person-{i:03}-with-a-long-mailbox-name@example.com" for i in range(60)]
    rules_ = rules(ea={"type": "email", "to": to})
    mail = FakeSender()
    limit = outbox_module._CHUNK_CHARS
    outbox_module._CHUNK_CHARS = 4_000  # a small size, so a few digests grow past it
    try:
        for _ in range(3):
            relay(store, pull, {"ea": mail}, rules_=rules_).tick(budget_seconds=120)
    finally:
        outbox_module._CHUNK_CHARS = limit
    per_recipient = [m.recipient or "" for m in mail.sent]
    assert sorted(per_recipient) == sorted(to)  # one digest each, no one twice
    chunk_inserts = [w for w in store.writes if w[0] == "insert" and w[2].startswith("q.")]
    assert len(chunk_inserts) > 2  # the chunk was split as it grew
    assert Outbox(store).count_pending("ea") == 0


def test_a_replay_twice_queues_one_copy() -> None:
    store, pull = MemoryStore(), FakePull()
    refuse = FakeSender(script=lambda _m: SendResult("rejected", status=400))
    pull.add(run_event("run-x"))
    for _ in range(3):
        relay(store, pull, {"ops": refuse}).tick()
    outbox = Outbox(store)
    [dead] = [d for i, d in outbox.dead_letters() if i == "ops/run-run-x"]
    assert outbox.replay("ops", "run-run-x", now=time.time())
    store.upsert("relay-dead", "ops.run-run-x", dead.model_dump(mode="json"))  # a crash's leftover
    assert outbox.replay("ops", "run-run-x", now=time.time())
    ids = [r.key for r in outbox.pending("ops", limit=100)]
    assert ids.count("p.run-run-x") == 1


def test_seen_rows_of_items_still_pending_are_not_pruned() -> None:
    store = MemoryStore()
    outbox = Outbox(store)
    outbox.enqueue("ops", IntegrationRunNotice(id="old", status="FAILED"), now=1_000.0)
    outbox.enqueue("ops", IntegrationRunNotice(id="new", status="FAILED"), now=2_000.0)
    settled = [r for r in outbox.pending("ops", limit=10) if r.key == "p.new"]
    outbox.settle("ops", settled, [], ChannelState())
    forgotten, _ = outbox.prune_seen("ops", before=3_000.0, after=None, limit=100)
    assert forgotten == 0  # "old" still waits, so nothing queued after it is forgotten
    assert not outbox.enqueue("ops", IntegrationRunNotice(id="old", status="FAILED"), now=3_000.0)


def test_the_earlier_layout_is_moved_once_and_then_costs_one_read() -> None:
    store = MemoryStore()
    for i in range(60):
        notice = IntegrationRunNotice(id=f"legacy-{i:02}", status="FAILED")
        store.insert(
            "relay-ops",
            f"p.legacy-{i:02}",
            {"item": notice.model_dump(mode="json"), "channel": "ops", "enqueued_at": 10.0 + i},
        )
    assert len(Outbox(store).pending("ops", limit=1000)) == 60
    assert store.get("relay-ops", "v") is not None
    assert not [r for r in store.list("relay-ops") if r.key.startswith("p.")]
    reads_before = len(store.writes)
    assert len(Outbox(store).pending("ops", limit=1000)) == 60
    assert len(store.writes) == reads_before  # the marker: nothing moved, nothing written
