"""Quality reminders end to end: the checkers over the emulator's workspace, one digest per
person per ISO week through the relay's owner-mail channel to the real SMTP server, across two
runs and a crash between recording and marking; never a technical user. State on Azurite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lx_core import runtime
from lx_core.jobs.quality_reminders import QualityReminders
from lx_core.leanix.graphql import Patch
from lx_core.notify.outbox import NOTICES
from lx_core.state.base import StateStore
from lx_sandbox.azurite import Azurite
from lx_sandbox.stack import SandboxStack, StackOptions

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

QUALITY = {
    "checkers": [
        {"id": "seal", "type": "Application", "rule": "broken_seal"},
        {"id": "desc", "type": "Application", "rule": "required_field", "field": "description"},
    ],
    # OBSERVER too: the demo's third Application has the technical user as its observer.
    "owners": {"subscriptionTypes": ["RESPONSIBLE", "ACCOUNTABLE", "OBSERVER"]},
}
HEADLINE = "Data quality, week"


@pytest.fixture(scope="module")
def quality_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("quality") / "quality.json"
    path.write_text(json.dumps(QUALITY))
    return path


@pytest.fixture(scope="module")
def stack(azurite: Azurite, quality_file: Path) -> Iterator[SandboxStack]:
    options = StackOptions(
        state_connection_string=azurite.connection_string,
        notify=True,
        app_settings={
            "LX_QUALITY_FILE": str(quality_file),
            "LX_RELAY_CHANNEL_BACKOFF_SECONDS": "0",
            "LX_RELAY_PULL_TIMEOUT_SECONDS": "0",
        },
    )
    with SandboxStack(options) as running:
        running.register_subscriptions()
        yield running


def _patch(name: str, stack: SandboxStack, *patches: Patch) -> str:
    app = next(a for a in stack.applications() if a["name"] == name)
    gql = runtime.leanix_client().graphql
    current = gql.get_fact_sheet(app["id"], "rev")
    assert current is not None
    gql.update_fact_sheet(app["id"], list(patches), rev=current["rev"])
    return str(app["id"])


def _reminders(day: date) -> QualityReminders:
    reminders = runtime.quality_reminders()
    reminders._today = lambda: day
    return reminders


def _digest_mails(stack: SandboxStack) -> list[Any]:
    assert stack.mail is not None
    report = runtime.relay(owner="test").tick()
    assert not report.errors, report.errors
    return [m for m in stack.mail.messages if HEADLINE in (m.text or "")]


def test_one_digest_per_person_per_week_across_reruns_and_a_crash(
    stack: SandboxStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Payroll: the human accountable; General Ledger: the human responsible; CRM: the human
    # responsible and the technical user observing.
    _patch("Payroll", stack, Patch(op="replace", path="/lxState", value="BROKEN_QUALITY_SEAL"))
    _patch("General Ledger", stack, Patch(op="remove", path="/description"))
    _patch("CRM", stack, Patch(op="remove", path="/description"))
    assert stack.mail is not None
    stack.mail.messages.clear()

    week1 = date(2026, 11, 30)
    first = _reminders(week1).run(owner="test")
    human = "jane.doe@example.com"
    assert first.digests == {human: "recorded"}
    mine = {f.name: [g.checker for g in f.gaps] for f in first.findings}
    assert "seal" in mine["Payroll"] and "desc" in mine["General Ledger"]
    assert _reminders(week1).run(owner="test").digests == {human: "already"}
    mails = _digest_mails(stack)
    assert [m.rcpt_tos for m in mails] == [[human]]
    text = mails[0].text or ""
    assert "Payroll" in text and "the quality seal is broken" in text
    assert "General Ledger" in text and "description is empty" in text
    assert "/factsheet/Application/" in text
    assert _digest_mails(stack) == mails  # nothing more on a second relay tick

    # The next week, the run dies after recording the notice and before marking it.
    week2 = date(2026, 12, 7)
    store = runtime.state_store()
    assert store is not None
    real_replace = StateStore.replace

    def dies(self: StateStore, partition: str, key: str, data: Any, *, etag: str) -> Any:
        if partition.startswith("quality."):
            raise ConnectionError("the instance died")
        return real_replace(self, partition, key, data, etag=etag)

    monkeypatch.setattr(type(store), "replace", dies)
    with pytest.raises(ConnectionError):
        _reminders(week2).run(owner="test")
    monkeypatch.undo()
    assert _reminders(week2).run(owner="test").digests == {human: "finished"}
    assert _reminders(week2).run(owner="test").digests == {human: "already"}
    stack.mail.messages.clear()
    mails = _digest_mails(stack)
    assert [m.rcpt_tos for m in mails] == [[human]], "one digest for week 2, not two"
    assert "2026-W50" in (mails[0].subject or "") + (mails[0].text or "")


def test_a_technical_subscriber_is_never_an_owner_and_the_report_sends_nothing(
    stack: SandboxStack,
) -> None:
    store = runtime.state_store()
    assert store is not None
    before = len(store.list(NOTICES))
    reminders = _reminders(date(2026, 12, 14))
    findings = {f.name: f for f in reminders.run(send=False).findings}
    # CRM has the human responsible and the technical user observing (OBSERVER counts here).
    assert [p.email for p in findings["CRM"].owners] == ["jane.doe@example.com"]
    assert {p.email for f in findings.values() for p in f.owners} == {"jane.doe@example.com"}
    assert len(store.list(NOTICES)) == before
