"""The events of survey changes, appended to the emulator's event store so PUSH and PULL
subscriptions whose ``tagSets`` match receive them, like fact-sheet events.
"""

from __future__ import annotations

from typing import Any

from lx_sandbox.emulator.events import EventStore
from lx_sandbox.emulator.state import Workspace, new_id, now_iso
from lx_sandbox.emulator.surveys import PollResult, PollRun

JsonDict = dict[str, Any]
# ASSUMPTION [U] §6.5: LeanIX documents no survey event; these names, tags and payloads are the
# project's working hypothesis. The envelope's ``type`` is the event name.
RESULT_UPDATED = "POLL_RESULT_UPDATED"
FINISHED = "POLL_FINISHED"
#: ASSUMPTION [U] §6.5: the source name of survey events.
SOURCE_NAME = "SURVEY"


def _envelope(
    ws: Workspace, base_url: str, name: str, tags: list[str], payload: JsonDict
) -> JsonDict:
    """The §4.6 envelope around a survey payload; its ``type`` is the event name."""
    return {
        "id": new_id(),
        "createdAt": payload["createdAt"],
        "type": name,
        "sourceName": SOURCE_NAME,
        "sourceId": None,
        "sourceUrl": base_url,
        "workspaceId": ws.id,
        "userId": payload["userId"],
        "tags": tags,
        "payload": payload,
    }


def emit_result_updated(
    store: EventStore,
    ws: Workspace,
    base_url: str,
    *,
    result: PollResult,
    run: PollRun,
    user_id: str | None,
) -> JsonDict:
    """Append the event of a submitted result; returns its envelope."""
    fs = result.fact_sheet
    payload: JsonDict = {
        "type": "PollResultUpdatedEvent",
        "id": store.next_payload_id(),
        "pollResultId": result.id,
        "pollRunId": run.id,
        "pollId": run.poll_id,
        "status": result.status,
        "userId": user_id,
        "workspaceId": ws.id,
        "createdAt": now_iso(),
        "factSheet": {"id": fs["id"], "type": fs["type"], "name": fs["name"]},
    }
    envelope = _envelope(ws, base_url, RESULT_UPDATED, ["pollResult", RESULT_UPDATED], payload)
    store.append(envelope)
    return envelope


def emit_finished(
    store: EventStore, ws: Workspace, base_url: str, *, run: PollRun, user_id: str | None
) -> JsonDict:
    """Append the event of a finished run; returns its envelope."""
    payload: JsonDict = {
        "type": "PollFinishedEvent",
        "id": store.next_payload_id(),
        "pollRunId": run.id,
        "pollId": run.poll_id,
        "userId": user_id,
        "workspaceId": ws.id,
        "createdAt": now_iso(),
    }
    envelope = _envelope(ws, base_url, FINISHED, ["poll", FINISHED], payload)
    store.append(envelope)
    return envelope
