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
from typing import NamedTuple

from lx_core.surveys.model import Range, ScoringModel

#: A scoring input, as the answer adapter produces it: a value, a number, or several values.
Answer = str | int | float | list[str] | tuple[str, ...]


class Line(NamedTuple):
    """What one question contributed, for the explanation (a tuple: scoring builds one per
    question per result, and the scoring rate is measured)."""

    question: str
    answer: str | None
    points: float
    maximum: float
    weight: float
    counted: bool


class Scored(NamedTuple):
    """The verdict on one result: a score and band, or the reason it has none."""

    model_version: int
    score: float | None
    band: str | None
    #: One plain tuple per question, in Line's field order (cheaper to build than Lines).
    rows: tuple[tuple[str, str | None, float, float, float, bool], ...]
    reason: str | None = None

    @property
    def scorable(self) -> bool:
        return self.score is not None

    @property
    def lines(self) -> tuple[Line, ...]:
        """What each question contributed, for the explanation."""
        return tuple(Line._make(row) for row in self.rows)


class _Question(NamedTuple):
    """A question as scoring reads it, derived once per model."""

    id: str
    weight: float
    maximum: float
    points: Mapping[str, float] | None
    ranges: tuple[Range, ...]


#: Derived questions per model object (models are frozen; a new version is a new object).
_PLANS: dict[int, tuple[ScoringModel, tuple[_Question, ...]]] = {}
_MAX_PLANS = 64


def _plan(model: ScoringModel) -> tuple[_Question, ...]:
    hit = _PLANS.get(id(model))
    if hit is not None and hit[0] is model:
        return hit[1]
    plan = tuple(
        _Question(q.id, q.weight, q.maximum, q.points, q.ranges or ()) for q in model.questions
    )
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(model)] = (model, plan)
    return plan


class _UnscorableError(Exception):
    pass


def score(model: ScoringModel, answers: Mapping[str, Answer | None]) -> Scored:
    """The score, band and explanation of ``answers`` (question id → answer) under ``model``."""
    lines: list[tuple[str, str | None, float, float, float, bool]] = []
    append = lines.append
    got = possible = 0.0
    missing = model.missing
    for question in _plan(model):
        qid, weight, maximum, table, _ = question
        answer = answers.get(qid)
        if table is not None and isinstance(answer, str) and answer in table:
            points, shown = table[answer], answer  # the common case, kept short (it is measured)
        elif answer is None or answer == "" or (_is_values(answer) and not answer):
            if missing == "unscorable":
                reason = f"question {qid!r} is not answered"
                return Scored(model.version, None, None, tuple(lines), reason=reason)
            counted = missing == "zero"
            append((qid, None, 0.0, maximum, weight, counted))
            if counted:
                possible += weight * maximum
            continue
        else:
            try:
                points, shown = _points(question, answer)
            except _UnscorableError as exc:
                return Scored(model.version, None, None, tuple(lines), reason=str(exc))
        append((qid, shown, points, maximum, weight, True))
        got += weight * points
        possible += weight * maximum
    if possible == 0:
        return Scored(model.version, None, None, tuple(lines), reason="no question was answered")
    value = round(100.0 * got / possible, 2)
    band = next(b.name for b in model.bands if value >= b.min)  # the last band starts at 0
    return Scored(model.version, value, band, tuple(lines))


def _points(question: _Question, answer: Answer) -> tuple[float, str]:
    """The points of an answered question and the answer as the explanation shows it."""
    table = question.points
    if table is not None:
        if isinstance(answer, str):
            found = table.get(answer)
            if found is None:
                raise _UnscorableError(
                    f"question {question.id!r}: the model gives no points for {_clip(answer)!r}"
                )
            return found, answer
        values = [str(v) for v in answer] if _is_values(answer) else [_as_key(answer)]  # type: ignore[union-attr]
        unknown = [v for v in values if v not in table]
        if unknown:
            raise _UnscorableError(
                f"question {question.id!r}: the model gives no points for {_clip(unknown[0])!r}"
            )
        return max(table[v] for v in values), ", ".join(values)
    number = _as_number(answer)
    if number is None:
        raise _UnscorableError(f"question {question.id!r} needs a number")
    for band in question.ranges:
        if band.holds(number):
            return band.points, f"{number:g}"
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
