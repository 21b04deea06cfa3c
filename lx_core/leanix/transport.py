"""HttpTransport: the one way lx_core sends HTTP to LeanIX.

Every call gets (connect, read) timeouts, a slot from the shared pacer, the retry policy, and a
bearer. A 401 invalidates the cached bearer, re-authenticates once and replays once (a 401 means
the request was not processed, so replaying is safe even for writes); a second 401 is an
AuthenticationError. Service calls go to the token's ``instanceUrl``, not the configured host.

Logs carry method, path (no query string), status, timing and attempt counts, never headers.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from lx_core.config import LeanIXSettings
from lx_core.leanix._mapping import (
    error_from_exception,
    error_from_response,
    path_only,
    service_of,
)
from lx_core.leanix.auth import BearerToken, TokenClaims, TokenProvider, cache_scope
from lx_core.leanix.pacing import shared_bucket
from lx_core.leanix.retry import RetryEvent, RetryPolicy

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class CallStatsSnapshot:
    """Counters at one moment: HTTP attempts (total and per service), retries, exchanges."""

    calls: int = 0
    by_service: Mapping[str, int] = field(default_factory=dict)
    retries: int = 0
    token_exchanges: int = 0
    paced_seconds: float = 0.0


class CallStats:
    """Thread-safe counters of what a client sent, for logs, the CLI and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls = 0
        self._by_service: Counter[str] = Counter()
        self._retries = 0
        self._exchanges = 0
        self._paced = 0.0

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
                calls=self._calls,
                by_service=dict(self._by_service),
                retries=self._retries,
                token_exchanges=self._exchanges,
                paced_seconds=self._paced,
            )
            self._calls = self._retries = self._exchanges = 0
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
        self._pacer = shared_bucket(
            *self.cache_scope,
            settings.requests_per_minute,
            clock=self._monotonic,
            sleep=self._sleep,
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
    ) -> requests.Response:
        """An authenticated call to ``instanceUrl + path``; raises lx_core errors on failure."""
        if not path.startswith("/") or path.startswith("//") or "://" in path:
            raise ValueError("path must be an absolute path on the LeanIX host, e.g. /services/…")
        method = method.upper()
        token = self.tokens.get()
        response = self._authorized(method, path, token, json, params, idempotent, timeout)
        if response.status_code == 401:
            logger.info(
                "LeanIX answered 401; re-authenticating once",
                extra={"lx_method": method, "lx_path": path_only(path)},
            )
            self.tokens.invalidate(token)
            token = self.tokens.get()
            response = self._authorized(method, path, token, json, params, idempotent, timeout)
            if response.status_code == 401:
                raise error_from_response(
                    response, method=method, path=path, redact=self._redactor(token)
                )
        if response.status_code >= 400:
            raise error_from_response(
                response, method=method, path=path, redact=self._redactor(token), now=self._wall()
            )
        return response

    def _authorized(
        self,
        method: str,
        path: str,
        token: BearerToken,
        json: Any,
        params: Mapping[str, Any] | None,
        idempotent: bool,
        timeout: tuple[float, float] | None,
    ) -> requests.Response:
        return self.send(
            method,
            token.claims.instance_url + path,
            path=path,
            idempotent=idempotent,
            json=json,
            params=params,
            headers={"Authorization": token.authorization(), "Accept": "application/json"},
            timeout=timeout,
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        path: str,
        idempotent: bool,
        timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One logical call with pacing, timeouts and retries, without auth or status mapping:
        returns the last answer, or raises TransportError when there was none."""
        service = service_of(path)
        shown_path = path_only(path)
        effective_timeout = timeout or self.timeout

        def attempt() -> requests.Response:
            waited = self._pacer.acquire()
            if waited:
                self.stats.record_pacing(waited)
            self.stats.record_call(service)
            started = self._monotonic()
            response = self._session.request(method, url, timeout=effective_timeout, **kwargs)
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
            )
        except requests.RequestException as exc:
            raise error_from_exception(exc, method=method, path=path) from exc

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
