"""HttpTransport: the one way lx_core sends HTTP to LeanIX.

Every call gets (connect, read) timeouts, a slot from the shared pacer, the retry policy, and a
bearer. Under an ambient deadline (``lx_core.deadline``) the timeouts, the wait for a pacer slot
and every back-off are capped by the time left; a call that cannot finish in time raises
DeadlineExceededError instead of starting. A 429 also slows the pacer down.

A 401 invalidates the cached bearer, re-authenticates once and replays once (a 401 means the
request was not processed, so replaying is safe even for writes); a second 401 is an
AuthenticationError. Service calls go to the token's ``instanceUrl``, not the configured host.

Logs carry method, path (no query string), status, timing and attempt counts, never headers.

Besides JSON, a call may send a raw body (``data``: bytes, or a seekable binary file that is
rewound before every attempt, so a retry or the 401 replay never sends half a body), extra
headers (never ``Authorization``), and ask for a streamed answer (``stream=True``: the caller
reads and closes it; error answers are read at once, so their connection is released).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import requests

from lx_core import deadline
from lx_core.config import LeanIXSettings
from lx_core.errors import DeadlineExceededError
from lx_core.leanix._mapping import (
    error_from_exception,
    error_from_response,
    is_not_json_object,
    malformed_response,
    path_only,
    service_of,
)
from lx_core.leanix.auth import BearerToken, TokenClaims, TokenProvider, cache_scope
from lx_core.leanix.pacing import Pacer
from lx_core.leanix.retry import RetryEvent, RetryPolicy, retry_after_of
from lx_core.leanix.shared_pace import pacer_for

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class CallStatsSnapshot:
    """Counters at one moment: logical requests, HTTP attempts (total and per service), retries,
    token exchanges and time spent waiting for the pacer."""

    requests: int = 0
    calls: int = 0
    by_service: Mapping[str, int] = field(default_factory=dict)
    retries: int = 0
    token_exchanges: int = 0
    paced_seconds: float = 0.0


class _DeadlinePassedError(Exception):
    """Raised inside an attempt when the deadline leaves no time to send; never retried."""


class CallStats:
    """Thread-safe counters of what a client sent, for logs, the CLI and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._calls = 0
        self._by_service: Counter[str] = Counter()
        self._retries = 0
        self._exchanges = 0
        self._paced = 0.0

    def record_request(self) -> None:
        with self._lock:
            self._requests += 1

    def record_call(self, service: str) -> None:
        with self._lock:
            self._calls += 1
            self._by_service[service] += 1

    def record_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def record_exchange(self) -> None:
        with self._lock:
            self._exchanges += 1

    def record_pacing(self, seconds: float) -> None:
        with self._lock:
            self._paced += seconds

    def snapshot(self) -> CallStatsSnapshot:
        with self._lock:
            return CallStatsSnapshot(
                requests=self._requests,
                calls=self._calls,
                by_service=dict(self._by_service),
                retries=self._retries,
                token_exchanges=self._exchanges,
                paced_seconds=self._paced,
            )

    def reset(self) -> CallStatsSnapshot:
        """Zero the counters; returns what they were."""
        with self._lock:
            before = CallStatsSnapshot(
                requests=self._requests,
                calls=self._calls,
                by_service=dict(self._by_service),
                retries=self._retries,
                token_exchanges=self._exchanges,
                paced_seconds=self._paced,
            )
            self._requests = self._calls = self._retries = self._exchanges = 0
            self._by_service.clear()
            self._paced = 0.0
            return before

    # Convenience read-only views.
    @property
    def calls(self) -> int:
        return self.snapshot().calls

    @property
    def retries(self) -> int:
        return self.snapshot().retries

    @property
    def token_exchanges(self) -> int:
        return self.snapshot().token_exchanges


class _Body:
    """What one logical request sends, kept together so the 401 replay sends the same."""

    __slots__ = ("data", "headers", "json", "start")

    def __init__(
        self, json: Any, data: bytes | IO[bytes] | None, headers: Mapping[str, str] | None
    ) -> None:
        self.json = json
        self.data = data
        self.headers = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
        self.start = data.tell() if data is not None and not isinstance(data, bytes) else None

    def rewind(self) -> None:
        if self.start is not None and self.data is not None and not isinstance(self.data, bytes):
            self.data.seek(self.start)


def _rewinder(data: Any) -> Callable[[], None]:
    """Seek a file body back to where it started before each attempt (bytes need nothing)."""
    if data is None or isinstance(data, bytes | bytearray) or not hasattr(data, "seek"):
        return lambda: None
    start = data.tell()

    def rewind() -> None:
        data.seek(start)

    return rewind


class HttpTransport:
    """Pooled session + timeouts + pacing + retries + bearer; maps failures to lx_core errors."""

    def __init__(
        self,
        settings: LeanIXSettings,
        *,
        session: requests.Session | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        jitter: Callable[[], float] | None = None,
        policy: RetryPolicy | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.settings = settings
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._monotonic = clock or time.monotonic
        self._wall = clock or time.time
        self._sleep = sleep or time.sleep
        self._jitter = jitter or random.random
        self.policy = policy or RetryPolicy.from_settings(settings)
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self.stats = CallStats()
        self.cache_scope = cache_scope(settings)
        self._pacer: Pacer = pacer or pacer_for(
            settings, clock=self._monotonic, wall_clock=self._wall, sleep=self._sleep
        )
        self.tokens = TokenProvider(
            settings, send=self.send, clock=self._wall, on_exchange=self.stats.record_exchange
        )

    # --- identity ------------------------------------------------------------------------------

    @property
    def claims(self) -> TokenClaims:
        """The token's claims; exchanges the API token first if needed."""
        return self.tokens.get().claims

    @property
    def base_url(self) -> str:
        """``instanceUrl`` once a token is known, else the configured host (no I/O)."""
        token = self.tokens.peek()
        return token.claims.instance_url if token is not None else self.settings.base_url

    # --- requests ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool,
        timeout: tuple[float, float] | None = None,
        expect_json: bool = False,
        data: bytes | IO[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        unusable: Callable[[requests.Response], bool] | None = None,
    ) -> requests.Response:
        """An authenticated call to ``instanceUrl + path``; raises lx_core errors on failure.
        ``expect_json``: a 2xx whose body is not a JSON object is retried (when idempotent) and
        then raised as MalformedResponseError; ``unusable`` generalises that check."""
        if not path.startswith("/") or path.startswith("//") or "://" in path:
            raise ValueError("path must be an absolute path on the LeanIX host, e.g. /services/…")
        if json is not None and data is not None:
            raise ValueError("send either json or data, not both")
        if expect_json:
            unusable = is_not_json_object
        method = method.upper()
        body = _Body(json, data, headers)
        token = self.tokens.get()
        response = self._authorized(
            method, path, token, body, params, idempotent, timeout, unusable, stream
        )
        if response.status_code == 401:
            logger.info(
                "LeanIX answered 401; re-authenticating once",
                extra={"lx_method": method, "lx_path": path_only(path)},
            )
            self.tokens.invalidate(token)
            token = self.tokens.get()
            response = self._authorized(
                method, path, token, body, params, idempotent, timeout, unusable, stream
            )
            if response.status_code == 401:
                raise error_from_response(
                    response, method=method, path=path, redact=self._redactor(token)
                )
        if response.status_code >= 400:
            raise error_from_response(
                response, method=method, path=path, redact=self._redactor(token), now=self._wall()
            )
        if unusable is not None and unusable(response):
            what = "its body is not a JSON object" if expect_json else "its body is not usable"
            raise malformed_response(response, method=method, path=path, what=what)
        return response

    def _authorized(
        self,
        method: str,
        path: str,
        token: BearerToken,
        body: _Body,
        params: Mapping[str, Any] | None,
        idempotent: bool,
        timeout: tuple[float, float] | None,
        unusable: Callable[[requests.Response], bool] | None,
        stream: bool,
    ) -> requests.Response:
        body.rewind()
        headers = {"Accept": "application/json", **body.headers}
        headers["Authorization"] = token.authorization()
        extra: dict[str, Any] = {"stream": True} if stream else {}
        if body.data is not None:
            extra["data"] = body.data
        else:
            extra["json"] = body.json
        return self.send(
            method,
            token.claims.instance_url + path,
            path=path,
            idempotent=idempotent,
            params=params,
            headers=headers,
            timeout=timeout,
            unusable=unusable,
            **extra,
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        path: str,
        idempotent: bool,
        timeout: tuple[float, float] | None = None,
        unusable: Callable[[requests.Response], bool] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One logical call with pacing, timeouts and retries, without auth or status mapping:
        returns the last answer, or raises TransportError when there was none."""
        service = service_of(path)
        shown_path = path_only(path)
        connect, read = timeout or self.timeout
        self.stats.record_request()
        rewind = _rewinder(kwargs.get("data"))
        stream = bool(kwargs.get("stream"))

        def attempt() -> requests.Response:
            rewind()
            left = deadline.remaining() - deadline.MIN_USEFUL_SECONDS
            if left <= 0:
                raise _DeadlinePassedError
            waited = self._pacer.acquire(max_wait=left)
            if waited is None:
                raise _DeadlinePassedError
            if waited:
                self.stats.record_pacing(waited)
            left = deadline.remaining()
            if left < deadline.MIN_USEFUL_SECONDS:
                raise _DeadlinePassedError
            self.stats.record_call(service)
            started = self._monotonic()
            response = self._session.request(
                method, url, timeout=(min(connect, left), min(read, left)), **kwargs
            )
            if response.status_code == 429:
                self._pacer.throttled(retry_after_of(response, self._wall()))
            if stream and not 200 <= response.status_code < 300:
                _ = response.content  # small error body: read it so the connection is released
            logger.debug(
                "LeanIX call",
                extra={
                    "lx_method": method,
                    "lx_path": shown_path,
                    "lx_service": service,
                    "lx_status": response.status_code,
                    "lx_elapsed_ms": round((self._monotonic() - started) * 1000),
                },
            )
            return response

        def on_retry(event: RetryEvent) -> None:
            self.stats.record_retry()
            logger.info(
                "retrying LeanIX call",
                extra={
                    "lx_method": method,
                    "lx_path": shown_path,
                    "lx_attempt": event.attempt,
                    "lx_wait_s": round(event.wait, 3),
                    "lx_reason": event.reason,
                },
            )

        try:
            return self.policy.call(
                attempt,
                idempotent=idempotent,
                clock=self._monotonic,
                sleep=self._sleep,
                wall_clock=self._wall,
                jitter=self._jitter,
                on_retry=on_retry,
                unusable=unusable,
            )
        except _DeadlinePassedError:
            raise DeadlineExceededError(
                "no time left before the caller's deadline to call LeanIX",
                method=method,
                path=shown_path,
            ) from None
        except requests.RequestException as exc:
            passed = deadline.current() is not None and deadline.remaining() < 0.25
            error = error_from_exception(exc, method=method, path=path, deadline_passed=passed)
            raise error from exc

    def _redactor(self, token: BearerToken) -> Callable[[str], str]:
        secrets = (
            self.settings.api_token.get_secret_value(),
            token.access_token.get_secret_value(),
        )

        def redact(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, "***")
            return text

        return redact

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session:
            self._session.close()
