"""Timer: survey scoring without events. Every 15 minutes by default (``LX_SURVEY_SCHEDULE``)
it scores the results of open survey runs that are new or changed since the last tick, so a
lost or missing survey event costs at most one tick. A lease keeps instances from ticking side
by side; a broken scoring model fails the invocation with the file and field named.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions._timer import schedule

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions 1.x lacks a hint
log = logging.getLogger(__name__)

_SCHEDULE = schedule("LX_SURVEY_SCHEDULE", "0 */15 * * * *")


@bp.function_name("survey_scoring")
@bp.timer_trigger(arg_name="timer", schedule=_SCHEDULE, run_on_startup=False, use_monitor=True)
def survey_scoring(timer: func.TimerRequest) -> None:
    """One scoring tick over the open survey runs."""
    from lx_core import runtime
    from lx_core.jobs.time_reconcile import default_owner

    if timer.past_due:
        log.warning("survey_scoring is running late (past due)")
    scorer = runtime.survey_scorer()
    if not scorer.models:
        log.info("survey_scoring: no scoring model declared; nothing to do")
        return
    summary = scorer.run_tick(
        budget_seconds=runtime.survey_settings().tick_seconds, owner=default_owner()
    )
    if summary is None:
        log.info("survey_scoring: another instance is scoring")
        return
    report = summary.to_json()
    level = logging.WARNING if report["unscorable"] or report["failed"] else logging.INFO
    log.log(
        level, "survey_scoring: %s", {k: v for k, v in report.items() if k != "unscorableResults"}
    )
    for outcome in summary.outcomes:
        if outcome.status in ("unscorable", "failed"):
            log.warning(
                "survey result %s: %s", outcome.status, outcome.result_id, extra=outcome.to_json()
            )
