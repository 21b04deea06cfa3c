"""The Integration API storm (tests/reliability/integration_storm.py): CI size in `make test`,
full size in `make storm`."""

from __future__ import annotations

import pytest

from lx_sandbox.azurite import Azurite
from tests.reliability.integration_storm import run_integration_storm

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


@pytest.mark.timeout(240)
def test_integration_storm(azurite: Azurite) -> None:
    figures = run_integration_storm(
        azurite.connection_string, seconds=12, hosts=3, kills=3, items=40, scenario="CI"
    )
    print("\n".join(figures.lines()))
    assert figures.problems() == []
    assert figures.kills == 3 and figures.faults_fired["processed_then_fail:502"] >= 1
    assert sum(figures.outcomes.values()) >= 2


@pytest.mark.storm
@pytest.mark.timeout(900)
def test_full_integration_storm(azurite: Azurite) -> None:
    figures = run_integration_storm(
        azurite.connection_string, seconds=150, hosts=6, kills=12, items=400, scenario="full"
    )
    print("\n".join(figures.lines()))
    assert figures.problems() == []
