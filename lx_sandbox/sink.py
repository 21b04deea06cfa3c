"""A local Slack / Microsoft Teams incoming-webhook sink that records every message (§8).

* ``POST /slack/{channel}``: Slack incoming webhook; 200 ``ok``, 400 ``invalid_payload`` when the
  body has no ``text``/``blocks``/``attachments``.
* ``POST /teams/{channel}``: Teams Workflows webhook; 202 for an Adaptive Card message, else 400.
* Rate limits per (kind, channel), on by default so a client's pacing is tested for real: Slack a
  token bucket (1 message/s, short bursts), Teams the connector's sliding windows. Over the limit
  the answer is 429 with ``Retry-After``; the refused request uses no budget.
* ``/_sink/...``: inspect (``GET /_sink/messages``, ``GET /_sink/requests``, ``GET /_sink/stats``),
  clear (``DELETE /_sink/messages``: also refills every rate budget), inject faults
  (``POST /_sink/faults``: a status with optional ``Retry-After``, a delay, or a dropped
  connection for the next N requests) and configure rates (``GET/POST/DELETE /_sink/rates``).

Run it with ``SinkServer`` (tests) or ``python -m lx_sandbox.sink --port N``. Like the emulator it
never imports ``lx_core`` or ``functions``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from lx_sandbox.emulator.fault_answers import close_connection
from lx_sandbox.emulator.serving import ThreadedServer, bind_loopback

JsonDict = dict[str, Any]
Window = tuple[float, int]

KINDS: Final = ("slack", "teams")
#: [V] §8.1: Slack allows "no more than one message per second" per incoming webhook.
SLACK_RATE: Final = 1.0
# ASSUMPTION [U] §8.1: Slack allows "short bursts" above that rate without saying how many;
# the sink lets 3 through back to back.
SLACK_BURST: Final = 3
# [V] §8.2: the documented connector limits: 4 per second, 60 per 30 s, 100 per hour.
# ASSUMPTION [U] §8.2: Workflows webhooks are held to the same limits (theirs are undocumented).
TEAMS_WINDOWS: Final[tuple[Window, ...]] = ((1.0, 4), (30.0, 60), (3600.0, 100))
#: The longest injectable delay: longer only hangs a test run.
MAX_DELAY_SECONDS: Final = 600.0

#: What a recorded request's ``outcome`` can be (``GET /_sink/stats`` counts each).
#: [V] §8.2: payloads over about 28 KB fail with 413 (taken as 28 KiB; ASSUMPTION [U] that
#: Workflows keep the connector limit).
TEAMS_MAX_BYTES: Final = 28 * 1024
ACCEPTED: Final = "accepted"
REJECTED: Final = "rejected"
RATE_LIMITED: Final = "rateLimited"
FAULTED: Final = "faulted"
DROPPED: Final = "dropped"
OUTCOMES: Final = (ACCEPTED, REJECTED, RATE_LIMITED, FAULTED, DROPPED)

_RAW_SEND: Final = "lx_sandbox.sink.raw_send"


class SinkConfigError(ValueError):
    """An invalid admin document; ``field`` names the offending field (400 to the caller)."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One kind's limits, applied per channel; every configured limit must admit a request.

    ``rate``/``burst`` is a token bucket (``rate`` tokens per second, at most ``burst`` saved
    up; ``rate=None`` means none); ``windows`` are sliding windows ``(seconds, max requests)``.
    """

    enabled: bool = True
    rate: float | None = None
    burst: int = 1
    windows: tuple[Window, ...] = ()

    def to_json(self) -> JsonDict:
        """The admin JSON form."""
        return {
            "enabled": self.enabled,
            "rate": self.rate,
            "burst": self.burst,
            "windows": [[seconds, limit] for seconds, limit in self.windows],
        }

    def updated(self, doc: Mapping[str, Any]) -> RateLimit:
        """A copy with the fields ``doc`` names (admin JSON form), validated."""
        changes: dict[str, Any] = {}
        if "enabled" in doc:
            changes["enabled"] = _bool(doc, "enabled")
        if "rate" in doc:
            rate = doc["rate"]
            changes["rate"] = None if rate is None else _number(doc, "rate", low=0.0, open_low=True)
        if "burst" in doc:
            changes["burst"] = _int(doc, "burst", low=1)
        if "windows" in doc:
            changes["windows"] = _windows(doc["windows"])
        return replace(self, **changes)


def default_rates() -> dict[str, RateLimit]:
    """Slack's and Teams' documented limits (see the constants)."""
    return {
        "slack": RateLimit(rate=SLACK_RATE, burst=SLACK_BURST),
        "teams": RateLimit(windows=TEAMS_WINDOWS),
    }


def no_rate_limits() -> dict[str, RateLimit]:
    """Rates off for every kind (``SinkServer(rates=no_rate_limits())``)."""
    return {kind: replace(limit, enabled=False) for kind, limit in default_rates().items()}


@dataclass(slots=True)
class _Budget:
    """One channel's rate-limiter state."""

    tokens: float
    refilled_at: float
    admitted: deque[float] = field(default_factory=deque)


def _wait_seconds(limit: RateLimit, budget: _Budget, now: float) -> float:
    """Seconds until ``limit`` admits one more request (0 when it does now); refills tokens."""
    waits = [0.0]
    if limit.rate is not None:
        budget.tokens = min(
            float(limit.burst), budget.tokens + (now - budget.refilled_at) * limit.rate
        )
        budget.refilled_at = now
        if budget.tokens < 1.0:
            waits.append((1.0 - budget.tokens) / limit.rate)
    if limit.windows:
        horizon = max(seconds for seconds, _ in limit.windows)
        while budget.admitted and budget.admitted[0] <= now - horizon:
            budget.admitted.popleft()
        for seconds, most in limit.windows:
            inside = [t for t in budget.admitted if t > now - seconds]
            if len(inside) >= most:
                # The window admits again once enough of the requests in it have aged out.
                waits.append(inside[len(inside) - most] + seconds - now)
    return max(waits)


def retry_after_seconds(wait: float) -> int:
    """``Retry-After`` in whole seconds, rounded up and at least 1: sleeping that long passes."""
    return max(1, math.ceil(round(wait, 6)))


@dataclass(slots=True)
class SinkFault:
    """For the next ``count`` matching requests: wait ``delay_seconds``, then answer ``status``,
    drop the connection (``down``), or (neither) answer normally."""

    status: int | None
    count: int
    retry_after: int | None = None
    kind: str | None = None
    channel: str | None = None
    delay_seconds: float = 0.0
    down: bool = False

    def to_json(self) -> JsonDict:
        """The admin JSON form."""
        return {
            "status": self.status,
            "count": self.count,
            "retryAfter": self.retry_after,
            "kind": self.kind,
            "channel": self.channel,
            "delaySeconds": self.delay_seconds,
            "down": self.down,
        }

    @classmethod
    def from_json(cls, doc: Any) -> SinkFault:
        """Validate an admin fault document; ``SinkConfigError`` names the bad field."""
        if not isinstance(doc, dict):
            raise SinkConfigError("body", "must be a JSON object")
        unknown = sorted(set(doc) - _FAULT_FIELDS)
        if unknown:
            raise SinkConfigError(unknown[0], "unknown field")
        status = None if doc.get("status") is None else _int(doc, "status", low=400, high=599)
        delay = 0.0 if doc.get("delaySeconds") is None else _delay(doc)
        down = False if doc.get("down") is None else _bool(doc, "down")
        retry_after = None if doc.get("retryAfter") is None else _int(doc, "retryAfter", low=0)
        if down and status is not None:
            raise SinkConfigError("down", "a dropped connection has no status")
        if status is None and retry_after is not None:
            raise SinkConfigError("retryAfter", "applies to a status answer only")
        if status is None and not down and delay == 0.0:
            raise SinkConfigError("status", "required unless delaySeconds or down is given")
        kind = doc.get("kind")
        if kind is not None and kind not in KINDS:
            raise SinkConfigError("kind", f"must be one of {', '.join(KINDS)}")
        channel = doc.get("channel")
        if channel is not None and (not isinstance(channel, str) or not channel):
            raise SinkConfigError("channel", "must be a non-empty string")
        return cls(
            status=status,
            count=1 if doc.get("count") is None else _int(doc, "count", low=1),
            retry_after=retry_after,
            kind=kind,
            channel=channel,
            delay_seconds=delay,
            down=down,
        )


_FAULT_FIELDS: Final = frozenset(
    {"status", "count", "retryAfter", "kind", "channel", "delaySeconds", "down"}
)


def _int(doc: Mapping[str, Any], name: str, *, low: int, high: int | None = None) -> int:
    value = doc[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise SinkConfigError(name, "must be an integer")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise SinkConfigError(name, f"must be {bound}")
    return value


def _number(
    doc: Mapping[str, Any], name: str, *, low: float, open_low: bool = False, high: float = math.inf
) -> float:
    value = doc[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SinkConfigError(name, "must be a number")
    if value < low or (open_low and value == low) or value > high:
        raise SinkConfigError(name, f"must be {'>' if open_low else '>='} {low} and <= {high}")
    return float(value)


def _bool(doc: Mapping[str, Any], name: str) -> bool:
    value = doc[name]
    if not isinstance(value, bool):
        raise SinkConfigError(name, "must be true or false")
    return value


def _delay(doc: Mapping[str, Any]) -> float:
    return _number(doc, "delaySeconds", low=0.0, high=MAX_DELAY_SECONDS)


def _windows(value: Any) -> tuple[Window, ...]:
    if not isinstance(value, list | tuple):
        raise SinkConfigError("windows", "must be a list of [seconds, limit] pairs")
    windows: list[Window] = []
    for i, pair in enumerate(value):
        name = f"windows[{i}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise SinkConfigError(name, "must be a [seconds, limit] pair")
        seconds = _number({name: pair[0]}, name, low=0.0, open_low=True)
        windows.append((seconds, _int({name: pair[1]}, name, low=1)))
    return tuple(windows)


@dataclass
class SinkState:
    """Everything the sink has seen, plus pending faults, rate limits and their budgets.

    ``clock`` (monotonic seconds) drives the rate limiter only, so unit tests can step time.
    """

    requests: list[JsonDict] = field(default_factory=list)
    faults: list[SinkFault] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    rates: dict[str, RateLimit] = field(default_factory=default_rates)
    clock: Callable[[], float] = field(default=time.monotonic)
    _budgets: dict[tuple[str, str], _Budget] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

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

    def admit(self, kind: str, channel: str) -> float | None:
        """Use one unit of the channel's rate budget, or return the seconds until there is one.

        A refused request uses nothing, as at Slack and Teams: retrying after the wait passes.
        """
        limit = self.rates.get(kind)
        if limit is None or not limit.enabled:
            return None
        with self._lock:
            now = self.clock()
            budget = self._budgets.get((kind, channel))
            if budget is None:
                budget = self._budgets[(kind, channel)] = _Budget(float(limit.burst), now)
            wait = _wait_seconds(limit, budget, now)
            if wait > 0.0:
                return wait
            if limit.rate is not None:
                budget.tokens -= 1.0
            if limit.windows:
                budget.admitted.append(now)
            return None

    def set_rate(self, kind: str, limit: RateLimit) -> None:
        """Replace one kind's limits and start its channels' budgets afresh."""
        if kind not in KINDS:
            raise SinkConfigError("kind", f"must be one of {', '.join(KINDS)}")
        with self._lock:
            self.rates[kind] = limit
            for key in [k for k in self._budgets if k[0] == kind]:
                del self._budgets[key]

    def reset_rates(self) -> None:
        """Back to the default limits, every budget full."""
        with self._lock:
            self.rates = default_rates()
            self._budgets.clear()

    def refill(self) -> None:
        """Every channel's budget full again (limits unchanged)."""
        with self._lock:
            self._budgets.clear()

    def clear(self) -> None:
        """Forget recorded requests and refill budgets: a fresh sink for the next test."""
        self.requests.clear()
        self.refill()

    def accepted(self) -> list[JsonDict]:
        """Messages that were answered with 2xx."""
        return [r for r in self.requests if r["outcome"] == ACCEPTED]

    def stats(self) -> JsonDict:
        """Requests by outcome, overall and per ``kind/channel``; ``delayed`` counts delays."""
        total: Counter[str] = Counter()
        channels: dict[str, Counter[str]] = {}
        for r in list(self.requests):
            per = channels.setdefault(f"{r['kind']}/{r['channel']}", Counter())
            for counter in (total, per):
                counter[r["outcome"]] += 1
                counter["total"] += 1
                if r["delaySeconds"]:
                    counter["delayed"] += 1
        return {**_counts(total), "channels": {k: _counts(v) for k, v in sorted(channels.items())}}


def _counts(counter: Counter[str]) -> JsonDict:
    return {key: counter[key] for key in ("total", *OUTCOMES, "delayed")}


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


def _error_response(kind: str, status: int, retry_after: int | None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if kind == "slack":
        # [V] §8.1: 429 with a JSON object and Retry-After; 500 rollup_error.
        if status == 429:
            return JSONResponse({"ok": False, "error": "rate_limited"}, 429, headers=headers)
        return PlainTextResponse("rollup_error", status, headers=headers)
    # ASSUMPTION [I] §8.2: Workflows error bodies are not documented.
    return JSONResponse(
        {"error": {"code": "TooManyRequests" if status == 429 else "ServerError"}},
        status,
        headers=headers,
    )


class _SinkApp(Starlette):
    """Starlette that keeps uvicorn's own ``send`` in the scope.

    Hanging up on a client (a ``down`` fault) needs the transport behind that ``send``, which
    Starlette's wrapping hides (see ``emulator.fault_answers.close_connection``).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[_RAW_SEND] = send
        await super().__call__(scope, receive, send)


def create_sink_app(state: SinkState) -> Starlette:
    """The sink's ASGI app over ``state``."""

    async def incoming(request: Request) -> Response:
        kind = "slack" if request.url.path.startswith("/slack/") else "teams"
        channel = request.path_params["channel"]
        arrived = time.time()
        raw = await request.body()
        body, text = _parse(raw, request.headers.get("content-type", ""))
        fault = state.take_fault(kind, channel)
        delay = fault.delay_seconds if fault is not None else 0.0

        def record(outcome: str, status: int | None) -> None:
            state.requests.append(
                {
                    "id": next(state.ids),
                    "kind": kind,
                    "channel": channel,
                    "receivedAt": datetime.fromtimestamp(arrived, UTC)
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "receivedAtEpoch": arrived,
                    "headers": dict(request.headers),
                    "body": body,
                    "rawBody": None if body is not None else text,
                    "status": status,
                    "outcome": outcome,
                    "delaySeconds": delay,
                }
            )

        if delay > 0.0:
            await asyncio.sleep(delay)
        if fault is not None and fault.down:
            record(DROPPED, None)
            await close_connection(request.scope[_RAW_SEND])
            return Response(status_code=500)  # not sent: the connection is gone
        if fault is not None and fault.status is not None:
            record(FAULTED, fault.status)
            return _error_response(kind, fault.status, fault.retry_after)
        wait = state.admit(kind, channel)
        if wait is not None:
            record(RATE_LIMITED, 429)
            return _error_response(kind, 429, retry_after_seconds(wait))
        if kind == "slack":
            if not _slack_ok(body):
                record(REJECTED, 400)
                return PlainTextResponse("invalid_payload", 400)
            record(ACCEPTED, 200)
            # [V] §8.1: 200 is success; ASSUMPTION [I] §8.1: the body text is "ok".
            return PlainTextResponse("ok", 200)
        if len(raw) > TEAMS_MAX_BYTES:
            record(REJECTED, 413)
            return JSONResponse({"error": {"code": "RequestEntityTooLarge"}}, 413)
        if not _teams_ok(body):
            record(REJECTED, 400)
            return JSONResponse({"error": {"code": "InvalidRequestContent"}}, 400)
        record(ACCEPTED, 202)
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
            state.clear()
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

    async def stats(_request: Request) -> Response:
        return JSONResponse(state.stats())

    def invalid(what: str, exc: SinkConfigError) -> Response:
        return JSONResponse({"error": f"invalid {what}: {exc}", "field": exc.field}, 400)

    async def json_body(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except ValueError as exc:
            raise SinkConfigError("body", "must be JSON") from exc

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
        elif request.method == "POST":
            try:
                state.faults.append(SinkFault.from_json(await json_body(request)))
            except SinkConfigError as exc:
                return invalid("fault", exc)
        return JSONResponse({"faults": [f.to_json() for f in state.faults if f.count > 0]})

    async def rates(request: Request) -> Response:
        if request.method == "DELETE":
            state.reset_rates()
        elif request.method == "POST":
            try:
                doc = await json_body(request)
                if not isinstance(doc, dict):
                    raise SinkConfigError("body", "must be a JSON object")
                kind = doc.get("kind")
                if kind not in KINDS:
                    raise SinkConfigError("kind", f"must be one of {', '.join(KINDS)}")
                unknown = sorted(set(doc) - {"kind", "enabled", "rate", "burst", "windows"})
                if unknown:
                    raise SinkConfigError(unknown[0], "unknown field")
                state.set_rate(kind, state.rates[kind].updated(doc))
            except SinkConfigError as exc:
                return invalid("rates", exc)
        return JSONResponse({"rates": {k: v.to_json() for k, v in state.rates.items()}})

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return _SinkApp(
        routes=[
            Route("/slack/{channel}", incoming, methods=["POST"]),
            Route("/teams/{channel}", incoming, methods=["POST"]),
            Route("/_sink/messages", messages, methods=["GET", "DELETE"]),
            Route("/_sink/messages/wait", wait_messages, methods=["GET"]),
            Route("/_sink/requests", all_requests, methods=["GET"]),
            Route("/_sink/stats", stats, methods=["GET"]),
            Route("/_sink/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route("/_sink/rates", rates, methods=["GET", "POST", "DELETE"]),
            Route("/_sink/health", health, methods=["GET"]),
        ]
    )


class SinkServer:
    """The sink on a loopback port in a background thread (``with SinkServer() as sink:``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        *,
        rates: Mapping[str, RateLimit] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``rates`` overrides the default limits of the kinds it names; ``clock`` the limiter's."""
        self.host = host
        self.port = port
        self.log_level = log_level
        self.state = SinkState(clock=clock or time.monotonic)
        for kind, limit in (rates or {}).items():
            self.state.set_rate(kind, limit)
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
    parser.add_argument("--no-rate-limits", action="store_true", help="accept messages at any pace")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    rates = no_rate_limits() if args.no_rate_limits else None
    with SinkServer(port=args.port, rates=rates) as sink:
        print(sink.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
