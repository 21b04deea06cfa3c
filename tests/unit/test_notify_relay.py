"""The relay's order of writes, batching, poison handling and crash windows, on MemoryStore
with an in-memory PULL endpoint and sender (the HTTP versions are in tests/e2e)."""

from __future__ import annotations

import pytest

from lx_core.jobs.sync_state import OutcomeLog, OutcomeRecord
from lx_core.notify.crash import SimulatedCrash
from lx_core.notify.notices import FactSheetNotice, IntegrationRunNotice
from lx_core.notify.outbox import NoticeLog, Outbox
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
        "p.bad",
        {"item": {"kind": "nonsense"}, "channel": "ops", "enqueued_at": 0},
    )
    for _ in range(3):
        relay(store, pull, {"ops": slack}).tick()
    assert [i for i, _ in Outbox(store).dead_letters()] == ["ops/bad"]


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
