"""Webhook subscriptions as code: the config loader and the idempotent plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lx_core.decisions.webhook_subscriptions import Action, plan_subscriptions
from lx_core.errors import ConfigurationError
from lx_core.jobs.webhook_subscriptions import DEFAULT_FILE, load_desired

ENV = {
    "LX_FUNCTIONS_BASE_URL": "https://fn.example.net",
    "LX_FUNCTION_KEY": "k1",
    "LX_WEBHOOK_AUTHORIZATION": "Bearer s1",
}
ROOT = Path(__file__).resolve().parents[2]


def desired() -> list[dict[str, Any]]:
    return load_desired(ROOT / DEFAULT_FILE, ENV, workspace_id="ws-1")


def test_the_shipped_config_loads_with_placeholders_and_callback_filled() -> None:
    by_id = {s["identifier"]: s for s in desired()}
    sub, relay = by_id["lx-functions-time"], by_id["lx-functions-relay"]
    assert sub["identifier"] == "lx-functions-time"
    assert sub["targetUrl"] == "https://fn.example.net/api/leanix/time?code=k1"
    assert sub["authorizationHeader"] == "Bearer s1"
    assert sub["workspaceId"] == "ws-1"
    assert "delivery.active" in sub["callback"]
    assert ["pathfinder", "FACT_SHEET_UPDATED"] in sub["tagSets"]
    assert relay["identifier"] == "lx-functions-relay" and relay["deliveryType"] == "PULL"
    assert ["integrations", "statistics"] in relay["tagSets"]
    assert "targetUrl" not in relay


def test_missing_placeholders_are_named_together() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_desired(ROOT / DEFAULT_FILE, {"LX_FUNCTION_KEY": "k"}, workspace_id="ws")
    assert "LX_FUNCTIONS_BASE_URL" in str(info.value)
    assert "LX_WEBHOOK_AUTHORIZATION" in str(info.value)


def test_invalid_entries_name_the_subscription_and_field(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"subscriptions": [{"identifier": "x", "deliveryType": "SMOKE"}]}))
    with pytest.raises(ConfigurationError, match=r"subscription x: deliveryType"):
        load_desired(path, {}, workspace_id="ws")
    path.write_text("{")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        load_desired(path, {}, workspace_id="ws")


def test_plan_creates_then_reports_unchanged() -> None:
    want = desired()[:1]
    [create] = plan_subscriptions(want, [])
    assert create.action is Action.CREATE
    existing = [{**want[0], "id": "sub-1", "errorCount": 3}]
    [same] = plan_subscriptions(want, existing)
    assert same.action is Action.UNCHANGED and same.existing_id == "sub-1"


def test_plan_ignores_tag_set_order_but_sees_real_drift() -> None:
    want = desired()
    reordered = {**want[0], "id": "s", "tagSets": list(reversed(want[0]["tagSets"]))}
    assert plan_subscriptions(want, [reordered])[0].action is Action.UNCHANGED
    drifted = {**want[0], "id": "s", "targetUrl": "https://old", "active": False}
    change = plan_subscriptions(want, [drifted])[0]
    assert change.action is Action.UPDATE
    assert set(change.changed_fields) == {"targetUrl", "active"}


def test_unreadable_secret_is_unverifiable_unless_resent() -> None:
    want = desired()
    without_secret = {k: v for k, v in want[0].items() if k != "authorizationHeader"} | {"id": "s"}
    change = plan_subscriptions(want, [without_secret])[0]
    assert change.action is Action.UNCHANGED
    assert change.unverifiable_fields == ("authorizationHeader",)
    forced = plan_subscriptions(want, [without_secret], resend_secrets=True)[0]
    assert forced.action is Action.UPDATE and forced.changed_fields == ("authorizationHeader",)


def test_plan_refuses_ambiguity() -> None:
    want = desired()
    with pytest.raises(ConfigurationError, match="several"):
        plan_subscriptions(want, [{**want[0], "id": "a"}, {**want[0], "id": "b"}])
    with pytest.raises(ConfigurationError, match="twice"):
        plan_subscriptions(want + want, [])


def test_the_shipped_config_carries_every_handler_and_only_handlers() -> None:
    from lx_core.decisions.webhook_coverage import coverage_problems
    from lx_core.handlers.specs import SPECS

    assert coverage_problems(SPECS, desired()) == []


def test_a_handler_without_a_subscription_and_a_subscription_without_a_handler_are_errors() -> None:
    from lx_core.decisions.webhook_coverage import coverage_problems
    from lx_core.handlers.specs import SPECS

    subs = [s for s in desired() if s["identifier"] != "lx-functions-archive-notice"]
    time_sub = next(s for s in subs if s["identifier"] == "lx-functions-time")
    time_sub["tagSets"] = [["pathfinder", "FACT_SHEET_CREATED"]]
    stray = {**time_sub, "identifier": "stray", "targetUrl": "https://fn/api/leanix/nothing"}
    problems = coverage_problems(SPECS, [*subs, stray])
    assert problems == [
        "subscription stray targets leanix/nothing, which no handler serves",
        "handler time (route leanix/time) receives no subscription carrying "
        "[pathfinder, FACT_SHEET_UPDATED]",
        "handler archive-notice (route leanix/archive-notice) receives no subscription carrying "
        "[pathfinder, FACT_SHEET_ARCHIVED]",
    ]


def test_tag_sets_count_as_sets_and_only_on_a_subscription_that_can_deliver() -> None:
    """[["pathfinder"], ["FACT_SHEET_ARCHIVED"]] holds both tags but matches other events
    (either tag alone); an inactive or GET subscription delivers nothing."""
    from lx_core.decisions.webhook_coverage import coverage_problems
    from lx_core.handlers.specs import SPECS

    def with_archive(**changes: object) -> list[dict[str, Any]]:
        subs = desired()
        archive = next(s for s in subs if s["identifier"] == "lx-functions-archive-notice")
        archive.update(changes)
        return subs

    spread = with_archive(tagSets=[["pathfinder"], ["FACT_SHEET_ARCHIVED"]])
    assert [p for p in coverage_problems(SPECS, spread) if "archive-notice" in p] == [
        "handler archive-notice (route leanix/archive-notice) receives no subscription carrying "
        "[pathfinder, FACT_SHEET_ARCHIVED]"
    ]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"active": False}, "is not active"),
        ({"targetMethod": "GET"}, "uses GET; the handlers answer POST only"),
    ]
    for changes, why in cases:
        problems = coverage_problems(SPECS, with_archive(**changes))
        assert (
            f"subscription lx-functions-archive-notice for handler archive-notice {why}" in problems
        )


def test_prune_deletes_only_undeclared_subscriptions_with_the_prefix() -> None:
    from lx_core.decisions.webhook_subscriptions import plan_prune

    want = desired()
    existing = [
        {"id": "1", "identifier": "lx-functions-time"},
        {"id": "2", "identifier": "lx-functions-old-handler"},
        {"id": "3", "identifier": "other-team-webhook"},
        {"id": "4"},
        {"id": "5", "identifier": "lx-functions-elsewhere", "workspaceId": "other-ws"},
    ]
    pruned = plan_prune(want, existing, prefix="lx-functions-", workspace_id="ws-1")
    assert [c.existing_id for c in pruned] == ["2"]
    # "" widens the prefix, never the scope: no identifier-less or other workspace's deletes.
    pruned = plan_prune(want, existing, prefix="", workspace_id="ws-1")
    assert [c.existing_id for c in pruned] == ["2", "3"]
