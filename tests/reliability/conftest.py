"""Reliability tests: the whole local stack under faults, concurrency and hostile input.

The storm scenarios record their figures in ``storm_figures``; the table of every scenario that
ran is printed at the end of the session (``make storm`` and ``make test`` alike).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bench.common import hermetic_env
from lx_sandbox.azurite import Azurite
from lx_sandbox.stack import SandboxStack, StackOptions
from tests.reliability.storm import StormFigures, figures_table

_FIGURES: list[StormFigures] = []


@pytest.fixture(scope="session")
def storm_figures() -> list[StormFigures]:
    """Append a scenario's figures here to have them printed in the session summary."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("storm figures")
    terminalreporter.write_line(figures_table(_FIGURES))


@contextmanager
def generated_stack(
    azurite: Azurite,
    applications: int,
    *,
    subscriptions: bool = True,
    emulator: dict[str, Any] | None = None,
    app_settings: dict[str, str] | None = None,
) -> Iterator[SandboxStack]:
    """A stack on a generated workspace, its state in the session's Azurite. The emulator's
    ``faults`` are switched on after the subscriptions are registered: setting up is not the
    scenario (a create is never replayed, so an injected 5xx there would end the test)."""
    settings = dict(emulator or {})
    faults = settings.pop("faults", None)
    options = StackOptions(
        seed=f"generated:{applications}",
        emulator={"delivery_backoff_seconds": 0.2, "delivery_max_attempts": 10, **settings},
        app_settings=app_settings or {},
        state_connection_string=azurite.connection_string,
    )
    with hermetic_env(), SandboxStack(options) as stack:
        if subscriptions:
            stack.register_subscriptions()
        if faults is not None:
            stack.admin("PUT", "/faults", json=faults)
        yield stack
