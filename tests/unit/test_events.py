"""Parsing LeanIX webhook bodies in every delivery mode, and rejecting what is not an event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lx_core.events import EventParseError, parse_event

PAYLOAD: dict[str, Any] = {
    "id": 42844,
    "type": "FactSheetUpdatedEvent",
    "userId": "u-1",
    "workspaceId": "ws-1",
    "transactionSequenceNumber": 75086,
    "factSheet": {"id": "fs-1", "rev": 3, "type": "Application", "name": "AC", "fields": []},
}


def test_default_mode_body_is_the_payload() -> None:
    ev = parse_event(PAYLOAD)
    assert ev.event_type == "FACT_SHEET_UPDATED"
    assert ev.fact_sheet is not None and ev.fact_sheet.id == "fs-1"
    assert (ev.user_id, ev.workspace_id, ev.event_id) == ("u-1", "ws-1", "42844")


def test_wrapped_mode_envelope_with_object_or_string_payload() -> None:
    envelope = {"id": 7, "type": "FACT_SHEET_UPDATED", "tags": ["pathfinder", "FACT_SHEET_UPDATED"]}
    for payload in (PAYLOAD, json.dumps(PAYLOAD)):
        ev = parse_event({**envelope, "payload": payload, "userId": "u-9"})
        assert ev.event_type == "FACT_SHEET_UPDATED"
        assert ev.user_id == "u-9" and ev.event_id == "7"
        assert ev.fact_sheet is not None and ev.fact_sheet.type == "Application"


def test_created_event_type() -> None:
    assert (
        parse_event({**PAYLOAD, "type": "FactSheetCreatedEvent"}).event_type == "FACT_SHEET_CREATED"
    )


def test_unknown_payload_type_is_kept_verbatim() -> None:
    assert parse_event({"type": "SomethingNewEvent"}).event_type == "SomethingNewEvent"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ([], "body"),
        ("text", "body"),
        ({"factSheet": {"id": "x", "type": "Application"}}, "type"),
        ({**PAYLOAD, "factSheet": {"id": 5, "type": "Application"}}, "factSheet.id"),
        ({**PAYLOAD, "factSheet": {"id": "x"}}, "factSheet.type"),
        ({**PAYLOAD, "factSheet": {"id": "a b", "type": "Application"}}, "factSheet.id"),
        ({**PAYLOAD, "factSheet": {"id": "x", "type": "App lication"}}, "factSheet.type"),
        ({"type": "X", "payload": "{not json"}, "payload"),
        ({"type": "X", "payload": 12}, "payload"),
    ],
)
def test_malformed_bodies_name_the_problem(body: object, names: str) -> None:
    with pytest.raises(EventParseError, match=names):
        parse_event(body)


def test_error_text_never_echoes_values() -> None:
    with pytest.raises(EventParseError) as info:
        parse_event(
            {**PAYLOAD, "factSheet": {"id": ["secret-looking-value"], "type": "Application"}}
        )
    assert "secret-looking-value" not in str(info.value)
