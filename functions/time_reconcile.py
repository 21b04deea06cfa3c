"""Timer %TIME_RECONCILE_SCHEDULE%: reconcile every Application, repairing lost webhooks."""

from __future__ import annotations

import logging

import azure.functions as func

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions 1.x lacks a hint
log = logging.getLogger(__name__)


@bp.function_name("time_reconcile")
@bp.timer_trigger(
    arg_name="timer", schedule="%TIME_RECONCILE_SCHEDULE%", run_on_startup=False, use_monitor=True
)
@bp.retry(
    strategy="exponential_backoff",
    max_retry_count="2",
    minimum_interval="00:01:00",
    maximum_interval="00:10:00",
)
def time_reconcile(timer: func.TimerRequest) -> None:
    """Run the reconcile; a fatal error raises so the runtime's retry policy runs it again."""
    from lx_core import runtime

    if timer.past_due:
        log.warning("time_reconcile is running late (past due)")
    summary = runtime.time_tagger().reconcile()
    level = logging.WARNING if summary.failed else logging.INFO
    log.log(level, "time_reconcile: %s", summary.as_dict(), extra=summary.as_dict())
