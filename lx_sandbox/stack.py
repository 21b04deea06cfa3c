"""The whole local stack: the LeanIX emulator, the functions host serving function_app.py, and
the settings that wire them together, as one context manager. With ``notify`` it also runs the
chat sink (as Slack and Teams, their rate limits on) and the SMTP server the relay delivers to.

The app reads its settings from the environment at call time, exactly as in Azure; the stack
sets them for this process (and restores them on exit). Webhook subscriptions are registered
through lx_core's SubscriptionManager, the same code `lx config apply` runs against a real
workspace. Unlike the emulator, this module may import lx_core: it is the harness, not the
independent reading of the API.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests
from pydantic import SecretStr

from lx_core import runtime
from lx_core.config import LeanIXSettings
from lx_core.jobs.webhook_subscriptions import DEFAULT_FILE, AppliedChange, SubscriptionManager
from lx_core.leanix.client import LeanIXClient
from lx_sandbox.azurite import Azurite
from lx_sandbox.emulator import HUMAN_TOKEN, TECHNICAL_TOKEN, SandboxConfig, SandboxServer
from lx_sandbox.funchost import FunctionsHost
from lx_sandbox.mail import MailServer
from lx_sandbox.sink import SinkServer
from lx_sandbox.source_api import SourceApiServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONNECTORS = ROOT / "infra" / "leanix" / "examples" / "connectors"
WEBHOOK_SECRET = "Bearer sandbox-webhook-secret"  # noqa: S105 - a local sandbox value
#: The sink channel (Slack and Teams) the shipped notifications.json posts to in the sandbox.
NOTIFY_CHANNEL = "ops"
NOTIFY_EMAIL_TO = "ea-team@example.com"
NOTIFY_FROM_ADDRESS = "lx-functions@example.com"


@dataclass
class StackOptions:
    """How to start the stack. ``app_settings`` override the defaults set for the app.

    ``host_port`` fixes the functions host's port (0: a free one); the emulator's comes from
    ``emulator={"port": ...}``, like its other settings.
    """

    seed: str | dict[str, Any] = "demo"
    emulator: dict[str, Any] = field(default_factory=dict)
    app_settings: dict[str, str] = field(default_factory=dict)
    run_timers: bool = False
    webhook_secret: str = WEBHOOK_SECRET
    host_port: int = 0
    #: Keep state (reconcile checkpoints, leases) in Azurite, as the deployed app does in Azure
    #: Table storage. ``state_connection_string`` reuses a running Azurite (the test session's);
    #: otherwise the stack starts its own.
    state: bool = True
    state_connection_string: str | None = None
    #: The Integration API side: the example connectors of infra/leanix/examples as timers, a
    #: source API for the inbound one, results in Azurite's Blob service (needs ``state``).
    integration: bool = False
    source_items: int = 25
    #: The notification relay's channels: the chat sink (rate limits on, as at Slack and Teams)
    #: and the STARTTLS-only SMTP server, with the ``LX_NOTIFY_*`` and ``LX_SMTP_*`` settings the
    #: shipped infra/leanix/notifications.json and the relay read. The relay's PULL subscription
    #: comes with ``register_subscriptions`` (webhooks.json holds it).
    notify: bool = False


class SandboxStack:
    """Start with ``with SandboxStack() as stack:``; everything stops on exit."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self._saved_env: dict[str, str | None] = {}
        self.emulator: SandboxServer | None = None
        self.host: FunctionsHost | None = None
        self.azurite: Azurite | None = None
        self.source: SourceApiServer | None = None
        self.sink: SinkServer | None = None
        self.mail: MailServer | None = None
        suffix = uuid.uuid4().hex[:12]
        self.state_table = "lx" + suffix
        self.results_container = "lx-results-" + suffix

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        try:
            if self.options.state and self.options.state_connection_string is None:
                self.azurite = Azurite().start()
            emulator = dict(self.options.emulator)
            if self.options.integration:
                if not self.options.state:
                    raise ValueError("integration=True keeps run state and results in Azurite")
                emulator.setdefault("integration_blob_connection_string", self._connection())
                emulator.setdefault("integration_run_seconds", 2.0)
                self.source = SourceApiServer(count=self.options.source_items).start()
            if self.options.notify:
                self.sink = SinkServer().start()
                self.mail = MailServer().start()
            config = SandboxConfig(seed=self.options.seed, **emulator)
            self.emulator = SandboxServer(config).start()
            self._set_env(self.app_settings())
            runtime.reset_process_state()
            self.host = FunctionsHost(
                "function_app",
                app_dir=ROOT,
                # Never pick up a developer's local.settings.json: the stack sets everything.
                settings_file=ROOT / ".sandbox" / "no-local-settings.json",
                run_timers=self.options.run_timers,
                port=self.options.host_port,
            ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.host is not None:
            self.host.stop()
            self.host = None
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        if self.source is not None:
            self.source.stop()
            self.source = None
        if self.sink is not None:
            self.sink.stop()
            self.sink = None
        if self.mail is not None:
            self.mail.stop()
            self.mail = None
        runtime.reset_process_state()
        if self.azurite is not None:
            self.azurite.close()
            self.azurite = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _set_env(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    # -- wiring --------------------------------------------------------------------------------

    def _running_emulator(self) -> SandboxServer:
        if self.emulator is None:
            raise RuntimeError("the stack is not running")
        return self.emulator

    def _running_host(self) -> FunctionsHost:
        if self.host is None:
            raise RuntimeError("the stack is not running")
        return self.host

    @property
    def emulator_url(self) -> str:
        return self._running_emulator().url

    @property
    def host_url(self) -> str:
        return self._running_host().url

    def app_settings(self) -> dict[str, str]:
        """The app settings the function app runs with against this emulator."""
        return {
            "LEANIX_HOST": self.emulator_url,
            "LEANIX_API_TOKEN": TECHNICAL_TOKEN,
            "LX_WEBHOOK_AUTHORIZATION": self.options.webhook_secret,
            "TIME_RECONCILE_SCHEDULE": "0 30 2 * * *",
            "TIME_RECONCILE_RESUME_SCHEDULE": "0 */5 * * * *",
            **self.state_settings(),
            **self.integration_settings(),
            **self.notify_settings(),
            **self.options.app_settings,
        }

    def _connection(self) -> str:
        connection = self.options.state_connection_string
        if connection is None:
            if self.azurite is None:
                raise RuntimeError("the stack is not running")
            connection = self.azurite.connection_string
        return connection

    def state_settings(self) -> dict[str, str]:
        """``LX_STATE_*`` for the stack's Azurite and its own table (empty without state)."""
        if not self.options.state:
            return {}
        return {
            "LX_STATE_CONNECTION_STRING": self._connection(),
            "LX_STATE_TABLE_NAME": self.state_table,
        }

    def integration_settings(self) -> dict[str, str]:
        """The example connectors' settings (empty without ``integration``): the deployed app
        reads the same names (README, "Integration API")."""
        if self.source is None:
            return {}
        return {
            "LX_INTEGRATION_CONNECTORS_DIR": str(EXAMPLE_CONNECTORS),
            "LX_INTEGRATION_POLL_MIN_SECONDS": "0.5",
            "LX_INTEGRATION_POLL_MAX_SECONDS": "2",
            "LX_BLOB_CONNECTION_STRING": self._connection(),
            "LX_BLOB_RESULTS_CONTAINER": self.results_container,
            "LX_SOURCE_APPLICATIONS_URL": self.source.next_link_url,
            "LX_SOURCE_APPLICATIONS_TOKEN": self.source.token,
            "LX_SYNC_APPLICATIONS_IMPORT_SCHEDULE": "0 0 2 * * *",
        }

    def notify_settings(self) -> dict[str, str]:
        """The relay's channels in this stack (empty without ``notify``): the placeholders of
        infra/leanix/notifications.json and ``LX_SMTP_*``, as a deployment sets them."""
        if self.sink is None or self.mail is None:
            return {}
        return {
            "LX_NOTIFY_SLACK_URL": self.sink.slack_url(NOTIFY_CHANNEL),
            "LX_NOTIFY_TEAMS_URL": self.sink.teams_url(NOTIFY_CHANNEL),
            "LX_NOTIFY_EMAIL_TO": NOTIFY_EMAIL_TO,
            "LX_SMTP_HOST": self.mail.host,
            "LX_SMTP_PORT": str(self.mail.port),
            "LX_SMTP_CA_FILE": str(self.mail.cert_file),
            "LX_SMTP_FROM_ADDRESS": NOTIFY_FROM_ADDRESS,
        }

    def subscription_env(self) -> dict[str, str]:
        """The placeholders of infra/leanix/webhooks.json for this stack."""
        host = self._running_host()
        return {
            **os.environ,
            "LX_FUNCTIONS_BASE_URL": host.url,
            "LX_FUNCTION_KEY": host.function_key,
            "LX_WEBHOOK_AUTHORIZATION": self.options.webhook_secret,
        }

    def register_subscriptions(self, file: Path = ROOT / DEFAULT_FILE) -> list[AppliedChange]:
        """`lx config apply` against the emulator, pointing webhooks at the local host."""
        manager = SubscriptionManager(runtime.leanix_client())
        desired = manager.load(file, self.subscription_env())
        return manager.apply(manager.plan(desired))

    def human_client(self) -> LeanIXClient:
        """A client acting as the seeded human user, for edits the app must react to."""
        return LeanIXClient(
            LeanIXSettings(api_token=SecretStr(HUMAN_TOKEN), host=self.emulator_url)
        )

    # -- inspection (the emulator's admin API, never its memory) --------------------------------

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method, f"{self.emulator_url}/_sandbox{path}", timeout=30, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def applications(self) -> list[dict[str, Any]]:
        """Every Application as the emulator holds it (values and tag ids)."""
        return list(
            self.admin("GET", "/factsheets", params={"type": "Application", "limit": 100000})[
                "factSheets"
            ]
        )

    def tag_names(self) -> dict[str, tuple[str, str]]:
        """Tag id → (group name, tag name) for every tag in the workspace."""
        names: dict[str, tuple[str, str]] = {}
        for group in self.admin("GET", "/workspace")["tagGroups"]:
            for tag in group["tags"]:
                names[tag["id"]] = (group["name"], tag["name"])
        return names

    def wait_for_deliveries(self, timeout: float = 30.0) -> bool:
        """True once the emulator has no PUSH delivery pending or in flight."""
        result = self.admin("POST", "/deliveries/wait", params={"timeout": timeout})
        return bool(result.get("idle"))

    def wait_until(
        self, condition: Callable[[], bool], *, timeout: float = 30.0, interval: float = 0.1
    ) -> bool:
        """Poll ``condition`` until it holds or ``timeout`` passes (bounded, never forever)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(interval)
        return condition()
