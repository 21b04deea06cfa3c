"""The one adapter from a Survey API v1 result's ``answers`` to scoring inputs.

§6.3 shows only TEXT answers (``{"questionId", "value": "<text>", "type": "TEXT"}``); how
choice and numeric answers look is not documented ([U]). The shapes this adapter knows, each
an assumption listed in ``lx_core.assumptions.SURVEY_ANSWER_SHAPES``: a plain value (text or
number), a list of values, and option ids resolved to their labels through the poll
definition. Anything else makes the result unscorable, naming the question and the shape,
rather than being scored from a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lx_core.decisions.survey_scoring import Answer

#: question id → option id → option label (from the poll definition), to resolve choices.
Options = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Adapted:
    """Scoring inputs by question id, or why the result's answers cannot be read."""

    answers: dict[str, Answer | None] = field(default_factory=dict)
    reason: str | None = None


def adapt(raw_answers: Any, options: Options | None = None) -> Adapted:
    """The scoring inputs of a result's ``answers`` list (question id → answer)."""
    if not isinstance(raw_answers, list):
        return Adapted(reason="the result has no list of answers")
    out: dict[str, Answer | None] = {}
    for raw in raw_answers:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("questionId"), str):
            return Adapted(reason="an answer names no question")
        question = raw["questionId"]
        value = _value(raw.get("value"), (options or {}).get(question, {}))
        if isinstance(value, _Unknown):
            return Adapted(
                reason=f"question {question!r}: answers shaped as {value.shape} are not known"
            )
        out[question] = value
    return Adapted(answers=out)


@dataclass(frozen=True)
class _Unknown:
    shape: str


def _value(value: Any, options: Mapping[str, str]) -> Answer | _Unknown | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return _Unknown("a boolean")
    if isinstance(value, str):
        return options.get(value, value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, Sequence):
        labels: list[str] = []
        for one in value:
            if not isinstance(one, str):
                return _Unknown(f"a list of {type(one).__name__}")
            labels.append(options.get(one, one))
        return labels
    return _Unknown(f"a {type(value).__name__}")
