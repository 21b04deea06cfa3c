"""RunWatcher: watch one Integration API run to its end, within a time budget.

LeanIX's own sample polls ``/status`` every 5 s until FINISHED and loops forever on FAILED. This
watcher polls at about a tenth of the run's age (``decisions.poll_interval``), ends on any
terminal state (FINISHED, FAILED, STOPPED [I]) with a ``RunOutcome``, and never sleeps past its
budget. Its guarantees:

* it never busy-loops: every poll is followed by a sleep of at least the minimum, except the
  last one, which is cut to the budget's end (and a final poll is made right there);
* a transient failure (any retryable ``LxError``: 503, timeout, malformed body, 429) is logged,
  counted and polled again later within the budget: a run is never abandoned because of a 503;
  non-retryable errors (authentication, permission, a rejected request) propagate;
* a 404 on ``/status`` raises ``RunNotFoundError``: LeanIX no longer knows the run, so the caller
  must record it as lost instead of watching it forever;
* at the budget's end the run is handed over, never dropped: ``keep_watching`` returns
  ``handed_over=True`` (the caller persists the run and watches it again at its next tick);
  ``stop`` asks LeanIX to stop it, reads the status once, and returns the outcome if it ended,
  else hands it over all the same (it is still watched next time).

Progress is fetched only when an ``on_progress`` callback is set (each poll) and once at the end,
to save calls. Every wait and every call is bounded: calls run under an ambient deadline of the
time left (at least ``CALL_FLOOR_SECONDS``, so the poll at the budget's end can still be made).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Literal, Protocol, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from lx_core import deadline
from lx_core.config import IntegrationSettings
from lx_core.decisions.poll_interval import next_poll_delay
from lx_core.errors import BadRequestError, LxError, NotFoundError
from lx_core.leanix.integration_api import RunProgress, RunStatus, RunWarning

logger = logging.getLogger(__name__)

TerminalStatus = Literal["FINISHED", "FAILED", "STOPPED"]
Handover = Literal["keep_watching", "stop"]
ProgressCallback = Callable[[RunStatus, RunProgress | None], None]
T = TypeVar("T")

#: Time granted to one call even when the budget is (nearly) spent; an outer deadline still wins.
CALL_FLOOR_SECONDS = 10.0


class RunApi(Protocol):
    """What the watcher needs from ``IntegrationAPI`` (a fake implements it in tests)."""

    def status(self, run_id: str) -> RunStatus: ...

    def progress(self, run_id: str) -> RunProgress: ...

    def iter_warnings(
        self, run_id: str, *, max_items: int, page_size: int = 100
    ) -> Iterator[RunWarning]: ...

    def results_url(self, run_id: str) -> str | None: ...

    def stop_run(self, run_id: str) -> None: ...


class RunNotFoundError(NotFoundError):
    """``/status`` answered 404: LeanIX does not know the run (any more). Not retryable: the
    caller records the run as lost and stops watching it."""

    def __init__(self, run_id: str, *, cause: NotFoundError) -> None:
        self.run_id = run_id
        super().__init__(
            f"LeanIX does not know run {run_id}",
            method=cause.method,
            path=cause.path,
            status=cause.status,
            leanix_message=cause.leanix_message,
        )


class RunOutcome(BaseModel):
    """How a run ended, as the watcher saw it."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    status: TerminalStatus
    description: str | None = None
    progress: RunProgress | None = None
    #: The first ``settings.warnings_limit`` entries of ``/warnings`` (status WARNING or ERROR).
    warnings: list[RunWarning] = Field(default_factory=list)
    #: LeanIX's ``warningsCount`` (else the list's length when it was not cut; None if unknown).
    warnings_total: int | None = None
    #: ``resultsUrl`` of a FINISHED run, when LeanIX gives one.
    result_location: str | None = None
    duration_seconds: float
    finished_at: float

    @property
    def processed(self) -> int | None:
        return self.progress.processed_content_count if self.progress else None

    @property
    def error_count(self) -> int | None:
        return self.progress.error_count if self.progress else None

    @property
    def warning_count(self) -> int | None:
        return self.warnings_total

    @property
    def items_in_scope(self) -> int | None:
        return self.progress.items_in_scope_count if self.progress else None


@dataclass(frozen=True)
class WatchResult:
    """The end of one ``watch``: an outcome, or the run handed over to the next watch."""

    run_id: str
    outcome: RunOutcome | None
    handed_over: bool
    last_status: RunStatus | None
    #: ``/status`` calls made (successful or not).
    polls: int
    #: Transient failures survived (status, progress or end-of-run reads).
    transient_errors: int
    #: Whether the ``stop`` handover asked LeanIX to stop the run.
    stop_requested: bool = False


class _TransientError(Exception):
    """A retryable LxError, already logged and counted."""


@dataclass
class _Tally:
    polls: int = 0
    transient: int = 0
    last: RunStatus | None = None


class RunWatcher:
    """Polls one run's status until it ends or the budget is spent."""

    def __init__(
        self,
        api: RunApi,
        settings: IntegrationSettings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.api = api
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self.on_progress = on_progress

    def watch(
        self,
        run_id: str,
        *,
        started_at: float,
        budget_seconds: float,
        handover: Handover | None = None,
    ) -> WatchResult:
        """Watch ``run_id`` (started at epoch ``started_at``) for up to ``budget_seconds``.
        ``handover`` overrides ``settings.handover`` for this watch (e.g. ``stop`` only once
        the connector's own deadline has passed)."""
        if budget_seconds < 0:
            raise ValueError("budget_seconds must not be negative")
        stop_at = self._clock() + budget_seconds
        tally = _Tally()
        while True:
            outcome = self._step(run_id, started_at, stop_at, tally)
            if outcome is not None:
                return self._done(run_id, outcome, tally)
            now = self._clock()
            remaining = stop_at - now
            if remaining <= 0:
                break
            delay = next_poll_delay(
                now - started_at,
                minimum=self.settings.poll_min_seconds,
                maximum=self.settings.poll_max_seconds,
            )
            self._sleep(min(delay, remaining))
        return self._hand_over(
            run_id, started_at, stop_at, tally, handover or self.settings.handover
        )

    # --- one poll ------------------------------------------------------------------------------

    def _step(
        self, run_id: str, started_at: float, stop_at: float, tally: _Tally
    ) -> RunOutcome | None:
        """Poll once; the outcome if the run has ended and its details could be read."""
        try:
            status = self._poll(run_id, stop_at, tally)
            if not status.terminal:
                if self.on_progress is not None:
                    self.on_progress(status, self._optional_progress(run_id, stop_at, tally))
                return None
            outcome = self._outcome(run_id, status, started_at, stop_at)
        except _TransientError:
            return None
        except LxError as exc:
            if not exc.retryable:
                raise
            self._transient(run_id, "end-of-run read", exc, tally)
            return None
        if self.on_progress is not None:
            self.on_progress(status, outcome.progress)
        return outcome

    def _poll(self, run_id: str, stop_at: float, tally: _Tally) -> RunStatus:
        tally.polls += 1
        try:
            status = self._bounded(stop_at, lambda: self.api.status(run_id))
        except NotFoundError as exc:
            raise RunNotFoundError(run_id, cause=exc) from exc
        except LxError as exc:
            if not exc.retryable:
                raise
            self._transient(run_id, "status", exc, tally)
            raise _TransientError from exc
        tally.last = status
        if status.state is None:
            logger.warning(
                "unknown run status; still watching",
                extra={"lx_run_id": run_id, "lx_status": status.status},
            )
        return status

    def _optional_progress(self, run_id: str, stop_at: float, tally: _Tally) -> RunProgress | None:
        try:
            return self._bounded(stop_at, lambda: self.api.progress(run_id))
        except NotFoundError:
            return None
        except LxError as exc:
            if not exc.retryable:
                raise
            self._transient(run_id, "progress", exc, tally)
            return None

    def _bounded(self, stop_at: float, call: Callable[[], T]) -> T:
        left = max(stop_at - self._clock(), CALL_FLOOR_SECONDS)
        with deadline.within(left, clock=self._clock):
            return call()

    def _transient(self, run_id: str, what: str, exc: LxError, tally: _Tally) -> None:
        tally.transient += 1
        logger.warning(
            "transient error while watching a run; polling again",
            extra={
                "lx_run_id": run_id,
                "lx_call": what,
                "lx_error": type(exc).__name__,
                "lx_status": getattr(exc, "status", None),
                "lx_transient_errors": tally.transient,
            },
        )

    # --- the end -------------------------------------------------------------------------------

    def _outcome(
        self, run_id: str, status: RunStatus, started_at: float, stop_at: float
    ) -> RunOutcome:
        """Read what a terminal run reports (progress, warnings, result URL). A retryable error
        escapes, so the next poll tries again; a 404 on these reads means "none"."""
        progress = self._absent_on_404(
            lambda: self._bounded(stop_at, lambda: self.api.progress(run_id))
        )
        limit = self.settings.warnings_limit
        warnings: list[RunWarning] = []
        if limit > 0:
            warnings = (
                self._absent_on_404(
                    lambda: self._bounded(
                        stop_at, lambda: list(self.api.iter_warnings(run_id, max_items=limit))
                    )
                )
                or []
            )
        total = progress.warnings_count if progress is not None else None
        if total is None and len(warnings) < limit:
            total = len(warnings)
        location = None
        if status.status == "FINISHED":
            location = self._absent_on_404(
                lambda: self._bounded(stop_at, lambda: self.api.results_url(run_id))
            )
        now = self._clock()
        return RunOutcome(
            run_id=run_id,
            status=cast(TerminalStatus, str(status.status)),
            description=status.description,
            progress=progress,
            warnings=warnings,
            warnings_total=total,
            result_location=location,
            duration_seconds=max(0.0, now - started_at),
            finished_at=now,
        )

    @staticmethod
    def _absent_on_404(call: Callable[[], T]) -> T | None:
        try:
            return call()
        except NotFoundError:
            return None

    def _done(self, run_id: str, outcome: RunOutcome, tally: _Tally) -> WatchResult:
        logger.info(
            "run ended",
            extra={
                "lx_run_id": run_id,
                "lx_status": outcome.status,
                "lx_processed": outcome.processed,
                "lx_errors": outcome.error_count,
                "lx_warnings": outcome.warnings_total,
                "lx_duration_s": round(outcome.duration_seconds, 3),
                "lx_polls": tally.polls,
            },
        )
        return WatchResult(
            run_id=run_id,
            outcome=outcome,
            handed_over=False,
            last_status=tally.last,
            polls=tally.polls,
            transient_errors=tally.transient,
        )

    def _hand_over(
        self, run_id: str, started_at: float, stop_at: float, tally: _Tally, policy: Handover
    ) -> WatchResult:
        stopped = False
        if policy == "stop":
            stopped = self._request_stop(run_id, stop_at, tally)
            if stopped:
                outcome = self._step(run_id, started_at, stop_at, tally)
                if outcome is not None:
                    return replace(self._done(run_id, outcome, tally), stop_requested=True)
        logger.info(
            "watch budget spent; run handed over",
            extra={
                "lx_run_id": run_id,
                "lx_status": tally.last.status if tally.last else None,
                "lx_handover": policy,
                "lx_polls": tally.polls,
            },
        )
        return WatchResult(
            run_id=run_id,
            outcome=None,
            handed_over=True,
            last_status=tally.last,
            polls=tally.polls,
            transient_errors=tally.transient,
            stop_requested=stopped,
        )

    def _request_stop(self, run_id: str, stop_at: float, tally: _Tally) -> bool:
        """Ask LeanIX to stop the run; False (logged) when a transient error or a refusal (a
        run that is not pending or running, e.g. never started) prevented it."""
        try:
            self._bounded(stop_at, lambda: self.api.stop_run(run_id))
        except NotFoundError as exc:
            raise RunNotFoundError(run_id, cause=exc) from exc
        except BadRequestError as exc:
            logger.warning(
                "LeanIX refused to stop the run; still handed over",
                extra={"lx_run_id": run_id, "lx_status": exc.status},
            )
            return False
        except LxError as exc:
            if not exc.retryable:
                raise
            self._transient(run_id, "stop", exc, tally)
            return False
        logger.info("run stopped at the watch deadline", extra={"lx_run_id": run_id})
        return True
