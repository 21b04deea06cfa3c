"""Assembles the ASGI app: routes, the sandbox middleware and the delivery lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lx_sandbox.emulator import (
    api_admin,
    api_graphql,
    api_integration,
    api_metrics,
    api_mtm,
    api_surveys,
    api_webhooks,
)
from lx_sandbox.emulator.core import Emulator
from lx_sandbox.emulator.fault_answers import inject, send_json, send_rate_limited
from lx_sandbox.emulator.request_info import RequestInfo, buffer_body, identify, needs_body
from lx_sandbox.emulator.stats import UserStats, endpoint_key

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _single_leading_slash(scope: Scope) -> Scope:
    """``//services/x`` -> ``/services/x`` (path and raw_path)."""
    path: str = scope["path"]
    fixed = dict(scope)
    fixed["path"] = "/" + path.lstrip("/")
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        fixed["raw_path"] = b"/" + raw.lstrip(b"/")
    return fixed


class SandboxMiddleware:
    """Per service request: count it, rate-limit its user, inject faults; guards ``/_sandbox``.

    A plain ASGI middleware (not BaseHTTPMiddleware) keeps the per-request cost small.
    """

    def __init__(self, app: ASGIApp, emu: Emulator) -> None:
        self.app = app
        self.emu = emu

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        emu = self.emu
        if scope["path"].startswith("//"):
            emu.stats.double_slash += 1
            if not emu.accept_double_slash:
                await send_json(send, 404, {"status": "ERROR", "message": "Not Found"})
                return
            # ASSUMPTION [I] §0.1: LeanIX's gateway treats a doubled leading slash like one
            # (third-party clients send ``https://host//services/...`` and it works).
            scope = _single_leading_slash(scope)
        path: str = scope["path"]
        if path.startswith(api_admin.PREFIX):
            client = scope.get("client")
            if client and client[0] not in _LOOPBACK:
                await send_json(send, 403, {"error": "admin endpoints are loopback-only"})
                return
            await self.app(scope, receive, send)
            return
        await self._service(scope, receive, send, path)

    async def _service(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        emu = self.emu
        method: str = scope["method"]
        emu.stats.requests[endpoint_key(method, path)] += 1
        body: bytes | None = None
        if needs_body(path):
            body, receive = await buffer_body(receive)
        info = identify(emu, scope, path, body)
        per_user = _user_stats(emu, info)
        per_user.requests += 1

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = str(message["status"])
                emu.stats.statuses[status] += 1
                per_user.statuses[status] += 1
            await send(message)

        if info.user is not None:
            retry_after = emu.limiter.admit(info.user.id)
            if retry_after is not None:
                emu.stats.rate_limited += 1
                per_user.rate_limited += 1
                header = retry_after if emu.limiter.settings.retry_after else None
                await send_rate_limited(counting_send, header)
                return
        fault = emu.faults.for_request(info)
        if fault.latency_s > 0:
            await asyncio.sleep(fault.latency_s)
        if fault.rule is None:
            await self.app(scope, receive, counting_send)
            return
        emu.stats.faults_injected += 1
        label = await inject(fault.rule, self.app, scope, receive, counting_send, send)
        emu.stats.faults_by_kind[label] += 1


def _user_stats(emu: Emulator, info: RequestInfo) -> UserStats:
    user = info.user
    return emu.stats.user(user.id if user else None, user.username if user else "")


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
            *api_integration.routes(emu),
            *api_surveys.routes(emu),
            *api_metrics.routes(emu),
            *api_admin.routes(emu),
        ],
        lifespan=lifespan,
    )
    return SandboxMiddleware(app, emu)
