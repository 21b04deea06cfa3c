"""`lx webhooks plan|apply|status`, `lx handlers list` and `lx config plan|apply` against the
sandbox stack (emulator + functions host), whose subscriptions the stack registered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lx_cli.main import app
from lx_sandbox.stack import ROOT, SandboxStack

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
runner = CliRunner()
NO_SETTINGS = ["--settings", "/nonexistent/local.settings.json"]
SUBSCRIPTIONS = "/services/webhooks/v1/subscriptions"


def _env(stack: SandboxStack) -> dict[str, str]:
    return {
        k: v
        for k, v in stack.subscription_env().items()
        if k.startswith(("LEANIX_", "LX_", "TIME_"))
    }


def _writes(stack: SandboxStack) -> int:
    requests = stack.admin("GET", "/stats")["requests"]
    return sum(
        n
        for key, n in requests.items()
        if key.split(" ", 1)[0] in ("POST", "PUT", "DELETE") and SUBSCRIPTIONS in key
    )


def test_handlers_list_shows_every_route_and_how_it_stays_idempotent() -> None:
    result = runner.invoke(app, [*NO_SETTINGS, "handlers", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = {h["name"]: h for h in json.loads(result.output)}
    assert set(listed) == {
        "time",
        "creator-subscription",
        "archive-notice",
        "quality-seal-notice",
        "subscription-removed",
        "survey",
    }
    assert listed["survey"]["idempotency"] == "rereads"
    assert listed["subscription-removed"]["idempotency"] == "event_id"
    assert listed["subscription-removed"]["sequenceGuard"] is True
    assert listed["time"]["route"] == "/api/leanix/time" and listed["time"]["reconciles"]


def test_apply_is_idempotent_repairs_drift_and_only_prune_deletes(stack: SandboxStack) -> None:
    env = _env(stack)
    plan = runner.invoke(app, [*NO_SETTINGS, "webhooks", "plan"], env=env)
    assert plan.exit_code == 0, plan.output
    assert "lx-functions-archive-notice" in plan.output and "create" not in plan.output
    before = _writes(stack)
    again = runner.invoke(app, [*NO_SETTINGS, "webhooks", "apply"], env=env)
    assert again.exit_code == 0, again.output
    assert _writes(stack) == before, "a second apply writes nothing"

    # Someone edits a subscription in LeanIX's UI: its non-standard event types go.
    from lx_core import runtime

    webhooks = runtime.leanix_client().webhooks
    [relay] = webhooks.list_subscriptions("lx-functions-relay")
    webhooks.update(relay.model_copy(update={"tag_sets": [["integrations"]]}))
    stray = {"identifier": "lx-functions-retired", "deliveryType": "PULL", "ignoreError": True}
    runtime.leanix_client().request("POST", SUBSCRIPTIONS, json=stray, idempotent=False)

    repaired = runner.invoke(app, [*NO_SETTINGS, "webhooks", "apply"], env=env)
    assert repaired.exit_code == 0, repaired.output
    assert "tagSets" in repaired.output
    [fixed] = webhooks.list_subscriptions("lx-functions-relay")
    assert ["integrations", "statistics"] in fixed.tag_sets
    assert webhooks.list_subscriptions("lx-functions-retired"), "no --prune: nothing deleted"

    pruned = runner.invoke(app, [*NO_SETTINGS, "webhooks", "apply", "--prune"], env=env)
    assert pruned.exit_code == 0, pruned.output
    assert "delete" in pruned.output
    assert webhooks.list_subscriptions("lx-functions-retired") == []


def test_status_lists_every_declared_subscription_with_its_delivery_figures(
    stack: SandboxStack,
) -> None:
    # A delivery first, so the latest-delivery record (which LeanIX keeps with the request's
    # headers and target URL) is there to leak if the report did not filter it.
    stack.human_client().graphql.execute(
        "mutation ($i: BaseFactSheetInput!) { createFactSheet(input: $i) { factSheet { id } } }",
        {"i": {"name": "Status probe", "type": "Application"}},
    )
    assert stack.wait_for_deliveries()
    result = runner.invoke(app, [*NO_SETTINGS, "webhooks", "status", "--json"], env=_env(stack))
    assert result.exit_code == 0, result.output
    rows = {r["identifier"]: r for r in json.loads(result.output)}
    assert len(rows) == 7 and all(r["exists"] for r in rows.values())
    assert rows["lx-functions-relay"]["deliveryType"] == "PULL"
    latest = rows["lx-functions-creator-subscription"]["latestDelivery"]
    assert latest is not None, "the delivery happened"
    host = stack.host
    assert host is not None
    assert "sandbox-webhook-secret" not in result.output  # no secret in the report
    assert host.function_key not in result.output  # nor the function key of the target URL


def test_config_plan_covers_webhooks_and_processors_and_refuses_a_gap(
    stack: SandboxStack, tmp_path: Path
) -> None:
    env = _env(stack)
    plan = runner.invoke(app, [*NO_SETTINGS, "config", "plan"], env=env)
    assert plan.exit_code == 0, plan.output
    assert "webhook subscriptions: plan" in plan.output
    broken = tmp_path / "webhooks.json"
    doc = json.loads((ROOT / "infra/leanix/webhooks.json").read_text(encoding="utf-8"))
    for sub in doc["subscriptions"]:  # the copy lives elsewhere: point at the shipped callback
        if "callbackFile" in sub:
            sub["callbackFile"] = str(ROOT / "infra/leanix" / sub["callbackFile"])
    doc["subscriptions"] = [
        s for s in doc["subscriptions"] if s["identifier"] != "lx-functions-archive-notice"
    ]
    broken.write_text(json.dumps(doc), encoding="utf-8")
    refused = runner.invoke(app, [*NO_SETTINGS, "config", "plan", "--file", str(broken)], env=env)
    assert refused.exit_code == 2
    assert "handler archive-notice" in refused.output and "FACT_SHEET_ARCHIVED" in refused.output
