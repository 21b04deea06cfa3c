"""Contract: webhook subscriptions as code (infra/leanix/webhooks.json) against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from lx_core.decisions.subscriptions import Action
from lx_core.jobs.subscriptions import SubscriptionManager
from lx_core.leanix.client import LeanIXClient
from tests.contract.conftest import REPO_ROOT, SUBSCRIPTIONS_PATH, Admin, RawApi

pytestmark = pytest.mark.sandbox

CONFIG = REPO_ROOT / "infra" / "leanix" / "webhooks.json"
CALLBACK = REPO_ROOT / "infra" / "leanix" / "callbacks" / "time_filter.js"
ENV = {
    "LX_FUNCTIONS_BASE_URL": "https://func-contract.example.net",
    "LX_FUNCTION_KEY": "contract-function-key",
    "LX_WEBHOOK_AUTHORIZATION": "Bearer contract-webhook-secret",
}
TARGET_URL = "https://func-contract.example.net/api/leanix/time?code=contract-function-key"


def _subscription_writes(admin: Admin) -> dict[str, int]:
    """Counted POST/PUT requests on the subscriptions API (ids folded by the emulator)."""
    requests: dict[str, int] = admin.stats()["requests"]
    return {
        key: count
        for key, count in requests.items()
        if key.split(" ", 1)[0] in ("POST", "PUT", "DELETE")
        and key.split(" ", 1)[1].startswith(SUBSCRIPTIONS_PATH)
    }


def _apply_config(client: LeanIXClient) -> SubscriptionManager:
    manager = SubscriptionManager(client)
    manager.apply(manager.plan(manager.load(CONFIG, ENV)))
    return manager


def test_apply_creates_the_configured_subscription_then_is_idempotent(
    admin: Admin, client: LeanIXClient, raw: RawApi
) -> None:
    """The first apply creates the subscription exactly as configured (placeholders filled,
    callback inlined); a second plan is all UNCHANGED and its apply writes nothing."""
    manager = SubscriptionManager(client)
    plan = manager.plan(manager.load(CONFIG, ENV))
    assert [(c.identifier, c.action) for c in plan] == [("lx-functions-time", Action.CREATE)]
    admin.clear_stats()
    applied = manager.apply(plan)
    assert _subscription_writes(admin) == {"POST " + SUBSCRIPTIONS_PATH: 1}

    stored = raw.subscriptions()
    assert len(stored) == 1
    sub = stored[0]
    assert sub["id"] == applied[0].subscription_id
    expected: dict[str, Any] = {
        "identifier": "lx-functions-time",
        "deliveryType": "PUSH",
        "targetUrl": TARGET_URL,
        "targetMethod": "POST",
        "authorizationHeader": "Bearer contract-webhook-secret",
        "tagSets": [["pathfinder", "FACT_SHEET_CREATED"], ["pathfinder", "FACT_SHEET_UPDATED"]],
        "workspaceConstraint": "WORKSPACE",
        "workspaceId": client.claims.workspace_id,
        "payloadMode": "DEFAULT",
        "ignoreError": False,
        "active": True,
        "callback": CALLBACK.read_text(encoding="utf-8"),
    }
    assert {k: sub.get(k) for k in expected} == expected

    replan = manager.plan(manager.load(CONFIG, ENV))
    assert [(c.action, c.changed_fields, c.existing_id) for c in replan] == [
        (Action.UNCHANGED, (), sub["id"])
    ]
    admin.clear_stats()
    manager.apply(replan)
    assert _subscription_writes(admin) == {}
    assert admin.stats()["total"] == 0
    assert raw.subscriptions() == stored


def test_drift_is_planned_as_an_update_of_exactly_that_field(
    admin: Admin, client: LeanIXClient, raw: RawApi
) -> None:
    """A targetUrl changed behind our back is planned as UPDATE of targetUrl alone; applying
    restores it with one PUT and keeps every other field."""
    manager = _apply_config(client)
    original = raw.subscriptions()[0]
    drifted = {**original, "targetUrl": "https://attacker.example.org/hook"}
    raw.call("PUT", f"{SUBSCRIPTIONS_PATH}/{original['id']}", json=drifted)
    assert raw.subscriptions()[0]["targetUrl"] == "https://attacker.example.org/hook"

    plan = manager.plan(manager.load(CONFIG, ENV))
    assert [(c.action, c.changed_fields, c.existing_id) for c in plan] == [
        (Action.UPDATE, ("targetUrl",), original["id"])
    ]
    admin.clear_stats()
    manager.apply(plan)
    assert _subscription_writes(admin) == {f"PUT {SUBSCRIPTIONS_PATH}/{{id}}": 1}
    assert raw.subscriptions() == [original]
    assert [c.action for c in manager.plan(manager.load(CONFIG, ENV))] == [Action.UNCHANGED]


def test_unmanaged_subscriptions_are_left_alone(
    admin: Admin, client: LeanIXClient, raw: RawApi
) -> None:
    """A subscription the config does not name is neither planned nor touched."""
    other = raw.call(
        "POST",
        SUBSCRIPTIONS_PATH,
        json={"identifier": "someone-elses", "deliveryType": "PULL", "ignoreError": True},
    )["data"]
    manager = _apply_config(client)
    assert [c.identifier for c in manager.plan(manager.load(CONFIG, ENV))] == ["lx-functions-time"]
    stored = {s["identifier"]: s for s in raw.subscriptions()}
    assert set(stored) == {"someone-elses", "lx-functions-time"}
    assert stored["someone-elses"] == other


def test_subscriptions_without_identifier_are_listed_and_left_alone(
    client: LeanIXClient, raw: RawApi
) -> None:
    """A subscription someone created without an identifier does not break listing or
    planning: it is listed, and the plan neither manages nor touches it."""
    foreign = raw.call(
        "POST", SUBSCRIPTIONS_PATH, json={"deliveryType": "PULL", "ignoreError": True}
    )["data"]
    assert foreign["identifier"] is None
    listed = client.webhooks.list_subscriptions()
    assert [s.id for s in listed] == [foreign["id"]]
    manager = SubscriptionManager(client)
    plan = manager.plan(manager.load(CONFIG, ENV))
    assert [(c.identifier, c.action) for c in plan] == [("lx-functions-time", Action.CREATE)]
    manager.apply(plan)
    assert {s["identifier"] for s in raw.subscriptions()} == {None, "lx-functions-time"}
