"""The relay's channels end to end with the shipped notifications.json: e-mail through the
STARTTLS-only SMTP server (real certificate verification through LX_SMTP_CA_FILE), bursts at
Slack's and Teams' real rates (the sink enforces them), a dropped connection, and `lx relay
tick` killed at its crash points in a real process.

Channel names are those of infra/leanix/notifications.json: ops-slack, ops-teams, ea-mail.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from lx_core import runtime
from lx_core.notify.notices import FactSheetNotice
from lx_core.notify.outbox import PENDING, NoticeLog
from lx_core.notify.relay import message_id
from lx_sandbox.azurite import Azurite
from lx_sandbox.mail import MailMessage
from tests.e2e.relay_world import EMAIL_TO, FROM_ADDRESS, RelayWorld, open_relay_world
from tests.support.adaptivecards import validate_cards

pytestmark = pytest.mark.e2e
SLACK, TEAMS, MAIL = "ops-slack", "ops-teams", "ea-mail"
OWNER = "owner@example.com"
IMPORT = "applications-import"
#: Block Kit allows 50 blocks per message; one is the heading.
SLACK_ITEMS_PER_MESSAGE = 49
#: Teams refuses payloads over about 28 KB ([V] leanix-api.md §8.2).
TEAMS_MAX_BYTES = 28_000
KILLED = 137


@pytest.fixture
def world(azurite: Azurite) -> Iterator[RelayWorld]:
    with open_relay_world(azurite.connection_string) as running:
        yield running


def _archived(name: str) -> FactSheetNotice:
    """What the archive handler records: a fact sheet archived, its owner to be told."""
    return FactSheetNotice(
        id=f"archived-{name.lower().replace(' ', '-')}",
        kind="fact_sheet_archived",
        fact_sheet_id=f"fs-{name.lower().replace(' ', '-')}",
        fact_sheet_name=name,
        fact_sheet_type="Application",
        actor="jane.doe@example.com",
        recipients=(OWNER,),
    )


def _record(notice: FactSheetNotice) -> None:
    store = runtime.state_store()
    assert store is not None
    NoticeLog(store).record(notice, now=time.time())


def _per_recipient(mails: Sequence[MailMessage]) -> Counter[tuple[str, str | None]]:
    """How often each recipient got each subject."""
    return Counter((rcpt, m.subject) for m in mails for rcpt in m.rcpt_tos)


def _slack_headlines(messages: Sequence[dict[str, Any]]) -> Counter[str]:
    """Each section's bold first line, over every message: one section per item."""
    return Counter(
        block["text"]["text"].split("\n", 1)[0].strip("*")
        for m in messages
        for block in m["body"]["blocks"]
        if block["type"] == "section"
    )


def _card(message: dict[str, Any]) -> dict[str, Any]:
    [attachment] = message["body"]["attachments"]
    card: dict[str, Any] = attachment["content"]
    return card


def _card_headlines(cards: Sequence[dict[str, Any]]) -> Counter[str]:
    """The first TextBlock of each item's Container, over every card."""
    return Counter(
        element["items"][0]["text"]
        for card in cards
        for element in card["body"]
        if element["type"] == "Container"
    )


# --- e-mail -------------------------------------------------------------------------------------


def test_a_fact_sheet_notice_is_mailed_to_the_team_and_the_owner_over_verified_starttls(
    world: RelayWorld,
) -> None:
    notice = _archived("CRM")
    _record(notice)
    report = world.tick_report()
    assert report.errors == [] and report.channels[MAIL].delivered == 1
    mails = world.mail.wait(2, timeout=5)
    assert sorted(m.rcpt_tos for m in mails) == [[EMAIL_TO], [OWNER]]
    for mail in mails:
        [rcpt] = mail.rcpt_tos
        assert mail.tls, "sent only after STARTTLS, with the server's certificate verified"
        assert (mail.mail_from, mail.to) == (FROM_ADDRESS, [rcpt])
        assert mail.subject == "[LeanIX] 🗄️ Fact sheet archived: CRM"
        assert mail.text is not None and mail.html is not None
        text = mail.text.replace("\r\n", "\n")
        assert text.startswith("🗄️ Fact sheet archived: CRM\n  Type: Application\n")
        assert "\n  By: jane.doe@example.com\n" in text
        assert "<h3>🗄️ Fact sheet archived: CRM</h3>" in mail.html
        assert "<th align='left'>By</th><td>jane.doe@example.com</td>" in mail.html
        # Derived from the channel, the recipient and the item only: a resend after a crash
        # between send and mark carries the same Message-ID, so a mail system can spot it.
        expected = message_id(MAIL, rcpt, [PENDING + notice.id])
        assert mail.message_id == f"<{expected}@lx-functions>"
    assert len({m.message_id for m in mails}) == 2, "one id per recipient"
    assert world.tick_report().delivered == 0
    assert len(world.mail.messages) == 2
    assert world.messages() == [] and world.messages(kind="teams") == [], "e-mail only"


def test_a_recipients_not_now_defers_only_that_copy_and_nobody_gets_one_twice(
    world: RelayWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(_archived("CRM"))
    world.mail.fail_next(1, 451)  # the first RCPT: the team's copy
    first = world.tick_report()
    report = first.channels[MAIL]
    assert (report.deferred, report.delivered, report.refused) == (1, 0, 0)
    assert "451" in report.detail and report.status != "down"  # the channel did not pause
    assert world.pending(MAIL) == 1 and len(world.mail.messages) == 1  # the owner's copy went
    second = world.tick_report()
    assert second.channels[MAIL].delivered == 1 and world.pending(MAIL) == 0
    crm = "[LeanIX] 🗄️ Fact sheet archived: CRM"
    assert _per_recipient(world.mail.messages) == {(EMAIL_TO, crm): 1, (OWNER, crm): 1}

    # The team's copy is accepted, then the owner's is deferred: the next tick sends the
    # owner's copy only.
    _record(_archived("HR Portal"))
    log = world.mail.messages
    record = log.append

    def accept_then_fail_the_next(message: MailMessage) -> None:
        record(message)
        world.mail.fail_next(1, 451)

    monkeypatch.setattr(log, "append", accept_then_fail_the_next)
    third = world.tick_report()
    monkeypatch.undo()
    assert (third.channels[MAIL].deferred, third.channels[MAIL].delivered) == (1, 0)
    assert world.pending(MAIL) == 1
    fourth = world.tick_report()
    assert fourth.channels[MAIL].delivered == 1 and world.pending(MAIL) == 0
    hr = "[LeanIX] 🗄️ Fact sheet archived: HR Portal"
    assert _per_recipient(world.mail.messages) == {
        (EMAIL_TO, crm): 1,
        (OWNER, crm): 1,
        (EMAIL_TO, hr): 1,
        (OWNER, hr): 1,
    }


# --- bursts at the channels' real rates ---------------------------------------------------------


def test_a_burst_of_200_reaches_slack_once_each_in_5_messages_without_a_single_429(
    world: RelayWorld,
) -> None:
    world.record_outcomes(200)
    for _ in range(3):
        world.tick()
        if world.pending(SLACK) == 0:
            break
    assert world.pending(SLACK) == 0
    statuses = [r["status"] for r in world.requests("slack")]
    assert statuses == [200] * math.ceil(200 / SLACK_ITEMS_PER_MESSAGE), "paced: no 429"
    messages = world.messages()
    assert all(len(m["body"]["blocks"]) <= 50 for m in messages)
    assert _slack_headlines(messages) == {
        f"✅ Integration run finished: c{i:04}": 1 for i in range(200)
    }


def test_a_burst_of_200_failed_runs_reaches_teams_as_valid_cards_under_28_kb(
    world: RelayWorld,
) -> None:
    world.record_outcomes(200, failed=True)
    # Slack (which gets every run) is down meanwhile, so this test does not wait for its pace.
    world.fault(down=True, count=1000, kind="slack")
    for _ in range(3):
        world.tick()
        if world.pending(TEAMS) == 0:
            break
    assert world.pending(TEAMS) == 0
    assert {r["status"] for r in world.requests("teams")} == {202}, "paced: no 429"
    messages = world.messages(kind="teams")
    cards = [_card(m) for m in messages]
    assert len(cards) >= math.ceil(200 / 40)
    for message in messages:
        compact = json.dumps(message["body"], separators=(",", ":"), ensure_ascii=False)
        assert len(compact.encode("utf-8")) < TEAMS_MAX_BYTES
    assert validate_cards(cards) == [[] for _ in cards]
    assert _card_headlines(cards) == {f"❌ Integration run failed: c{i:04}": 1 for i in range(200)}
    assert world.pending(SLACK) == 200, "Slack's items wait for Slack"


def test_a_full_teams_card_is_under_28_kb_as_sent_on_the_wire(world: RelayWorld) -> None:
    world.record_outcomes(40, failed=True)
    world.tick()
    [request] = world.requests("teams")
    assert request["status"] == 202
    compact = json.dumps(request["body"], separators=(",", ":"), ensure_ascii=False)
    assert len(compact.encode("utf-8")) < 27_000, "within the channel's maxBytes as measured"
    assert int(request["headers"]["content-length"]) < TEAMS_MAX_BYTES


# --- a channel that is down ---------------------------------------------------------------------


def test_slack_dropping_the_connection_is_reported_down_and_the_next_tick_delivers_once(
    world: RelayWorld,
) -> None:
    world.record_outcomes(1)
    world.fault(down=True, count=10, kind="slack")
    down = world.tick_report()
    assert down.channels[SLACK].status == "down" and down.channels[SLACK].pending_left
    assert "no answer" in down.channels[SLACK].detail
    assert world.messages() == [] and world.pending(SLACK) == 1
    dropped = [r for r in world.requests("slack") if r["outcome"] == "dropped"]
    assert 1 <= len(dropped) <= 2, "the send and slack_sdk's one retry, no more"
    world.clear_faults()
    up = world.tick_report()
    assert up.channels[SLACK].delivered == 1 and world.pending(SLACK) == 0
    assert world.tick_report().delivered == 0
    [message] = world.messages()
    assert message["body"]["text"] == "✅ Integration run finished: c0000"


# --- `lx relay tick` killed at a crash point ----------------------------------------------------


def test_killed_after_the_send_the_rerun_resends_exactly_that_one_message(
    world: RelayWorld,
) -> None:
    world.record_outcomes(3)
    crashed = world.lx("relay", "tick", env={"LX_RELAY_CRASH_POINTS": "after_send"})
    assert crashed.returncode == KILLED, crashed.stdout + crashed.stderr
    [sent] = world.messages()
    assert world.pending(SLACK) == 3, "killed before the mark: the items still wait"
    rerun = world.lx("relay", "tick", "--force")  # the killed tick's lease is still live
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    first, again = world.messages()
    assert first == sent and again["body"] == sent["body"], "the documented one-message resend"
    assert sum(_slack_headlines([sent]).values()) == 3
    third = world.lx("relay", "tick", "--json")
    assert third.returncode == 0, third.stdout + third.stderr
    assert json.loads(third.stdout)["delivered"] == 0
    assert len(world.messages()) == 2 and world.pending(SLACK) == 0


def test_killed_after_the_outbox_write_the_rerun_sends_the_run_once(world: RelayWorld) -> None:
    world.sync.fire("sync_applications_import")
    world.sync.fire_until_idle("sync_watch", IMPORT)
    crashed = world.lx("relay", "tick", env={"LX_RELAY_CRASH_POINTS": "after_outbox_write"})
    assert crashed.returncode == KILLED, crashed.stdout + crashed.stderr
    assert world.messages() == [] and world.pending(SLACK) == 1
    assert world.pull_peek().events, "the cursor was not committed: LeanIX hands the batch again"
    rerun = world.lx("relay", "tick", "--force", "--json")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["queued"] == 0 and report["duplicates"] >= 1, "re-read, not queued again"
    [message] = world.messages()
    assert message["body"]["text"] == f"✅ Integration run finished: {IMPORT}"
    assert world.pull_peek().events == [] and world.pending(SLACK) == 0


def test_killed_after_an_email_was_sent_the_resend_carries_the_same_message_id(
    world: RelayWorld,
) -> None:
    _record(_archived("CRM"))
    crashed = world.lx("relay", "tick", env={"LX_RELAY_CRASH_POINTS": "after_send"})
    assert crashed.returncode == KILLED, crashed.stdout + crashed.stderr
    [sent] = world.mail.messages
    assert sent.rcpt_tos == [EMAIL_TO]
    rerun = world.lx("relay", "tick", "--force")  # the killed tick's lease is still live
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    first, again, owner = world.mail.messages
    assert again.rcpt_tos == [EMAIL_TO] and owner.rcpt_tos == [OWNER]
    assert again.message_id == first.message_id, "a receiver can drop the resend by its id"
    assert again.text == first.text and owner.message_id != first.message_id
    assert world.pending(MAIL) == 0
