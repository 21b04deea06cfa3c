"""The relay's world: the Integration API world (emulator, source, Azurite, connector timers)
plus the chat sink, the STARTTLS-only SMTP server (with real certificate verification through
``LX_SMTP_CA_FILE``), the relay's PULL subscription registered through lx_core, the shipped
notifications.json, and the relay timer called through its registered Blueprint."""

from __future__ import annotations

import os
import subprocess
import sys
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
from lx_core.jobs.sync_state import OutcomeLog, OutcomeRecord
from lx_core.jobs.webhook_subscriptions import DEFAULT_FILE, SubscriptionManager
from lx_core.leanix.webhooks import PullBatch
from lx_core.notify.outbox import Outbox
from lx_core.notify.relay import RelayReport
from lx_sandbox.mail import MailServer
from lx_sandbox.sink import SinkServer
from tests.e2e.conftest import SyncWorld, open_sync_world

ROOT = Path(__file__).resolve().parents[2]
RELAY_SUBSCRIPTION = "lx-functions-relay"
EMAIL_TO = "ea-team@example.com"
FROM_ADDRESS = "lx-functions@example.com"
NO_SETTINGS = ["--settings", "/nonexistent/local.settings.json"]


@dataclass
class RelayWorld:
    sync: SyncWorld
    sink: SinkServer
    relay_fn: Any
    mail: MailServer

    def tick(self) -> None:
        """One relay timer invocation, as the Functions host makes it."""
        self.relay_fn(SimpleNamespace(past_due=False))

    def tick_report(self) -> RelayReport:
        """One tick as the timer runs it (``runtime.relay()``), returning its report."""
        job = runtime.relay()
        try:
            return job.tick()
        finally:
            job.close()

    def pending(self, channel: str) -> int:
        """Items still waiting in the outbox for ``channel``."""
        store = runtime.state_store()
        if store is None:
            raise AssertionError("no state store")
        return Outbox(store).count_pending(channel)

    def lx(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``lx ARGS`` in its own process, with this world's settings (and ``env``)."""
        argv = [str(Path(sys.prefix) / "bin" / "lx"), *NO_SETTINGS, *args]
        return subprocess.run(  # noqa: S603 - fixed argv, our own CLI
            argv,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

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

    def clear_faults(self) -> None:
        requests.delete(f"{self.sink.url}/_sink/faults", timeout=10).raise_for_status()

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
                    # What run_policy.judge says of a FAILED run with an error.
                    reasons=["status FAILED", "1 errors (more than 0)"] if failed else [],
                    notify=True,
                )
            )


@contextmanager
def open_relay_world(
    connection_string: str, *, env: dict[str, str] | None = None, **sink_options: Any
) -> Iterator[RelayWorld]:
    with SinkServer(**sink_options) as sink, MailServer() as mail:
        values = {
            "LX_NOTIFY_SLACK_URL": sink.slack_url("ops"),
            "LX_NOTIFY_TEAMS_URL": sink.teams_url("ops"),
            "LX_NOTIFY_EMAIL_TO": EMAIL_TO,
            "LX_SMTP_HOST": mail.host,
            "LX_SMTP_PORT": str(mail.port),
            "LX_SMTP_CA_FILE": str(mail.cert_file),
            "LX_SMTP_FROM_ADDRESS": FROM_ADDRESS,
            "LX_SMTP_TIMEOUT_SECONDS": "5",
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
            yield RelayWorld(sync, sink, relay_fn, mail)
