"""What to retry, how long to wait, and when to give up (tenacity does the looping).

The rules follow from what a failure says about the request (azure-core's "not sent" versus
"maybe processed"):

* a connection that never opened, or a 429, means LeanIX did not process it: always retried;
* a read timeout, a dropped connection, a 5xx or a 2xx with a body that is not JSON may have
  been processed: retried only when replaying is harmless (``idempotent``: GraphQL queries, GETs,
  PUTs, DELETEs, and mutations guarded by ``rev``, whose replay fails as REVISION_CLASH instead
  of applying twice);
* any other 4xx will not get better by asking again.

``Retry-After`` (seconds or an HTTP-date) is honoured on every retried answer that carries it;
otherwise the wait grows exponentially with jitter up to ``backoff_max``. Two bounds stop the
loop early and hand back the last answer so the caller can raise the mapped error: the policy's
own time budget, and the ambient deadline (``lx_core.deadline``) when one is in scope, so that no
sleep ever outlasts the caller's patience.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests
import urllib3.exceptions
from tenacity import RetryCallState, Retrying

from lx_core import assumptions, deadline
from lx_core.config import LeanIXSettings

Clock = Callable[[], float]
Sleep = Callable[[float], None]
#: Whether a 2xx answer is unusable (e.g. a body that must be JSON and is not).
Unusable = Callable[[requests.Response], bool]

RETRY_ALWAYS_STATUSES = frozenset({429})
RETRY_IF_IDEMPOTENT_STATUSES = frozenset({500, 502, 503, 504})


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
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer
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


def is_retryable_exception(exc: BaseException, idempotent: bool) -> bool:
    """Whether a request that raised ``exc`` (no HTTP answer) is worth another attempt."""
    if _is_connect_failure(exc):
        return True
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    maybe_sent = (
        requests.exceptions.ReadTimeout,
        requests.exceptions.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    )
    return idempotent and isinstance(exc, maybe_sent)


def is_retryable_status(status: int, idempotent: bool) -> bool:
    """Whether an HTTP status is worth another attempt."""
    if status in RETRY_ALWAYS_STATUSES:
        return True
    return idempotent and status in RETRY_IF_IDEMPOTENT_STATUSES


def retry_after_of(response: requests.Response, now: float) -> float | None:
    """The answer's ``Retry-After`` in seconds, where we honour it (429, and 5xx [I])."""
    status = response.status_code
    if status != 429 and not (status >= 500 and assumptions.RETRY_AFTER_ON_5XX):
        return None
    return parse_retry_after(response.headers.get("Retry-After"), now=now)


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
        unusable: Unusable | None = None,
    ) -> requests.Response:
        """Run ``attempt`` until it gives a final answer, the attempts run out, or the budget or
        the deadline would be exceeded. Returns the last response (possibly an error status) or
        raises the last requests exception; mapping either to an lx_core error is the caller's
        job. ``unusable`` marks 2xx answers that count as failures (retried if idempotent)."""
        started = clock()
        wall = wall_clock or clock

        def should_retry(state: RetryCallState) -> bool:
            outcome = state.outcome
            if outcome is None:
                return False
            if outcome.failed:
                exc = outcome.exception()
                return exc is not None and is_retryable_exception(exc, idempotent)
            response: requests.Response = outcome.result()
            if is_retryable_status(response.status_code, idempotent):
                return True
            return (
                idempotent
                and unusable is not None
                and 200 <= response.status_code < 300
                and unusable(response)
            )

        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            if outcome is not None and not outcome.failed:
                after = retry_after_of(outcome.result(), wall())
                if after is not None:
                    return after
            return self.backoff(state.attempt_number, jitter())

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number > self.max_retries:
                return True
            if clock() - started + state.upcoming_sleep > self.budget_seconds:
                return True
            # Never sleep past the caller's deadline: hand back what we have instead.
            left = deadline.remaining()
            return state.upcoming_sleep + deadline.MIN_USEFUL_SECONDS > left

        def before_sleep(state: RetryCallState) -> None:
            if on_retry is None or state.outcome is None:
                return
            if state.outcome.failed:
                reason = type(state.outcome.exception()).__name__
            else:
                status = state.outcome.result().status_code
                reason = f"HTTP {status}" + (" (unusable body)" if status < 300 else "")
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
