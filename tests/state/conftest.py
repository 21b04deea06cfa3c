"""``store``: every contract test runs once per backend, in memory and on real Azurite."""

from __future__ import annotations

import pytest

from lx_core.leanix.testing import FakeClock
from lx_core.state.base import StateStore
from lx_core.state.memory import MemoryStore


@pytest.fixture(params=["memory", "azure"])
def store(request: pytest.FixtureRequest) -> StateStore:
    if request.param == "memory":
        return MemoryStore()
    backend: StateStore = request.getfixturevalue("state_store")
    return backend


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
