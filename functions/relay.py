"""Timer: the notification relay. Every minute by default (``LX_RELAY_SCHEDULE``) it reads
LeanIX's PULL events and the project's own notices into the outbox, then delivers per channel.

A broken rules file fails the invocation with the file and field named (visible in Application
Insights); one channel or source failing is logged and the others go on.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions._timer import schedule

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions 1.x lacks a hint
log = logging.getLogger(__name__)

_SCHEDULE = schedule("LX_RELAY_SCHEDULE", "0 */1 * * * *")


@bp.function_name("relay")
@bp.timer_trigger(arg_name="timer", schedule=_SCHEDULE, run_on_startup=False, use_monitor=True)
def relay(timer: func.TimerRequest) -> None:
    """One relay tick."""
    from lx_core import runtime

    if timer.past_due:
        log.warning("relay is running late (past due)")
    if not runtime.relay_rules_file().is_file():
        log.warning("relay: no rules file at %s; nothing to relay", runtime.relay_rules_file())
        return
    job = runtime.relay()
    try:
        report = job.tick()
    finally:
        job.close()
    level = logging.WARNING if report.errors else logging.INFO
    log.log(level, "relay: %s", report.to_json(), extra=report.log_extra())
    runtime.prune_handler_state()
