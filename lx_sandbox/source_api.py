"""A small inbound JSON endpoint for connector tests and the demo: the "other system" a
connector reads before it sends an LDIF to LeanIX.

* ``GET /items?page=N&size=M``: page-number paging from 1; a page past the end lists nothing.
  Answers ``{"items": [...], "page": N, "size": M, "total": T}``.
* ``GET /v2/items?cursor=C&size=M``: next-link paging. Answers ``{"items": [...], "next":
  <absolute URL of the next page> | null}``; the cursor is opaque.
* Both need ``Authorization: Bearer <token>`` (401 otherwise).
* ``/_source/...``: the request log (``GET /_source/requests``), faults (``POST /_source/faults``
  ``{"status": 503, "count": K, "retryAfter": S?}`` fails the next K item requests; ``DELETE``
  clears) and ``GET /_source/health``.

The dataset is deterministic: ``generate_applications(n)`` gives the same n Applications every
time (id, name, description, a nested lifecycle, a business criticality), so tests can assert
on exact content. Loopback only, plain http. Like the sink it never imports ``lx_core``.
Run it with ``SourceApiServer`` (tests, demo) or ``python -m lx_sandbox.source_api --port N``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import signal
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.serving import ThreadedServer, bind_loopback

JsonDict = dict[str, Any]

DEFAULT_TOKEN = "sandbox-source-token"  # noqa: S105 - the sandbox's published test token
DEFAULT_COUNT = 50
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000

_NAMES = (
    "Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper",
    "Kestrel", "Lumen", "Meridian", "Nimbus", "Onyx", "Pioneer", "Quartz", "Raven", "Summit",
    "Tundra",
)  # fmt: skip
_KINDS = ("Portal", "Ledger", "Gateway", "Planner", "Archive")
_PHASES = ("plan", "phaseIn", "active", "phaseOut", "endOfLife")
_CRITICALITY = (
    "missionCritical",
    "businessCritical",
    "businessOperational",
    "administrativeService",
)


def generate_applications(count: int) -> list[JsonDict]:
    """``count`` Applications, the same every time: ``app-0001`` ... with nested attributes."""
    apps: list[JsonDict] = []
    for i in range(1, count + 1):
        name = f"{_NAMES[(i - 1) % len(_NAMES)]} {_KINDS[(i - 1) // len(_NAMES) % len(_KINDS)]}"
        if i > len(_NAMES) * len(_KINDS):
            name = f"{name} {i}"
        apps.append(
            {
                "id": f"app-{i:04d}",
                "attributes": {
                    "name": name,
                    "description": f"{name}: application number {i} of the source system.",
                    "lifecycle": {
                        "phase": _PHASES[i % len(_PHASES)],
                        "since": f"20{10 + i % 15:02d}-{1 + i % 12:02d}-01",
                    },
                    "criticality": _CRITICALITY[i % len(_CRITICALITY)],
                },
            }
        )
    return apps


@dataclass(slots=True)
class SourceFault:
    """Answer the next ``count`` item requests with ``status``."""

    status: int
    count: int
    retry_after: int | None = None


@dataclass
class SourceState:
    """The dataset, the expected token, pending faults and every request seen."""

    items: list[JsonDict] = field(default_factory=lambda: generate_applications(DEFAULT_COUNT))
    token: str = DEFAULT_TOKEN
    faults: list[SourceFault] = field(default_factory=list)
    requests: list[JsonDict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int, status: int = 503, retry_after: int | None = None) -> None:
        """Fail the next ``count`` item requests with ``status`` (and ``Retry-After``)."""
        if not 400 <= status <= 599:
            raise ValueError("status must be 4xx or 5xx")
        with self.lock:
            self.faults.append(SourceFault(status, count, retry_after))

    def take_fault(self) -> SourceFault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count > 0:
                    fault.count -= 1
                    return fault
        return None

    def item_requests(self) -> list[JsonDict]:
        """The logged requests to ``/items`` and ``/v2/items``."""
        with self.lock:
            return [r for r in self.requests if not r["path"].startswith("/_source")]


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    prefix, _, number = text.partition(":")
    return int(number) if prefix == "offset" and number.isdigit() else None


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        return None
    return int(raw)


def create_source_app(state: SourceState) -> Starlette:
    """The source API's ASGI app over ``state``."""

    def record(request: Request, status: int) -> None:
        with state.lock:
            state.requests.append(
                {
                    "path": request.url.path,
                    "query": dict(request.query_params),
                    "authorization": request.headers.get("authorization") is not None,
                    "status": status,
                    "at": time.time(),
                }
            )

    def gate(request: Request) -> Response | None:
        """A fault or an auth failure answer, if this request gets one."""
        fault = state.take_fault()
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            record(request, fault.status)
            return JSONResponse({"error": "injected fault"}, fault.status, headers=headers)
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {state.token}".encode()):
            record(request, 401)
            return JSONResponse(
                {"error": "unauthorized"}, 401, headers={"WWW-Authenticate": "Bearer"}
            )
        return None

    def bad(request: Request, message: str) -> Response:
        record(request, 400)
        return JSONResponse({"error": message}, 400)

    async def items(request: Request) -> Response:
        refused = gate(request)
        if refused is not None:
            return refused
        page = _int_param(request, "page", 1, 1, 1_000_000)
        size = _int_param(request, "size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        if page is None or size is None:
            return bad(request, f"page must be >= 1 and size 1..{MAX_PAGE_SIZE}")
        with state.lock:
            data = list(state.items)
        record(request, 200)
        start = (page - 1) * size
        return JSONResponse(
            {"items": data[start : start + size], "page": page, "size": size, "total": len(data)}
        )

    async def items_v2(request: Request) -> Response:
        refused = gate(request)
        if refused is not None:
            return refused
        size = _int_param(request, "size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        cursor = request.query_params.get("cursor")
        offset = 0 if cursor is None else _decode_cursor(cursor)
        if size is None or offset is None:
            return bad(request, f"invalid cursor, or size not 1..{MAX_PAGE_SIZE}")
        with state.lock:
            data = list(state.items)
        record(request, 200)
        end = offset + size
        following = None
        if end < len(data):
            following = str(request.url.include_query_params(cursor=_encode_cursor(end), size=size))
        return JSONResponse({"items": data[offset:end], "next": following})

    async def requests_log(request: Request) -> Response:
        if request.method == "DELETE":
            with state.lock:
                state.requests.clear()
        with state.lock:
            logged = list(state.requests)
        return JSONResponse({"requests": logged, "total": len(logged)})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            with state.lock:
                state.faults.clear()
        elif request.method == "POST":
            try:
                doc = await request.json()
                retry_after = doc.get("retryAfter")
                state.fail_next(
                    int(doc.get("count", 1)),
                    int(doc.get("status", 503)),
                    None if retry_after is None else int(retry_after),
                )
            except (ValueError, TypeError, AttributeError) as exc:
                return JSONResponse({"error": f"invalid fault: {exc}"}, 400)
        with state.lock:
            pending = [
                {"status": f.status, "count": f.count, "retryAfter": f.retry_after}
                for f in state.faults
                if f.count > 0
            ]
        return JSONResponse({"faults": pending})

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "items": len(state.items)})

    return Starlette(
        routes=[
            Route("/items", items, methods=["GET"]),
            Route("/v2/items", items_v2, methods=["GET"]),
            Route("/_source/requests", requests_log, methods=["GET", "DELETE"]),
            Route("/_source/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route("/_source/health", health, methods=["GET"]),
        ]
    )


class SourceApiServer:
    """The source API on a loopback port in a background thread
    (``with SourceApiServer(count=120) as source:``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        count: int = DEFAULT_COUNT,
        token: str = DEFAULT_TOKEN,
        log_level: str = "warning",
    ) -> None:
        self.host = host
        self.port = port
        self.log_level = log_level
        self.state = SourceState(items=generate_applications(count), token=token)
        self.url = ""
        self._server: ThreadedServer | None = None

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def items_url(self) -> str:
        """The page-number endpoint."""
        return f"{self.url}/items"

    @property
    def next_link_url(self) -> str:
        """The next-link endpoint."""
        return f"{self.url}/v2/items"

    def start(self) -> SourceApiServer:
        """Bind and serve."""
        sock = bind_loopback(self.host, self.port)
        self.port = sock.getsockname()[1]
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}"
        self._server = ThreadedServer(create_source_app(self.state), sock, log_level=self.log_level)
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> SourceApiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m lx_sandbox.source_api --port N``: serve in the foreground, print the URL."""
    parser = argparse.ArgumentParser(prog="python -m lx_sandbox.source_api")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SourceApiServer(port=args.port, count=args.count, token=args.token) as source:
        print(source.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
