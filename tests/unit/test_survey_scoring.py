"""Scoring models (infra/leanix/scoring/) and the pure scoring function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lx_core.decisions.survey_scoring import Answer, score
from lx_core.errors import DocumentError
from lx_core.surveys.model import DEFAULT_DIR, ScoringModel, load_model

ROOT = Path(__file__).resolve().parents[2]


def _model(**changes: Any) -> ScoringModel:
    doc: dict[str, Any] = {
        "version": 3,
        "survey": {"pollId": "poll-1"},
        "questions": [
            {"id": "q1", "weight": 2, "points": {"Yes": 10, "Partly": 5, "No": 0}},
            {"id": "q2", "points": {"A": 4, "B": 8}},
            {"id": "q3", "ranges": [{"max": 3, "points": 10}, {"min": 3, "points": 0}]},
        ],
        "bands": [
            {"name": "High", "min": 70},
            {"name": "Medium", "min": 40},
            {"name": "Low", "min": 0},
        ],
        "targets": {"field": {"name": "score"}},
    }
    doc.update(changes)
    return ScoringModel.model_validate(doc)


def test_every_shipped_model_loads() -> None:
    files = sorted((ROOT / DEFAULT_DIR).glob("*.json"))
    assert files
    for path in files:
        assert load_model(path).version >= 1


@pytest.mark.parametrize(
    ("answers", "expected", "band"),
    [
        ({"q1": "Yes", "q2": "B", "q3": 1}, 100.0, "High"),
        # the most: q1 2 x 10, q2 8, q3 10 = 38
        ({"q1": "Partly", "q2": "A", "q3": 5}, round(100 * (2 * 5 + 4) / 38, 2), "Low"),
        ({"q1": "No", "q2": "B", "q3": "2,5"}, round(100 * (8 + 10) / 38, 2), "Medium"),
        ({"q1": "Yes", "q2": ["A", "B"], "q3": 7}, round(100 * (20 + 8) / 38, 2), "High"),
    ],
)
def test_points_weights_ranges_and_bands(
    answers: dict[str, Answer], expected: float, band: str
) -> None:
    result = score(_model(), answers)
    assert (result.score, result.band, result.reason) == (expected, band, None)
    assert result.model_version == 3 and [line.question for line in result.lines] == [
        "q1",
        "q2",
        "q3",
    ]


def test_a_multiple_choice_scores_its_best_value_never_past_the_maximum() -> None:
    [_, q2, _] = score(_model(), {"q1": "Yes", "q2": ["B", "A"], "q3": 0}).lines
    assert (q2.points, q2.maximum, q2.answer) == (8, 8, "B, A")


@pytest.mark.parametrize(
    ("missing", "expected", "reason"),
    [
        ("renormalise", 100.0, None),  # q2 leaves both sums: 30 of 30
        ("zero", round(100 * 30 / 38, 2), None),  # q2 scores 0 of its 8
        ("unscorable", None, "question 'q2' is not answered"),
    ],
)
def test_missing_answers_follow_the_model(
    missing: str, expected: float | None, reason: str | None
) -> None:
    result = score(_model(missing=missing), {"q1": "Yes", "q3": 0, "q2": None})
    assert (result.score, result.reason) == (expected, reason)


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        (
            {"q1": "Maybe", "q2": "A", "q3": 1},
            "question 'q1': the model gives no points for 'Maybe'",
        ),
        ({"q1": "Yes", "q2": "A", "q3": "many"}, "question 'q3' needs a number"),
        (
            {"q1": "Yes", "q2": ["A", "Z"], "q3": 1},
            "question 'q2': the model gives no points for 'Z'",
        ),
    ],
)
def test_an_answer_the_model_does_not_know_makes_the_result_unscorable(
    answers: dict[str, Answer], reason: str
) -> None:
    result = score(_model(), answers)
    assert not result.scorable and result.band is None and result.reason == reason


def test_nothing_answered_is_unscorable_not_zero() -> None:
    assert score(_model(), {}).reason == "no question was answered"


def test_the_same_answers_score_the_same_everywhere() -> None:
    answers: dict[str, Answer] = {"q1": "Partly", "q2": ["A"], "q3": 3.0}
    assert score(_model(), answers) == score(_model(), dict(reversed(list(answers.items()))))


@pytest.mark.parametrize(
    ("changes", "path", "rule"),
    [
        ({"survey": {"pollId": "p", "title": "t"}}, "$.survey", "invalid"),
        (
            {"questions": [{"id": "q", "points": {"a": 1}, "ranges": [{"points": 1}]}]},
            "$.questions[0]",
            "invalid",
        ),
        ({"questions": [{"id": "q", "points": {"a": 0}}]}, "$.questions[0]", "invalid"),
        ({"bands": [{"name": "Low", "min": 0}, {"name": "High", "min": 70}]}, "$", "invalid"),
        ({"bands": [{"name": "High", "min": 70}]}, "$", "invalid"),
        ({"version": 0}, "$.version", "range"),
        ({"extra": True}, "$.extra", "unknown-key"),
    ],
)
def test_a_broken_model_is_refused_naming_file_path_and_rule(
    tmp_path: Path, changes: dict[str, Any], path: str, rule: str
) -> None:
    doc = json.loads((ROOT / DEFAULT_DIR / "cloud-readiness.json").read_text(encoding="utf-8"))
    doc.update(changes)
    file = tmp_path / "model.json"
    file.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DocumentError) as refused:
        load_model(file)
    assert (refused.value.path, refused.value.rule) == (path, rule)
    assert str(file) in str(refused.value)


def test_the_answer_adapter_reads_the_shapes_it_knows_and_names_the_rest() -> None:
    from lx_core.surveys.answers import adapt

    options = {"q1": {"opt-yes": "Yes", "opt-no": "No"}}
    raw = [
        {"questionId": "q1", "value": "opt-yes", "type": "SINGLE_CHOICE"},
        {"questionId": "q2", "value": ["A", "B"], "type": "MULTIPLE_CHOICE"},
        {"questionId": "q3", "value": 2, "type": "NUMBER"},
        {"questionId": "q4", "value": "free text", "type": "TEXT"},
        {"questionId": "q5", "value": None},
    ]
    adapted = adapt(raw, options)
    assert adapted.reason is None
    assert adapted.answers == {
        "q1": "Yes",
        "q2": ["A", "B"],
        "q3": 2,
        "q4": "free text",
        "q5": None,
    }
    assert score(_model(), adapted.answers).score == round(100 * (20 + 8 + 10) / 38, 2)
    odd = adapt([{"questionId": "q1", "value": {"id": "opt-yes"}}], options)
    assert odd.reason == "question 'q1': answers shaped as a dict are not known"
    assert adapt({"answers": []}).reason == "the result has no list of answers"
    assert adapt([{"value": "x"}]).reason == "an answer names no question"
