"""Fixtures for the contract tests: lx_core against the local emulator over real HTTP.

One emulator per test module (``sandbox``), reset through its admin API before every test
(``admin``). Clients are always built from explicit settings (never the developer's
``LEANIX_*`` / ``TIME_*`` environment), and lx_core's process-wide caches (bearer, pacer, tag
catalog, data model) are emptied around every test, so no test sees another one's state.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from lx_core import runtime
from lx_core.config import LeanIXSettings, TimeSettings
from lx_core.decisions.time_model import TimeClass
from lx_core.leanix.client import LeanIXClient
from lx_sandbox.emulator import HUMAN_TOKEN, TECHNICAL_TOKEN, SandboxConfig, SandboxServer

JsonDict = dict[str, Any]
GQL_PATH = "/services/pathfinder/v1/graphql"
TOKEN_PATH = "/services/mtm/v1/oauth2/token"
SUBSCRIPTIONS_PATH = "/services/webhooks/v1/subscriptions"
GQL_KEY = "POST " + GQL_PATH
TOKEN_KEY = "POST " + TOKEN_PATH
REPO_ROOT = Path(__file__).resolve().parents[2]


def clear_lx_caches() -> None:
    """Forget every process-wide lx_core cache (bearer, pacer, tag groups, data model)."""
    runtime.reset_process_state()


def make_settings(host: str, api_token: str = TECHNICAL_TOKEN, **overrides: Any) -> LeanIXSettings:
    """LeanIXSettings with every field explicit: fast back-off, full rate, short timeouts."""
    values: dict[str, Any] = {
        "api_token": SecretStr(api_token),
        "host": host,
        "connect_timeout": 5.0,
        "read_timeout": 15.0,
        "max_retries": 3,
        "retry_budget_seconds": 10.0,
        "backoff_initial_seconds": 0.02,
        "backoff_max_seconds": 0.1,
        "requests_per_minute": 1800,
        "token_refresh_margin_seconds": 60,
        "page_size": 100,
        "cache_ttl_seconds": 300,
    }
    values.update(overrides)
    return LeanIXSettings(**values)


def make_time_settings(**overrides: Any) -> TimeSettings:
    """TimeSettings with every field explicit (the documented defaults)."""
    values: dict[str, Any] = {
        "target": "tag",
        "tag_group": "TIME Model",
        "tag_names": {c: c.value.capitalize() for c in TimeClass},
        "field": "lxTimeClassification",
        "on_unset": "keep",
        "functional_high_from": None,
        "technical_high_from": None,
        "create_missing_tags": True,
        "ignore_own_events": True,
        "fact_sheet_type": "Application",
        "comment": "lx-functions: TIME classification",
        "batch_size": 25,
    }
    values.update(overrides)
    return TimeSettings(**values)


class Admin:
    """The emulator's own view and controls (``/_sandbox/...``), over plain ``requests``."""

    def __init__(self, url: str, *, verify: str | bool = True) -> None:
        self.url = url
        self.session = requests.Session()
        self.verify = verify  # per request: a session default would lose to REQUESTS_CA_BUNDLE

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call ``/_sandbox{path}`` and return the JSON body (must be 2xx)."""
        r = self.session.request(
            method, f"{self.url}/_sandbox{path}", timeout=30, verify=self.verify, **kwargs
        )
        assert r.ok, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def reset(self) -> JsonDict:
        result: JsonDict = self.call("POST", "/reset")
        return result

    def seed(self, body: JsonDict) -> JsonDict:
        result: JsonDict = self.call("POST", "/seed", json=body)
        return result

    def workspace(self) -> JsonDict:
        result: JsonDict = self.call("GET", "/workspace")
        return result

    def stats(self) -> JsonDict:
        result: JsonDict = self.call("GET", "/stats")
        return result

    def clear_stats(self) -> None:
        self.call("DELETE", "/stats")

    def requests_to(self, key: str) -> int:
        """How many requests the emulator counted for ``"METHOD /path"``."""
        return int(self.stats()["requests"].get(key, 0))

    def status_count(self, status: int) -> int:
        return int(self.stats()["statusCodes"].get(str(status), 0))

    def add_fault(self, **rule: Any) -> JsonDict:
        result: JsonDict = self.call("POST", "/faults/rules", json=rule)
        return result

    def put_faults(self, body: JsonDict) -> None:
        self.call("PUT", "/faults", json=body)

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    def expire_tokens(self) -> None:
        self.call("POST", "/tokens/expire")

    def fact_sheet(self, fs_id: str) -> JsonDict:
        result: JsonDict = self.call("GET", f"/factsheets/{fs_id}")
        return result

    def fact_sheets(self, fs_type: str | None = None) -> list[JsonDict]:
        """Every fact sheet (archived included) with ``values`` and ``tagIds``."""
        params: dict[str, Any] = {"limit": 100000}
        if fs_type:
            params["type"] = fs_type
        items: list[JsonDict] = self.call("GET", "/factsheets", params=params)["factSheets"]
        return items

    def datamodel(self) -> dict[str, dict[str, list[str]]]:
        result: dict[str, dict[str, list[str]]] = self.call("GET", "/datamodel")
        return result

    def put_datamodel(self, override: JsonDict) -> None:
        self.call("PUT", "/datamodel", json=override)

    def wait_deliveries(self, timeout: float = 10.0) -> None:
        body = self.call("POST", "/deliveries/wait", params={"timeout": timeout})
        assert body["idle"], body

    def deliveries(self, subscription_id: str) -> list[JsonDict]:
        items: list[JsonDict] = self.call(
            "GET", "/deliveries", params={"subscriptionId": subscription_id}
        )["deliveries"]
        return items

    def tag_group(self, name: str) -> JsonDict | None:
        """The workspace's tag group called ``name`` (exactly), with its tags."""
        groups = [g for g in self.workspace()["tagGroups"] if g["name"] == name]
        assert len(groups) <= 1, groups
        return groups[0] if groups else None

    def user_id(self, token: str) -> str:
        users = [u for u in self.workspace()["users"] if u["token"] == token]
        assert len(users) == 1
        user_id: str = users[0]["id"]
        return user_id

    def close(self) -> None:
        self.session.close()


class RawApi:
    """An independent LeanIX caller (plain ``requests``, own token exchange) to check what the
    emulator really stores, without going through lx_core."""

    def __init__(self, url: str, api_token: str = HUMAN_TOKEN) -> None:
        self.url = url
        self.session = requests.Session()
        r = self.session.post(
            url + TOKEN_PATH,
            auth=("apitoken", api_token),
            data={"grant_type": "client_credentials"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        self.session.headers["Authorization"] = "Bearer " + r.json()["access_token"]

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.session.request(method, self.url + path, timeout=30, **kwargs)
        assert r.ok, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def subscriptions(self) -> list[JsonDict]:
        items: list[JsonDict] = self.call("GET", SUBSCRIPTIONS_PATH)["data"]
        return items

    def close(self) -> None:
        self.session.close()


@pytest.fixture(autouse=True)
def _fresh_lx_caches() -> Iterator[None]:
    """Empty lx_core's process-wide caches before and after every contract test."""
    clear_lx_caches()
    yield
    clear_lx_caches()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """One demo emulator per test module with fast PUSH retries; tests reset it over HTTP."""
    config = SandboxConfig(
        seed="demo",
        delivery_backoff_seconds=0.05,
        delivery_max_backoff_seconds=0.2,
        delivery_max_attempts=2,
        delivery_timeout_seconds=5,
    )
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def admin(sandbox: SandboxServer) -> Iterator[Admin]:
    """The admin API of a freshly reset demo workspace (faults, stats and events cleared)."""
    api = Admin(sandbox.url)
    api.reset()
    yield api
    api.close()


ClientFactory = Callable[..., LeanIXClient]


@pytest.fixture
def make_client(sandbox: SandboxServer, admin: Admin) -> Iterator[ClientFactory]:
    """Build LeanIXClients on the emulator (``api_token`` and setting overrides as kwargs);
    all are closed after the test."""
    clients: list[LeanIXClient] = []

    def factory(api_token: str = TECHNICAL_TOKEN, **overrides: Any) -> LeanIXClient:
        client = LeanIXClient(make_settings(sandbox.url, api_token, **overrides))
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> LeanIXClient:
    """The technical user's client on the reset demo workspace."""
    return make_client()


@pytest.fixture
def human(make_client: ClientFactory) -> LeanIXClient:
    """A client for the human user (for concurrent edits and events not caused by us)."""
    return make_client(HUMAN_TOKEN)


@pytest.fixture
def raw(sandbox: SandboxServer, admin: Admin) -> Iterator[RawApi]:
    """An lx_core-independent caller logged in as the human user."""
    api = RawApi(sandbox.url)
    yield api
    api.close()


@dataclass
class Receiver:
    """A local HTTP target for PUSH deliveries; records every request."""

    url: str = ""
    received: list[JsonDict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Serve a :class:`Receiver` on 127.0.0.1 for one test."""
    target = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length)
            with target.lock:
                target.received.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": json.loads(raw_body) if raw_body else None,
                    }
                )
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    target.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield target
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
