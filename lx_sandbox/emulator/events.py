"""The event store and the shapes of fact-sheet events (§4.6).

Every event ever produced is kept (a later relay feature and the PULL API read them back by
offset). Producers call :meth:`EventStore.append`; listeners (PULL long polls, the PUSH
dispatcher) are woken through :attr:`EventStore.listeners`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.state import (
    FactSheet,
    FactSheetSubscription,
    Tag,
    Workspace,
    new_id,
    now_iso,
    value_type,
)

JsonDict = dict[str, Any]

#: Pathfinder event name -> payload ``type`` ([V] Created/Updated, [V3] Archived/Deleted).
PAYLOAD_TYPES = {
    "FACT_SHEET_CREATED": "FactSheetCreatedEvent",
    "FACT_SHEET_UPDATED": "FactSheetUpdatedEvent",
    "FACT_SHEET_ARCHIVED": "FactSheetArchivedEvent",
    # ASSUMPTION [U] §4.6: payload type names of the events below are not documented.
    "FACT_SHEET_RECOVERED": "FactSheetRecoveredEvent",
    "FACT_SHEET_TAG_ADDED": "FactSheetTagAddedEvent",
    "FACT_SHEET_TAG_REMOVED": "FactSheetTagRemovedEvent",
    # ASSUMPTION [U] §4.5/4.6: the event names are [V], their payload type names are not.
    "SUBSCRIPTION_CREATED": "SubscriptionCreatedEvent",
    "SUBSCRIPTION_DELETED": "SubscriptionDeletedEvent",
    "QUALITY_SEAL_BROKEN": "QualitySealBrokenEvent",
    # ASSUMPTION [U] §4.5: COMMENT_CREATED is [V], its payload type name is not.
    "COMMENT_CREATED": "CommentCreatedEvent",
}
#: ``data.type`` of a number or text field in a payload's ``fields`` (ASSUMPTION [U] §4.6).
_FIELD_DATA_TYPES = {"DOUBLE": "DoubleField", "INTEGER": "IntegerField", "STRING": "StringField"}


@dataclass(slots=True)
class StoredEvent:
    """One event: its global offset (the PULL cursor) and its envelope."""

    offset: int
    envelope: JsonDict
    stored_at: float = field(default_factory=time.monotonic)

    @property
    def tags(self) -> list[str]:
        """The event's tags (used for ``tagSets`` matching)."""
        tags: list[str] = self.envelope.get("tags") or []
        return tags

    @property
    def workspace_id(self) -> str | None:
        """The workspace the event belongs to, or None for workspace-less events."""
        ws: str | None = self.envelope.get("workspaceId")
        return ws


class EventStore:
    """Append-only event list; offsets start at 0 and never change."""

    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        self.listeners: list[Callable[[StoredEvent], None]] = []
        self._changed = asyncio.Event()
        self._payload_ids = itertools.count(40001)
        self._transactions = itertools.count(70001)

    @property
    def end_offset(self) -> int:
        """The offset the next event will get."""
        return len(self.events)

    def next_payload_id(self) -> int:
        """Numeric payload ids like LeanIX's (``"id": 42834`` in §4.6)."""
        return next(self._payload_ids)

    def next_transaction(self) -> int:
        """A new ``transactionSequenceNumber``.

        # ASSUMPTION [I] §4.6: one number per mutation, shared by all events it causes,
        # increasing over the workspace.
        """
        return next(self._transactions)

    def append(self, envelope: JsonDict) -> StoredEvent:
        """Store an envelope, stamp ``sequenceInfo`` and wake listeners."""
        event = StoredEvent(offset=len(self.events), envelope=envelope)
        envelope["sequenceInfo"] = event.offset
        self.events.append(event)
        for listener in self.listeners:
            listener(event)
        self._changed.set()
        self._changed = asyncio.Event()
        return event

    async def wait_for_new(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until another event is appended."""
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            return


def matches(tag_sets: Sequence[Sequence[str]] | None, event_tags: Sequence[str]) -> bool:
    """Whether an event's tags satisfy a subscription's ``tagSets``.

    # ASSUMPTION [I] §4.2: outer list is OR, inner list is AND; no tagSets = every event.
    """
    if not tag_sets:
        return True
    have = set(event_tags)
    return any(set(inner) <= have for inner in tag_sets)


def workspace_ok(constraint: str, sub_workspace: str | None, event_workspace: str | None) -> bool:
    """Apply ``workspaceConstraint`` ([V] §4.2)."""
    if constraint == "ANY":
        return True
    if constraint == "NO_WORKSPACE":
        return event_workspace is None
    return event_workspace is not None and event_workspace == sub_workspace


def tag_json(ws: Workspace, tag: Tag) -> JsonDict:
    """A tag as it appears inside event payloads."""
    group = ws.tag_groups.get(tag.group_id) if tag.group_id else None
    return {
        "id": tag.id,
        "name": tag.name,
        "description": tag.description,
        "color": tag.color,
        "status": tag.status,
        "tagGroup": (
            {"id": group.id, "name": group.name, "shortName": group.short_name} if group else None
        ),
    }


def subscription_json(ws: Workspace, sub: FactSheetSubscription) -> JsonDict:
    """A fact-sheet subscription as it appears inside event payloads.

    # ASSUMPTION [U] §4.6: ``{"id", "type", "user": {"id", "email"}, "roles": [{"id", "name",
    # "subscriptionType"}]}``; LeanIX documents no subscription payload.
    """
    user = ws.users_by_id.get(sub.user_id)
    return {
        "id": sub.id,
        "type": sub.type,
        "user": {"id": sub.user_id, "email": user.email if user else None},
        "roles": [
            {"id": role.id, "name": role.name, "subscriptionType": role.subscription_type}
            for role in (ws.subscription_roles.get(r) for r in sub.role_ids)
            if role is not None
        ],
    }


def completion_json(fs: FactSheet) -> JsonDict:
    """The ``completion`` object of §4.6 ([V] ``type``, ``completion``, ``percentage``).

    # ASSUMPTION [U] §4.6: ``totalWeight``/``weightedSum`` are left out (the emulator stores the
    # completion, it does not weigh sections) and ``subCompletions`` is empty.
    """
    return {
        "type": "SectionCompletion",
        "completion": fs.completion,
        "percentage": round(fs.completion * 100),
        "subCompletions": {},
    }


def fact_sheet_json(ws: Workspace, fs: FactSheet) -> JsonDict:
    """The ``factSheet`` object of a payload, following the FACT_SHEET_CREATED example (§4.6)."""
    specs = ws.data_model.get(fs.type, {})
    return {
        "id": fs.id,
        "rev": fs.rev,
        "name": fs.name,
        "displayName": fs.name,
        "fullName": fs.name,
        "type": fs.type,
        "level": 1,
        "status": fs.status,
        "lxState": fs.lx_state,
        "description": fs.description,
        # ASSUMPTION [U] §4.6: the ``data`` sub-shape of a field is undocumented; ``fields``
        # lists only fields that have values ([I] §3.2); numbers are JSON numbers. The
        # lifecycle is not listed (re-read it through GraphQL, as §4.6 advises).
        "fields": [
            {
                "name": k,
                "data": {
                    "type": _FIELD_DATA_TYPES.get(
                        value_type(specs.get(k)) or "", "SingleSelectField"
                    ),
                    "value": v,
                },
            }
            for k, v in fs.fields.items()
        ],
        "naFields": [],
        "relations": [],
        "documents": [],
        # ASSUMPTION [U] §4.6: the payload's fact sheet lists its subscriptions (the §4.6
        # example has an empty list) in the shape of :func:`subscription_json`.
        "subscriptions": [subscription_json(ws, s) for s in ws.subscriptions_of(fs.id)],
        "milestones": [],
        # ASSUMPTION [I] §4.6: tags are listed on the payload's fact sheet like other collections.
        "tags": [tag_json(ws, ws.tags[t]) for t in fs.tag_ids if t in ws.tags],
        "permittedReadACL": [],
        "permittedWriteACL": [],
        "createdAt": fs.created_at,
        "updatedAt": fs.updated_at,
        "lxExcludeFromQuota": False,
        # [V] §4.6: the payload's fact sheet carries its completion.
        "completion": completion_json(fs),
    }


def fact_sheet_event(
    store: EventStore,
    ws: Workspace,
    *,
    event_name: str,
    fs: FactSheet,
    user_id: str,
    transaction: int,
    base_url: str,
    tag: Tag | None = None,
    subscription: JsonDict | None = None,
    comment: JsonDict | None = None,
) -> JsonDict:
    """Build the envelope of a Pathfinder fact-sheet event (§4.6); ``subscription`` is the
    :func:`subscription_json` of a SUBSCRIPTION_* event, ``comment`` the comment of a
    COMMENT_CREATED event."""
    created = now_iso()
    payload: JsonDict = {
        "id": store.next_payload_id(),
        "type": PAYLOAD_TYPES[event_name],
        "userId": user_id,
        "createdAt": created,
        "workspaceId": ws.id,
        "transactionSequenceNumber": transaction,
        "factSheet": fact_sheet_json(ws, fs),
    }
    if event_name == "FACT_SHEET_CREATED":
        payload["clonedFactSheet"] = False
    if tag is not None:
        # ASSUMPTION [U] §4.6: tag events name the tag under ``tag``.
        payload["tag"] = tag_json(ws, tag)
    if subscription is not None:
        # ASSUMPTION [U] §4.6: subscription events carry the fact sheet and the subscription.
        payload["subscription"] = subscription
    if comment is not None:
        # ASSUMPTION [U] §4.6: comment events carry the fact sheet and the comment.
        payload["comment"] = comment
    return {
        # ASSUMPTION [I] §4.6: envelope ids are UUIDs; the envelope ``type`` repeats the payload's.
        "id": new_id(),
        "createdAt": created,
        "type": payload["type"],
        "sourceName": "EAM",
        "sourceId": None,
        "sourceUrl": base_url,
        "workspaceId": ws.id,
        "userId": user_id,
        "tags": ["pathfinder", event_name],
        "payload": payload,
    }
