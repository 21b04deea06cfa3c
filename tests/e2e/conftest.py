"""The whole local stack per test: emulator, functions host, registered webhook subscription."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lx_sandbox.azurite import Azurite
from lx_sandbox.stack import SandboxStack, StackOptions


@pytest.fixture
def stack(azurite: Azurite) -> Iterator[SandboxStack]:
    options = StackOptions(
        emulator={"delivery_backoff_seconds": 0.1, "delivery_max_attempts": 5},
        state_connection_string=azurite.connection_string,
    )
    with SandboxStack(options) as running:
        running.register_subscriptions()
        yield running
