"""Assembles the ASGI app: routes, the fault/statistics middleware and the delivery lifespan."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lx_sandbox.emulator import api_admin, api_graphql, api_mtm, api_webhooks
from lx_sandbox.emulator.core import Emulator
from lx_sandbox.emulator.stats import endpoint_key

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class SandboxMiddleware:
    """Counts service requests, injects latency and error answers, guards ``/_sandbox``.

    A plain ASGI middleware (not BaseHTTPMiddleware) keeps the per-request cost small.
    """

    def __init__(self, app: ASGIApp, emu: Emulator) -> None:
        self.app = app
        self.emu = emu

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(api_admin.PREFIX):
            client = scope.get("client")
            if client and client[0] not in _LOOPBACK:
                await _send_json(send, 403, {"error": "admin endpoints are loopback-only"})
                return
            await self.app(scope, receive, send)
            return
        emu = self.emu
        method: str = scope["method"]
        emu.stats.requests[endpoint_key(method, path)] += 1
        fault = emu.faults.for_request(method, path)
        if fault.latency_s > 0:
            await asyncio.sleep(fault.latency_s)
        if fault.status is not None:
            emu.stats.faults_injected += 1
            emu.stats.statuses[str(fault.status)] += 1
            headers = []
            if fault.retry_after is not None:
                headers.append((b"retry-after", str(fault.retry_after).encode()))
            # [V] §0.3: 429 carries a message such as USER_INTERVAL_REQUEST_LIMIT_EXCEEDED.
            message = (
                "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED"
                if fault.status == 429
                else f"{_phrase(fault.status)} (injected fault)"
            )
            await _send_json(send, fault.status, {"status": "ERROR", "message": message}, headers)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                emu.stats.statuses[str(message["status"])] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _send_json(
    send: Send, status: int, body: object, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def create_app(emu: Emulator) -> ASGIApp:
    """The full emulator app bound to ``emu``."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await emu.dispatcher.start()
        try:
            yield
        finally:
            await emu.dispatcher.stop()

    app = Starlette(
        routes=[
            *api_mtm.routes(emu),
            *api_graphql.routes(emu),
            *api_webhooks.routes(emu),
            *api_admin.routes(emu),
        ],
        lifespan=lifespan,
    )
    return SandboxMiddleware(app, emu)
