"""The storm scenarios (tests/reliability/storm.py) at CI size, and at full size for `make storm`.

CI size (part of `make test`): 80 human edits on 300 Applications under the storm's faults,
and 80 edits with a 12 s Pathfinder outage in their middle. Full size (`-m storm`): 1,000 edits
on 3,000 Applications, and a 60 s outage. After the reconcile every active Application with both
fits set must carry exactly its expected TIME tag, the technical user must never have written
a no-op, and its LeanIX calls must stay within 4 per edit plus 2 per reconcile request (pages
and batch writes, counted by the emulator).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from lx_sandbox.azurite import Azurite
from tests.reliability.storm import StormFigures, check_figures, run_storm, scenario

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


def check(figures: StormFigures) -> None:
    """The assertions every scenario shares (figures are in the session summary either way)."""
    assert check_figures(figures) == []


CI_SCENARIOS: dict[str, dict[str, Any]] = {
    "storm": {"edits": 80, "apps": 300, "scenario": "storm (CI)"},
    "outage": {
        "edits": 80,
        "apps": 300,
        "outage_seconds": 12,
        "storm_faults": False,
        "scenario": "outage 12 s (CI)",
    },
}


# Pace-bound, not CPU-bound (the storm's 429s keep the client's adaptive pace near its floor),
# so the two CI scenarios run side by side, each in its own process with its own stack and
# Azurite, as `make storm` runs the full ones: the suite waits for the longer one only.
@pytest.fixture(scope="module")
def ci_figures(storm_figures: list[StormFigures]) -> dict[str, StormFigures]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(CI_SCENARIOS), mp_context=context) as pool:
        figures = dict(zip(CI_SCENARIOS, pool.map(scenario, CI_SCENARIOS.values()), strict=True))
    storm_figures.extend(figures.values())
    return figures


@pytest.mark.timeout(420)
def test_storm(ci_figures: dict[str, StormFigures]) -> None:
    figures = ci_figures["storm"]
    check(figures)
    assert figures.token_exchanges >= 2  # the bearer really expired during the run


@pytest.mark.timeout(60)
def test_outage(ci_figures: dict[str, StormFigures]) -> None:
    figures = ci_figures["outage"]
    check(figures)
    assert figures.webhook_answers.get("503", 0) > 0  # the outage was felt, and redelivered


@pytest.mark.storm
@pytest.mark.timeout(1500)
def test_full_storm(azurite: Azurite, storm_figures: list[StormFigures]) -> None:
    figures = run_storm(
        1000, 3000, state_connection_string=azurite.connection_string, scenario="storm (full)"
    )
    storm_figures.append(figures)
    check(figures)


@pytest.mark.storm
@pytest.mark.timeout(600)
def test_full_outage(azurite: Azurite, storm_figures: list[StormFigures]) -> None:
    figures = run_storm(
        400,
        1000,
        outage_seconds=60,
        storm_faults=False,
        state_connection_string=azurite.connection_string,
        scenario="outage 60 s (full)",
    )
    storm_figures.append(figures)
    check(figures)
    assert figures.webhook_answers.get("503", 0) > 0
