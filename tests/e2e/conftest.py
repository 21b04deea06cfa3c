"""The whole local stack per test: emulator, functions host, registered webhook subscription."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lx_sandbox.stack import SandboxStack, StackOptions


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    options = StackOptions(emulator={"delivery_backoff_seconds": 0.1, "delivery_max_attempts": 5})
    with SandboxStack(options) as running:
        running.register_subscriptions()
        yield running
