"""Notices and their messages: pure functions, checked without I/O (the Teams card by the
official adaptivecards parser, run in Node)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lx_core.notify.notices import (
    DeadLetterNotice,
    FactSheetNotice,
    IntegrationRunNotice,
    Notice,
    notice_from_event,
)
from lx_core.notify.pace import WindowPacer
from lx_core.notify.render import (
    NA,
    email_message,
    pack_teams,
    payload_bytes,
    render,
    slack_message,
    teams_message,
)
from tests.support.adaptivecards import validate_cards
from tests.unit.fake_relay import run_event

WS = "https://app.leanix.net/acme"


def _run(**fields: Any) -> IntegrationRunNotice:
    values: dict[str, Any] = {
        "id": "run-1",
        "workspace_url": WS,
        "connector_id": "hr-apps",
        "scope": "full",
        "direction": "inbound",
        "status": "FINISHED",
        "error_count": 0,
        "warnings_count": 0,
        "synchronization_id": "1234",
    }
    values.update(fields)
    return IntegrationRunNotice(**values)


@pytest.mark.parametrize(
    ("status", "errors", "warnings", "emoji", "word"),
    [
        ("FINISHED", 0, 0, "✅", "finished"),
        ("FINISHED", 3, 0, "⚠️", "finished with problems"),
        ("FINISHED", 0, 2, "⚠️", "finished with problems"),
        ("FAILED", 0, 0, "❌", "failed"),
        ("ABORTED", None, None, "❌", "aborted"),
    ],
)
def test_a_run_event_renders_its_verdict_and_the_sync_log_link(
    status: str, errors: int | None, warnings: int | None, emoji: str, word: str
) -> None:
    event = run_event("1234", progress=status)
    event["payload"]["errorCount"] = errors
    event["payload"]["warningsCount"] = warnings
    notice = notice_from_event(event, workspace_url=WS)
    assert notice is not None and notice.id == "run-1234"
    shown = render(notice)
    assert shown.headline == f"{emoji} Integration run {word}: hr-apps"
    assert shown.link == ("Sync log", f"{WS}/admin/synclog/1234")
    facts = dict(shown.facts)
    assert facts["Workspace"] == WS and facts["Scope"] == "full" and facts["Status"] == status


def test_missing_and_unknown_fields_render_as_na_never_a_crash() -> None:
    event = {"id": 9, "type": "INTEGRATION_RUN_ABORTED", "payload": {"novel": {"x": 1}}}
    notice = notice_from_event(event)
    assert notice is not None and notice.id == "event-9" and notice.status == "ABORTED"
    shown = render(notice)
    assert shown.link is None
    assert {v for k, v in shown.facts if k != "Status"} == {NA}
    for kind in ("fact_sheet_archived", "subscription_removed", "quality_seal_broken"):
        assert NA in render(FactSheetNotice(id="x", kind=kind)).headline


@pytest.mark.parametrize(
    "event",
    [
        {"payload": "not an object"},
        {"id": 1, "payload": {"progress": "RUNNING", "synchronizationId": "1"}},
        {"payload": {"progress": "FINISHED"}},  # no id at all: nothing to key it on
    ],
)
def test_events_the_relay_does_not_carry_are_ignored(event: dict[str, Any]) -> None:
    assert notice_from_event(event) is None


def test_slack_escapes_control_characters_and_stays_within_fifty_blocks() -> None:
    items = [render(_run(id=f"run-{i}", connector_id=f"<a&b> {i}")) for i in range(40)]
    message = slack_message(items)
    assert len(message["blocks"]) == 41 and message["blocks"][0]["type"] == "header"
    text = message["blocks"][1]["text"]["text"]
    assert "&lt;a&amp;b&gt; 0" in text and "<a&b>" not in text
    assert message["text"] == "40 LeanIX notifications"
    single = slack_message(items[:1])
    assert [b["type"] for b in single["blocks"]] == ["section"]


def test_a_two_hundred_item_burst_packs_into_valid_cards_under_28_kb() -> None:
    items = [render(_run(id=f"run-{i}", reasons=("x" * 250,))) for i in range(200)]
    packs = list(pack_teams(items, max_items=200, max_bytes=27_000))
    covered = [i for indexes, _ in packs for i in indexes]
    assert covered == list(range(200))
    assert all(payload_bytes(payload) <= 27_000 for _, payload in packs)
    cards = [payload["attachments"][0]["content"] for _, payload in packs]
    assert validate_cards(cards) == [[] for _ in cards]


def test_an_item_too_big_for_a_card_is_cut_not_dropped() -> None:
    huge = render(_run(connector_id="c" * 250, reasons=tuple("r" * 290 for _ in range(80))))
    [(indexes, payload)] = list(pack_teams([huge], max_items=10, max_bytes=2_000))
    assert indexes == [0] and payload_bytes(payload) <= 2_000
    assert validate_cards([payload["attachments"][0]["content"]]) == [[]]


def test_every_kind_of_notice_makes_a_valid_card() -> None:
    notices: list[Notice] = [
        _run(),
        FactSheetNotice(
            id="a",
            kind="fact_sheet_archived",
            fact_sheet_id="fs-1",
            fact_sheet_name="CRM",
            fact_sheet_type="Application",
            workspace_url=WS,
        ),
        FactSheetNotice(id="b", kind="subscription_removed", role="ACCOUNTABLE"),
        DeadLetterNotice(id="d", channel="ops", item_id="run-1", reason="invalid_payload"),
    ]
    card = teams_message([render(n) for n in notices])["attachments"][0]["content"]
    assert validate_cards([card]) == [[]]
    assert render(notices[1]).link == ("Open fact sheet", f"{WS}/factsheet/Application/fs-1")


def test_email_has_text_and_escaped_html() -> None:
    mail = email_message([render(_run(connector_id="<script>"))])
    assert mail.subject == "[LeanIX] ✅ Integration run finished: <script>"
    assert "Connector: <script>" in mail.text
    assert "&lt;script&gt;" in mail.html and "<script>" not in mail.html


def test_the_pacer_keeps_every_window() -> None:
    pacer = WindowPacer([(1.0, 4), (30.0, 6)])
    sent: list[float] = []
    now = 0.0
    for _ in range(10):
        now += pacer.wait(now) + 1e-6
        pacer.record(now)
        sent.append(now)
    for seconds, limit in pacer.windows:
        for t in sent:
            assert sum(1 for s in sent if t - seconds < s <= t) <= limit
    assert sent[3] < 1.0 and sent[5] < 2.0 and sent[6] >= 30.0
    resumed = WindowPacer([(1.0, 1)], history=[100.0])
    assert resumed.wait(100.25) == pytest.approx(0.75)


def test_a_fact_sheet_name_cannot_become_a_link_in_a_teams_card() -> None:
    notice = FactSheetNotice(
        id="a",
        kind="fact_sheet_archived",
        fact_sheet_name="[Verify your account](https://evil.example)",
        workspace_url=WS,
        fact_sheet_id="fs-1",
    )
    card = teams_message([render(notice)])["attachments"][0]["content"]
    text = json.dumps(card)
    assert "[Verify your account](" not in text and "\\\\[Verify your account\\\\]" in text
    assert validate_cards([card]) == [[]]
