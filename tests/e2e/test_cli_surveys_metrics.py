"""`lx surveys list|score`, `lx metrics snapshot|show` and `lx quality report` against the
sandbox stack (the shipped scoring model and quality file; state on Azurite)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from lx_cli.main import app
from lx_core import runtime
from lx_core.notify.outbox import NOTICES
from lx_sandbox.azurite import Azurite
from lx_sandbox.stack import SandboxStack, StackOptions

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
runner = CliRunner()
NO_SETTINGS = ["--settings", "/nonexistent/local.settings.json"]
QUESTIONS = [
    {"id": "containerised", "type": "SINGLE_CHOICE", "label": "Containerised?",
     "options": [{"id": "c-yes", "label": "Yes"}, {"id": "c-odd", "label": "Maybe"}]},
    {"id": "statefulness", "type": "SINGLE_CHOICE", "label": "State?",
     "options": [{"id": "s-none", "label": "Stateless"}]},
    {"id": "dependencies", "type": "NUMBER", "label": "Dependencies"},
]  # fmt: skip


@pytest.fixture(scope="module")
def stack(azurite: Azurite) -> Iterator[SandboxStack]:
    options = StackOptions(state_connection_string=azurite.connection_string)
    with SandboxStack(options) as running:
        poll = running.admin(
            "POST", "/surveys/polls", json={"title": "Cloud Readiness", "questions": QUESTIONS}
        )
        apps = [a["id"] for a in running.applications()[:3]]
        run = running.admin(
            "POST", "/surveys/runs", json={"pollId": poll["id"], "factSheetIds": apps}
        )
        for fs_id, choice in ((apps[0], "c-yes"), (apps[1], "c-odd")):
            answers = [
                {"questionId": "containerised", "value": choice},
                {"questionId": "statefulness", "value": "s-none"},
                {"questionId": "dependencies", "value": 1},
            ]
            body = {"pollRunId": run["id"], "factSheetId": fs_id, "answers": answers,
                    "emitEvent": False}  # fmt: skip
            running.admin("POST", "/surveys/results", json=body)
        yield running


def _lx(*args: str) -> Any:
    result = runner.invoke(app, [*NO_SETTINGS, *args])
    assert result.exit_code == 0, result.output
    return result


def _json(*args: str) -> Any:
    return json.loads(_lx(*args, "--json").stdout)


def test_surveys_list_shows_runs_submitted_counts_and_the_model(stack: SandboxStack) -> None:
    surveys = _json("surveys", "list")["surveys"]
    mine = next(s for s in surveys if s["title"] == "Cloud Readiness")
    assert mine["model"] == 1
    assert [(r["status"], r["submitted"], r["results"]) for r in mine["runs"]] == [
        ("STARTED", 2, 3)
    ]


def test_surveys_score_dry_run_writes_nothing_then_scores_and_lists_the_unscorable(
    stack: SandboxStack,
) -> None:
    before = stack.admin("GET", "/stats")["graphql"]["updateFactSheet"]
    dry = _json("surveys", "score", "Cloud Readiness", "--dry-run")
    assert dry["dryRun"] is True and dry["changed"] == 1 and dry["unscorable"] == 1
    assert stack.admin("GET", "/stats")["graphql"]["updateFactSheet"] == before
    done = _json("surveys", "score", "Cloud Readiness")
    assert (done["results"], done["changed"], done["unscorable"], done["skipped"]) == (3, 1, 1, 1)
    (bad,) = done["unscorableResults"]
    assert bad["reason"] == "question 'containerised': the model gives no points for 'Maybe'"
    again = _json("surveys", "score", "Cloud Readiness")
    assert again["changed"] == 0 and again["unchanged"] == 1
    table = _lx("surveys", "score", "Cloud Readiness").output
    assert "3 results under model v1: 0 changed, 1 unchanged, 1 unscorable" in table


def test_surveys_score_names_the_models_when_the_survey_has_none(stack: SandboxStack) -> None:
    result = runner.invoke(app, [*NO_SETTINGS, "surveys", "score", "No such survey"])
    assert result.exit_code == 2
    assert "no scoring model names the survey 'No such survey'" in result.output
    assert "Cloud Readiness" in result.output


def test_metrics_snapshot_then_show_and_a_rerun_writes_nothing(stack: SandboxStack) -> None:
    dry = _json("metrics", "snapshot", "--dry-run", "--date", "2026-01-05")
    assert dry["dryRun"] and set(dry["written"]["lxDataQuality"].values()) == {"dry"}
    assert runtime.leanix_client().metrics.schema("lxDataQuality") is None
    first = _json("metrics", "snapshot")
    assert set(first["written"]["lxDataQuality"].values()) == {"posted"}
    second = _json("metrics", "snapshot")
    assert set(second["written"]["lxDataQuality"].values()) == {"unchanged"}
    shown = _json("metrics", "show", "lxDataQuality", "--metric", "count", "--days", "3")
    apps = next(t for t in first["types"] if t["factSheetType"] == "Application")
    assert shown["series"]["Application"][-1] == apps["count"] and len(shown["days"]) == 3
    assert "Application" in _lx("metrics", "show", "lxDataQuality").output
    for bad in (["metrics", "show", "nope"], ["metrics", "snapshot", "--date", "3 Dec"]):
        assert runner.invoke(app, [*NO_SETTINGS, *bad]).exit_code == 2


def test_quality_report_in_every_format_sends_nothing(stack: SandboxStack) -> None:
    rows = list(csv.reader(io.StringIO(_lx("quality", "report", "--format", "csv").stdout)))
    assert rows[0][:2] == ["owner", "fact sheets"] and "app-description" in rows[0]
    assert any(r[0] == "jane.doe@example.com" for r in rows[1:])
    markdown = _lx("quality", "report", "--format", "md", "--by", "organization").stdout
    assert markdown.splitlines()[0].startswith("| organization | fact sheets |")
    assert "Finance" in markdown
    assert "data-quality gaps by owner" in _lx("quality", "report").output
    store = runtime.state_store()
    assert store is not None and store.list(NOTICES) == []
