"""Timers: the nightly TIME reconcile, and its resumption until the run is finished.

``time_reconcile`` (%TIME_RECONCILE_SCHEDULE%) starts a run, or resumes an unfinished one.
``time_reconcile_resume`` (%TIME_RECONCILE_RESUME_SCHEDULE%) continues a run that paused at its
checkpoint; with nothing to resume it costs one state-store read and no LeanIX call. Both stop
before the host's function timeout, and a lease keeps them from running side by side.
"""

from __future__ import annotations

import logging

import azure.functions as func

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions 1.x lacks a hint
log = logging.getLogger(__name__)


def _run(name: str, timer: func.TimerRequest, *, resume_only: bool) -> None:
    """Work for one invocation; raise if an Application is left unrepaired, so the runtime's
    retry policy runs again (the checkpoint survives a raise)."""
    from lx_core import runtime
    from lx_core.config import TimeSettings, cached
    from lx_core.errors import LxError

    if timer.past_due:
        log.warning("%s is running late (past due)", name)
    run = runtime.time_reconcile_run()
    if runtime.state_store() is None:
        log.warning("%s: LX_STATE_* not set; the run is neither resumable nor guarded", name)
        if resume_only:
            return
    budget = cached(TimeSettings).reconcile_invocation_seconds
    summary = run.run(resume_only=resume_only, budget_seconds=budget)
    report = summary.report()
    if summary.state in {"idle", "busy"}:
        log.info("%s: %s", name, summary.state, extra=report)
        return
    level = logging.WARNING if summary.failed else logging.INFO
    log.log(level, "%s: %s", name, summary.as_dict(), extra=report)
    if summary.state == "finished" and summary.failed:
        listed = ", ".join(f"{i} ({r})" for i, r in summary.failures[:10])
        raise LxError(f"{summary.failed} Applications still not repaired: {listed}")


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
    """Start (or resume) the reconcile of every Application."""
    _run("time_reconcile", timer, resume_only=False)


@bp.function_name("time_reconcile_resume")
@bp.timer_trigger(
    arg_name="timer",
    schedule="%TIME_RECONCILE_RESUME_SCHEDULE%",
    run_on_startup=False,
    use_monitor=True,
)
def time_reconcile_resume(timer: func.TimerRequest) -> None:
    """Continue a paused reconcile; nothing to do most of the time."""
    _run("time_reconcile_resume", timer, resume_only=True)
