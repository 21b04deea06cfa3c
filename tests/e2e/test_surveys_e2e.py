"""Survey scoring end to end over real HTTP: a result submitted in the emulator → the survey
event → PUSH to the local functions host → lx_core → the score field, the band tag, the
explanation comment and a Metrics v2 point on LeanIX's side; the timer finds results no event
announced; a workspace with only Poll API v2; faults on the way. State on Azurite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from lx_core import runtime
from lx_core.jobs.survey_scoring import SurveyScorer
from lx_sandbox.azurite import Azurite
from lx_sandbox.stack import SandboxStack, StackOptions

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

ROOT = Path(__file__).resolve().parents[2]
MODEL = json.loads((ROOT / "infra/leanix/scoring/cloud-readiness.json").read_text())
QUESTIONS = [
    {
        "id": "containerised",
        "type": "SINGLE_CHOICE",
        "label": "Is it containerised?",
        "options": [
            {"id": "c-yes", "label": "Yes"},
            {"id": "c-partly", "label": "Partly"},
            {"id": "c-no", "label": "No"},
        ],
    },
    {
        "id": "statefulness",
        "type": "SINGLE_CHOICE",
        "label": "Where is its state?",
        "options": [
            {"id": "s-none", "label": "Stateless"},
            {"id": "s-ext", "label": "External state"},
            {"id": "s-local", "label": "Local state"},
            {"id": "s-odd", "label": "Somewhere else"},
        ],
    },
    {"id": "dependencies", "type": "NUMBER", "label": "How many dependencies?", "options": []},
]
READ = """query ($id: ID!) { factSheet(id: $id) { id rev tags { name tagGroup { name } }
  ... on Application { cloudReadinessScore }
  comments { edges { node { id message } } } } }"""


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("scoring")
    (directory / "cloud-readiness.json").write_text(json.dumps(MODEL))
    return directory


@pytest.fixture(scope="module")
def stack(azurite: Azurite, models: Path) -> Iterator[SandboxStack]:
    options = StackOptions(
        emulator={"delivery_backoff_seconds": 0.1, "delivery_max_attempts": 5},
        state_connection_string=azurite.connection_string,
        app_settings={"LX_SURVEY_MODELS_DIR": str(models)},
    )
    with SandboxStack(options) as running:
        running.register_subscriptions()
        yield running


@pytest.fixture(scope="module")
def survey(stack: SandboxStack) -> dict[str, Any]:
    poll = stack.admin(
        "POST", "/surveys/polls", json={"title": "Cloud Readiness", "questions": QUESTIONS}
    )
    apps = [a["id"] for a in stack.applications()[:6]]
    run = stack.admin("POST", "/surveys/runs", json={"pollId": poll["id"], "factSheetIds": apps})
    return {"poll": poll, "run": run, "apps": apps}


def _submit(
    stack: SandboxStack,
    survey: dict[str, Any],
    fs_id: str,
    answers: dict[str, Any],
    *,
    event: bool = True,
) -> dict[str, Any]:
    body = {
        "pollRunId": survey["run"]["id"],
        "factSheetId": fs_id,
        "answers": [{"questionId": k, "value": v} for k, v in answers.items()],
        "emitEvent": event,
    }
    return dict(stack.admin("POST", "/surveys/results", json=body))


def _read(stack: SandboxStack, fs_id: str) -> dict[str, Any]:
    return dict(runtime.leanix_client().graphql.execute(READ, {"id": fs_id})["factSheet"])


def _band(node: dict[str, Any]) -> list[str]:
    return [t["name"] for t in node["tags"] if t["tagGroup"]["name"] == "Cloud Readiness"]


def _metric_points(stack: SandboxStack, fs_id: str) -> list[dict[str, Any]]:
    schemas = stack.admin("GET", "/metrics")["schemas"]
    found = [s for s in schemas if s["name"] == "cloudReadinessScore"]
    return [p for s in found for p in s["points"] if p.get("factSheetId") == fs_id]


def _scorer() -> SurveyScorer:
    return runtime.survey_scorer()


def _post(stack: SandboxStack, event: dict[str, Any]) -> requests.Response:
    host = stack.host
    assert host is not None
    return requests.post(
        f"{host.url}/api/leanix/survey",
        params={"code": host.function_key},
        headers={"Authorization": stack.options.webhook_secret},
        json=event,
        timeout=30,
    )


def _last_event(stack: SandboxStack, result_id: str) -> dict[str, Any]:
    events = stack.admin("GET", "/events", params={"tag": "POLL_RESULT_UPDATED", "limit": 100000})[
        "events"
    ]
    found = [e["event"] for e in events if e["event"]["payload"].get("pollResultId") == result_id]
    assert found
    return dict(found[-1])


def test_a_submitted_result_is_scored_through_its_event_and_a_duplicate_writes_nothing(
    stack: SandboxStack, survey: dict[str, Any]
) -> None:
    fs_id = survey["apps"][0]
    result = _submit(
        stack, survey, fs_id, {"containerised": "c-yes", "statefulness": "s-ext", "dependencies": 2}
    )
    assert stack.wait_for_deliveries()
    node = _read(stack, fs_id)
    # (2*10 + 6 + 10) / 40 = 90
    assert node["cloudReadinessScore"] == 90
    assert _band(node) == ["High"]
    messages = [e["node"]["message"] for e in node["comments"]["edges"]]
    assert len(messages) == 1 and "Score 90 of 100, band High" in messages[0]
    assert "containerised: Yes → 10 of 10 points, weight 2" in messages[0]
    assert [p["score"] for p in _metric_points(stack, fs_id)] == [90]

    stats_before = stack.admin("GET", "/stats")
    again = _post(stack, _last_event(stack, result["id"]))
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "unchanged"
    after = _read(stack, fs_id)
    assert after["rev"] == node["rev"] and after["comments"] == node["comments"]
    assert len(_metric_points(stack, fs_id)) == 1
    assert stack.admin("GET", "/stats")["noopWrites"] == stats_before["noopWrites"]


def test_the_timer_finds_a_result_no_event_announced_and_a_second_tick_does_nothing(
    stack: SandboxStack, survey: dict[str, Any]
) -> None:
    fs_id = survey["apps"][1]
    _submit(
        stack,
        survey,
        fs_id,
        {"containerised": "c-no", "statefulness": "s-local", "dependencies": 12},
        event=False,
    )
    summary = _scorer().tick()
    mine = [o for o in summary.outcomes if o.fact_sheet_id == fs_id]
    assert [(o.status, o.score, o.band) for o in mine] == [("changed", 0.0, "Low")]
    assert _band(_read(stack, fs_id)) == ["Low"]
    assert not [o for o in _scorer().tick().outcomes if o.fact_sheet_id == fs_id]


def test_an_unknown_answer_is_reported_unscorable_and_keeps_the_score(
    stack: SandboxStack, survey: dict[str, Any]
) -> None:
    fs_id = survey["apps"][2]
    _submit(
        stack,
        survey,
        fs_id,
        {"containerised": "c-yes", "statefulness": "s-odd", "dependencies": 1},
        event=False,
    )
    outcome = next(o for o in _scorer().tick().outcomes if o.fact_sheet_id == fs_id)
    assert outcome.status == "unscorable"
    assert (
        outcome.reason == "question 'statefulness': the model gives no points for 'Somewhere else'"
    )
    node = _read(stack, fs_id)
    assert node["cloudReadinessScore"] is None and _band(node) == []
    assert "Not scorable" in node["comments"]["edges"][0]["node"]["message"]


def test_a_new_model_version_rescores_with_a_new_explanation(
    stack: SandboxStack, survey: dict[str, Any], models: Path
) -> None:
    fs_id = survey["apps"][3]
    _submit(
        stack,
        survey,
        fs_id,
        {"containerised": "c-partly", "statefulness": "s-none", "dependencies": 5},
        event=False,
    )
    _scorer().tick()
    first = _read(stack, fs_id)
    changed = {**MODEL, "version": 2}
    changed["questions"] = [{**q, "weight": 1} for q in MODEL["questions"]]
    path = models / "cloud-readiness.json"
    path.write_text(json.dumps(changed))
    try:
        outcome = next(o for o in _scorer().tick().outcomes if o.fact_sheet_id == fs_id)
        # (5 + 10 + 5) / 30
        assert (outcome.status, outcome.score, outcome.model_version) == ("changed", 66.67, 2)
        node = _read(stack, fs_id)
        assert node["cloudReadinessScore"] == 66.67 and node["rev"] > first["rev"]
        newest = node["comments"]["edges"][0]["node"]["message"]
        assert "scoring model version 2" in newest
    finally:
        path.write_text(json.dumps(MODEL))


def test_faults_on_the_way_are_retried_and_the_result_converges(
    stack: SandboxStack, survey: dict[str, Any]
) -> None:
    fs_id = survey["apps"][4]
    rule = stack.admin(
        "POST",
        "/faults/rules",
        json={
            "pathPrefix": "/services/survey/v1/pollResults",
            "status": 503,
            "count": 2,
        },
    )
    try:
        _submit(
            stack,
            survey,
            fs_id,
            {"containerised": "c-yes", "statefulness": "s-none", "dependencies": 1},
        )
        assert stack.wait_for_deliveries()
    finally:
        stack.admin("DELETE", f"/faults/rules/{rule['id']}")
    assert _read(stack, fs_id)["cloudReadinessScore"] == 100
    assert len(_metric_points(stack, fs_id)) == 1


def test_bad_input_to_the_survey_route(stack: SandboxStack) -> None:
    host = stack.host
    assert host is not None
    url = f"{host.url}/api/leanix/survey"
    auth = {"Authorization": stack.options.webhook_secret}
    code = {"code": host.function_key}
    assert requests.post(url, params=code, json={}, timeout=10).status_code == 401
    bad_id = {"type": "PollResultUpdatedEvent", "pollResultId": "../x"}
    answer = requests.post(url, params=code, headers=auth, json=bad_id, timeout=10)
    assert answer.status_code == 400 and "pollResultId" in answer.text
    other = {"type": "FactSheetUpdatedEvent", "factSheet": {"id": "a", "type": "Application"}}
    answer = requests.post(url, params=code, headers=auth, json=other, timeout=10)
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    gone = {"type": "PollResultUpdatedEvent", "pollResultId": "no-such-result"}
    answer = requests.post(url, params=code, headers=auth, json=gone, timeout=10)
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"


def test_a_workspace_with_only_poll_api_v2_is_detected_once_and_scored_by_the_timer(
    stack: SandboxStack, survey: dict[str, Any]
) -> None:
    fs_id = survey["apps"][5]
    stack.admin("PUT", "/config", json={"surveyApis": ["v2"]})
    runtime.reset_process_state()
    try:
        _submit(
            stack,
            survey,
            fs_id,
            {"containerised": "c-yes", "statefulness": "s-local", "dependencies": 4},
            event=False,
        )
        stack.admin("DELETE", "/stats")
        outcome = next(o for o in _scorer().tick().outcomes if o.fact_sheet_id == fs_id)
        # (20 + 0 + 5) / 40
        assert (outcome.status, outcome.score) == ("changed", 62.5)
        requests_seen = stack.admin("GET", "/stats")["requests"]
        assert not [k for k in requests_seen if "/services/survey/v1" in k and "polls" not in k]
        probes = sum(n for k, n in requests_seen.items() if k.endswith("/services/survey/v1/polls"))
        assert probes == 1
        _scorer().tick()
        again = stack.admin("GET", "/stats")["requests"]
        assert sum(n for k, n in again.items() if k.endswith("/services/survey/v1/polls")) == 1
    finally:
        stack.admin("PUT", "/config", json={"surveyApis": ["v1", "v2"]})
        runtime.reset_process_state()


def test_a_run_that_opens_and_finishes_between_two_ticks_is_still_scored(
    stack: SandboxStack, survey: dict[str, Any]
) -> None:
    _scorer().tick()  # the last tick's start is recorded
    fs_id = survey["apps"][0]
    run = stack.admin(
        "POST", "/surveys/runs", json={"pollId": survey["poll"]["id"], "factSheetIds": [fs_id]}
    )
    quick = {**survey, "run": run}
    answers = {"containerised": "c-no", "statefulness": "s-none", "dependencies": 1}
    _submit(stack, quick, fs_id, answers, event=False)
    stack.admin("POST", f"/surveys/runs/{run['id']}/finish", json={"emitEvent": False})
    outcome = next(o for o in _scorer().tick().outcomes if o.fact_sheet_id == fs_id)
    # (0 + 10 + 10) / 40
    assert (outcome.status, outcome.score) == ("changed", 50.0)
    assert not [o for o in _scorer().tick().outcomes if o.fact_sheet_id == fs_id]


def test_a_lost_metric_answer_is_redelivered_and_repaired_to_one_point_and_one_comment(
    stack: SandboxStack, survey: dict[str, Any]
) -> None:
    """The point is stored but its answer is lost (502): the delivery answers 503, LeanIX
    redelivers, the field, tag and comment are already there (nothing twice), the point is left
    to the timer, whose tick rewrites the day to exactly one point."""
    fs_id = survey["apps"][2]
    rule = stack.admin(
        "POST",
        "/faults/rules",
        json={
            "pathPrefix": "/services/metrics/v2/schemas/",
            "method": "POST",
            "kind": "processed_then_fail",
            "count": 1,
        },
    )
    answers = {"containerised": "c-partly", "statefulness": "s-local", "dependencies": 2}
    try:
        _submit(stack, survey, fs_id, answers)
        assert stack.wait_for_deliveries()
        fired = stack.admin("GET", "/faults/rules")["rules"]
    finally:
        stack.admin("DELETE", f"/faults/rules/{rule['id']}")
    assert [r["fired"] for r in fired] == [1]
    node = _read(stack, fs_id)
    # (2*5 + 0 + 10) / 40
    assert node["cloudReadinessScore"] == 50 and _band(node) == ["Medium"]
    ours = [e for e in node["comments"]["edges"] if "Score 50 of 100" in e["node"]["message"]]
    assert len(ours) == 1
    scorer = _scorer()
    scorer.tick()
    assert [p["score"] for p in _metric_points(stack, fs_id)] == [50]
    model = scorer.models[0]
    assert (
        scorer._points(model).repair(datetime.now(UTC).date()).outcome == "unchanged"
    )  # tick repaired it
    assert len(_read(stack, fs_id)["comments"]["edges"]) == len(node["comments"]["edges"])
