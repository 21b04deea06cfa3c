"""Fixtures for the emulator and sink tests (names prefixed ``emu_`` / ``sink_``).

Tests talk to the servers over real HTTP only (``requests``), never to their memory.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from lx_sandbox.emulator import HUMAN_TOKEN, TECHNICAL_TOKEN, SandboxConfig, SandboxServer

JsonDict = dict[str, Any]
GQL = "/services/pathfinder/v1/graphql"
TOKEN_PATH = "/services/mtm/v1/oauth2/token"
WEBHOOKS = "/services/webhooks/v1"


class Api:
    """A deliberately thin LeanIX caller for tests: token exchange, GraphQL, REST."""

    def __init__(self, base_url: str, api_token: str = TECHNICAL_TOKEN) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.api_token = api_token
        self.access_token = ""
        self.claims: JsonDict = {}

    def login(self) -> JsonDict:
        """Exchange the API token; returns the token response body."""
        r = self.session.post(
            self.base_url + TOKEN_PATH,
            auth=("apitoken", self.api_token),
            data={"grant_type": "client_credentials"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        body: JsonDict = r.json()
        self.access_token = body["access_token"]
        return body

    @property
    def headers(self) -> dict[str, str]:
        """Bearer header (logs in lazily)."""
        if not self.access_token:
            self.login()
        return {"Authorization": f"Bearer {self.access_token}"}

    def gql_raw(self, query: str, variables: JsonDict | None = None) -> requests.Response:
        """POST a GraphQL request; returns the raw response."""
        return self.session.post(
            self.base_url + GQL,
            json={"query": query, "variables": variables or {}},
            headers=self.headers,
            timeout=30,
        )

    def gql(self, query: str, variables: JsonDict | None = None) -> JsonDict:
        """POST a GraphQL request; returns the whole JSON body (``data`` and ``errors``)."""
        r = self.gql_raw(query, variables)
        assert r.status_code == 200, r.text
        body: JsonDict = r.json()
        return body

    def data(self, query: str, variables: JsonDict | None = None) -> JsonDict:
        """``data`` of a request that must not fail."""
        body = self.gql(query, variables)
        assert body["errors"] is None, body["errors"]
        data: JsonDict = body["data"]
        return data

    def rest(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Any REST call under the base URL with the bearer header."""
        return self.session.request(
            method, self.base_url + path, headers=self.headers, timeout=30, **kwargs
        )

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call ``/_sandbox/...`` and return the JSON body (must be 2xx)."""
        r = self.session.request(method, self.base_url + "/_sandbox" + path, timeout=30, **kwargs)
        assert r.ok, r.text
        return r.json()

    def admin_raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call ``/_sandbox/...`` and return the raw response (for expected 4xx answers)."""
        return self.session.request(
            method, self.base_url + "/_sandbox" + path, timeout=30, **kwargs
        )

    def token_raw(self, api_token: str | None = None, **kwargs: Any) -> requests.Response:
        """One token exchange for ``api_token`` (default: this client's); the raw response."""
        return self.session.post(
            self.base_url + TOKEN_PATH,
            auth=("apitoken", api_token or self.api_token),
            data={"grant_type": "client_credentials"},
            timeout=10,
            **kwargs,
        )

    def user_id(self, api_token: str | None = None) -> str:
        """The id of the user owning ``api_token`` (default: this client's)."""
        wanted = api_token or self.api_token
        users = self.admin("GET", "/workspace")["users"]
        user_id: str = next(u["id"] for u in users if u["token"] == wanted)
        return user_id


@pytest.fixture(scope="session")
def emu_server() -> Iterator[SandboxServer]:
    """One emulator for the whole session, fast retries; tests reset it via HTTP."""
    config = SandboxConfig(
        seed="demo",
        delivery_backoff_seconds=0.05,
        delivery_max_backoff_seconds=0.2,
        delivery_max_attempts=4,
        delivery_timeout_seconds=5,
    )
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def emu_private() -> Iterator[Callable[..., Api]]:
    """Start a dedicated emulator per call (``SandboxConfig`` keyword arguments), for tests
    that need constructor settings; all of them stop after the test."""
    servers: list[SandboxServer] = []

    def start(**config: Any) -> Api:
        server = SandboxServer(SandboxConfig(**{"seed": "demo", **config})).start()
        servers.append(server)
        return Api(server.url)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def emu(emu_server: SandboxServer) -> Api:
    """A fresh demo workspace and a client logged in as the technical user."""
    api = Api(emu_server.url)
    api.admin("POST", "/reset")
    return api


@pytest.fixture
def emu_human(emu: Api) -> Api:
    """A client logged in as the human user (same workspace, after ``emu``'s reset)."""
    return Api(emu.base_url, HUMAN_TOKEN)


@dataclass
class Receiver:
    """A tiny local HTTP target for PUSH deliveries; can fail the first N requests."""

    url: str = ""
    requests: list[JsonDict] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 500
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[JsonDict]:
        """Block until ``count`` requests were answered with 2xx."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.ok()) >= count, timeout)
        return self.ok()

    def ok(self) -> list[JsonDict]:
        """Requests answered with 2xx."""
        return [r for r in self.requests if r["status"] < 300]


@pytest.fixture
def emu_receiver() -> Iterator[Receiver]:
    """Serve a :class:`Receiver` on 127.0.0.1 for the duration of a test."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with receiver.lock:
                status = 200
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    status = receiver.fail_status
            entry = {
                "path": self.path,
                "method": self.command,
                "headers": dict(self.headers.items()),
                "body": json.loads(raw) if raw else None,
                "status": status,
            }
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            with receiver.arrived:
                receiver.requests.append(entry)
                receiver.arrived.notify_all()

        do_PUT = do_POST  # noqa: N815 - http.server naming

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield receiver
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
