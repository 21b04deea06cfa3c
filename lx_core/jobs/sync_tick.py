"""One tick of a connector's recurring run: a step of a state machine kept in the state store.

With no open run, a tick that may start one does, in an order that survives a crash between any
two steps::

    1. record the intent (a new attempt id)           -> phase "intent"
    2. build the LDIF; upsert the processor configuration if it differs
    3. create the run with start=false; store its id   -> phase "created"
    4. start it                                        -> phase "started"

With an open run, a tick advances it: it polls (bounded by its budget), and when the run has
ended it stores the results in Blob storage (phase "results_pending" until they are safe), then
records the outcome and returns to "idle". A tick that finds an intent without a run id looks
for the run in ``GET /synchronizationRuns`` by the attempt id written into the LDIF's
description, adopts it if it exists, and only otherwise creates one. Runs are created
unstarted, so even a lost create answer can leave at most an idle, never-started run behind.

The connector's lease guards each tick's read-decide-write, so two instances never decide at
once, and every row write is ETag-guarded besides.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from lx_core import deadline
from lx_core.config import BlobSettings, IntegrationSettings
from lx_core.decisions.run_policy import judge
from lx_core.errors import ConfigurationError, LxError, NotFoundError
from lx_core.integration.connectors import Connector
from lx_core.integration.ldif import LdifHeader
from lx_core.jobs.run_watcher import RunOutcome, RunWatcher
from lx_core.jobs.sync_state import (
    BlobLocation,
    OutcomeLog,
    OutcomeRecord,
    SyncState,
    SyncStates,
    WarningSample,
)
from lx_core.leanix.integration_api import IntegrationAPI, RunProgress, RunStatus
from lx_core.state.base import StateStore
from lx_core.state.lease import Lease
from lx_core.storage.blob import BlobStore, render_blob_name

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]
ProgressCallback = Callable[[RunStatus, RunProgress | None], None]

#: Warnings kept in an outcome row (the full list stays readable in LeanIX).
OUTCOME_WARNING_SAMPLE = 20
#: Time a tick gives an overdue run to stop (the next tick checks again).
OVERDUE_STOP_BUDGET_SECONDS = 5.0
#: Marker written into the LDIF description, found again in ``GET /synchronizationRuns``.
ATTEMPT_MARKER = "lx-functions attempt="

Action = Literal[
    "idle",
    "busy",
    "watching",
    "finished",
    "retry_later",
    "given_up",
    "error",
]


@dataclass(frozen=True)
class TickReport:
    """What one tick did for one connector."""

    connector: str
    action: Action
    run_id: str | None = None
    status: str | None = None
    outcome: OutcomeRecord | None = None
    message: str | None = None

    def log_extra(self) -> dict[str, Any]:
        """The report as ``extra`` of a log record: prefixed, since LogRecord reserves names
        such as ``message`` (a clash raises inside ``logging`` and fails the invocation)."""
        return {f"lx_{key}": value for key, value in self.as_dict().items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "action": self.action,
            "run_id": self.run_id,
            "status": self.status,
            "message": self.message,
            "outcome": self.outcome.model_dump(mode="json") if self.outcome else None,
        }


def attempt_marker(attempt: str) -> str:
    return f"{ATTEMPT_MARKER}{attempt}"


class SyncTicker:
    """Advances one connector's run by one tick."""

    def __init__(
        self,
        connector: Connector,
        *,
        api: IntegrationAPI,
        store: StateStore,
        settings: IntegrationSettings,
        blob: BlobStore | None = None,
        blob_settings: BlobSettings | None = None,
        env: Mapping[str, str] | None = None,
        owner: str | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.connector = connector
        self.api = api
        self.store = store
        self.settings = settings
        self.blob = blob
        self.blob_settings = blob_settings or BlobSettings()
        self.env = env if env is not None else {}
        self.owner = owner or f"sync-{uuid.uuid4().hex[:12]}"
        self.clock = clock
        self.sleep = sleep
        self.states = SyncStates(store)
        self.outcomes = OutcomeLog(store)

    @property
    def name(self) -> str:
        return self.connector.name

    # -- the tick ---------------------------------------------------------------------------

    def tick(
        self,
        *,
        start: bool,
        budget_seconds: float,
        test: bool = False,
        trigger: str = "schedule",
        on_progress: ProgressCallback | None = None,
    ) -> TickReport:
        """Start a run if ``start`` and none is open, else advance the open one."""
        lease = Lease(
            self.store,
            f"sync.{self.name}",
            owner=self.owner,
            duration=self.settings.lease_seconds,
            clock=self.clock,
        )
        if not lease.acquire():
            holder = lease.blocked_by.owner if lease.blocked_by else "another instance"
            return TickReport(self.name, "busy", message=f"held by {holder}")
        try:
            with deadline.within(budget_seconds + self.settings.lease_seconds / 2):
                return self._step(
                    lease,
                    start=start,
                    test=test,
                    trigger=trigger,
                    budget_end=self.clock() + budget_seconds,
                    on_progress=on_progress,
                )
        finally:
            lease.release()

    def run_to_end(
        self,
        *,
        timeout_seconds: float,
        test: bool = False,
        trigger: str = "manual",
        on_progress: ProgressCallback | None = None,
    ) -> TickReport:
        """Start a run (or adopt the open one) and tick until it has an outcome, another
        instance holds it, or ``timeout_seconds`` pass; for an operator who waits at a prompt.
        The run is never abandoned on timeout: the watch tick takes it over."""
        end = self.clock() + timeout_seconds
        per_tick = self.settings.tick_invocation_seconds

        def budget() -> float:
            return max(0.5, min(per_tick, end - self.clock()))

        report = self.tick(
            start=True, test=test, trigger=trigger, budget_seconds=budget(), on_progress=on_progress
        )
        while report.action in {"watching", "retry_later"} and self.clock() < end:
            if report.action == "retry_later":
                self.sleep(min(self.settings.start_retry_seconds or 0.5, end - self.clock()))
            report = self.tick(start=False, budget_seconds=budget(), on_progress=on_progress)
        return report

    def _step(
        self,
        lease: Lease,
        *,
        start: bool,
        test: bool,
        trigger: str,
        budget_end: float,
        on_progress: ProgressCallback | None,
    ) -> TickReport:
        state, etag = self.states.get(self.name)
        if state.phase == "idle":
            if not start:
                return TickReport(self.name, "idle")
            state = SyncState(
                phase="intent",
                attempt=uuid.uuid4().hex,
                test=test,
                trigger=trigger,
                intent_at=self.clock(),
                last_outcome=state.last_outcome,
            )
            etag = self.states.save(self.name, state, etag)
            log.info("sync %s: attempt %s recorded", self.name, state.attempt)
            fresh = True
        else:
            fresh = False
        waiting = state.retry_at is not None and self.clock() < state.retry_at
        if state.phase in {"intent", "created"} and waiting:
            return TickReport(
                self.name, "retry_later", run_id=state.run_id, message=state.last_error
            )
        if state.phase == "intent":
            try:
                state, etag = self._create(state, etag, look_for_orphan=not fresh)
            except LxError as exc:
                return self._start_failed(state, etag, exc)
        if state.phase == "created":
            try:
                state, etag = self._start(state, etag)
            except LxError as exc:
                return self._start_failed(state, etag, exc)
        if state.phase == "started":
            lease.renew()
            state, etag, report = self._watch(state, etag, lease, budget_end, on_progress)
            if report is not None:
                return report
        if state.phase == "results_pending":
            return self._finish(state, etag)
        return TickReport(self.name, "idle")

    # -- steps ------------------------------------------------------------------------------

    def _create(
        self, state: SyncState, etag: str | None, *, look_for_orphan: bool
    ) -> tuple[SyncState, str | None]:
        attempt = state.attempt or ""
        if look_for_orphan:
            orphan = self._find_orphan(attempt)
            if orphan is not None:
                run_id, status = orphan
                log.warning(
                    "sync %s: adopting run %s (%s) of attempt %s",
                    self.name,
                    run_id,
                    status,
                    attempt,
                )
                phase = "created" if status == "CREATED" else "started"
                state = state.model_copy(
                    update={
                        "phase": phase,
                        "run_id": run_id,
                        "started_at": None if phase == "created" else state.intent_at,
                    }
                )
                return state, self.states.save(self.name, state, etag)
        header = self._header(attempt)
        test_scope = self.connector.spec.test_scope
        if state.test and test_scope is not None:
            # A test of an outbound connector reads only its test scope; ``withConfig`` is the
            # API's way to test a configuration without storing it.
            config = {**self.connector.processor_document(), "scope": test_scope}
            run_id = self.api.create_run_with_config(header, config, start=False)
        else:
            self._configure()
            run_id = self.api.submit(header, self._items(), start=False)
        state = state.model_copy(update={"phase": "created", "run_id": run_id})
        log.info("sync %s: run %s created", self.name, run_id)
        return state, self.states.save(self.name, state, etag)

    def _find_orphan(self, attempt: str) -> tuple[str, str] | None:
        marker = attempt_marker(attempt)
        for run in self.api.list_runs():
            if run.description and marker in run.description:
                return run.id, str(run.status)
        return None

    def _configure(self) -> None:
        """Upsert the processor configuration only if LeanIX holds something else."""
        from lx_core.jobs.processors_apply import ProcessorsManager

        if ProcessorsManager(self.api).ensure(self.connector):
            log.info("sync %s: processor configuration updated", self.name)

    def _header(self, attempt: str) -> LdifHeader:
        spec = self.connector.spec
        text = attempt_marker(attempt)
        if spec.description:
            text = f"{spec.description[:300]} [{text}]"
        identity = spec.connector
        return LdifHeader.model_validate(
            {
                "connectorType": identity.connector_type,
                "connectorId": identity.connector_id,
                "connectorVersion": identity.connector_version,
                "processingDirection": identity.processing_direction,
                "processingMode": identity.processing_mode,
                "lxVersion": spec.lx_version,
                "description": text,
                "customFields": spec.custom_fields,
            }
        )

    def _items(self) -> Iterator[Mapping[str, Any]]:
        source = self.connector.spec.source
        if source is None:
            return iter(())
        from lx_core.integration.sources import read_source

        return read_source(source, env=self.env, blob=self.blob)

    def _start(self, state: SyncState, etag: str | None) -> tuple[SyncState, str | None]:
        run_id = state.run_id or ""
        # A start whose answer was lost is retried here; "already started" counts as done.
        self.api.start_run(run_id, test=state.test)
        state = state.model_copy(update={"phase": "started", "started_at": self.clock()})
        log.info("sync %s: run %s started%s", self.name, run_id, " (test)" if state.test else "")
        return state, self.states.save(self.name, state, etag)

    def _start_failed(self, state: SyncState, etag: str | None, exc: LxError) -> TickReport:
        failures = state.start_failures + 1
        message = f"{type(exc).__name__}: {exc.message}"
        fatal = isinstance(exc, ConfigurationError)
        attempts = self.settings.start_attempts
        if failures >= attempts or fatal:
            record = self._record_for(
                state,
                status="NOT_STARTED",
                outcome=None,
                note=f"could not start after {failures} tries: {message}",
            )
            stored = state.model_copy(update={"pending": record, "phase": "results_pending"})
            etag = self.states.save(self.name, stored, etag)
            log.error("sync %s: attempt %s given up: %s", self.name, state.attempt, message)
            report = self._finish(stored, etag)
            return TickReport(
                self.name, "given_up", run_id=state.run_id, outcome=report.outcome, message=message
            )
        retry_at = self.clock() + self.settings.start_retry_seconds * 2 ** (failures - 1)
        update = {"start_failures": failures, "retry_at": retry_at, "last_error": message}
        self.states.save(self.name, state.model_copy(update=update), etag)
        log.warning("sync %s: start failed (%d/%d): %s", self.name, failures, attempts, message)
        return TickReport(self.name, "retry_later", run_id=state.run_id, message=message)

    def _watch(
        self,
        state: SyncState,
        etag: str | None,
        lease: Lease,
        budget_end: float,
        on_progress: ProgressCallback | None,
    ) -> tuple[SyncState, str | None, TickReport | None]:
        run_id = state.run_id or ""
        started_at = state.started_at or state.intent_at or self.clock()
        spec = self.connector.spec
        budget = max(0.0, budget_end - self.clock())
        # The end of a tick's budget is not the run's deadline: only the connector's own
        # deadline (and its onDeadline) may stop a run, never LX_INTEGRATION_HANDOVER.
        handover: Literal["keep_watching", "stop"] = "keep_watching"
        if self.clock() - started_at > spec.deadline_seconds:
            log.warning(
                "sync %s: run %s is past its deadline of %d s (%s)",
                self.name,
                run_id,
                spec.deadline_seconds,
                "stopping it" if spec.on_deadline == "stop" else "still watching",
            )
            if spec.on_deadline == "stop":
                handover, budget = "stop", min(budget, OVERDUE_STOP_BUDGET_SECONDS)

        def progress(status: RunStatus, report: RunProgress | None) -> None:
            lease.renew()
            if on_progress is not None:
                on_progress(status, report)

        watcher = RunWatcher(
            self.api, self.settings, clock=self.clock, sleep=self.sleep, on_progress=progress
        )
        try:
            result = watcher.watch(
                run_id, started_at=started_at, budget_seconds=budget, handover=handover
            )
        except NotFoundError:
            record = self._record_for(
                state, status="LOST", outcome=None, note="LeanIX no longer knows this run"
            )
            state = state.model_copy(update={"phase": "results_pending", "pending": record})
            return state, self.states.save(self.name, state, etag), None
        if result.outcome is None:
            last = result.last_status.status if result.last_status else None
            return state, etag, TickReport(self.name, "watching", run_id=run_id, status=last)
        record = self._record_for(state, status=result.outcome.status, outcome=result.outcome)
        state = state.model_copy(update={"phase": "results_pending", "pending": record})
        return state, self.states.save(self.name, state, etag), None

    def _record_for(
        self,
        state: SyncState,
        *,
        status: str,
        outcome: RunOutcome | None,
        note: str | None = None,
    ) -> OutcomeRecord:
        processed = outcome.processed if outcome else None
        errors = outcome.error_count if outcome else None
        warnings = outcome.warning_count if outcome else None
        verdict = judge(self.connector.spec.notify, status=status, errors=errors, warnings=warnings)
        reasons = list(verdict.reasons)
        failed = verdict.failed or status in {"NOT_STARTED", "LOST"}
        if status in {"NOT_STARTED", "LOST"} and not reasons:
            reasons.append(note or status)
        samples = [
            WarningSample(
                status=w.status,
                processor=w.processor.name if w.processor else None,
                content=w.content,
                message=w.message,
            )
            for w in (outcome.warnings if outcome else [])[:OUTCOME_WARNING_SAMPLE]
        ]
        return OutcomeRecord(
            connector=self.name,
            connector_key=self.connector.identity.key,
            attempt=state.attempt or "",
            run_id=state.run_id,
            status=status,
            test=state.test,
            trigger=state.trigger,
            processed=processed,
            errors=errors,
            warnings=warnings,
            items_in_scope=outcome.items_in_scope if outcome else None,
            duration_seconds=outcome.duration_seconds if outcome else None,
            started_at=state.started_at,
            finished_at=self.clock(),
            warnings_sample=samples,
            result_note=note,
            failed=failed,
            reasons=reasons,
            notify=failed,
        )

    def _finish(self, state: SyncState, etag: str | None) -> TickReport:
        """Store results (if any), then record the outcome, then go idle. A failure to store
        leaves the state at results_pending for the next tick."""
        record = state.pending
        if record is None:  # pragma: no cover - a state written by this class always has one
            raise LxError("results_pending without a pending outcome")
        if record.result_blob is None and record.result_note is None:
            record = self._store_results(record)
            state = state.model_copy(update={"pending": record})
            etag = self.states.save(self.name, state, etag)
        self.outcomes.record(record)
        level = logging.WARNING if record.failed else logging.INFO
        log.log(level, "sync %s: outcome %s", self.name, record.status, extra=record.log_extra())
        idle = SyncState(last_outcome=record)
        self.states.save(self.name, idle, etag)
        return TickReport(
            self.name, "finished", run_id=record.run_id, status=record.status, outcome=record
        )

    def _store_results(self, record: OutcomeRecord) -> OutcomeRecord:
        target = self.connector.spec.result_target
        if target is None or record.run_id is None or record.status != "FINISHED":
            return record.model_copy(update={"result_note": "no results expected"})
        if self.blob is None:
            raise ConfigurationError(
                f"connector {self.name} stores results, but LX_BLOB_* is not set",
                settings=["LX_BLOB_ACCOUNT_URL", "LX_BLOB_CONNECTION_STRING"],
            )
        stream = self.api.results(record.run_id)
        if stream is None:
            return record.model_copy(update={"result_note": "LeanIX produced no result LDIF"})
        container = target.container or self.blob_settings.results_container
        name = render_blob_name(
            target.path,
            connector=self.name,
            run_id=record.run_id,
            when=datetime.fromtimestamp(record.finished_at, UTC),
        )
        with stream:
            ref = self.blob.upload(container, name, stream.iter_bytes(), overwrite=True)
        log.info(
            "sync %s: results of run %s stored in %s/%s", self.name, record.run_id, container, name
        )
        return record.model_copy(
            update={"result_blob": BlobLocation(container=container, name=name, size=ref.size)}
        )
