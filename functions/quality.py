"""Timer: the weekly data-quality reminders (``LX_QUALITY_SCHEDULE``, Mondays 07:00 UTC by
default). One paged read per type, one digest per person per ISO week, recorded for the relay's
e-mail channel; a rerun the same week enqueues nothing new."""

from __future__ import annotations

import logging

import azure.functions as func

from functions._timer import schedule

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions 1.x lacks a hint
log = logging.getLogger(__name__)

_SCHEDULE = schedule("LX_QUALITY_SCHEDULE", "0 0 7 * * 1")


@bp.function_name("quality_reminders")
@bp.timer_trigger(arg_name="timer", schedule=_SCHEDULE, run_on_startup=False, use_monitor=True)
@bp.retry(
    strategy="exponential_backoff",
    max_retry_count="3",
    minimum_interval="00:05:00",
    maximum_interval="00:30:00",
)
def quality_reminders(timer: func.TimerRequest) -> None:
    """This week's digests (a failure raises; the retry finishes what is left)."""
    from lx_core import runtime
    from lx_core.jobs.time_reconcile import default_owner

    if timer.past_due:
        log.warning("quality_reminders is running late (past due)")
    report = runtime.quality_reminders().run(owner=default_owner())
    if report.busy:
        log.info("quality_reminders: another instance is sending this week's digests")
        return
    body = report.to_json()
    body["digests"] = len(report.digests)  # counts, not the people
    log.info("quality_reminders: %s", body)
