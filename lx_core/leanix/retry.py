"""What to retry, how long to wait, and when to give up (tenacity does the looping).

The rules follow from what a failure says about the request:

* a connection that never opened, or a 429, means LeanIX did not process it: always safe to retry;
* a read timeout, a dropped connection or a 502/503/504 may have been processed: retry only if
  replaying is harmless (``idempotent``);
* any other 4xx, and 500, will not get better by asking again.

``Retry-After`` (seconds or an HTTP-date) is honoured on 429 and 5xx; otherwise the wait grows
exponentially with jitter up to ``backoff_max``. A total time budget bounds everything: when the
next wait would overrun it, the policy stops at once and hands back the last answer so the caller
can raise the mapped error.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests
import urllib3.exceptions
from tenacity import RetryCallState, Retrying

from lx_core import assumptions
from lx_core.config import LeanIXSettings

Clock = Callable[[], float]
Sleep = Callable[[float], None]

RETRY_ALWAYS_STATUSES = frozenset({429})
RETRY_IF_IDEMPOTENT_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class RetryEvent:
    """One decision to retry, reported to the caller for stats and logs (no request data)."""

    attempt: int
    wait: float
    reason: str


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    if not assumptions.RETRY_AFTER_ACCEPTS_HTTP_DATE:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


def _is_connect_failure(exc: BaseException) -> bool:
    """True when the connection never opened, so the request cannot have reached LeanIX."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate problem does not heal by retrying
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    # "Connection aborted" (ProtocolError) means the request may have been sent.
    return not isinstance(reason, urllib3.exceptions.ProtocolError)


def _is_retryable_exception(exc: BaseException, idempotent: bool) -> bool:
    if _is_connect_failure(exc):
        return True
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    maybe_sent = (
        requests.exceptions.ReadTimeout,
        requests.exceptions.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
    )
    return idempotent and isinstance(exc, maybe_sent)


def is_retryable_status(status: int, idempotent: bool) -> bool:
    """Whether an HTTP status is worth another attempt."""
    if status in RETRY_ALWAYS_STATUSES:
        return True
    return idempotent and status in RETRY_IF_IDEMPOTENT_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    """Pluggable retry policy (like azure-core's RetryPolicy): limits plus the rules above."""

    max_retries: int = 5
    budget_seconds: float = 60.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0

    @classmethod
    def from_settings(cls, settings: LeanIXSettings) -> RetryPolicy:
        return cls(
            max_retries=settings.max_retries,
            budget_seconds=settings.retry_budget_seconds,
            backoff_initial=settings.backoff_initial_seconds,
            backoff_max=settings.backoff_max_seconds,
        )

    def backoff(self, retry_number: int, jitter: float) -> float:
        """Exponential wait for the n-th retry (1-based) with "equal jitter": half fixed, half
        random, so waits never collapse to zero and concurrent callers spread out."""
        base = min(self.backoff_max, self.backoff_initial * 2.0 ** (retry_number - 1))
        return base / 2 + base / 2 * jitter

    def call(
        self,
        attempt: Callable[[], requests.Response],
        *,
        idempotent: bool,
        clock: Clock,
        sleep: Sleep,
        wall_clock: Clock | None = None,
        jitter: Callable[[], float] = random.random,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> requests.Response:
        """Run ``attempt`` until it gives a final answer, the attempts run out or the budget would
        be exceeded. Returns the last response (possibly an error status) or raises the last
        requests exception; mapping either to an lx_core error is the caller's job."""
        started = clock()
        wall = wall_clock or clock

        def should_retry(state: RetryCallState) -> bool:
            outcome = state.outcome
            if outcome is None:
                return False
            if outcome.failed:
                exc = outcome.exception()
                return exc is not None and _is_retryable_exception(exc, idempotent)
            response: requests.Response = outcome.result()
            return is_retryable_status(response.status_code, idempotent)

        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            if outcome is not None and not outcome.failed:
                response: requests.Response = outcome.result()
                honour = response.status_code == 429 or (
                    response.status_code >= 500 and assumptions.RETRY_AFTER_ON_5XX
                )
                if honour:
                    after = parse_retry_after(response.headers.get("Retry-After"), now=wall())
                    if after is not None:
                        return after
            return self.backoff(state.attempt_number, jitter())

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number > self.max_retries:
                return True
            elapsed = clock() - started
            return elapsed + state.upcoming_sleep > self.budget_seconds

        def before_sleep(state: RetryCallState) -> None:
            if on_retry is None or state.outcome is None:
                return
            if state.outcome.failed:
                reason = type(state.outcome.exception()).__name__
            else:
                reason = f"HTTP {state.outcome.result().status_code}"
            on_retry(RetryEvent(state.attempt_number, state.upcoming_sleep, reason))

        retrying = Retrying(
            retry=should_retry,
            wait=wait,
            stop=stop,
            sleep=sleep,
            before_sleep=before_sleep,
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
            reraise=True,
        )
        response: requests.Response = retrying(attempt)
        return response
