"""The answers a fault rule forces, written at the ASGI level.

Besides error statuses this covers what a real network does to a client: a request that was
applied but whose answer is lost (5xx, a hang past the read timeout, a connection cut
mid-body), and 200 answers that are GraphQL errors or not JSON at all.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lx_sandbox.emulator.fault_rules import (
    GRAPHQL_ERRORS,
    MALFORMED,
    PROCESSED_THEN_FAIL,
    FaultRule,
)
from lx_sandbox.emulator.ratelimit import LIMIT_MESSAGE
from lx_sandbox.emulator.retry_after import format_retry_after

Headers = list[tuple[bytes, bytes]]

_HTML = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream answer was lost (injected fault).</p>"
    b"</body></html>"
)
_TRUNCATED_JSON = b'{"data": {"allFactSheets": {"totalCount": 12, "edges": [{"node": {"id": "'


def phrase(status: int) -> str:
    """The reason phrase of a status (``"Error"`` for unknown codes)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def send_bytes(
    send: Send, status: int, content_type: bytes, payload: bytes, headers: Headers | None = None
) -> None:
    """One complete response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def send_json(send: Send, status: int, body: object, headers: Headers | None = None) -> None:
    """One complete JSON response."""
    await send_bytes(send, status, b"application/json", json.dumps(body).encode(), headers)


def retry_after_header(seconds: float | None, fmt: str) -> Headers:
    """``Retry-After`` in the rule's format, or nothing."""
    if seconds is None:
        return []
    return [(b"retry-after", format_retry_after(seconds, fmt).encode())]


async def send_rate_limited(send: Send, retry_after: int | None) -> None:
    """[V] §0.3: 429 with USER_INTERVAL_REQUEST_LIMIT_EXCEEDED, and a Retry-After unless None.

    # ASSUMPTION [I] §0.3: LeanIX's 429 "might contain" Retry-After; by default the emulator
    # sends one (whole seconds until the window admits a request), and uses the REST error
    # shape on every service, the token endpoint included.
    """
    body = {"status": "ERROR", "message": LIMIT_MESSAGE}
    await send_json(send, 429, body, retry_after_header(retry_after, "seconds"))


async def send_status(send: Send, rule: FaultRule, status: int, note: str) -> None:
    """An error status in the REST error shape."""
    # [V] §0.3: 429 carries a message such as USER_INTERVAL_REQUEST_LIMIT_EXCEEDED.
    message = LIMIT_MESSAGE if status == 429 else f"{phrase(status)} ({note})"
    headers = retry_after_header(rule.retry_after, rule.retry_after_format)
    await send_json(send, status, {"status": "ERROR", "message": message}, headers)


class CapturedResponse:
    """Collects the app's answer instead of sending it."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


async def close_connection(raw_send: Send) -> None:
    """Close the client's TCP connection now, whatever was (not) sent.

    uvicorn's ``send`` is a bound method of the request cycle, which holds the transport; that
    is the only way to hang up on a client from inside an ASGI app. Waiting for
    ``connection_lost`` afterwards keeps uvicorn from answering 500 on our behalf.
    """
    cycle = getattr(raw_send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("injected fault: cannot reach the transport")
    transport.close()
    for _ in range(100):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0.001)


async def _wait_for_disconnect(receive: Receive, hold_s: float) -> None:
    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), hold_s)
    except TimeoutError:
        return


async def _send_cut_short(send: Send, captured: CapturedResponse) -> None:
    """The app's status and headers with its full Content-Length, then half the body."""
    start = captured.start or {"type": "http.response.start", "status": 200, "headers": []}
    body = bytes(captured.body)
    promised = max(len(body), 1)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(promised).encode()))
    await send({"type": "http.response.start", "status": start["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})


async def inject(
    rule: FaultRule,
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    raw_send: Send,
) -> str:
    """Answer per ``rule``; returns the label counted in ``faultsByKind``."""
    if rule.kind == GRAPHQL_ERRORS:
        # ASSUMPTION [U] §2.8: LeanIX's errorType for an internal failure is undocumented;
        # INTERNAL_ERROR is the emulator's default (a rule can name any other).
        error = {
            "message": rule.message or "Injected GraphQL error",
            "extensions": {"errorType": rule.error_type or "INTERNAL_ERROR"},
        }
        await send_json(send, 200, {"data": None, "errors": [error]})
        return GRAPHQL_ERRORS
    if rule.kind == MALFORMED:
        if rule.malformed_body == "truncated":
            await send_bytes(send, 200, b"application/json", _TRUNCATED_JSON)
        else:
            await send_bytes(send, 200, b"text/html; charset=utf-8", _HTML)
        return MALFORMED
    if rule.kind == PROCESSED_THEN_FAIL:
        captured = CapturedResponse()
        await app(scope, receive, captured.send)  # applied for real; its answer is lost
        if rule.fail_as == "timeout":
            await _wait_for_disconnect(receive, rule.hold_ms / 1000.0)
            await close_connection(raw_send)
        elif rule.fail_as == "reset":
            await _send_cut_short(send, captured)
            await close_connection(raw_send)
        else:
            status = rule.status or 502
            await send_status(send, rule, status, "injected after the request was applied")
        return f"{PROCESSED_THEN_FAIL}:{rule.fail_as}"
    status = rule.status or 500
    await send_status(send, rule, status, "injected fault")
    return f"status:{status}"
