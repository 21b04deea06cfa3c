"""RetryPolicy rules in isolation: Retry-After parsing, back-off shape, what is retryable."""

from __future__ import annotations

from email.utils import formatdate

import pytest
import requests
import urllib3.exceptions

from lx_core.leanix.retry import (
    RetryEvent,
    RetryPolicy,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
)
from lx_core.leanix.testing import FakeClock


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("5", now=now) == 5
    assert parse_retry_after("-3", now=now) == 0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_initial=1, backoff_max=8)
    assert [policy.backoff(n, 0.0) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert [policy.backoff(n, 1.0) for n in range(1, 6)] == [1, 2, 4, 8, 8]


@pytest.mark.parametrize(
    ("status", "idempotent", "retry"),
    [
        (429, False, True),
        (429, True, True),
        (502, True, True),
        (503, False, False),
        (504, True, True),
        (500, True, True),
        (500, False, False),
        (400, True, False),
        (409, True, False),
    ],
)
def test_status_rules(status: int, idempotent: bool, retry: bool) -> None:
    assert is_retryable_status(status, idempotent) is retry


def _aborted() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.")
    )


@pytest.mark.parametrize(
    ("exc", "idempotent", "retry"),
    [
        (requests.exceptions.ConnectTimeout(), False, True),
        (requests.exceptions.ConnectionError("refused"), False, True),
        (_aborted(), False, False),
        (_aborted(), True, True),
        (requests.exceptions.ReadTimeout(), False, False),
        (requests.exceptions.ReadTimeout(), True, True),
        (requests.exceptions.SSLError(), True, False),
        (requests.exceptions.InvalidURL(), True, False),
    ],
)
def test_exception_rules(exc: Exception, idempotent: bool, retry: bool) -> None:
    assert is_retryable_exception(exc, idempotent) is retry


def _response(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    return response


def test_call_reports_retries_and_returns_the_last_answer() -> None:
    clock = FakeClock()
    answers = iter([_response(503), _response(503), _response(200)])
    events: list[RetryEvent] = []
    result = RetryPolicy().call(
        lambda: next(answers),
        idempotent=True,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.0,
        on_retry=events.append,
    )
    assert result.status_code == 200
    assert [(e.attempt, e.wait, e.reason) for e in events] == [
        (1, 0.25, "HTTP 503"),
        (2, 0.5, "HTTP 503"),
    ]


def test_call_reraises_the_last_exception_when_exhausted() -> None:
    clock = FakeClock()
    calls = 0

    def attempt() -> requests.Response:
        nonlocal calls
        calls += 1
        raise requests.exceptions.ConnectTimeout()

    with pytest.raises(requests.exceptions.ConnectTimeout):
        RetryPolicy(max_retries=3).call(attempt, idempotent=False, clock=clock, sleep=clock.sleep)
    assert calls == 4
