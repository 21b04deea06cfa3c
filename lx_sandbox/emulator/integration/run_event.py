"""The run-statistics webhook event sent when a run ends ([V] integration-api-processors §2).

SAP's Slack/Teams recipe subscribes with tagSets ``[["integrations","statistics"]]`` and reads
``payload.progress``, ``connectorId``, ``scope``, ``direction``, ``errorCount`` and
``synchronizationId``; a public client lists another tag set ([V3]), so the tags are a setting.
"""

from __future__ import annotations

from typing import Any

from lx_sandbox.emulator.integration.runs import Run
from lx_sandbox.emulator.state import new_id, now_iso

JsonDict = dict[str, Any]


def event_type(run: Run) -> str:
    """[V] §4.5: INTEGRATION_RUN_FINISHED, or _ABORTED for FAILED and STOPPED runs."""
    return "INTEGRATION_RUN_FINISHED" if run.status == "FINISHED" else "INTEGRATION_RUN_ABORTED"


def run_event(run: Run, *, workspace_id: str, base_url: str, tag_sets: list[list[str]]) -> JsonDict:
    """The envelope of a run's statistics event.

    # ASSUMPTION [I] §2: ``synchronizationId`` is the run id of POST /synchronizationRuns.
    # ASSUMPTION [U] §4.6: ``scope`` is the run's processing mode (its meaning is undocumented);
    # the envelope's tags are every tag of the configured tag sets plus the event type, so a
    # subscription to any configured set matches; sourceName is "INTEGRATION_API".
    """
    kind = event_type(run)
    progress = run.progress_json()
    connector_type, connector_id, version, direction, mode = run.identity
    created = now_iso()
    payload: JsonDict = {
        "type": kind,
        "progress": run.status,
        "connectorType": connector_type,
        "connectorId": connector_id,
        "connectorVersion": version,
        "scope": mode,
        "direction": direction,
        "errorCount": progress["errorCount"],
        "warningsCount": progress["warningsCount"],
        "processedContentCount": progress["processedContentCount"],
        "synchronizationId": run.id,
        "test": run.test,
        "description": run.description,
        "workspaceId": workspace_id,
        "createdAt": created,
    }
    tags = list(dict.fromkeys([t for inner in tag_sets for t in inner] + [kind]))
    return {
        "id": new_id(),
        "createdAt": created,
        "type": kind,
        "sourceName": "INTEGRATION_API",
        "sourceId": None,
        "sourceUrl": base_url,
        "workspaceId": workspace_id,
        "userId": run.user_id,
        "tags": tags,
        "payload": payload,
    }
