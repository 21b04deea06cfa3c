"""SurveysClient (v1, or v2 detected once; a 404 result is gone) and MetricsClient (bare JSON,
schema found or created, points at a timestamp) over `responses`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import responses

from lx_core.errors import ConfigurationError, ServerError
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.metrics import metric_timestamp
from lx_core.leanix.surveys import SurveyApi

HOST = "https://acme.leanix.net"
V1 = HOST + "/services/survey/v1"
V2 = HOST + "/services/poll/v2"
METRICS = HOST + "/services/metrics/v2/schemas"

pytestmark = pytest.mark.usefixtures("ready")


@pytest.fixture
def ready(leanix_token: Callable[..., str]) -> None:
    leanix_token()


def _env(data: object) -> dict[str, object]:
    return {"status": "OK", "type": "X", "data": data}


RESULT = {
    "id": "r1",
    "pollRunId": "run-1",
    "status": "DONE",
    "answers": [{"questionId": "q1", "value": "o1", "type": "SINGLE_CHOICE"}],
    "factSheet": {"id": "fs-1", "type": "Application", "name": "E-Shop"},
}
POLL = {
    "id": "p1",
    "title": "Cloud Readiness",
    "questionnaire": {"questions": [{"id": "q1", "options": [{"id": "o1", "label": "Yes"}]}]},
}


def test_v1_is_probed_once_and_a_missing_result_is_gone(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    probe = leanix_http.get(V1 + "/polls", json=_env([POLL]))
    leanix_http.get(V1 + "/pollResults/r1", json=_env(RESULT))
    leanix_http.get(V1 + "/pollResults/r2", status=404, json={"status": "ERROR"})
    surveys = leanix_client.surveys
    assert surveys.api() is SurveyApi.V1
    result = surveys.result("r1")
    assert result is not None and result.done and result.fact_sheet is not None
    assert result.fact_sheet.id == "fs-1"
    assert surveys.result("r2") is None
    assert probe.call_count == 1


def test_only_v2_is_detected_and_reads_results_per_run(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.get(V1 + "/polls", status=404, json={"status": "ERROR"})
    leanix_http.get(V2 + "/polls", json=_env([POLL]))
    runs = leanix_http.get(V2 + "/pollRuns/run-1/pollResults", json=_env([RESULT]))
    poll = leanix_http.get(V2 + "/polls/p1", json=_env(POLL))
    surveys = leanix_client.surveys
    assert surveys.api() is SurveyApi.V2
    assert surveys.result("r1", run_id="run-1") is not None
    assert "workspaceId=" in str(runs.calls[0].request.url)
    with pytest.raises(ConfigurationError, match="Poll API v2"):
        surveys.result("r1")
    first = surveys.poll("p1")
    assert first is not None and first.options() == {"q1": {"o1": "Yes"}}
    assert surveys.poll("p1") == first and poll.call_count == 1


def test_no_survey_api_at_all_is_a_configuration_error(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.get(V1 + "/polls", status=404, json={})
    leanix_http.get(V2 + "/polls", status=404, json={})
    with pytest.raises(ConfigurationError, match="neither Survey API v1 nor Poll API v2"):
        leanix_client.surveys.api()


def test_a_schema_is_created_when_missing_and_a_conflict_is_settled_by_reading_again(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    schema = {
        "uuid": "s-1",
        "name": "lxDataQuality",
        "attributes": [{"name": "count", "type": "metric"}, {"name": "t", "type": "dimension"}],
    }
    listing = leanix_http.get(METRICS, json=[])
    created = leanix_http.post(METRICS, json=schema, status=201)
    found = leanix_client.metrics.ensure_schema(
        "lxDataQuality", metrics=["count"], dimensions=["t"]
    )
    assert found.uuid == "s-1" and listing.call_count == 1
    assert json.loads(created.calls[0].request.body or b"{}")["attributes"][0] == {
        "name": "count",
        "type": "metric",
    }
    # Another instance created it between our read and our create: 409, read again.
    leanix_http.get(METRICS, json=[schema])
    leanix_http.replace(responses.POST, METRICS, status=409, json={"message": "exists"})
    leanix_http.replace(responses.GET, METRICS, json=[])
    again = leanix_client.metrics.ensure_schema("lxDataQuality", metrics=["count"])
    assert again.uuid == "s-1"
    leanix_http.replace(responses.GET, METRICS, json=[schema])
    with pytest.raises(ConfigurationError, match=r"without the attributes \['other'\]"):
        leanix_client.metrics.ensure_schema("lxDataQuality", metrics=["count", "other"])


def test_points_are_posted_flat_and_never_replayed(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    day = datetime(2026, 12, 3, tzinfo=UTC)
    post = leanix_http.post(METRICS + "/s-1/points", status=503, json={})
    with pytest.raises(ServerError):
        leanix_client.metrics.post_point("s-1", day, {"count": 3, "t": "Application"})
    assert post.call_count == 1
    assert json.loads(post.calls[0].request.body or b"{}") == {
        "timestamp": "2026-12-03T00:00:00.000Z",
        "count": 3,
        "t": "Application",
    }
    stamp = metric_timestamp(day).replace(":", "%3A")
    delete = leanix_http.delete(METRICS + f"/s-1/points/{stamp}", status=204)
    leanix_client.metrics.delete_points_at("s-1", day)
    assert delete.call_count == 1
