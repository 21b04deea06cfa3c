"""The relay's world: the Integration API world (emulator, source, Azurite, connector timers)
plus the chat sink, the relay's PULL subscription registered through lx_core, the shipped
notifications.json, and the relay timer called through its registered Blueprint."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import azure.functions as func
import requests

from functions.relay import bp as relay_bp
from lx_core import runtime
from lx_core.jobs.subscriptions import DEFAULT_FILE, SubscriptionManager
from lx_core.jobs.sync_state import OutcomeLog, OutcomeRecord
from lx_core.leanix.webhooks import PullBatch
from lx_sandbox.sink import SinkServer
from tests.e2e.conftest import SyncWorld, open_sync_world

ROOT = Path(__file__).resolve().parents[2]
RELAY_SUBSCRIPTION = "lx-functions-relay"


@dataclass
class RelayWorld:
    sync: SyncWorld
    sink: SinkServer
    relay_fn: Any

    def tick(self) -> None:
        """One relay timer invocation, as the Functions host makes it."""
        self.relay_fn(SimpleNamespace(past_due=False))

    def messages(self, kind: str = "slack", channel: str = "ops") -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.sink.url}/_sink/messages", params={"kind": kind, "channel": channel}, timeout=10
        )
        response.raise_for_status()
        return list(response.json()["messages"])

    def requests(self, kind: str = "slack") -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.sink.url}/_sink/requests", params={"kind": kind}, timeout=10
        )
        response.raise_for_status()
        return list(response.json()["requests"])

    def fault(self, **fault: Any) -> None:
        requests.post(f"{self.sink.url}/_sink/faults", json=fault, timeout=10).raise_for_status()

    def pull_peek(self) -> PullBatch:
        """What LeanIX would hand the relay next (without committing anything)."""
        webhooks = runtime.leanix_client().webhooks
        [sub] = webhooks.list_subscriptions(RELAY_SUBSCRIPTION)
        if sub.id is None:
            raise AssertionError("the relay subscription has no id")
        return webhooks.pull_events(sub.id, timeout_seconds=0)

    def record_outcomes(self, count: int, *, failed: bool = False, start: int = 0) -> None:
        store = runtime.state_store()
        if store is None:
            raise AssertionError("no state store")
        log = OutcomeLog(store)
        now = time.time()
        for i in range(start, start + count):
            log.record(
                OutcomeRecord(
                    connector=f"c{i:04}",
                    connector_key=f"lx/c{i:04}/1.0.0/inbound/delta",
                    attempt="a1",
                    run_id=f"r{i:04}",
                    status="FAILED" if failed else "FINISHED",
                    errors=1 if failed else 0,
                    finished_at=now,
                    failed=failed,
                    notify=True,
                )
            )


@contextmanager
def open_relay_world(
    connection_string: str, *, env: dict[str, str] | None = None, **sink_options: Any
) -> Iterator[RelayWorld]:
    with SinkServer(**sink_options) as sink:
        values = {
            "LX_NOTIFY_SLACK_URL": sink.slack_url("ops"),
            "LX_NOTIFY_TEAMS_URL": sink.teams_url("ops"),
            "LX_NOTIFY_EMAIL_TO": "ea-team@example.com",
            "LX_RELAY_CHANNEL_BACKOFF_SECONDS": "0",
            "LX_RELAY_PULL_TIMEOUT_SECONDS": "0",
            **(env or {}),
        }
        with open_sync_world(connection_string, env=values) as sync:
            manager = SubscriptionManager(runtime.leanix_client())
            environ = {
                "LX_FUNCTIONS_BASE_URL": "http://unused",
                "LX_FUNCTION_KEY": "k",
                "LX_WEBHOOK_AUTHORIZATION": "x",
            }
            desired = [
                s
                for s in manager.load(ROOT / DEFAULT_FILE, environ)
                if s["identifier"] == RELAY_SUBSCRIPTION
            ]
            manager.apply(manager.plan(desired))
            app = func.FunctionApp()
            app.register_functions(relay_bp)
            [relay_fn] = [f.get_user_function() for f in app.get_functions()]
            yield RelayWorld(sync, sink, relay_fn)
