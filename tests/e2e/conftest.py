"""The whole local stack per test (emulator, functions host, registered webhook subscription),
and the Integration API world: emulator, source API, Azurite and the connector timers."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import azure.functions as func
import pytest
import requests

from functions.integration_runs import build_blueprint
from lx_core import runtime
from lx_core.jobs.sync_state import OutcomeLog, SyncStates
from lx_sandbox.azurite import Azurite
from lx_sandbox.emulator import TECHNICAL_TOKEN, SandboxConfig, SandboxServer
from lx_sandbox.source_api import SourceApiServer
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


ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "infra" / "leanix" / "examples" / "connectors"


@dataclass
class SyncWorld:
    emulator: SandboxServer
    source: SourceApiServer
    env: dict[str, str]
    functions: dict[str, Callable[[Any], None]]

    def fire(self, name: str) -> None:
        """One timer invocation, as the Functions host makes it."""
        self.functions[name](SimpleNamespace(past_due=False))

    def admin(self, path: str, **params: Any) -> Any:
        response = requests.get(f"{self.emulator.url}/_sandbox{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def runs(self) -> list[dict[str, Any]]:
        return list(self.admin("/integration/runs")["runs"])

    def state(self, connector: str) -> Any:
        store = runtime.state_store()
        assert store is not None
        return SyncStates(store).get(connector)[0]

    def outcomes(self) -> list[Any]:
        store = runtime.state_store()
        assert store is not None
        return OutcomeLog(store).read()

    def fire_until_idle(self, name: str, connector: str, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.fire(name)
            if self.state(connector).phase == "idle":
                return
            time.sleep(0.2)
        raise AssertionError(f"{connector} still {self.state(connector).phase} after {timeout}s")


@contextmanager
def open_sync_world(
    connection_string: str,
    *,
    items: int = 25,
    run_seconds: float = 2.0,
    env: dict[str, str] | None = None,
) -> Iterator[SyncWorld]:
    """The emulator (with an engine run taking ``run_seconds``), a source API of ``items``
    Applications, the example connectors' timers, and every setting they read; the process's
    environment is restored on exit."""
    config = SandboxConfig(
        seed="demo",
        integration_pending_seconds=0.1,
        integration_run_seconds=run_seconds,
        integration_blob_connection_string=connection_string,
    )
    saved = dict(os.environ)
    with SandboxServer(config) as emulator, SourceApiServer(count=items) as source:
        suffix = uuid.uuid4().hex[:10]
        values = {
            "LEANIX_HOST": emulator.url,
            "LEANIX_API_TOKEN": TECHNICAL_TOKEN,
            "LEANIX_BACKOFF_INITIAL_SECONDS": "0.05",
            "LEANIX_BACKOFF_MAX_SECONDS": "0.2",
            "LX_STATE_CONNECTION_STRING": connection_string,
            "LX_STATE_TABLE_NAME": "lx" + suffix,
            "LX_BLOB_CONNECTION_STRING": connection_string,
            "LX_BLOB_RESULTS_CONTAINER": "results-" + suffix,
            "LX_INTEGRATION_CONNECTORS_DIR": str(EXAMPLES),
            "LX_INTEGRATION_TICK_INVOCATION_SECONDS": "0.6",
            "LX_INTEGRATION_POLL_MIN_SECONDS": "0.2",
            "LX_INTEGRATION_POLL_MAX_SECONDS": "0.3",
            "LX_INTEGRATION_LEASE_SECONDS": "3",
            "LX_SOURCE_APPLICATIONS_URL": source.next_link_url,
            "LX_SOURCE_APPLICATIONS_TOKEN": source.token,
            "LX_SYNC_APPLICATIONS_IMPORT_SCHEDULE": "0 0 2 * * *",
            **(env or {}),
        }
        os.environ.update(values)
        runtime.reset_process_state()
        app = func.FunctionApp()
        app.register_functions(build_blueprint(EXAMPLES))
        functions = {str(f.get_function_name()): f.get_user_function() for f in app.get_functions()}
        try:
            yield SyncWorld(emulator, source, values, functions)
        finally:
            runtime.reset_process_state()
            os.environ.clear()
            os.environ.update(saved)


@pytest.fixture
def sync_world(azurite: Azurite) -> Iterator[SyncWorld]:
    with open_sync_world(azurite.connection_string) as world:
        yield world
