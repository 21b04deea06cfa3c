"""The durable state of each connector's recurring run, and the outcome log.

One row per connector (partition ``sync``) records where its current attempt stands, so a tick
that dies at any step is harmless: the next tick reads the row and carries on. Every write is
ETag-guarded; the connector's lease keeps two instances from deciding at once, and the ETag
catches the case where a lease expired under a paused owner.

Every finished attempt becomes one row of the outcome log (partition ``sync-outcomes``), keyed by
time, connector and attempt, so a retried recording is a no-op. The notification relay reads
that log and routes by the stored verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lx_core.errors import StateConflictError, StateError
from lx_core.state.base import Row, StateStore

PARTITION = "sync"
OUTCOMES_PARTITION = "sync-outcomes"

#: ``idle``: nothing open. ``intent``: an attempt id is recorded, the run may or may not exist.
#: ``created``: the run exists and is not started. ``started``: it is being watched.
#: ``results_pending``: it ended; results are being stored before the outcome is recorded.
Phase = Literal["idle", "intent", "created", "started", "results_pending"]
OPEN_PHASES: frozenset[str] = frozenset({"intent", "created", "started", "results_pending"})


class WarningSample(BaseModel):
    """One run warning, as kept in the outcome log (the full list stays in LeanIX)."""

    model_config = ConfigDict(extra="ignore")

    status: str | None = None
    processor: str | None = None
    content: str | None = None
    message: str | None = None


class BlobLocation(BaseModel):
    container: str
    name: str
    size: int | None = None


class OutcomeRecord(BaseModel):
    """How one attempt ended: what LeanIX reported, where results went, and the verdict."""

    model_config = ConfigDict(extra="ignore")

    connector: str
    connector_key: str
    attempt: str
    run_id: str | None
    status: str
    test: bool = False
    trigger: str = "schedule"
    processed: int | None = None
    errors: int | None = None
    warnings: int | None = None
    items_in_scope: int | None = None
    duration_seconds: float | None = None
    started_at: float | None = None
    finished_at: float
    warnings_sample: list[WarningSample] = Field(default_factory=list)
    result_blob: BlobLocation | None = None
    result_note: str | None = None
    failed: bool
    reasons: list[str] = Field(default_factory=list)
    #: Whether the relay should alert: exactly the policy's verdict.
    notify: bool

    def log_extra(self) -> dict[str, Any]:
        """The fields every log line of an outcome carries (``lx_`` keys, clear of the names
        LogRecord reserves)."""
        return {
            "lx_connector": self.connector,
            "lx_run_id": self.run_id,
            "lx_status": self.status,
            "lx_processed": self.processed,
            "lx_errors": self.errors,
            "lx_warnings": self.warnings,
            "lx_items_in_scope": self.items_in_scope,
            "lx_duration_seconds": self.duration_seconds,
            "lx_failed": self.failed,
        }


class SyncState(BaseModel):
    """Where one connector's current attempt stands."""

    model_config = ConfigDict(extra="ignore")

    phase: Phase = "idle"
    attempt: str | None = None
    run_id: str | None = None
    test: bool = False
    trigger: str = "schedule"
    intent_at: float | None = None
    started_at: float | None = None
    #: Failed tries to create or start the current attempt, and when to try again.
    start_failures: int = 0
    retry_at: float | None = None
    last_error: str | None = None
    #: Set when the run ended and its results are being stored.
    pending: OutcomeRecord | None = None
    last_outcome: OutcomeRecord | None = None

    @property
    def open(self) -> bool:
        return self.phase in OPEN_PHASES


class SyncStates:
    """Read and write connector rows with their ETags."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def get(self, connector: str) -> tuple[SyncState, str | None]:
        """The connector's state and its ETag (None: no row yet). A damaged row is a
        StateError: guessing could start a second run beside an open one."""
        row = self.store.get(PARTITION, connector)
        if row is None:
            return SyncState(), None
        try:
            return SyncState.model_validate(row.data), row.etag
        except ValidationError:
            raise StateError(
                "connector state row is damaged; inspect it, then delete it to start over",
                partition=PARTITION,
                key=connector,
            ) from None

    def save(self, connector: str, state: SyncState, etag: str | None) -> str:
        """Write ``state`` if the row is still at ``etag``; the new ETag.
        StateConflictError if someone else wrote in between."""
        data = state.model_dump(mode="json")
        if etag is None:
            return self.store.insert(PARTITION, connector, data).etag
        return self.store.replace(PARTITION, connector, data, etag=etag).etag


def outcome_key(record: OutcomeRecord) -> str:
    """Time first (the log reads in order), then connector and attempt (unique, repeatable)."""
    when = datetime.fromtimestamp(record.finished_at, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{when}.{record.connector}.{record.attempt}"


class OutcomeLog:
    """Append-only rows of outcomes; recording the same attempt twice stores it once."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def record(self, record: OutcomeRecord) -> bool:
        """Store the outcome; False if this attempt's outcome was stored already."""
        try:
            self.store.insert(
                OUTCOMES_PARTITION, outcome_key(record), record.model_dump(mode="json")
            )
        except StateConflictError:
            return False
        return True

    def read(self, limit: int = 1000, *, after: str | None = None) -> list[OutcomeRecord]:
        """Up to ``limit`` outcomes, oldest first, skipping rows that do not parse. ``after``
        is the :func:`outcome_key` of the last outcome a reader has seen (its cursor)."""
        return self.parse(self.store.list(OUTCOMES_PARTITION, limit=limit, after=after))

    @staticmethod
    def parse(rows: Iterable[Row]) -> list[OutcomeRecord]:
        """The outcomes of ``rows`` that parse (a damaged row is skipped, not fatal)."""
        out: list[OutcomeRecord] = []
        for row in rows:
            try:
                out.append(OutcomeRecord.model_validate(row.data))
            except ValidationError:
                continue
        return out

    def prune(self, *, before: float, limit: int = 200) -> int:
        """Delete up to ``limit`` outcomes that finished before epoch ``before``; the number
        deleted. Keys start with the finish time, so the oldest rows come first."""
        cutoff = datetime.fromtimestamp(before, UTC).strftime("%Y%m%dT%H%M%SZ")
        deleted = 0
        for row in self.store.list(OUTCOMES_PARTITION, limit=limit):
            if row.key >= cutoff:
                break
            self.store.delete(OUTCOMES_PARTITION, row.key, etag=row.etag)
            deleted += 1
        return deleted
