"""The Adaptive Cards validator (tests/support/adaptivecards.py) on the official library.

What adaptivecards 3.0.6 reports, and so what these tests check: an unknown element or action
type (UnknownElementType / UnknownActionType, a parse event, with or without a ``fallback``), a
required property left out where the library checks it (Action.OpenUrl without ``url``:
PropertyCantBeNull), a card ``version`` newer than the library's (or ``max_version``'s) newest, or
not a version at all (UnsupportedCardVersion, InvalidPropertyValue), an element type newer than
``max_version``, an enum property with a value outside the enum (InvalidPropertyValue), a card
``type`` other than AdaptiveCard (MissingCardType), duplicate ids and more than 5 actions.

What it does not report (the library silently uses the default; pinned below so that a library
upgrade that starts reporting them shows up here): a FactSet fact without ``title`` (or
``value``), a string/boolean property of the wrong JSON type (``"wrap": "yes"``, ``"text": 5``),
unknown properties, a missing ``version`` (read as 1.0), and an element newer than the card's own
``version`` (a Table in a 1.4 card) unless ``max_version`` rules it out.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import adaptivecards
from tests.support.adaptivecards import (
    AdaptiveCardsNotInstalledError,
    validate_card,
    validate_cards,
)

VALID_CARD: dict[str, Any] = {
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "type": "AdaptiveCard",
    "version": "1.4",
    "body": [
        {"type": "TextBlock", "text": "hi", "wrap": True},
        {"type": "FactSet", "facts": [{"title": "a", "value": "b"}]},
    ],
    "actions": [{"type": "Action.OpenUrl", "title": "Sync log", "url": "https://example.com/x"}],
}

TABLE: dict[str, Any] = {
    "type": "Table",
    "columns": [{"width": 1}],
    "rows": [
        {
            "type": "TableRow",
            "cells": [{"type": "TableCell", "items": [{"type": "TextBlock", "text": "x"}]}],
        }
    ],
}


def _teams_message(card: dict[str, Any]) -> dict[str, Any]:
    """The message a Teams incoming webhook / Workflows trigger receives, the card inside."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _card(**changes: Any) -> dict[str, Any]:
    card = copy.deepcopy(VALID_CARD)
    card.update(changes)
    return card


def _with_body(*elements: dict[str, Any], **changes: Any) -> dict[str, Any]:
    card = _card(**changes)
    card["body"].extend(elements)
    return card


#: Every card below, checked in one node call (the ``checked`` fixture), by name.
REPORTED: dict[str, tuple[dict[str, Any], list[str]]] = {
    # name: (card, the ValidationEvent names expected, in order)
    "unknown_element": (_with_body({"type": "FooBlock"}), ["UnknownElementType"]),
    "unknown_element_with_fallback": (
        _with_body({"type": "FooBlock", "fallback": "drop"}),
        ["UnknownElementType"],
    ),
    "unknown_nested_element": (
        _with_body({"type": "Container", "items": [{"type": "FooBlock"}]}),
        ["UnknownElementType"],
    ),
    "element_without_type": (_with_body({"text": "no type"}), ["UnknownElementType"]),
    "unknown_action": (
        _card(actions=[{"type": "Action.Foo", "title": "x"}]),
        ["UnknownActionType"],
    ),
    "open_url_without_url": (
        _card(actions=[{"type": "Action.OpenUrl", "title": "Sync log"}]),
        ["PropertyCantBeNull"],
    ),
    "version_too_new": (_card(version="9.9"), ["UnsupportedCardVersion"]),
    "version_not_a_version": (
        _card(version="banana"),
        ["InvalidPropertyValue", "UnsupportedCardVersion"],
    ),
    "enum_value_outside_enum": (
        _with_body({"type": "TextBlock", "text": "x", "size": "huge"}),
        ["InvalidPropertyValue"],
    ),
    "not_an_adaptive_card": (_card(type="MessageCard"), ["MissingCardType"]),
    "duplicate_ids": (
        _with_body(
            {"type": "TextBlock", "text": "a", "id": "x"},
            {"type": "TextBlock", "text": "b", "id": "x"},
        ),
        ["DuplicateId"],
    ),
}

NOT_REPORTED: dict[str, dict[str, Any]] = {
    "fact_without_title": _card(
        body=[{"type": "FactSet", "facts": [{"value": "b"}, {"title": "t"}]}]
    ),
    "wrong_json_types": _card(body=[{"type": "TextBlock", "text": 5, "wrap": "yes"}]),
    "unknown_property": _with_body({"type": "TextBlock", "text": "x", "colour": "red"}),
    "missing_version": {k: v for k, v in VALID_CARD.items() if k != "version"},
    "element_newer_than_card_version": _with_body(TABLE),
}


@pytest.fixture(scope="module")
def checked() -> dict[str, list[str]]:
    names = ["valid", *REPORTED, *NOT_REPORTED]
    cards = [
        _teams_message(VALID_CARD)["attachments"][0]["content"],
        *(card for card, _ in REPORTED.values()),
        *NOT_REPORTED.values(),
    ]
    return dict(zip(names, validate_cards(cards), strict=True))


def _events(errors: list[str]) -> list[str]:
    return [error.split(": ", 2)[1] for error in errors]


def test_valid_teams_card_has_no_errors(checked: dict[str, list[str]]) -> None:
    assert checked["valid"] == []


@pytest.mark.parametrize("name", list(REPORTED))
def test_reported_errors(checked: dict[str, list[str]], name: str) -> None:
    errors = checked[name]
    assert _events(errors) == REPORTED[name][1], errors
    assert all(error.startswith(("parse: ", "validate: ")) for error in errors), errors


def test_error_strings_name_phase_event_and_message(checked: dict[str, list[str]]) -> None:
    assert checked["unknown_element"] == [
        'parse: UnknownElementType: Unknown element type "FooBlock". '
        "Fallback will be used if present."
    ]
    assert checked["open_url_without_url"] == [
        'validate: PropertyCantBeNull: Property "url" must be set.'
    ]


@pytest.mark.parametrize("name", list(NOT_REPORTED))
def test_gaps_the_library_does_not_report(checked: dict[str, list[str]], name: str) -> None:
    # Not a statement that these cards are fine: adaptivecards 3.0.6 just does not catch them.
    assert checked[name] == []


def test_max_version_rules_out_newer_cards_and_elements() -> None:
    results = validate_cards(
        [VALID_CARD, _card(version="1.6"), _with_body(TABLE)], max_version="1.4"
    )
    assert results[0] == []
    assert _events(results[1]) == ["UnsupportedCardVersion"]
    assert _events(results[2]) == ["UnknownElementType"]


def test_a_card_that_is_not_an_object_is_an_error() -> None:
    errors = validate_cards([[], VALID_CARD])  # type: ignore[list-item]
    assert errors[0] == ["input: NotAnObject: a card must be a JSON object"]
    assert errors[1] == []


def test_a_batch_is_one_node_process(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    run = subprocess.run

    def counting_run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    cards = [VALID_CARD, _with_body({"type": "FooBlock"}), VALID_CARD, _card(version="9.9")]
    results = validate_cards(cards)
    assert len(calls) == 1
    assert [bool(errors) for errors in results] == [False, True, False, True]
    assert validate_card(VALID_CARD) == []
    assert len(calls) == 2
    assert validate_cards([]) == []
    assert len(calls) == 2


def test_missing_install_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(adaptivecards, "NODE_MODULES", tmp_path / "node_modules")
    with pytest.raises(AdaptiveCardsNotInstalledError, match="run `make adaptivecards`"):
        validate_card(VALID_CARD)


def test_missing_node_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(AdaptiveCardsNotInstalledError, match="run `make adaptivecards`"):
        validate_cards([VALID_CARD])
