"""Timer: the daily data-quality snapshot (``LX_METRICS_SCHEDULE``, 02:30 UTC by default). One
paged read per fact-sheet type, points at the start of the day; a rerun the same day replaces
them, and a lease keeps instances from writing side by side."""

from __future__ import annotations

import logging

import azure.functions as func

from functions._timer import schedule

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions 1.x lacks a hint
log = logging.getLogger(__name__)

_SCHEDULE = schedule("LX_METRICS_SCHEDULE", "0 30 2 * * *")


@bp.function_name("metrics_snapshot")
@bp.timer_trigger(arg_name="timer", schedule=_SCHEDULE, run_on_startup=False, use_monitor=True)
@bp.retry(
    strategy="exponential_backoff",
    max_retry_count="3",
    minimum_interval="00:05:00",
    maximum_interval="00:30:00",
)
def metrics_snapshot(timer: func.TimerRequest) -> None:
    """Today's snapshot (a failure raises, so the runtime retries within the day)."""
    from lx_core import runtime
    from lx_core.jobs.time_reconcile import default_owner

    if timer.past_due:
        log.warning("metrics_snapshot is running late (past due)")
    report = runtime.metrics_snapshot().run(owner=default_owner())
    if report.busy:
        log.info("metrics_snapshot: another instance is writing today's snapshot")
        return
    log.info("metrics_snapshot: %s", report.to_json())
