"""End to end: a LeanIX edit → PUSH webhook → local functions host → TIME function → LeanIX.

Everything crosses real HTTP; assertions read the emulator's state through its admin API.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from lx_core.leanix.graphql import Patch
from lx_sandbox.stack import SandboxStack, StackOptions

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

EXPECTED = {
    ("perfect", "fullyAppropriate"): "Invest",
    ("insufficient", "adequate"): "Tolerate",
    ("appropriate", "unreasonable"): "Migrate",
    ("unreasonable", "inappropriate"): "Eliminate",
}


def time_tags(stack: SandboxStack, fs_id: str) -> list[str]:
    names = stack.tag_names()
    fs = stack.admin("GET", f"/factsheets/{fs_id}")
    return [names[t][1] for t in fs["tagIds"] if names.get(t, ("", ""))[0] == "TIME Model"]


def other_tags(stack: SandboxStack, fs_id: str) -> list[str]:
    names = stack.tag_names()
    fs = stack.admin("GET", f"/factsheets/{fs_id}")
    return sorted(t for t in fs["tagIds"] if names.get(t, ("", ""))[0] != "TIME Model")


def pick_app(stack: SandboxStack, *, not_tagged: str) -> dict[str, Any]:
    """An active Application without that TIME tag whose fits differ from the ones giving it."""
    target = next(fits for fits, tag in EXPECTED.items() if tag == not_tagged)
    for app in stack.applications():
        fits = (
            app["values"].get("functionalSuitability"),
            app["values"].get("technicalSuitability"),
        )
        if (
            app["status"] == "ACTIVE"
            and fits != target
            and not_tagged not in time_tags(stack, app["id"])
        ):
            return app
    raise AssertionError("no suitable Application in the fixture")


def edit_fits(stack: SandboxStack, fs_id: str, functional: str, technical: str) -> None:
    human = stack.human_client()
    current = human.graphql.get_fact_sheet(fs_id, "id rev")
    assert current is not None
    human.graphql.update_fact_sheet(
        fs_id,
        [
            Patch(op="replace", path="/functionalSuitability", value=functional),
            Patch(op="replace", path="/technicalSuitability", value=technical),
        ],
        rev=current["rev"],
    )


def technical_writes(stack: SandboxStack) -> int:
    """updateFactSheet mutations executed so far (the emulator counts every one)."""
    return int(stack.admin("GET", "/stats")["graphql"]["updateFactSheet"])


@pytest.mark.parametrize(("fits", "tag"), sorted(EXPECTED.items()))
def test_edit_is_tagged_through_the_webhook(
    stack: SandboxStack, fits: tuple[str, str], tag: str
) -> None:
    app = pick_app(stack, not_tagged=tag)
    others = other_tags(stack, app["id"])
    edit_fits(stack, app["id"], *fits)
    assert stack.wait_until(lambda: time_tags(stack, app["id"]) == [tag], timeout=15)
    assert other_tags(stack, app["id"]) == others
    assert stack.wait_for_deliveries(15)
    deliveries = stack.admin("GET", "/deliveries")["deliveries"]
    assert deliveries and all(d["success"] for d in deliveries)


def test_own_write_does_not_loop(stack: SandboxStack) -> None:
    app = pick_app(stack, not_tagged="Invest")
    before = technical_writes(stack)
    edit_fits(stack, app["id"], "perfect", "fullyAppropriate")
    assert stack.wait_until(lambda: time_tags(stack, app["id"]) == ["Invest"], timeout=15)
    assert stack.wait_for_deliveries(15)
    # One human edit + one TIME write; the event of our own write is delivered and ignored.
    assert technical_writes(stack) - before == 2
    bodies = [d.get("responseBody") or "" for d in stack.admin("GET", "/deliveries")["deliveries"]]
    assert any("own write" in b for b in bodies)


def test_irrelevant_change_is_ignored_without_a_write(stack: SandboxStack) -> None:
    """A description edit on a correctly tagged Application costs the function a read, no write."""
    app = pick_app(stack, not_tagged="Tolerate")
    edit_fits(stack, app["id"], "insufficient", "adequate")
    assert stack.wait_until(lambda: time_tags(stack, app["id"]) == ["Tolerate"], timeout=15)
    assert stack.wait_for_deliveries(15)
    human = stack.human_client()
    current = human.graphql.get_fact_sheet(app["id"], "id rev")
    assert current is not None
    before = technical_writes(stack)
    human.graphql.update_fact_sheet(
        app["id"], [Patch(op="replace", path="/description", value="e2e")], rev=current["rev"]
    )
    assert stack.wait_for_deliveries(15)
    assert technical_writes(stack) - before == 1  # the human's edit only
    assert time_tags(stack, app["id"]) == ["Tolerate"]


def test_wrong_authorization_header_changes_nothing(stack: SandboxStack) -> None:
    client = stack.human_client()
    [sub] = [s for s in client.webhooks.list_subscriptions() if s.identifier == "lx-functions-time"]
    wrong = sub.model_copy(update={"authorization_header": None})
    body = {**wrong.to_api(), "authorizationHeader": "Bearer not-the-secret", "ignoreError": True}
    client.webhooks.update(type(sub).model_validate(body))
    app = pick_app(stack, not_tagged="Eliminate")
    tags_before = time_tags(stack, app["id"])
    before = technical_writes(stack)
    edit_fits(stack, app["id"], "unreasonable", "inappropriate")
    assert stack.wait_for_deliveries(15)
    deliveries = stack.admin("GET", "/deliveries")["deliveries"]
    assert deliveries and all(d["httpStatus"] == 401 for d in deliveries)
    assert time_tags(stack, app["id"]) == tags_before
    assert technical_writes(stack) - before == 1  # only the human edit


def test_missing_function_key_is_rejected_by_the_host(stack: SandboxStack) -> None:
    response = requests.post(
        f"{stack.host_url}/api/leanix/time",
        json={"type": "FactSheetUpdatedEvent"},
        headers={"Authorization": stack.options.webhook_secret},
        timeout=10,
    )
    assert response.status_code == 401


def test_leanix_outage_is_redelivered_until_it_succeeds() -> None:
    """Nothing is lost: while Pathfinder fails the function answers 503 and LeanIX redelivers.

    The first delivery is failed by the emulator itself, which leaves time to switch the
    Pathfinder outage on after the human's edit and before the function's first real attempt.
    """
    options = StackOptions(
        emulator={"delivery_backoff_seconds": 0.5, "delivery_max_attempts": 6},
        app_settings={"LEANIX_MAX_RETRIES": "0"},
    )
    with SandboxStack(options) as stack:
        stack.register_subscriptions()
        app = pick_app(stack, not_tagged="Migrate")
        stack.admin("PUT", "/faults", json={"delivery": {"failNext": 1, "failStatus": 500}})
        edit_fits(stack, app["id"], "appropriate", "unreasonable")
        stack.admin(
            "POST",
            "/faults/rules",
            json={"pathPrefix": "/services/pathfinder", "status": 503, "count": 2},
        )
        assert stack.wait_until(lambda: time_tags(stack, app["id"]) == ["Migrate"], timeout=30)
        statuses = [d["httpStatus"] for d in stack.admin("GET", "/deliveries")["deliveries"]]
        assert statuses.count(503) == 2 and 200 in statuses


def test_nightly_reconcile_fires_through_the_host_admin_api(stack: SandboxStack) -> None:
    assert stack.host is not None
    wrong = [
        a
        for a in stack.applications()
        if a["status"] == "ACTIVE"
        and a["values"].get("functionalSuitability")
        and a["values"].get("technicalSuitability")
    ]
    response = requests.post(
        f"{stack.host_url}/admin/functions/time_reconcile",
        json={"input": ""},
        headers={"x-functions-key": stack.host.master_key},
        timeout=10,
    )
    assert response.status_code == 202
    host = stack.host
    assert stack.wait_until(
        lambda: any(r.name == "time_reconcile" and r.status == "ok" for r in host.invocations),
        timeout=30,
    )
    for app in wrong:
        fits = (app["values"]["functionalSuitability"], app["values"]["technicalSuitability"])
        assert len(time_tags(stack, app["id"])) == 1, app["name"]
        if fits in EXPECTED:
            assert time_tags(stack, app["id"]) == [EXPECTED[fits]]
