"""Contract: SurveysClient and MetricsClient against the emulator over real HTTP (v1, a
v2-only workspace, a result that is gone, faults), and the day ledger on real Azurite: a day's
points replaced, never duplicated, across a crash between the delete and the posts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from lx_core.errors import ServerError
from lx_core.jobs.day_points import DayPoints
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.metrics import MetricsClient
from lx_core.leanix.surveys import SurveyApi, clear_survey_caches
from lx_core.state.azure_table import AzureTableStore
from tests.contract.conftest import Admin

pytestmark = pytest.mark.sandbox

QUESTIONS = [
    {"id": "q1", "type": "SINGLE_CHOICE", "label": "Containerised?",
     "options": [{"id": "o-yes", "label": "Yes"}, {"id": "o-no", "label": "No"}]},
    {"id": "q2", "type": "NUMBER", "label": "Dependencies"},
]  # fmt: skip


def _survey(admin: Admin) -> dict[str, Any]:
    poll = admin.call("POST", "/surveys/polls", json={"title": "Readiness", "questions": QUESTIONS})
    apps = [fs["id"] for fs in admin.fact_sheets("Application")[:2]]
    run = admin.call("POST", "/surveys/runs", json={"pollId": poll["id"], "factSheetIds": apps})
    result = admin.call(
        "POST",
        "/surveys/results",
        json={
            "pollRunId": run["id"],
            "factSheetId": apps[0],
            "answers": [{"questionId": "q1", "value": "o-yes"}, {"questionId": "q2", "value": 2}],
            "emitEvent": False,
        },
    )
    return {"poll": poll, "run": run, "result": result, "apps": apps}


def test_v1_reads_polls_runs_and_results_in_the_documented_shape(
    admin: Admin, client: LeanIXClient
) -> None:
    made = _survey(admin)
    surveys = client.surveys
    assert surveys.api() is SurveyApi.V1
    poll = surveys.poll(made["poll"]["id"])
    assert poll is not None and poll.options() == {"q1": {"o-yes": "Yes", "o-no": "No"}}
    runs = surveys.runs(poll.id)
    assert [r.id for r in runs] == [made["run"]["id"]] and runs[0].open
    results = surveys.results(made["run"]["id"])
    assert sorted(r.status or "" for r in results) == ["DONE", "PENDING"]
    one = surveys.result(made["result"]["id"])
    assert one is not None and one.done and one.fact_sheet is not None
    assert one.fact_sheet.id == made["apps"][0]
    assert one.answers[0]["value"] == "o-yes"
    assert surveys.result("00000000-0000-4000-8000-000000000000") is None


def test_a_v2_only_workspace_is_probed_once_and_read_per_run(
    admin: Admin, client: LeanIXClient
) -> None:
    made = _survey(admin)
    admin.call("PUT", "/config", json={"surveyApis": ["v2"]})
    clear_survey_caches()
    admin.clear_stats()
    surveys = client.surveys
    assert surveys.api() is SurveyApi.V2
    found = surveys.result(made["result"]["id"], run_id=made["run"]["id"])
    assert found is not None and found.done
    assert len(surveys.runs(made["poll"]["id"])) == 1
    assert admin.requests_to("GET /services/survey/v1/polls") == 1
    surveys.api()
    assert admin.requests_to("GET /services/survey/v1/polls") == 1


def test_5xx_and_429_on_survey_reads_are_retried(admin: Admin, client: LeanIXClient) -> None:
    made = _survey(admin)
    assert client.surveys.api() is SurveyApi.V1
    admin.add_fault(pathPrefix="/services/survey/v1/pollResults", status=503, count=1)
    admin.add_fault(pathPrefix="/services/survey/v1/pollResults", status=429, count=1)
    assert client.surveys.result(made["result"]["id"]) is not None


def test_a_schema_is_ensured_once_and_points_are_replaced_per_instant(
    admin: Admin, client: LeanIXClient
) -> None:
    metrics = client.metrics
    schema = metrics.ensure_schema("lxTest", metrics=["count"], dimensions=["t"])
    assert metrics.ensure_schema("lxTest", metrics=["count"], dimensions=["t"]) == schema
    day = datetime(2026, 12, 3, tzinfo=UTC)
    metrics.post_point(schema.uuid, day, {"count": 3, "t": "Application"})
    metrics.post_point(schema.uuid, day, {"count": 4, "t": "Application"})
    assert len(metrics.points_at(schema.uuid, day)) == 2  # Metrics v2 appends
    metrics.delete_points_at(schema.uuid, day)
    assert metrics.points_at(schema.uuid, day) == []
    metrics.delete_points_at(schema.uuid, day)  # nothing there: fine


def test_the_day_ledger_on_azurite_survives_a_crash_between_delete_and_posts(
    admin: Admin,
    client: LeanIXClient,
    state_store: AzureTableStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = client.metrics.ensure_schema("lxLedger", metrics=["score"], dimensions=["fs"])
    ledger = DayPoints(state_store, client.metrics, schema.uuid)
    day = date(2026, 12, 3)
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        assert ledger.put(day, key, {"score": value, "fs": key}).outcome == "posted"
    real_post = MetricsClient.post_point
    calls = {"n": 0}

    def dies_after_one(self: MetricsClient, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ServerError("the instance died", method="POST", path="/points", status=503)
        real_post(self, *args, **kwargs)

    monkeypatch.setattr(MetricsClient, "post_point", dies_after_one)
    with pytest.raises(ServerError):
        ledger.put(day, "b", {"score": 20, "fs": "b"})  # a change: delete, then post all
    monkeypatch.undo()
    assert ledger.repair(day).outcome == "rewritten"
    start = datetime(2026, 12, 3, tzinfo=UTC)
    points = client.metrics.points_at(schema.uuid, start)
    assert sorted((p["fs"], p["score"]) for p in points) == [("a", 1), ("b", 20), ("c", 3)]
    assert ledger.put(day, "c", {"score": 3, "fs": "c"}).outcome == "unchanged"
