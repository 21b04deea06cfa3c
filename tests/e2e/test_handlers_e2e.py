"""The three new handlers end to end: a LeanIX change → PUSH webhook (every subscription of
webhooks.json registered through lx_core) → the local functions host → lx_core → LeanIX, and
for the notices → the relay → the SMTP server. Real HTTP throughout; Azurite for state."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from lx_core import runtime
from lx_core.leanix.graphql import Patch
from lx_sandbox.azurite import Azurite
from lx_sandbox.stack import SandboxStack, StackOptions

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

CREATE = """
mutation ($input: BaseFactSheetInput!) {
  createFactSheet(input: $input) { factSheet { id rev name type } }
}
"""
SUBSCRIBERS = """
query ($id: ID!) {
  factSheet(id: $id) {
    subscriptions { edges { node { id type user { id email } } } }
  }
}
"""
DELETE_SUBSCRIPTION = "mutation ($id: ID!) { deleteSubscription(id: $id) { id } }"


@pytest.fixture(scope="module")
def stack(azurite: Azurite) -> Iterator[SandboxStack]:
    options = StackOptions(
        emulator={"delivery_backoff_seconds": 0.1, "delivery_max_attempts": 5},
        state_connection_string=azurite.connection_string,
        notify=True,
        app_settings={
            "LX_RELAY_CHANNEL_BACKOFF_SECONDS": "0",
            "LX_RELAY_PULL_TIMEOUT_SECONDS": "0",
        },
    )
    with SandboxStack(options) as running:
        running.register_subscriptions()
        yield running


def _human_id(stack: SandboxStack) -> str:
    users = stack.admin("GET", "/workspace")["users"]
    return str(next(u["id"] for u in users if not u["technical"]))


def _subscribers(stack: SandboxStack, fs_id: str) -> list[dict[str, Any]]:
    data = stack.human_client().graphql.execute(SUBSCRIBERS, {"id": fs_id})
    return [e["node"] for e in data["factSheet"]["subscriptions"]["edges"]]


def _create(stack: SandboxStack, name: str, *, technical: bool = False) -> str:
    client = runtime.leanix_client() if technical else stack.human_client()
    data = client.graphql.execute(CREATE, {"input": {"name": name, "type": "Application"}})
    return str(data["createFactSheet"]["factSheet"]["id"])


def _redeliver(stack: SandboxStack, route: str, event: dict[str, Any]) -> dict[str, Any]:
    """POST an event to a handler route as LeanIX would (function key + shared secret)."""
    host = stack.host
    assert host is not None
    response = requests.post(
        f"{host.url}/api/{route}",
        params={"code": host.function_key},
        headers={"Authorization": stack.options.webhook_secret},
        json=event,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _event(stack: SandboxStack, event_type: str, fs_id: str) -> dict[str, Any]:
    events = stack.admin("GET", "/events", params={"tag": event_type, "limit": 100000})["events"]
    matching = [
        e["event"]
        for e in events
        if (e["event"].get("payload") or {}).get("factSheet", {}).get("id") == fs_id
    ]
    assert matching, f"no {event_type} event for {fs_id}"
    return dict(matching[-1])


def _relayed_to(stack: SandboxStack, headline: str) -> list[str]:
    """One relay tick; the recipients of the mails (two expected) carrying ``headline``, each
    sent over TLS."""
    assert stack.mail is not None
    stack.mail.messages.clear()
    report = runtime.relay().tick()
    assert not report.errors, report.errors
    mails = [m for m in stack.mail.wait(2, timeout=15) if headline in (m.text or "")]
    assert mails and all(m.tls for m in mails)
    return sorted(r for m in mails for r in m.rcpt_tos)


def test_a_creator_is_subscribed_once_even_when_the_event_comes_twice(stack: SandboxStack) -> None:
    fs_id = _create(stack, "Creator subscription probe")
    assert stack.wait_for_deliveries()
    human = _human_id(stack)
    mine = [s for s in _subscribers(stack, fs_id) if s["user"]["id"] == human]
    assert [s["type"] for s in mine] == ["RESPONSIBLE"]
    again = _redeliver(
        stack, "leanix/creator-subscription", _event(stack, "FACT_SHEET_CREATED", fs_id)
    )
    assert again["status"] == "unchanged"
    assert len([s for s in _subscribers(stack, fs_id) if s["user"]["id"] == human]) == 1


def test_an_application_created_by_the_technical_user_gets_no_subscription(
    stack: SandboxStack,
) -> None:
    fs_id = _create(stack, "Created by the app itself", technical=True)
    assert stack.wait_for_deliveries()
    assert _subscribers(stack, fs_id) == []
    answer = _redeliver(
        stack, "leanix/creator-subscription", _event(stack, "FACT_SHEET_CREATED", fs_id)
    )
    assert answer == {
        "status": "ignored",
        "factSheetId": fs_id,
        "reason": "event caused by this app's own write",
    }


def test_a_creator_who_is_not_a_workspace_user_is_skipped_with_a_reason(
    stack: SandboxStack,
) -> None:
    fs_id = _create(stack, "Creator unknown probe")
    assert stack.wait_for_deliveries()
    event = _event(stack, "FACT_SHEET_CREATED", fs_id)
    event["userId"] = "00000000-0000-4000-8000-000000000000"
    event["payload"]["userId"] = event["userId"]
    event["id"] = "replayed-unknown-creator"
    subs = _subscribers(stack, fs_id)
    for sub in subs:
        stack.human_client().graphql.execute(DELETE_SUBSCRIPTION, {"id": sub["id"]})
    answer = _redeliver(stack, "leanix/creator-subscription", event)
    assert answer["status"] == "skipped"
    assert answer["reason"] == "not a user: the creator is not a user of this workspace"


def test_an_archived_application_is_announced_by_mail_to_its_subscribers(
    stack: SandboxStack,
) -> None:
    assert stack.mail is not None
    fs_id = _create(stack, "Archive notice probe")
    assert stack.wait_for_deliveries()
    owner = next(s["user"]["email"] for s in _subscribers(stack, fs_id))
    human = stack.human_client()
    rev = human.graphql.get_fact_sheet(fs_id, "rev")
    assert rev is not None
    human.graphql.update_fact_sheet(
        fs_id,
        [Patch(op="add", path="/status", value="ARCHIVED")],
        rev=rev["rev"],
        comment="retired",
    )
    assert stack.wait_for_deliveries()
    assert _relayed_to(stack, "Fact sheet archived: Archive notice probe") == sorted(
        ["ea-team@example.com", owner]
    )
    again = _redeliver(stack, "leanix/archive-notice", _event(stack, "FACT_SHEET_ARCHIVED", fs_id))
    assert again["status"] == "duplicate"


def test_a_broken_quality_seal_is_mailed_to_the_responsible_people(stack: SandboxStack) -> None:
    """APPROVED → BROKEN_QUALITY_SEAL: the emulator emits QUALITY_SEAL_BROKEN, the handler
    records a notice from a re-read, the relay mails the fact sheet's Responsible creator."""
    assert stack.mail is not None
    fs_id = _create(stack, "Quality seal probe")
    assert stack.wait_for_deliveries()
    owner = next(s["user"]["email"] for s in _subscribers(stack, fs_id))
    human = stack.human_client()
    for state in ("APPROVED", "BROKEN_QUALITY_SEAL"):
        rev = human.graphql.get_fact_sheet(fs_id, "rev")
        assert rev is not None
        human.graphql.update_fact_sheet(
            fs_id, [Patch(op="replace", path="/lxState", value=state)], rev=rev["rev"]
        )
    assert stack.wait_for_deliveries()
    event = _event(stack, "QUALITY_SEAL_BROKEN", fs_id)
    assert event["tags"] == ["pathfinder", "QUALITY_SEAL_BROKEN"]
    assert _relayed_to(stack, "Quality seal broken: Quality seal probe") == sorted(
        ["ea-team@example.com", owner]
    )
    again = _redeliver(stack, "leanix/quality-seal-notice", event)
    assert again["status"] == "duplicate"


def test_a_removed_subscription_is_reported_and_an_older_event_is_dropped(
    stack: SandboxStack,
) -> None:
    fs_id = _create(stack, "Subscription removed probe")
    assert stack.wait_for_deliveries()
    [sub] = _subscribers(stack, fs_id)
    stack.human_client().graphql.execute(DELETE_SUBSCRIPTION, {"id": sub["id"]})
    assert stack.wait_for_deliveries()
    event = _event(stack, "SUBSCRIPTION_DELETED", fs_id)
    handled = _redeliver(stack, "leanix/subscription-removed", event)
    assert handled["status"] == "duplicate", "LeanIX's delivery was handled already"
    older = {**event, "id": "older-event"}
    older["payload"] = {
        **event["payload"],
        "transactionSequenceNumber": int(event["payload"]["transactionSequenceNumber"]) - 1,
    }
    answer = _redeliver(stack, "leanix/subscription-removed", older)
    assert answer["status"] == "stale"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = runtime.state_store()
        assert rows is not None
        if any(
            "Subscription removed probe" in json.dumps(r.data) for r in rows.list("relay-notices")
        ):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no subscription-removed notice recorded")
