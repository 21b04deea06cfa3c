"""What the relay carries: typed notices, one model per kind, each with a stable id.

A notice's ``id`` is its de-duplication key. The same run reported twice (LeanIX's statistics
event and our own outcome row) has one id, ``run-<run id>``, so it becomes one outbox row per
channel and one message. Every field but the kind and the id is optional: LeanIX's payloads are
only partly documented, and a notice with a missing field must still render ("n/a").
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

Severity = Literal["success", "warning", "failure", "info"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_ID = 200


def notice_id(prefix: str, raw: object) -> str:
    """A row-key-safe id: ``prefix-raw`` with anything but ``[A-Za-z0-9._-]`` replaced."""
    return f"{prefix}-{_UNSAFE.sub('_', str(raw))}"[:_MAX_ID]


def run_severity(status: str | None, errors: int | None, warnings: int | None) -> Severity:
    """✅ finished clean, ⚠️ finished with errors or warnings, ❌ failed, stopped or aborted."""
    if status != "FINISHED":
        return "failure"
    if (errors or 0) > 0 or (warnings or 0) > 0:
        return "warning"
    return "success"


class _Notice(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=_MAX_ID, pattern=r"^[A-Za-z0-9._-]+$")
    severity: Severity = "info"
    occurred_at: str | None = None
    workspace_url: str | None = None
    #: People this notice is addressed to (e-mail channels may add them to their own list).
    recipients: tuple[str, ...] = ()


class IntegrationRunNotice(_Notice):
    """An Integration API run ended (a statistics event or an outcome row)."""

    kind: Literal["integration_run"] = "integration_run"
    connector: str | None = None
    connector_id: str | None = None
    scope: str | None = None
    direction: str | None = None
    status: str | None = None
    error_count: int | None = None
    warnings_count: int | None = None
    processed: int | None = None
    synchronization_id: str | None = None
    test: bool = False
    reasons: tuple[str, ...] = ()
    source: Literal["event", "outcome"] = "event"

    @model_validator(mode="before")
    @classmethod
    def _default_severity(cls, data: Any) -> Any:
        """Without an explicit verdict, the run's own figures give it."""
        if isinstance(data, dict) and "severity" not in data:
            errors, warnings = data.get("error_count"), data.get("warnings_count")
            data = {
                **data,
                "severity": run_severity(
                    data.get("status"),
                    errors if isinstance(errors, int) else None,
                    warnings if isinstance(warnings, int) else None,
                ),
            }
        return data


class FactSheetNotice(_Notice):
    """Something happened to one fact sheet (archived, a subscription removed, seal broken)."""

    kind: Literal["fact_sheet_archived", "subscription_removed", "quality_seal_broken"]
    fact_sheet_id: str | None = None
    fact_sheet_name: str | None = None
    fact_sheet_type: str | None = None
    actor: str | None = None
    role: str | None = None


class DeadLetterNotice(_Notice):
    """An item could not be delivered to a channel and was set aside (reported once)."""

    kind: Literal["dead_letter"] = "dead_letter"
    channel: str
    item_id: str
    item_kind: str | None = None
    attempts: int = 0
    reason: str | None = None


class DigestItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    fact_sheet_id: str
    fact_sheet_name: str | None = None
    fact_sheet_type: str | None = None
    gaps: tuple[str, ...] = ()


class QualityDigestNotice(_Notice):
    """One person's weekly list of their fact sheets' data-quality gaps (``recipients`` holds
    exactly that person, or the dry-run address)."""

    kind: Literal["quality_digest"] = "quality_digest"
    week: str
    person: str
    items: tuple[DigestItem, ...] = ()
    #: Fact sheets with gaps in all; ``items`` may hold fewer (a digest stays readable).
    total: int = 0


Notice = Annotated[
    IntegrationRunNotice | FactSheetNotice | DeadLetterNotice | QualityDigestNotice,
    Field(discriminator="kind"),
]
NOTICE = TypeAdapter[Notice](Notice)

#: Progress values that mean a run has ended ([V] §5.2 status values; ABORTED from the event
#: type). Anything else (RUNNING, IN_PROGRESS) is an intermediate statistics event: ignored.
_ENDED = frozenset({"FINISHED", "FAILED", "STOPPED", "ABORTED", "CANCELLED"})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def notice_from_event(
    event: dict[str, Any], *, workspace_url: str | None = None
) -> IntegrationRunNotice | None:
    """The notice a PULL event stands for, or None when the relay does not carry it.

    Only Integration API statistics events that report an ended run become notices; their
    fields are all optional (integration-api-processors §2 [I]). ``synchronizationId`` is taken
    as the run id (assumptions.SYNCHRONIZATION_ID_IS_RUN_ID), so the event and our own outcome
    row of the same run share one id.
    """
    payload = event.get("payload")
    if not isinstance(payload, dict):
        return None
    status = _text(payload.get("progress"))
    event_type = _text(event.get("type")) or _text(payload.get("type")) or ""
    if event_type == "INTEGRATION_RUN_ABORTED" and status not in _ENDED:
        status = "ABORTED"
    if status not in _ENDED:
        return None
    sync_id = _text(payload.get("synchronizationId"))
    event_id = event.get("id")
    if sync_id is None and event_id is None:
        return None
    errors = _int(payload.get("errorCount"))
    warnings = _int(payload.get("warningsCount"))
    return IntegrationRunNotice(
        id=notice_id("run", sync_id) if sync_id else notice_id("event", event_id),
        severity=run_severity(status, errors, warnings),
        occurred_at=_text(payload.get("createdAt")) or _text(event.get("createdAt")),
        workspace_url=workspace_url,
        connector_id=_text(payload.get("connectorId")),
        scope=_text(payload.get("scope")),
        direction=_text(payload.get("direction")),
        status=status,
        error_count=errors,
        warnings_count=warnings,
        processed=_int(payload.get("processedContentCount")),
        synchronization_id=sync_id,
        test=payload.get("test") is True,
    )
