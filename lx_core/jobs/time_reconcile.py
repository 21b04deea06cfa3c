"""The TIME reconcile as a resumable run: walk every Application, repair what webhooks missed.

One run may span several invocations. After every page the counts and the GraphQL cursor are
stored as a checkpoint (after the page's writes, so the cursor never moves past work that is not
done). An invocation that runs out of time stops between pages and leaves the checkpoint; one
that dies leaves the checkpoint of its last page. The next invocation resumes from it. How long a
cursor stays valid is undocumented: a resume whose cursor LeanIX rejects starts the walk over,
which compare-first writing makes safe, and counts the restart.

Writes go in rev-guarded batches. A batch that fails as a whole falls back to read-modify-write
per item; items that still fail are kept, with the reason, and retried once more when the walk
ends. The run fails only if some Application is still not repaired, and then names them.
Authentication, permission and configuration errors abort at once: retrying cannot help.

One run at a time per workspace and fact sheet type, whoever starts it (the timers, ``lx``): a
lease row in the state store, renewed while the run works. Without a store the run is neither
resumable nor guarded; the CLI says so.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pydantic import ValidationError

from lx_core import deadline
from lx_core.decisions.time_tags import Outcome
from lx_core.errors import (
    AuthenticationError,
    ConfigurationError,
    DeadlineExceededError,
    GraphQLError,
    LeanIXError,
    NotFoundError,
    PermissionDeniedError,
    RevisionClashError,
)
from lx_core.jobs.reconcile_summary import (
    MAX_LISTED,
    Checkpoint,
    PlannedChange,
    ProgressCallback,
    ReconcileSummary,
)
from lx_core.leanix.graphql import FactSheetPage, FactSheetUpdate
from lx_core.state.base import StateStore
from lx_core.state.lease import Lease

if TYPE_CHECKING:
    from lx_core.jobs.time_tagging import Context, TimeTagger

log = logging.getLogger(__name__)

CHECKPOINT_PARTITION = "time-reconcile"
LAST_RUN_PARTITION = "time-reconcile-last"
Clock = Callable[[], float]

#: Errors that no retry can cure: the whole run stops.
_FATAL = (AuthenticationError, PermissionDeniedError, ConfigurationError)
#: Stop between pages when less than this multiple of the slowest page so far is left.
_PAGE_MARGIN = 2.0
#: …and never with less than this many seconds left.
_MIN_SECONDS_FOR_A_PAGE = 5.0


def default_owner() -> str:
    """Who holds a lease: host, process and a random suffix, so two runs never look alike."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _reason(exc: Exception) -> str:
    """A one-line reason: the error class and its message, clipped."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


class _Paused(Exception):  # noqa: N818 - control flow, never escapes this module
    """Out of time between two steps: keep the checkpoint and stop."""


class ReconcileRun:
    """One resumable, lease-guarded TIME reconcile of one workspace."""

    def __init__(
        self,
        tagger: TimeTagger,
        store: StateStore | None,
        *,
        owner: str | None = None,
        lease_seconds: float | None = None,
        max_restarts: int | None = None,
        clock: Clock = time.time,
        monotonic: Clock = time.monotonic,
    ) -> None:
        settings = tagger.settings
        self._tagger = tagger
        self._store = store
        self._owner = owner or default_owner()
        self._lease_seconds = lease_seconds or settings.reconcile_lease_seconds
        self._max_restarts = (
            settings.reconcile_max_restarts if max_restarts is None else max_restarts
        )
        self._clock = clock
        self._monotonic = monotonic
        self._lease: Lease | None = None
        self._renewed_at = 0.0
        self._slowest_page = 0.0

    @property
    def key(self) -> str:
        """The row key of this run's checkpoint and lease: workspace and fact sheet type."""
        workspace = self._tagger.client.claims.workspace_id or "workspace"
        return f"{workspace}.{self._tagger.settings.fact_sheet_type}"

    # -- entry points ----------------------------------------------------------------------------

    def pending(self) -> Checkpoint | None:
        """The stored checkpoint of an unfinished run, if any (one state-store read)."""
        if self._store is None:
            return None
        row = self._store.get(CHECKPOINT_PARTITION, self.key)
        if row is None:
            return None
        try:
            return Checkpoint.model_validate(row.data)
        except ValidationError:
            # Damaged, or written by an incompatible version: starting over is safe.
            log.warning(
                "discarding an unreadable TIME reconcile checkpoint", extra={"key": row.key}
            )
            return None

    def run(
        self,
        *,
        dry_run: bool = False,
        on_progress: ProgressCallback | None = None,
        budget_seconds: float | None = None,
        resume_only: bool = False,
        restart: bool = False,
    ) -> ReconcileSummary:
        """Start or resume the run and work until it finishes or ``budget_seconds`` run out.

        ``resume_only``: do nothing (state "idle") unless a checkpoint exists. ``restart``:
        discard an existing checkpoint. A dry run writes nothing, not even state.
        """
        if dry_run or self._store is None:
            return self._unguarded(dry_run, on_progress, budget_seconds)
        if resume_only and self.pending() is None:
            return ReconcileSummary(state="idle")
        lease = Lease(
            self._store,
            "time-reconcile." + self.key,
            owner=self._owner,
            duration=self._lease_seconds,
        )
        if not lease.acquire():
            holder = lease.blocked_by
            log.info("another TIME reconcile holds the lease", extra={"holder": str(holder)})
            return ReconcileSummary(
                state="busy", blocked_by=holder.owner if holder else "another run"
            )
        self._lease, self._renewed_at = lease, self._monotonic()
        try:
            checkpoint = None if restart else self.pending()
            if checkpoint is None or checkpoint.fact_sheet_type != self._fact_sheet_type:
                now = self._clock()
                checkpoint = Checkpoint(
                    fact_sheet_type=self._fact_sheet_type, started_at=now, updated_at=now
                )
            else:
                checkpoint.invocations += 1
                log.info(
                    "resuming the TIME reconcile from its checkpoint",
                    extra={"examined": checkpoint.examined, "invocations": checkpoint.invocations},
                )
            with self._budget(budget_seconds):
                summary = self._execute(checkpoint, on_progress, dry_run=False)
            if summary.state == "finished":
                self._finish(summary)
            return summary
        finally:
            self._lease = None
            lease.release()

    # -- the walk --------------------------------------------------------------------------------

    @property
    def _fact_sheet_type(self) -> str:
        return self._tagger.settings.fact_sheet_type

    def _unguarded(
        self, dry_run: bool, on_progress: ProgressCallback | None, budget_seconds: float | None
    ) -> ReconcileSummary:
        now = self._clock()
        checkpoint = Checkpoint(
            fact_sheet_type=self._fact_sheet_type, started_at=now, updated_at=now
        )
        with self._budget(budget_seconds):
            summary = self._execute(checkpoint, on_progress, dry_run=dry_run)
        summary.dry_run = dry_run
        return summary

    @contextmanager
    def _budget(self, seconds: float | None) -> Iterator[None]:
        if seconds is None:
            yield
            return
        with deadline.within(seconds, clock=self._monotonic):
            yield

    def _execute(
        self, checkpoint: Checkpoint, on_progress: ProgressCallback | None, *, dry_run: bool
    ) -> ReconcileSummary:
        summary = checkpoint.summary()
        unrepaired = dict(checkpoint.unrepaired)
        ctx = self._tagger.context()
        try:
            if checkpoint.phase == "walk":
                self._walk(ctx, checkpoint, summary, unrepaired, on_progress, dry_run)
                checkpoint.phase, checkpoint.cursor = "repair", None
                self._save(checkpoint, summary, unrepaired)
            for fs_id in list(unrepaired):
                self._check_time(needed=_MIN_SECONDS_FOR_A_PAGE)
                self._repair_one(ctx, fs_id, summary, unrepaired)
                self._save(checkpoint, summary, unrepaired)
        except (_Paused, DeadlineExceededError):
            # The stored checkpoint is consistent (counts match its cursor); report that one.
            paused = self._stored_summary(checkpoint)
            paused.state = "paused"
            log.info("TIME reconcile paused; the next invocation resumes", extra=paused.as_dict())
            return paused
        summary.failed = len(unrepaired)
        summary.failures = list(unrepaired.items())[:MAX_LISTED]
        summary.state = "finished"
        if on_progress:
            on_progress(summary)
        return summary

    def _walk(
        self,
        ctx: Context,
        checkpoint: Checkpoint,
        summary: ReconcileSummary,
        unrepaired: dict[str, str],
        on_progress: ProgressCallback | None,
        dry_run: bool,
    ) -> None:
        gql = self._tagger.client.graphql
        cursor = checkpoint.cursor
        while True:
            try:
                started = self._monotonic()
                for page in gql.iter_fact_sheet_pages(
                    ctx.selection, fact_sheet_type=self._fact_sheet_type, after=cursor
                ):
                    self._page(ctx, page, summary, unrepaired, dry_run)
                    cursor = page.end_cursor if page.has_next_page else None
                    checkpoint.cursor = cursor
                    self._save(checkpoint, summary, unrepaired)
                    if on_progress:
                        on_progress(summary)
                    now = self._monotonic()
                    self._slowest_page = max(self._slowest_page, now - started)
                    started = now
                    if page.has_next_page:
                        self._check_time(needed=self._slowest_page * _PAGE_MARGIN)
                return
            except GraphQLError as exc:
                if cursor is None or isinstance(exc, RevisionClashError):
                    raise
                if summary.restarts >= self._max_restarts:
                    raise
                log.warning(
                    "LeanIX rejected the stored cursor; the walk starts over",
                    extra={"error": _reason(exc), "restarts": summary.restarts + 1},
                )
                summary.restart_walk()
                cursor = checkpoint.cursor = None
                self._save(checkpoint, summary, unrepaired)

    def _page(
        self,
        ctx: Context,
        page: FactSheetPage,
        summary: ReconcileSummary,
        unrepaired: dict[str, str],
        dry_run: bool,
    ) -> None:
        summary.total = page.total_count
        pending: list[FactSheetUpdate] = []
        for node in page.nodes:
            summary.examined += 1
            fs_id = str(node["id"])
            verdict = self._tagger.decide(ctx, node)
            decision = verdict.decision
            if decision is None:
                summary.count(Outcome.SKIPPED, verdict.skip_reason)
                unrepaired.pop(fs_id, None)
            elif not decision.needs_write:
                summary.count(decision.outcome)
                unrepaired.pop(fs_id, None)
            elif dry_run:
                summary.count(Outcome.CHANGED)
                summary.would_change.append(
                    PlannedChange(
                        fs_id,
                        node.get("name"),
                        self._tagger.current_value(ctx, node),
                        decision.classification.value if decision.classification else None,
                    )
                )
            else:
                pending.append(self._tagger.update_for(ctx, node, decision))
        size = self._tagger.settings.batch_size
        for start in range(0, len(pending), size):
            self._flush(ctx, pending[start : start + size], summary, unrepaired)
            self._keep_lease()

    def _flush(
        self,
        ctx: Context,
        batch: Sequence[FactSheetUpdate],
        summary: ReconcileSummary,
        unrepaired: dict[str, str],
    ) -> None:
        try:
            outcomes = self._tagger.client.graphql.update_fact_sheets(batch)
        except _FATAL:
            raise
        except LeanIXError as exc:
            if isinstance(exc, DeadlineExceededError):
                raise
            log.warning(
                "a TIME batch write failed; repairing its items one by one",
                extra={"items": len(batch), "error": _reason(exc)},
            )
            for update in batch:
                self._repair_one(ctx, update.id, summary, unrepaired, planned_write=True)
            return
        for outcome in outcomes:
            if outcome.error is None:
                summary.count(Outcome.CHANGED)
                unrepaired.pop(outcome.id, None)
            elif isinstance(outcome.error, RevisionClashError):
                # Changed since the page was read (or our replayed write landed): decide again.
                self._repair_one(ctx, outcome.id, summary, unrepaired, planned_write=True)
            else:
                unrepaired[outcome.id] = _reason(outcome.error)

    def _repair_one(
        self,
        ctx: Context,
        fs_id: str,
        summary: ReconcileSummary,
        unrepaired: dict[str, str],
        *,
        planned_write: bool = False,
    ) -> None:
        """Read-modify-write one Application. ``planned_write``: a batch write of ours for it
        may have landed (its answer was lost, or its replay clashed); a re-read that finds
        nothing left to do then counts as changed, not as unchanged."""
        try:
            result = self._tagger.tag_one(fs_id, ctx)
        except _FATAL:
            raise
        except NotFoundError:
            summary.count(Outcome.SKIPPED, "no longer exists")
            unrepaired.pop(fs_id, None)
        except LeanIXError as exc:
            if isinstance(exc, DeadlineExceededError):
                raise
            unrepaired[fs_id] = _reason(exc)
        else:
            outcome = result.outcome or Outcome.SKIPPED
            if planned_write and outcome is Outcome.UNCHANGED:
                outcome = Outcome.CHANGED
            summary.count(outcome, result.reason)
            unrepaired.pop(fs_id, None)

    # -- time, lease and state -------------------------------------------------------------------

    def _check_time(self, *, needed: float) -> None:
        if deadline.remaining() < max(needed, _MIN_SECONDS_FOR_A_PAGE):
            raise _Paused

    def _keep_lease(self) -> None:
        """Renew once a third of the lease has passed (raises LeaseLostError if taken over)."""
        if self._lease is None:
            return
        now = self._monotonic()
        if now - self._renewed_at >= self._lease_seconds / 3:
            self._lease.renew()
            self._renewed_at = now

    def _save(
        self, checkpoint: Checkpoint, summary: ReconcileSummary, unrepaired: dict[str, str]
    ) -> None:
        checkpoint.take_counts(summary)
        checkpoint.unrepaired = dict(unrepaired)
        checkpoint.updated_at = self._clock()
        if self._store is None or self._lease is None:
            return
        self._lease.renew()  # proves we still own the run before the checkpoint moves
        self._renewed_at = self._monotonic()
        self._store.upsert(CHECKPOINT_PARTITION, self.key, checkpoint.model_dump(mode="json"))

    def _stored_summary(self, checkpoint: Checkpoint) -> ReconcileSummary:
        summary = checkpoint.summary()
        summary.failed = len(checkpoint.unrepaired)
        summary.failures = list(checkpoint.unrepaired.items())[:MAX_LISTED]
        return summary

    def _finish(self, summary: ReconcileSummary) -> None:
        if self._store is None:
            return
        self._store.upsert(
            LAST_RUN_PARTITION, self.key, {"finished_at": self._clock(), **summary.report()}
        )
        self._store.delete(CHECKPOINT_PARTITION, self.key)
        log.info("TIME reconcile finished", extra=summary.as_dict())
