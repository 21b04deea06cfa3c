"""A local Slack / Microsoft Teams incoming-webhook sink that records every message (§8).

* ``POST /slack/{channel}``: Slack incoming webhook; 200 ``ok``, 400 ``invalid_payload`` when the
  body has no ``text``/``blocks``/``attachments``.
* ``POST /teams/{channel}``: Teams Workflows webhook; 202 for an Adaptive Card message, else 400.
* ``/_sink/...``: inspect (``GET /_sink/messages``), clear (``DELETE /_sink/messages``) and inject
  faults (``POST /_sink/faults``: 429 with ``Retry-After`` or 5xx for the next N requests).

Run it with ``SinkServer`` (tests) or ``python -m lx_sandbox.sink --port N``. Like the emulator it
never imports ``lx_core`` or ``functions``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.serving import ThreadedServer, bind_loopback

JsonDict = dict[str, Any]


@dataclass(slots=True)
class SinkFault:
    """Answer the next ``count`` matching requests with ``status``."""

    status: int
    count: int
    retry_after: int | None = None
    kind: str | None = None
    channel: str | None = None

    def to_json(self) -> JsonDict:
        """The admin JSON form."""
        return {
            "status": self.status,
            "count": self.count,
            "retryAfter": self.retry_after,
            "kind": self.kind,
            "channel": self.channel,
        }


@dataclass
class SinkState:
    """Everything the sink has seen, plus pending faults."""

    requests: list[JsonDict] = field(default_factory=list)
    faults: list[SinkFault] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def take_fault(self, kind: str, channel: str) -> SinkFault | None:
        """Consume one matching fault, if any."""
        for fault in self.faults:
            if fault.count <= 0:
                continue
            if fault.kind not in (None, kind) or fault.channel not in (None, channel):
                continue
            fault.count -= 1
            return fault
        return None

    def accepted(self) -> list[JsonDict]:
        """Messages that were answered with 2xx."""
        return [r for r in self.requests if 200 <= int(r["status"]) < 300]


def _parse(raw: bytes, content_type: str) -> tuple[Any, str]:
    """JSON body (or Slack's form-encoded ``payload=``); returns ``(parsed or None, text)``."""
    text = raw.decode("utf-8", errors="replace")
    if "application/x-www-form-urlencoded" in content_type:
        text = (parse_qs(text).get("payload") or [""])[0]
    try:
        return json.loads(text), text
    except ValueError:
        return None, text


def _slack_ok(body: Any) -> bool:
    return isinstance(body, dict) and any(body.get(k) for k in ("text", "blocks", "attachments"))


def _teams_ok(body: Any) -> bool:
    """Workflows accept Adaptive Card messages only ([V] §8.2; ASSUMPTION [I]: else 400)."""
    if not isinstance(body, dict) or body.get("type") != "message":
        return False
    attachments = body.get("attachments")
    return (
        isinstance(attachments, list)
        and bool(attachments)
        and all(
            isinstance(a, dict)
            and a.get("contentType") == "application/vnd.microsoft.card.adaptive"
            for a in attachments
        )
    )


def _fault_response(kind: str, fault: SinkFault) -> Response:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if kind == "slack":
        # [V] §8.1: 429 with a JSON object and Retry-After; 500 rollup_error.
        if fault.status == 429:
            return JSONResponse({"ok": False, "error": "rate_limited"}, 429, headers=headers)
        return PlainTextResponse("rollup_error", fault.status, headers=headers)
    # ASSUMPTION [I] §8.2: Workflows error bodies are not documented.
    return JSONResponse(
        {"error": {"code": "TooManyRequests" if fault.status == 429 else "ServerError"}},
        fault.status,
        headers=headers,
    )


def create_sink_app(state: SinkState) -> Starlette:
    """The sink's ASGI app over ``state``."""

    def record(
        kind: str, channel: str, request: Request, body: Any, text: str, status: int
    ) -> None:
        state.requests.append(
            {
                "id": next(state.ids),
                "kind": kind,
                "channel": channel,
                "receivedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "receivedAtEpoch": time.time(),
                "headers": dict(request.headers),
                "body": body,
                "rawBody": None if body is not None else text,
                "status": status,
            }
        )

    async def incoming(request: Request) -> Response:
        kind = "slack" if request.url.path.startswith("/slack/") else "teams"
        channel = request.path_params["channel"]
        body, text = _parse(await request.body(), request.headers.get("content-type", ""))
        fault = state.take_fault(kind, channel)
        if fault is not None:
            record(kind, channel, request, body, text, fault.status)
            return _fault_response(kind, fault)
        if kind == "slack":
            if not _slack_ok(body):
                record(kind, channel, request, body, text, 400)
                return PlainTextResponse("invalid_payload", 400)
            record(kind, channel, request, body, text, 200)
            # [V] §8.1: 200 is success; ASSUMPTION [I] §8.1: the body text is "ok".
            return PlainTextResponse("ok", 200)
        if not _teams_ok(body):
            record(kind, channel, request, body, text, 400)
            return JSONResponse({"error": {"code": "InvalidRequestContent"}}, 400)
        record(kind, channel, request, body, text, 202)
        # ASSUMPTION [I] §8.2: Workflows answer 202 Accepted.
        return Response(status_code=202)

    def _filter(items: list[JsonDict], request: Request) -> list[JsonDict]:
        kind = request.query_params.get("kind")
        channel = request.query_params.get("channel")
        return [
            m
            for m in items
            if (kind is None or m["kind"] == kind) and (channel is None or m["channel"] == channel)
        ]

    async def messages(request: Request) -> Response:
        if request.method == "DELETE":
            state.requests.clear()
            return JSONResponse({"messages": [], "total": 0})
        items = _filter(state.accepted(), request)
        return JSONResponse({"messages": items, "total": len(items)})

    async def wait_messages(request: Request) -> Response:
        count = int(request.query_params.get("count", "1"))
        deadline = time.monotonic() + float(request.query_params.get("timeout", "10"))
        while len(_filter(state.accepted(), request)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        items = _filter(state.accepted(), request)
        return JSONResponse(
            {"messages": items, "total": len(items), "reached": len(items) >= count}
        )

    async def all_requests(request: Request) -> Response:
        items = _filter(state.requests, request)
        return JSONResponse({"requests": items, "total": len(items)})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
        elif request.method == "POST":
            try:
                doc = json.loads(await request.body())
                status = int(doc["status"])
                if not 400 <= status <= 599:
                    raise ValueError("status must be 4xx/5xx")
                state.faults.append(
                    SinkFault(
                        status=status,
                        count=int(doc.get("count", 1)),
                        retry_after=int(doc["retryAfter"])
                        if doc.get("retryAfter") is not None
                        else None,
                        kind=doc.get("kind"),
                        channel=doc.get("channel"),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": f"invalid fault: {exc}"}, 400)
        return JSONResponse({"faults": [f.to_json() for f in state.faults if f.count > 0]})

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/slack/{channel}", incoming, methods=["POST"]),
            Route("/teams/{channel}", incoming, methods=["POST"]),
            Route("/_sink/messages", messages, methods=["GET", "DELETE"]),
            Route("/_sink/messages/wait", wait_messages, methods=["GET"]),
            Route("/_sink/requests", all_requests, methods=["GET"]),
            Route("/_sink/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route("/_sink/health", health, methods=["GET"]),
        ]
    )


class SinkServer:
    """The sink on a loopback port in a background thread (``with SinkServer() as sink:``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        self.host = host
        self.port = port
        self.log_level = log_level
        self.state = SinkState()
        self.url = ""
        self._server: ThreadedServer | None = None

    def start(self) -> SinkServer:
        """Bind and serve."""
        sock = bind_loopback(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedServer(create_sink_app(self.state), sock, log_level=self.log_level)
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def slack_url(self, channel: str = "alerts") -> str:
        """Webhook URL of a Slack channel."""
        return f"{self.url}/slack/{channel}"

    def teams_url(self, channel: str = "alerts") -> str:
        """Webhook URL of a Teams channel."""
        return f"{self.url}/teams/{channel}"

    def __enter__(self) -> SinkServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m lx_sandbox.sink --port N``: serve in the foreground, print the URL."""
    parser = argparse.ArgumentParser(prog="python -m lx_sandbox.sink")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SinkServer(port=args.port) as sink:
        print(sink.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
