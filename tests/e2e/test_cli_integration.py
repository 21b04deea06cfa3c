"""`lx connectors`, `lx processors` and `lx sync` against the emulator, the source API and
Azurite: validate, lint, plan/apply (a second apply writes nothing), run --wait, list, status,
stop."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lx_cli.main import app
from tests.e2e.conftest import EXAMPLES, SyncWorld

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
runner = CliRunner()
NO_SETTINGS = ["--settings", "/nonexistent/local.settings.json"]


def lx(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*NO_SETTINGS, *args])
    return result.exit_code, result.output


def _broken_copy(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES.parent, tmp_path / "leanix")
    connectors = tmp_path / "leanix" / "connectors"
    doc = json.loads((connectors / "applications-import.json").read_text())
    doc["schedule"] = "nightly"
    (connectors / "applications-import.json").write_text(json.dumps(doc))
    return connectors


def test_connectors_validate_passes_on_the_examples_and_names_a_broken_file(
    tmp_path: Path,
) -> None:
    code, output = lx("connectors", "validate", "--dir", str(EXAMPLES))
    assert code == 0, output
    assert "ok       applications-import" in output
    connectors = _broken_copy(tmp_path)
    code, output = lx("connectors", "validate", "--dir", str(connectors), "--json")
    assert code == 1
    report = json.loads(output)
    assert report["valid"] == ["applications-export"]
    [invalid] = report["invalid"]
    assert invalid["file"].endswith("applications-import.json")
    assert invalid["path"] == "$.schedule"


def test_processors_lint_fails_on_a_file_that_does_not_load(tmp_path: Path) -> None:
    connectors = _broken_copy(tmp_path)
    code, output = lx("processors", "lint", "--dir", str(connectors), "--json")
    assert code == 1
    [finding] = [f for f in json.loads(output) if f["severity"] == "error"]
    assert finding["file"].endswith("applications-import.json")
    assert finding["path"] == "$.schedule"


def test_processors_lint_fails_on_errors_and_on_warnings_with_strict(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES.parent, tmp_path / "leanix")
    processors = tmp_path / "leanix" / "processors" / "applications-import.json"
    doc = json.loads(processors.read_text())
    doc["connectorVersion"] = "v1"
    doc["processors"][0]["updates"][3]["values"].pop()  # drop the catch-all
    processors.write_text(json.dumps(doc))
    connector = tmp_path / "leanix" / "connectors" / "applications-import.json"
    spec = json.loads(connector.read_text())
    spec["connector"]["connectorVersion"] = "v1"
    connector.write_text(json.dumps(spec))
    code, output = lx("processors", "lint", "--dir", str(connector.parent), "--json")
    assert code == 1
    rules = {(f["rule"], f["severity"]) for f in json.loads(output)}
    assert ("version-format", "error") in rules
    assert ("catch-all-mapping", "warning") in rules
    code, _ = lx("processors", "lint", "--dir", str(EXAMPLES))
    assert code == 0
    code, _ = lx("processors", "lint", "--dir", str(EXAMPLES), "--strict")
    assert code == 0


def test_processors_plan_then_apply_then_nothing_to_apply(sync_world: SyncWorld) -> None:
    code, output = lx("processors", "plan", "--dir", str(EXAMPLES))
    assert code == 0, output
    assert output.count("would change") == 2
    code, output = lx("processors", "apply", "--dir", str(EXAMPLES))
    assert code == 0, output
    assert "2 written, 0 unchanged" in output
    code, output = lx("processors", "apply", "--dir", str(EXAMPLES))
    assert code == 0, output
    assert "0 written, 2 unchanged" in output
    stored = sync_world.admin("/integration/configurations")["configurations"]
    assert len(stored) == 2


def test_processors_plan_shows_a_changed_key(sync_world: SyncWorld, tmp_path: Path) -> None:
    assert lx("processors", "apply", "--dir", str(EXAMPLES))[0] == 0
    shutil.copytree(EXAMPLES.parent, tmp_path / "leanix")
    processors = tmp_path / "leanix" / "processors" / "applications-export.json"
    doc = json.loads(processors.read_text())
    doc["processors"][0]["fields"] = ["name"]
    processors.write_text(json.dumps(doc))
    code, output = lx("processors", "plan", "--dir", str(tmp_path / "leanix" / "connectors"))
    assert code == 0, output
    assert "applications-export" in output and "fields" in output
    assert "= applications-import" in output


def test_sync_run_wait_reports_the_outcome_and_list_shows_it(sync_world: SyncWorld) -> None:
    code, output = lx("sync", "run", "applications-import", "--wait", "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["action"] == "finished"
    assert report["outcome"]["status"] == "FINISHED"
    assert report["outcome"]["processed"] == 25
    code, output = lx("sync", "list", "--json")
    assert code == 0, output
    rows = {row["name"]: row for row in json.loads(output)}
    assert rows["applications-import"]["lastOutcome"]["status"] == "FINISHED"
    assert rows["applications-import"]["runId"] is None
    assert rows["applications-export"]["lastOutcome"] is None
    code, output = lx("sync", "status", report["run_id"], "--json")
    assert code == 0, output
    assert json.loads(output)["status"] == "FINISHED"


def test_sync_run_test_changes_nothing(sync_world: SyncWorld) -> None:
    before = sync_world.admin("/factsheets", type="Application", limit=1000)["factSheets"]
    code, output = lx("sync", "run", "applications-import", "--test", "--wait", "--json")
    assert code == 0, output
    assert json.loads(output)["outcome"]["test"] is True
    after = sync_world.admin("/factsheets", type="Application", limit=1000)["factSheets"]
    assert after == before


def test_sync_stop_ends_an_open_run_as_stopped_and_failed(sync_world: SyncWorld) -> None:
    code, output = lx("sync", "run", "applications-export", "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["action"] == "watching"
    code, output = lx("sync", "stop", report["run_id"])
    assert code == 0, output
    code, output = lx("sync", "run", "applications-export", "--wait", "--json")
    assert code == 1, output  # STOPPED is a failure by the connector's policy
    assert json.loads(output)["outcome"]["status"] == "STOPPED"


def test_sync_run_of_an_unknown_connector_is_a_clear_error(sync_world: SyncWorld) -> None:
    code, output = lx("sync", "run", "nope")
    assert code == 2
    assert "no valid connector named 'nope'" in output
