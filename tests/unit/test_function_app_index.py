"""What the Functions worker will index: routes, methods, auth levels, timer schedules, retries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.indexed_app import indexed_functions


def _bindings(name: str) -> list[dict[str, Any]]:
    raw = json.loads(indexed_functions()[name].get_function_json())
    return list(raw["bindings"])


def test_exactly_the_expected_functions_are_registered() -> None:
    assert set(indexed_functions()) == {
        "time_webhook",
        "creator_subscription_webhook",
        "archive_notice_webhook",
        "quality_seal_notice_webhook",
        "subscription_removed_webhook",
        "survey_webhook",
        "time_reconcile",
        "time_reconcile_resume",
        "relay",
        "survey_scoring",
        "metrics_snapshot",
        "quality_reminders",
    }


@pytest.mark.parametrize(
    ("name", "route"),
    [
        ("time_webhook", "leanix/time"),
        ("creator_subscription_webhook", "leanix/creator-subscription"),
        ("archive_notice_webhook", "leanix/archive-notice"),
        ("subscription_removed_webhook", "leanix/subscription-removed"),
    ],
)
def test_every_handler_has_a_post_route_behind_a_function_key(name: str, route: str) -> None:
    trigger = next(b for b in _bindings(name) if b["type"] == "httpTrigger")
    assert (trigger["route"], trigger["methods"], trigger["authLevel"]) == (
        route,
        ["POST"],
        "FUNCTION",
    )


def test_the_relay_ticks_every_minute_unless_an_app_setting_says_otherwise() -> None:
    trigger = next(b for b in _bindings("relay") if b["type"] == "timerTrigger")
    assert trigger["schedule"] == "0 */1 * * * *"
    assert trigger["runOnStartup"] is False


def test_time_webhook_route_method_and_auth_level() -> None:
    trigger = next(b for b in _bindings("time_webhook") if b["type"] == "httpTrigger")
    assert trigger["route"] == "leanix/time"
    assert trigger["methods"] == ["POST"]
    assert trigger["authLevel"] == "FUNCTION"


def test_time_reconcile_schedule_comes_from_an_app_setting_with_retry() -> None:
    fn = indexed_functions()["time_reconcile"]
    trigger = next(b for b in _bindings("time_reconcile") if b["type"] == "timerTrigger")
    assert trigger["schedule"] == "%TIME_RECONCILE_SCHEDULE%"
    assert trigger["runOnStartup"] is False
    policy = fn.get_settings_dict("retry_policy")
    assert policy is not None
    assert policy["strategy"] == "exponential_backoff"
    assert policy["max_retry_count"] == "2"


def test_time_reconcile_resume_runs_on_its_own_schedule() -> None:
    trigger = next(b for b in _bindings("time_reconcile_resume") if b["type"] == "timerTrigger")
    assert trigger["schedule"] == "%TIME_RECONCILE_RESUME_SCHEDULE%"
    assert trigger["runOnStartup"] is False


def test_importing_the_app_loads_no_leanix_client_code() -> None:
    """Cold start: lx_core's client (requests, pydantic) is imported lazily, at first call.
    Indexing reads only the handler specs, a standard-library module (and the error tree)."""
    import subprocess
    import sys

    probe = (
        "import sys, function_app; "
        "print(sorted(m for m in sys.modules if m.startswith(('lx_core', 'pydantic', 'requests'))))"
    )
    out = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == str(
        ["lx_core", "lx_core.errors", "lx_core.handlers", "lx_core.handlers.specs"]
    )
