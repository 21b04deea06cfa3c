"""Contract: WebhooksClient subscriptions CRUD, PULL events with the cursor, PUSH deliveries."""

from __future__ import annotations

import pytest

from lx_core.errors import BadRequestError, NotFoundError, ServerError
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.graphql import Patch
from lx_core.leanix.webhooks import Subscription
from lx_sandbox.emulator import HUMAN_TOKEN
from tests.contract.conftest import SUBSCRIPTIONS_PATH, Admin, RawApi, Receiver

pytestmark = pytest.mark.sandbox

WAREHOUSE = "b7c4d3ad-4889-5b0a-9114-71cc2a8831fe"
UPDATED = ["pathfinder", "FACT_SHEET_UPDATED"]


def _pull_subscription(identifier: str) -> Subscription:
    return Subscription.model_validate(
        {"identifier": identifier, "deliveryType": "PULL", "tagSets": [UPDATED]}
    )


def _human_edit(human: LeanIXClient, text: str) -> None:
    human.graphql.update_fact_sheet(
        WAREHOUSE, [Patch(op="replace", path="/description", value=text)], rev=None
    )


def test_subscription_crud(client: LeanIXClient, raw: RawApi) -> None:
    """Create, list, get, update and delete a subscription; the emulator stores each step."""
    created = client.webhooks.create(_pull_subscription("contract-crud"))
    assert created.id
    assert created.workspace_id == client.claims.workspace_id
    assert created.user_id == client.claims.principal_id
    stored = raw.subscriptions()
    assert [(s["id"], s["identifier"], s["tagSets"]) for s in stored] == [
        (created.id, "contract-crud", [UPDATED])
    ]

    assert [s.id for s in client.webhooks.list_subscriptions()] == [created.id]
    assert [s.id for s in client.webhooks.list_subscriptions("contract-crud")] == [created.id]
    assert client.webhooks.list_subscriptions("someone-else") == []
    assert client.webhooks.get(created.id).identifier == "contract-crud"

    changed = created.model_copy(
        update={"tag_sets": [UPDATED, ["pathfinder", "FACT_SHEET_CREATED"]]}
    )
    updated = client.webhooks.update(changed)
    assert updated.id == created.id
    assert raw.subscriptions()[0]["tagSets"] == [UPDATED, ["pathfinder", "FACT_SHEET_CREATED"]]

    client.webhooks.delete(created.id)
    assert raw.subscriptions() == []
    with pytest.raises(NotFoundError) as info:
        client.webhooks.get(created.id)
    assert info.value.status == 404


def test_invalid_subscription_raises_bad_request_naming_the_problem(
    client: LeanIXClient, raw: RawApi
) -> None:
    """A PUSH subscription without target is refused with 400; the error carries LeanIX's
    explanation, and nothing is created."""
    bad = Subscription.model_validate(
        {"identifier": "contract-bad", "deliveryType": "PUSH", "tagSets": [UPDATED]}
    )
    with pytest.raises(BadRequestError) as info:
        client.webhooks.create(bad)
    assert info.value.status == 400
    assert info.value.method == "POST"
    assert info.value.path == SUBSCRIPTIONS_PATH
    assert "must not be empty for PUSH subscriptions" in (info.value.leanix_message or "")
    assert raw.subscriptions() == []


def test_create_is_not_replayed_after_a_5xx(
    admin: Admin, client: LeanIXClient, raw: RawApi
) -> None:
    """POST may have created the subscription, so a 503 on create is raised, not retried."""
    assert client.claims.principal_id
    admin.clear_stats()
    admin.add_fault(pathPrefix=SUBSCRIPTIONS_PATH, method="POST", status=503, count=1)
    with pytest.raises(ServerError):
        client.webhooks.create(_pull_subscription("contract-5xx"))
    assert admin.requests_to("POST " + SUBSCRIPTIONS_PATH) == 1
    assert raw.subscriptions() == []


def test_pull_events_stay_until_the_cursor_is_committed(
    admin: Admin, client: LeanIXClient, human: LeanIXClient
) -> None:
    """A human's edit shows up as a PULL event; without a commit the same batch comes again;
    after commit_cursor it is gone."""
    sub = client.webhooks.create(_pull_subscription("contract-pull"))
    assert sub.id
    assert client.webhooks.pull_events(sub.id, timeout_seconds=0).events == []
    _human_edit(human, "pulled")

    first = client.webhooks.pull_events(sub.id, timeout_seconds=1)
    assert len(first.events) == 1
    event = first.events[0].event
    assert event["tags"] == UPDATED
    assert event["userId"] == admin.user_id(HUMAN_TOKEN)
    assert event["payload"]["factSheet"]["id"] == WAREHOUSE
    assert event["payload"]["factSheet"]["description"] == "pulled"
    assert first.next_offset is not None
    assert first.next_offset > first.events[0].offset

    again = client.webhooks.pull_events(sub.id, timeout_seconds=1)
    assert again == first

    client.webhooks.commit_cursor(sub.id, first.next_offset)
    assert client.webhooks.pull_events(sub.id, timeout_seconds=0).events == []

    _human_edit(human, "pulled again")
    later = client.webhooks.pull_events(sub.id, timeout_seconds=1)
    assert [e.event["payload"]["factSheet"]["description"] for e in later.events] == [
        "pulled again"
    ]


def test_pull_with_auto_commit_and_cursor_bounds(client: LeanIXClient, human: LeanIXClient) -> None:
    """autoCommit moves the cursor with the read; committing beyond the stream end is a
    BadRequestError carrying LeanIX's message."""
    sub = client.webhooks.create(_pull_subscription("contract-auto"))
    assert sub.id
    _human_edit(human, "auto")
    batch = client.webhooks.pull_events(sub.id, timeout_seconds=1, auto_commit=True)
    assert len(batch.events) == 1
    assert client.webhooks.pull_events(sub.id, timeout_seconds=0).events == []
    with pytest.raises(BadRequestError) as info:
        client.webhooks.commit_cursor(sub.id, 10**6)
    assert info.value.status == 400
    assert "offset must be between" in (info.value.leanix_message or "")


def test_deliveries_of_a_push_subscription(
    admin: Admin, client: LeanIXClient, human: LeanIXClient, receiver: Receiver
) -> None:
    """After a human edit, the PUSH subscription's delivery log lists the successful delivery
    that the local receiver got."""
    sub = client.webhooks.create(
        Subscription.model_validate(
            {
                "identifier": "contract-push",
                "deliveryType": "PUSH",
                "targetUrl": receiver.url,
                "targetMethod": "POST",
                "authorizationHeader": "Bearer contract-push-secret",
                "tagSets": [UPDATED],
            }
        )
    )
    assert sub.id
    assert client.webhooks.deliveries(sub.id) == []
    _human_edit(human, "pushed")
    admin.wait_deliveries()

    deliveries = client.webhooks.deliveries(sub.id)
    assert len(deliveries) == 1
    assert deliveries[0]["success"] is True
    assert deliveries[0]["httpStatus"] == 200
    assert deliveries[0]["targetUrl"] == receiver.url
    assert [d["id"] for d in admin.deliveries(sub.id)] == [deliveries[0]["id"]]
    assert len(receiver.received) == 1
    assert receiver.received[0]["headers"]["Authorization"] == "Bearer contract-push-secret"
    assert receiver.received[0]["body"]["factSheet"]["id"] == WAREHOUSE
    with pytest.raises(ValueError, match="size"):
        client.webhooks.deliveries(sub.id, size=101)
