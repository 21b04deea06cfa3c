"""Validation of survey documents: questions of a poll, and answers checked against them.

``strict`` is for the admin API (an unknown key is a 400 listing the known ones, as everywhere
under ``/_sandbox``); the service APIs ignore keys they do not know, as LeanIX's richer poll
documents carry many more.
"""

from __future__ import annotations

import math
from typing import Any

from lx_sandbox.emulator.json_checks import object_of
from lx_sandbox.emulator.state import new_id
from lx_sandbox.emulator.surveys import CHOICE_TYPES, QUESTION_TYPES, Poll, SurveyError

JsonDict = dict[str, Any]
_QUESTION_KEYS = frozenset({"id", "type", "label", "options"})
_OPTION_KEYS = frozenset({"id", "label"})
_ANSWER_KEYS = frozenset({"questionId", "value"})


def _object(
    value: Any,
    name: str,
    keys: frozenset[str],
    strict: bool,
    read_only: frozenset[str] = frozenset(),
) -> JsonDict:
    if not strict:
        if not isinstance(value, dict):
            raise SurveyError(f"{name} must be a JSON object")
        return value
    try:
        return object_of(value, name, keys, read_only)
    except ValueError as exc:
        raise SurveyError(str(exc)) from None


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SurveyError(f"{name} must be a non-empty string")
    return value


def _id(value: Any, name: str) -> str:
    return new_id() if value is None else _text(value, name)


def title_of(value: Any) -> str:
    """A poll title."""
    return _text(value, "title")


def _options(raw: Any, name: str, strict: bool) -> list[JsonDict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SurveyError(f"{name} must be a list of {{id?, label}}")
    options: list[JsonDict] = []
    for index, item in enumerate(raw):
        where = f"{name}[{index}]"
        doc = _object(item, where, _OPTION_KEYS, strict)
        option = {"id": _id(doc.get("id"), f"{where}.id"), "label": _text(doc.get("label"), where)}
        if any(o["id"] == option["id"] for o in options):
            raise SurveyError(f"{where}.id {option['id']!r} is a duplicate")
        options.append(option)
    return options


def questions_of(raw: Any, strict: bool, name: str = "questions") -> list[JsonDict]:
    """Normalised questions ``{id, type, label, options}`` (ids generated when absent)."""
    if not isinstance(raw, list):
        raise SurveyError(f"{name} must be a list of questions")
    questions: list[JsonDict] = []
    for index, item in enumerate(raw):
        where = f"{name}[{index}]"
        doc = _object(item, where, _QUESTION_KEYS, strict)
        kind = doc.get("type")
        if kind not in QUESTION_TYPES:
            raise SurveyError(f"{where}.type must be one of {list(QUESTION_TYPES)}")
        options = _options(doc.get("options"), f"{where}.options", strict)
        if kind in CHOICE_TYPES and not options:
            raise SurveyError(f"{where} is a {kind} question and needs options")
        if kind not in CHOICE_TYPES and options:
            raise SurveyError(f"{where} is a {kind} question and takes no options")
        question = {
            "id": _id(doc.get("id"), f"{where}.id"),
            "type": kind,
            "label": _text(doc.get("label"), f"{where}.label"),
            "options": options,
        }
        if any(q["id"] == question["id"] for q in questions):
            raise SurveyError(f"{where}.id {question['id']!r} is a duplicate")
        questions.append(question)
    return questions


def questionnaire_of(raw: Any) -> list[JsonDict]:
    """The questions of a service body's ``questionnaire`` (lenient on other keys)."""
    if not isinstance(raw, dict):
        raise SurveyError("questionnaire must be an object {questions: [...]}")
    return questions_of(raw.get("questions", []), strict=False, name="questionnaire.questions")


def _value(question: JsonDict, value: Any, where: str) -> Any:
    """``value`` if it fits the question's type, else SurveyError.

    # ASSUMPTION [U] §6.3: NUMBER answers are JSON numbers, SINGLE_CHOICE the chosen option's
    # id, MULTIPLE_CHOICE a list of option ids.
    """
    kind = question["type"]
    option_ids = {o["id"] for o in question["options"]}
    if kind == "TEXT" and isinstance(value, str):
        return value
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "NUMBER" and number and math.isfinite(value):
        return value
    if kind == "SINGLE_CHOICE" and isinstance(value, str):
        if value not in option_ids:
            raise SurveyError(f"{where} {value!r} is no option of question {question['id']}")
        return value
    if kind == "MULTIPLE_CHOICE" and isinstance(value, list):
        if not all(isinstance(v, str) and v in option_ids for v in value):
            raise SurveyError(f"{where} must list option ids of question {question['id']}")
        if len(set(value)) != len(value):
            raise SurveyError(f"{where} names an option twice")
        return list(value)
    expected = {
        "TEXT": "a string",
        "NUMBER": "a number",
        "SINGLE_CHOICE": "an option id",
        "MULTIPLE_CHOICE": "a list of option ids",
    }[kind]
    raise SurveyError(f"{where} must be {expected} for the {kind} question {question['id']}")


def answers_of(poll: Poll, raw: Any) -> list[JsonDict]:
    """Answers ``{questionId, value, type}`` checked against the poll (admin form, strict)."""
    if not isinstance(raw, list):
        raise SurveyError("answers must be a list of {questionId, value}")
    answers: list[JsonDict] = []
    for index, item in enumerate(raw):
        where = f"answers[{index}]"
        # ``type`` is read-only: an answer of a GET can be sent back as it is.
        doc = _object(item, where, _ANSWER_KEYS, strict=True, read_only=frozenset({"type"}))
        question_id = doc.get("questionId")
        question = poll.question(question_id) if isinstance(question_id, str) else None
        if question is None:
            raise SurveyError(f"{where}.questionId {question_id!r} is no question of the poll")
        if any(a["questionId"] == question_id for a in answers):
            raise SurveyError(f"{where} answers question {question_id} a second time")
        if "value" not in doc:
            raise SurveyError(f"{where}.value is required")
        value = _value(question, doc["value"], f"{where}.value")
        answers.append({"questionId": question_id, "value": value, "type": question["type"]})
    return answers
