"""Contract: webhook subscriptions as code (infra/leanix/webhooks.json) against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from lx_core.decisions.webhook_subscriptions import Action
from lx_core.jobs.webhook_subscriptions import SubscriptionManager
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
IDENTIFIERS = [
    "lx-functions-time",
    "lx-functions-creator-subscription",
    "lx-functions-archive-notice",
    "lx-functions-survey",
    "lx-functions-quality-seal-notice",
    "lx-functions-subscription-removed",
    "lx-functions-relay",
]


def _by_identifier(raw: RawApi) -> dict[str, Any]:
    return {s["identifier"]: s for s in raw.subscriptions()}


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
    """The first apply creates the subscriptions exactly as configured (placeholders filled,
    callback inlined); a second plan is all UNCHANGED and its apply writes nothing."""
    manager = SubscriptionManager(client)
    plan = manager.plan(manager.load(CONFIG, ENV))
    assert [(c.identifier, c.action) for c in plan] == [(i, Action.CREATE) for i in IDENTIFIERS]
    admin.clear_stats()
    applied = manager.apply(plan)
    assert _subscription_writes(admin) == {"POST " + SUBSCRIPTIONS_PATH: len(IDENTIFIERS)}

    stored = raw.subscriptions()
    assert len(stored) == len(IDENTIFIERS)
    sub = _by_identifier(raw)["lx-functions-time"]
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

    relay = _by_identifier(raw)["lx-functions-relay"]
    assert relay["deliveryType"] == "PULL" and ["integrations", "statistics"] in relay["tagSets"]
    replan = manager.plan(manager.load(CONFIG, ENV))
    assert {(c.action, c.changed_fields) for c in replan} == {(Action.UNCHANGED, ())}
    assert replan[0].existing_id == sub["id"]
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
    before = raw.subscriptions()
    original = _by_identifier(raw)["lx-functions-time"]
    drifted = {**original, "targetUrl": "https://attacker.example.org/hook"}
    raw.call("PUT", f"{SUBSCRIPTIONS_PATH}/{original['id']}", json=drifted)
    assert (
        _by_identifier(raw)["lx-functions-time"]["targetUrl"] == "https://attacker.example.org/hook"
    )

    plan = [c for c in manager.plan(manager.load(CONFIG, ENV)) if c.action is not Action.UNCHANGED]
    assert [(c.action, c.changed_fields, c.existing_id) for c in plan] == [
        (Action.UPDATE, ("targetUrl",), original["id"])
    ]
    admin.clear_stats()
    manager.apply(plan)
    assert _subscription_writes(admin) == {f"PUT {SUBSCRIPTIONS_PATH}/{{id}}": 1}
    assert raw.subscriptions() == before
    assert {c.action for c in manager.plan(manager.load(CONFIG, ENV))} == {Action.UNCHANGED}


def test_event_types_dropped_in_the_ui_are_repaired(client: LeanIXClient, raw: RawApi) -> None:
    """Editing a webhook in LeanIX's UI is known to drop non-standard event types: the next
    apply puts the tag sets back, and a second apply writes nothing."""
    manager = _apply_config(client)
    relay = _by_identifier(raw)["lx-functions-relay"]
    raw.call("PUT", f"{SUBSCRIPTIONS_PATH}/{relay['id']}", json={**relay, "tagSets": []})
    plan = [c for c in manager.plan(manager.load(CONFIG, ENV)) if c.action is Action.UPDATE]
    assert [(c.identifier, c.changed_fields) for c in plan] == [
        ("lx-functions-relay", ("tagSets",))
    ]
    manager.apply(plan)
    assert _by_identifier(raw)["lx-functions-relay"]["tagSets"] == relay["tagSets"]
    assert {c.action for c in manager.plan(manager.load(CONFIG, ENV))} == {Action.UNCHANGED}


def test_prune_is_the_only_way_to_delete_and_spares_other_teams(
    client: LeanIXClient, raw: RawApi
) -> None:
    manager = _apply_config(client)
    for ident in ("lx-functions-retired-handler", "other-team-hook"):
        raw.call(
            "POST",
            SUBSCRIPTIONS_PATH,
            json={"identifier": ident, "deliveryType": "PULL", "ignoreError": True},
        )
    desired = manager.load(CONFIG, ENV)
    assert Action.DELETE not in {c.action for c in manager.plan(desired)}
    pruning = manager.plan(desired, prune_prefix="lx-functions-")
    deletions = [c for c in pruning if c.action is Action.DELETE]
    assert [c.identifier for c in deletions] == ["lx-functions-retired-handler"]
    manager.apply(pruning)
    assert set(_by_identifier(raw)) == {*IDENTIFIERS, "other-team-hook"}


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
    assert [c.identifier for c in manager.plan(manager.load(CONFIG, ENV))] == IDENTIFIERS
    stored = {s["identifier"]: s for s in raw.subscriptions()}
    assert set(stored) == {"someone-elses", *IDENTIFIERS}
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
    assert [(c.identifier, c.action) for c in plan] == [(i, Action.CREATE) for i in IDENTIFIERS]
    manager.apply(plan)
    assert {s["identifier"] for s in raw.subscriptions()} == {None, *IDENTIFIERS}
