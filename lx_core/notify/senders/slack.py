"""Slack incoming webhooks through ``slack_sdk``'s ``WebhookClient`` and its retry handlers.

Connection errors, 429 (sleeping ``Retry-After``) and 500/503 are retried by slack_sdk's own
handlers, each at most ``max_retries`` times, and the rate-limit handler only when the wait fits
the ambient deadline. Success is HTTP 200 ([V] §8.1); the body ``ok`` is [I], so any other body
on a 200 is logged, not treated as a failure (that would resend an accepted message).
"""

from __future__ import annotations

import http.client
import logging
import time
from typing import Any

from pydantic import SecretStr

from lx_core import assumptions, deadline
from lx_core.errors import clip
from lx_core.leanix.retry import parse_retry_after
from lx_core.notify.senders.base import Outgoing, SendResult, classify_status

log = logging.getLogger(__name__)
# slack_sdk logs request URLs (a secret) and may quote them in its messages: its logger is
# silenced and kept off the root handlers. Every outcome comes back as a SendResult instead.
_SDK_LOG = logging.getLogger("lx_core.notify.slack_sdk")
_SDK_LOG.setLevel(logging.CRITICAL + 1)
_SDK_LOG.propagate = False


def _retry_after(headers: dict[str, Any]) -> float | None:
    """Retry-After from slack_sdk's headers (plain strings on a response, lists in retry
    state)."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            return parse_retry_after(raw if isinstance(raw, str) else None, now=time.time())
    return None


def _handlers(max_retries: int) -> list[Any]:
    from slack_sdk.http_retry import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        RetryState,
    )
    from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
    from slack_sdk.http_retry.request import HttpRequest
    from slack_sdk.http_retry.response import HttpResponse

    class DeadlineRateLimitHandler(RateLimitErrorRetryHandler):
        """Retry a 429 only if its Retry-After fits the time this tick has left."""

        def _can_retry(
            self,
            *,
            state: RetryState,
            request: HttpRequest,
            response: HttpResponse | None = None,
            error: Exception | None = None,
        ) -> bool:
            if not super()._can_retry(state=state, request=request, response=response):
                return False
            wait = _retry_after(response.headers if response else {}) or 1.0
            return wait + 1.0 < deadline.remaining()

    return [
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        DeadlineRateLimitHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]


class SlackSender:
    """One Slack incoming webhook."""

    def __init__(self, url: SecretStr, *, timeout: float = 10.0, max_retries: int = 1) -> None:
        from slack_sdk.webhook import WebhookClient

        self._timeout = timeout
        self._client = WebhookClient(
            url.get_secret_value(),
            timeout=max(1, round(timeout)),
            logger=_SDK_LOG,
            retry_handlers=_handlers(max_retries),
        )

    def send(self, message: Outgoing) -> SendResult:
        if message.payload is None:
            return SendResult("rejected", detail="no Slack payload")
        self._client.timeout = max(1, round(min(self._timeout, deadline.remaining())))
        try:
            response = self._client.send_dict(message.payload)
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            return SendResult("retry", detail=f"no answer ({type(exc).__name__})")
        except Exception as exc:  # its text may quote the URL (a secret)
            return SendResult("retry", detail=f"cannot send ({type(exc).__name__})")
        status = response.status_code
        outcome = classify_status(status)
        if outcome == "accepted" and status == 200:
            if response.body != assumptions.SLACK_ACCEPTED_BODY:
                log.warning("Slack accepted with an unexpected body: %s", clip(response.body, 80))
            return SendResult("accepted", status=status)
        if outcome == "accepted":
            outcome = "retry"  # only 200 is success ([V] §8.1)
        return SendResult(
            outcome,
            status=status,
            detail=clip(response.body or "", 120) or "",
            retry_after=_retry_after(response.headers),
        )

    def close(self) -> None:
        """slack_sdk opens one connection per request; nothing is held."""
