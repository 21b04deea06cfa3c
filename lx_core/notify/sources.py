"""Where notices come from: LeanIX PULL events and the project's own logs (integration run
outcomes, notices recorded by the webhook handlers). Each yields ``(log key, notice | None)``;
None means "read, but the relay does not carry it"."""

from __future__ import annotations

from lx_core.jobs.sync_state import OutcomeRecord
from lx_core.notify.notices import IntegrationRunNotice, notice_id, run_severity


def notice_from_outcome(
    record: OutcomeRecord, *, workspace_url: str | None
) -> IntegrationRunNotice | None:
    """The notice an outcome row stands for, or None when the connector's policy said not to
    alert (``notify`` false). Keyed like LeanIX's statistics event of the same run."""
    if not record.notify:
        return None
    # connector_key is type/id/version/direction/mode (ConnectorIdentity.key).
    parts = record.connector_key.split("/")
    connector_id, direction, scope = (
        (parts[1], parts[3], parts[4])
        if len(parts) == 5
        else (
            record.connector_key,
            None,
            None,
        )
    )
    severity = (
        "failure" if record.failed else run_severity(record.status, record.errors, record.warnings)
    )
    return IntegrationRunNotice(
        id=notice_id("run", record.run_id)
        if record.run_id
        else notice_id("outcome", f"{record.connector}.{record.attempt}"),
        severity=severity,
        workspace_url=workspace_url,
        connector=record.connector,
        connector_id=connector_id,
        scope=scope,
        direction=direction,
        status=record.status,
        error_count=record.errors,
        warnings_count=record.warnings,
        processed=record.processed,
        synchronization_id=record.run_id,
        test=record.test,
        reasons=tuple(record.reasons),
        source="outcome",
    )
