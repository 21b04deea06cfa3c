"""The survey targets' pure decision, and the day ledger that replaces a metric point."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest

from lx_core.decisions.score_targets import (
    FactSheetNow,
    TagChoice,
    explain,
    newest_own_comment,
    plan,
)
from lx_core.decisions.survey_scoring import Answer, score
from lx_core.errors import DocumentError
from lx_core.jobs.day_points import DayPoints, day_start
from lx_core.leanix.metrics import PointValue, metric_timestamp
from lx_core.state.memory import MemoryStore
from lx_core.surveys.model import ScoringModel, load_models


def _model(**targets: Any) -> ScoringModel:
    return ScoringModel.model_validate(
        {
            "version": 2,
            "survey": {"title": "Cloud Readiness"},
            "questions": [
                {"id": "q1", "points": {"Yes": 10, "No": 0}},
                {"id": "q2", "ranges": [{"max": 3, "points": 10}, {"min": 3, "points": 0}]},
            ],
            "bands": [{"name": "High", "min": 70}, {"name": "Low", "min": 0}],
            "targets": targets
            or {
                "field": {"name": "cloudReadinessScore"},
                "tag": {"group": "Cloud Readiness", "tags": {"High": "Ready", "Low": "Not ready"}},
                "metric": {"schema": "cloudReadiness"},
                "comment": {},
            },
        }
    )


def test_a_first_score_writes_every_target_in_one_update_and_a_comment() -> None:
    model = _model()
    scored = score(model, {"q1": "Yes", "q2": 1})
    now = FactSheetNow("fs-1", tag_ids=("other", "t-low"))
    result = plan(model, scored, now, TagChoice("t-high", frozenset({"t-high", "t-low"})))
    assert [(p.op, p.path, p.value) for p in result.patches] == [
        ("replace", "/cloudReadinessScore", "100"),
        ("replace", "/tags", '[{"tagId":"other"},{"tagId":"t-high"}]'),
    ]
    assert result.comment == explain(model, scored)
    assert result.metric == {"score": 100.0, "factSheetId": "fs-1", "band": "High"}
    assert result.writes == ("cloudReadinessScore", "tags", "comment")


def test_the_same_score_again_writes_nothing() -> None:
    model = _model()
    scored = score(model, {"q1": "No", "q2": 1})
    text = explain(model, scored)
    now = FactSheetNow("fs-1", field_value=50.0001, tag_ids=("t-low",), last_comment=text)
    result = plan(model, scored, now, TagChoice("t-low", frozenset({"t-high", "t-low"})))
    assert (result.patches, result.comment) == ((), None)


def test_an_unscorable_result_keeps_field_and_tag_and_explains_why() -> None:
    model = _model()
    scored = score(model, {"q1": "Maybe"})
    now = FactSheetNow("fs-1", field_value=70, tag_ids=("t-high",))
    result = plan(model, scored, now, TagChoice(None, frozenset({"t-high", "t-low"})))
    assert result.patches == () and result.metric is None
    assert result.comment is not None and "Not scorable" in result.comment
    assert "'Maybe'" in result.comment


def test_on_unscorable_remove_drops_the_band_tag() -> None:
    model = _model(tag={"group": "G", "onUnscorable": "remove"})
    result = plan(
        model,
        score(model, {"q1": "Maybe"}),
        FactSheetNow("fs-1", tag_ids=("x", "t-high")),
        TagChoice(None, frozenset({"t-high"})),
    )
    assert [p.value for p in result.patches] == ['[{"tagId":"x"}]']


def test_a_band_field_and_an_archived_fact_sheet() -> None:
    model = _model(field={"name": "readiness", "value": "band"})
    scored = score(model, {"q1": "Yes", "q2": 1})
    assert [p.value for p in plan(model, scored, FactSheetNow("a")).patches] == ["High"]
    assert plan(model, scored, FactSheetNow("a", field_value="High")).patches == ()
    assert plan(model, scored, FactSheetNow("a", archived=True)).patches == ()


def test_a_new_model_version_is_a_new_explanation() -> None:
    old, new = _model(), _model().model_copy(update={"version": 3})
    answers: dict[str, Answer | None] = {"q1": "Yes", "q2": 1}
    assert explain(old, score(old, answers)) != explain(new, score(new, answers))
    text = explain(old, score(old, answers))
    assert newest_own_comment(old, ["someone else's note", text, "Survey score: x"]) == text


@pytest.mark.parametrize(
    ("targets", "problem"),
    [
        ({}, "at least one target"),
        ({"tag": {"group": "G", "tags": {"High": "H"}}}, "no tag for the bands ['Low']"),
        ({"tag": {"group": "G", "tags": {"High": "H", "Low": "L", "Mid": "M"}}}, "['Mid']"),
        ({"field": {"name": "not a field"}}, "targets.field.name"),
        ({"metric": {"schema": ""}}, "targets.metric.schema"),
    ],
)
def test_bad_targets_are_refused_naming_the_field(
    tmp_path: Any, targets: dict[str, Any], problem: str
) -> None:
    doc = _model().model_dump(by_alias=True, exclude_none=True)
    doc["targets"] = targets
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(DocumentError) as caught:
        load_models(tmp_path)
    assert "bad.json" in str(caught.value) and problem in str(caught.value)


def test_two_models_for_one_survey_are_refused(tmp_path: Any) -> None:
    doc = _model().model_dump(by_alias=True, exclude_none=True)
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(doc))
    with pytest.raises(DocumentError, match=r"b\.json: \$\.survey: a\.json scores the same"):
        load_models(tmp_path)


class _Metrics:
    """Metrics v2 as the ledger sees it: append on post, delete every point at a timestamp."""

    def __init__(self) -> None:
        self.points: list[tuple[str, dict[str, PointValue]]] = []
        self.calls: list[str] = []
        self.fail_next_post = False

    def post_point(self, uuid: str, timestamp: datetime, values: dict[str, PointValue]) -> None:
        self.calls.append("post")
        if self.fail_next_post:
            self.fail_next_post = False
            raise ConnectionError("died")
        self.points.append((metric_timestamp(timestamp), dict(values)))

    def delete_points_at(self, uuid: str, timestamp: datetime) -> None:
        self.calls.append("delete")
        stamp = metric_timestamp(timestamp)
        self.points = [p for p in self.points if p[0] != stamp]


def test_the_day_ledger_posts_once_replaces_on_change_and_repairs_a_crash() -> None:
    metrics = _Metrics()
    ledger = DayPoints(MemoryStore(), metrics, "schema-1")  # type: ignore[arg-type]
    day = date(2026, 12, 3)
    assert ledger.put(day, "fs-1", {"score": 50}).outcome == "posted"
    assert ledger.put(day, "fs-2", {"score": 70}).outcome == "posted"
    assert ledger.put(day, "fs-1", {"score": 50}).outcome == "unchanged"
    assert metrics.calls == ["post", "post"]
    # A changed score: the day is rewritten, nothing is duplicated.
    assert ledger.put(day, "fs-1", {"score": 60}).outcome == "rewritten"
    assert sorted(p[1]["score"] for p in metrics.points) == [60, 70]
    # A crash between the ledger and the post: repaired, still no duplicate.
    metrics.fail_next_post = True
    with pytest.raises(ConnectionError):
        ledger.put(day, "fs-3", {"score": 10})
    assert ledger.repair(day).outcome == "rewritten"
    assert sorted(p[1]["score"] for p in metrics.points) == [10, 60, 70]
    assert ledger.repair(day).outcome == "unchanged"
    assert {p[0] for p in metrics.points} == {metric_timestamp(day_start(day))}
    assert ledger.recorded(day) == {
        "fs-1": {"score": 60},
        "fs-2": {"score": 70},
        "fs-3": {"score": 10},
    }
