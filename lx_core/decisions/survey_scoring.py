"""Score one survey result under a scoring model. Pure: the same model scores the same answers
the same way everywhere (the webhook handler, the timer, ``lx surveys score``).

A question scores the points of its answer: a value looked up in ``points``, a number placed
in ``ranges``; a list of values (a multiple choice) scores its best value, so a question never
gives more than its ``maximum``. The score is ``100 * sum(weight * points) / sum(weight * maximum)``
over the questions that count. A missing answer is skipped (``renormalise``: the question
leaves both sums), scores 0 (``zero``), or makes the result unscorable. An answer the model
does not know makes it unscorable too, with the reason: a guess would write a wrong score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lx_core.surveys.model import Question, ScoringModel

#: A scoring input, as the answer adapter produces it: a value, a number, or several values.
Answer = str | int | float | list[str] | tuple[str, ...]


@dataclass(frozen=True)
class Line:
    """What one question contributed, for the explanation."""

    question: str
    answer: str | None
    points: float
    maximum: float
    weight: float
    counted: bool


@dataclass(frozen=True)
class Scored:
    """The verdict on one result: a score and band, or the reason it has none."""

    model_version: int
    score: float | None
    band: str | None
    lines: tuple[Line, ...]
    reason: str | None = None

    @property
    def scorable(self) -> bool:
        return self.score is not None


class _UnscorableError(Exception):
    pass


def score(model: ScoringModel, answers: Mapping[str, Answer | None]) -> Scored:
    """The score, band and explanation of ``answers`` (question id → answer) under ``model``."""
    lines: list[Line] = []
    try:
        for question in model.questions:
            lines.append(_line(model, question, answers.get(question.id)))
    except _UnscorableError as exc:
        return Scored(model.version, None, None, tuple(lines), reason=str(exc))
    possible = sum(line.weight * line.maximum for line in lines if line.counted)
    if possible == 0:
        return Scored(model.version, None, None, tuple(lines), reason="no question was answered")
    got = sum(line.weight * line.points for line in lines if line.counted)
    value = round(100.0 * got / possible, 2)
    band = next(b.name for b in model.bands if value >= b.min)  # the last band starts at 0
    return Scored(model.version, value, band, tuple(lines))


def _line(model: ScoringModel, question: Question, answer: Answer | None) -> Line:
    def line(points: float, shown: str | None, counted: bool = True) -> Line:
        return Line(question.id, shown, points, question.maximum, question.weight, counted)

    if answer is None or answer == "" or (_is_values(answer) and not answer):
        if model.missing == "unscorable":
            raise _UnscorableError(f"question {question.id!r} is not answered")
        return line(0.0, None, counted=model.missing == "zero")
    if question.points is not None:
        values = [str(v) for v in answer] if isinstance(answer, list | tuple) else [_as_key(answer)]
        unknown = [v for v in values if v not in question.points]
        if unknown:
            raise _UnscorableError(
                f"question {question.id!r}: the model gives no points for {_clip(unknown[0])!r}"
            )
        best = max(values, key=lambda v: question.points[v] if question.points else 0)
        return line(question.points[best], ", ".join(values))
    number = _as_number(answer)
    if number is None:
        raise _UnscorableError(f"question {question.id!r} needs a number")
    for band in question.ranges or ():
        if band.holds(number):
            return line(band.points, f"{number:g}")
    raise _UnscorableError(f"question {question.id!r}: {number:g} is in none of its ranges")


def _is_values(answer: Answer) -> bool:
    return isinstance(answer, list | tuple)


def _as_key(answer: Answer) -> str:
    if isinstance(answer, bool):
        return str(answer).lower()
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return str(answer)


def _as_number(answer: Answer) -> float | None:
    if isinstance(answer, bool) or _is_values(answer):
        return None
    if isinstance(answer, int | float):
        return float(answer)
    try:
        return float(str(answer).strip().replace(",", "."))
    except ValueError:
        return None


def _clip(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
