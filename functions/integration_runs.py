"""Timers: one per connector file, plus the watch tick that advances every open run.

``sync_<name>`` fires on the connector's own schedule and starts a run unless one is open (then
it watches that one instead). ``sync_watch`` fires every minute by default
(``LX_INTEGRATION_WATCH_SCHEDULE``) and advances every open run, so a daily connector's end is
noticed within a minute, not a day later.

The timers are registered when the app is indexed, from the connector files deployed with it.
A connector whose file is invalid is not registered: the error, naming the file, the JSON path
and the rule, is logged, and every other function keeps running. With no connector files, no
timer is registered and nothing of lx_core is imported (cold start).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import azure.functions as func

log = logging.getLogger(__name__)

_APP_ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_DIR = "infra/leanix/connectors"
_DEFAULT_WATCH_SCHEDULE = "0 */1 * * * *"


def _connectors_dir() -> Path:
    raw = os.environ.get("LX_INTEGRATION_CONNECTORS_DIR") or _DEFAULT_DIR
    path = Path(raw)
    return path if path.is_absolute() else _APP_ROOT / path


def function_name(connector: str) -> str:
    """``sync_<name>``: Azure function names take letters, digits and underscores."""
    return "sync_" + connector.replace("-", "_")


def _tick_connector(name: str, timer: func.TimerRequest) -> None:
    from lx_core import runtime

    if timer.past_due:
        log.warning("sync %s is running late (past due)", name)
    report = runtime.sync_ticker(name).tick(
        start=True, budget_seconds=runtime.integration_settings().tick_invocation_seconds
    )
    log.info("sync %s: %s", name, report.action, extra=report.log_extra())


def build_blueprint(directory: Path) -> func.Blueprint:
    """A Blueprint with one timer per valid connector file of ``directory`` and the watch tick
    (empty without connector files; then nothing of lx_core is imported)."""
    blueprint = func.Blueprint()  # type: ignore[no-untyped-call]
    if not directory.is_dir() or not any(directory.glob("*.json")):
        return blueprint
    from lx_core.integration.connectors import load_registry

    registry = load_registry(directory)
    for error in registry.errors:
        log.error("connector not registered: %s", error)
    for name, connector in sorted(registry.connectors.items()):
        _register_connector(blueprint, name, connector.spec.schedule)
    if registry.connectors:
        _register_watch(blueprint)
    return blueprint


def _register_connector(blueprint: func.Blueprint, name: str, schedule: str) -> None:
    def tick(timer: func.TimerRequest) -> None:
        _tick_connector(name, timer)

    tick.__name__ = tick.__qualname__ = function_name(name)
    tick.__doc__ = f"Start (or keep watching) a run of connector {name}."
    decorated: Callable[..., None] = blueprint.timer_trigger(
        arg_name="timer", schedule=schedule, run_on_startup=False, use_monitor=True
    )(tick)
    blueprint.function_name(function_name(name))(decorated)


def _register_watch(blueprint: func.Blueprint) -> None:
    schedule = (
        "%LX_INTEGRATION_WATCH_SCHEDULE%"
        if os.environ.get("LX_INTEGRATION_WATCH_SCHEDULE")
        else _DEFAULT_WATCH_SCHEDULE
    )

    @blueprint.function_name("sync_watch")
    @blueprint.timer_trigger(
        arg_name="timer", schedule=schedule, run_on_startup=False, use_monitor=True
    )
    def sync_watch(timer: func.TimerRequest) -> None:
        """Advance every open run by one tick."""
        from lx_core import runtime

        if timer.past_due:
            log.warning("sync_watch is running late (past due)")
        budget = runtime.integration_settings().tick_invocation_seconds
        for report in runtime.sync_watch_all(budget_seconds=budget):
            log.info("sync %s: %s", report.connector, report.action, extra=report.log_extra())


bp = build_blueprint(_connectors_dir())
