"""LeanIX webhook events, parsed at the boundary into one normalised shape.

A PUSH subscription sends either the event's payload alone (``payloadMode: DEFAULT``) or the whole
envelope (``WRAPPED_EVENT``); PULL returns envelopes. ``parse_event`` accepts all three and yields
a ``LeanIXEvent`` so handlers never care which mode a subscription uses. Only the fields handlers
need are modelled; everything else is ignored, because LeanIX adds fields freely.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lx_core.assumptions import (
    PAYLOAD_TYPE_TO_EVENT,
    SUBSCRIPTION_PAYLOAD_TYPES,
    SURVEY_PAYLOAD_TYPES,
)
from lx_core.errors import EventParseError

__all__ = ["EventParseError", "LeanIXEvent", "parse_event"]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


_EVENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,99}$")
#: LeanIX ids are UUIDs; any id-like token is accepted, but nothing that could be anything else
#: (a path segment such as ``..``, a query), since ids end up in request paths.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"
#: Sequence numbers beyond JSON's safe integers are refused: one would freeze a sequence guard.
MAX_SEQUENCE = 2**53


class FactSheetRef(_Lenient):
    """The fact sheet an event is about (only what routing needs; state is re-read)."""

    # A malformed id is a 400 here rather than an error from LeanIX later.
    id: str = Field(pattern=ID_PATTERN)
    type: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
    rev: int | None = None
    name: str | None = Field(default=None, max_length=10_000)
    status: str | None = Field(default=None, max_length=50)


class UserRef(_Lenient):
    id: str | None = Field(default=None, pattern=ID_PATTERN)


class SubscriptionRef(_Lenient):
    """A fact-sheet subscription in a SUBSCRIPTION_* payload ([U]: ids and type only)."""

    id: str | None = Field(default=None, pattern=ID_PATTERN)
    type: str | None = Field(default=None, max_length=50)
    user: UserRef | None = None


class IdRef(_Lenient):
    id: str | None = Field(default=None, pattern=ID_PATTERN)


class EventPayload(_Lenient):
    """The ``payload`` of an event, i.e. what a DEFAULT-mode PUSH delivers as the body."""

    type: str = Field(min_length=1, max_length=200)
    id: int | str | None = None
    user_id: str | None = Field(default=None, alias="userId", pattern=ID_PATTERN)
    workspace_id: str | None = Field(default=None, alias="workspaceId", max_length=200)
    created_at: str | None = Field(default=None, alias="createdAt", max_length=100)
    transaction_sequence_number: int | None = Field(
        default=None, alias="transactionSequenceNumber", ge=0, le=MAX_SEQUENCE
    )
    fact_sheet: FactSheetRef | None = Field(default=None, alias="factSheet")
    subscription: SubscriptionRef | None = None
    # Survey events [U] (assumptions.SURVEY_EVENT_TAG_SETS): only ids are read.
    poll_result_id: str | None = Field(default=None, alias="pollResultId", pattern=ID_PATTERN)
    poll_run_id: str | None = Field(default=None, alias="pollRunId", pattern=ID_PATTERN)
    poll_result: IdRef | None = Field(default=None, alias="pollResult")
    poll_run: IdRef | None = Field(default=None, alias="pollRun")


class EventEnvelope(_Lenient):
    """The whole event (WRAPPED_EVENT mode and PULL)."""

    type: str | None = Field(default=None, max_length=200)
    id: int | str | None = None
    created_at: str | None = Field(default=None, alias="createdAt", max_length=100)
    user_id: str | None = Field(default=None, alias="userId", pattern=ID_PATTERN)
    workspace_id: str | None = Field(default=None, alias="workspaceId", max_length=200)
    tags: list[str] = Field(default_factory=list)
    payload: EventPayload


class LeanIXEvent(_Lenient):
    """One event, whatever the delivery mode."""

    event_type: str
    """The webhook event type, e.g. ``FACT_SHEET_UPDATED``; the payload class name if unknown."""
    payload_type: str
    user_id: str | None = None
    workspace_id: str | None = None
    event_id: str | None = None
    created_at: str | None = None
    transaction_sequence_number: int | None = None
    fact_sheet: FactSheetRef | None = None
    subscription: SubscriptionRef | None = None
    poll_result_id: str | None = None
    poll_run_id: str | None = None


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "body"
        problems.append(f"{where}: {err['msg']}")
    return "; ".join(problems[:5])


#: Deepest nesting accepted in an event. Real events nest about six levels; deeper input is refused
#: before any validator walks it (recursion in a parser must never become a 500).
MAX_JSON_DEPTH = 32


def json_depth_exceeds(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether decoded JSON nests deeper than ``limit`` (iterative: no recursion to overflow)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads_json(text: str | bytes, what: str = "body") -> object:
    """``json.loads`` that raises EventParseError for invalid, undecodable or too-deep input."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise EventParseError(f"{what}: nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise EventParseError(f"{what}: not valid JSON") from None
    if json_depth_exceeds(value):
        raise EventParseError(f"{what}: nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def parse_event(body: object) -> LeanIXEvent:
    """Normalise a decoded JSON body into a ``LeanIXEvent`` or raise ``EventParseError``."""
    if not isinstance(body, Mapping):
        raise EventParseError("body: expected a JSON object")
    if json_depth_exceeds(body):
        raise EventParseError(f"body: nested deeper than {MAX_JSON_DEPTH} levels")
    data: Mapping[str, Any] = body
    try:
        if "payload" in data:
            raw_payload = data["payload"]
            if isinstance(raw_payload, str):
                # Older specs type the envelope's payload as a string of JSON.
                raw_payload = loads_json(raw_payload, "payload")
            envelope = EventEnvelope.model_validate({**data, "payload": raw_payload})
            payload = envelope.payload
            user_id = envelope.user_id or payload.user_id
            workspace_id = envelope.workspace_id or payload.workspace_id
            event_id = envelope.id
            created_at = envelope.created_at or payload.created_at
            named = envelope.type or next((t for t in envelope.tags if _EVENT_NAME.match(t)), None)
        else:
            payload = EventPayload.model_validate(data)
            user_id, workspace_id, event_id = payload.user_id, payload.workspace_id, payload.id
            created_at = payload.created_at
            named = None
    except ValidationError as exc:
        raise EventParseError(_describe(exc)) from None
    # The payload's class name, mapped; else what the envelope calls the event (its type, or
    # the event-name tag), so an unmapped class name of a wrapped event still routes.
    event_type = (
        PAYLOAD_TYPE_TO_EVENT.get(payload.type)
        or SUBSCRIPTION_PAYLOAD_TYPES.get(payload.type)
        or SURVEY_PAYLOAD_TYPES.get(payload.type)
        or (named if named and _EVENT_NAME.match(named) else None)
        or payload.type
    )
    return LeanIXEvent(
        event_type=event_type,
        payload_type=payload.type,
        user_id=user_id,
        workspace_id=workspace_id,
        event_id=None if event_id is None else str(event_id),
        created_at=created_at,
        transaction_sequence_number=payload.transaction_sequence_number,
        fact_sheet=payload.fact_sheet,
        subscription=payload.subscription,
        poll_result_id=payload.poll_result_id or (payload.poll_result and payload.poll_result.id),
        poll_run_id=payload.poll_run_id or (payload.poll_run and payload.poll_run.id),
    )
