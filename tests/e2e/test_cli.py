"""The `lx` CLI against the sandbox: the demo, `up`, config plan/apply and the reconcile."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lx_cli.main import app
from lx_sandbox.stack import SandboxStack

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
runner = CliRunner()
NO_SETTINGS = ["--settings", "/nonexistent/local.settings.json"]


def test_demo_runs_end_to_end_and_reports_counts() -> None:
    result = runner.invoke(app, [*NO_SETTINGS, "sandbox", "demo"])
    assert result.exit_code == 0, result.output
    assert "8/8 re-tagged" in result.output
    assert "TIME tags: before → after" in result.output
    assert "reconcile: failed" in result.output
    assert "Everything the demo started has stopped." in result.output


def test_up_prints_urls_and_stops_by_itself() -> None:
    result = runner.invoke(app, [*NO_SETTINGS, "sandbox", "up", "--for", "0.2"])
    assert result.exit_code == 0, result.output
    assert "LeanIX emulator : http://127.0.0.1:" in result.output
    assert "export LEANIX_HOST=" in result.output
    assert result.output.rstrip().endswith("stopped")


def test_config_apply_is_idempotent_and_reconcile_reports(stack: SandboxStack) -> None:
    env = {
        k: v
        for k, v in stack.subscription_env().items()
        if k.startswith(("LEANIX_", "LX_", "TIME_"))
    }
    plan = runner.invoke(app, [*NO_SETTINGS, "config", "plan"], env=env)
    assert plan.exit_code == 0, plan.output
    assert "lx-functions-time" in plan.output and "unchanged" in plan.output
    before = stack.admin("GET", "/stats")["requests"]
    applied = runner.invoke(app, [*NO_SETTINGS, "config", "apply"], env=env)
    assert applied.exit_code == 0, applied.output
    after = stack.admin("GET", "/stats")["requests"]
    writes = [
        k for k in after if k.startswith(("POST /services/webhooks", "PUT /services/webhooks"))
    ]
    assert all(after[k] == before.get(k, 0) for k in writes)

    dry = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    summary = json.loads(dry.output[dry.output.index("{") :])
    assert summary["dry_run"] is True and summary["examined"] == 50 and summary["changed"] > 0
    real = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile", "--json"], env=env)
    assert real.exit_code == 0, real.output
    again = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile", "--json"], env=env)
    assert json.loads(again.output[again.output.index("{") :])["changed"] == 0


def test_missing_setting_is_named_and_exits_nonzero(tmp_path: Path) -> None:
    env = {k: "" for k in os.environ if k.startswith(("LEANIX_", "TIME_", "LX_"))}
    result = runner.invoke(app, ["--settings", str(tmp_path / "none.json"), "whoami"], env=env)
    assert result.exit_code == 2
    assert "LEANIX_API_TOKEN" in result.output
