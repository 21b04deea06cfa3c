"""Teams Workflows webhooks: POST the Adaptive Card envelope with ``requests``.

No official Python SDK exists (azure-functions.md §5). The sender does not retry by itself:
the relay's pace keeps it under the channel's windows, and a ``retry`` outcome keeps the items
for the next tick. A throttled connector may answer 2xx with an error text in the body ([V]
§8.2), so a 2xx carrying it counts as a 429.
"""

from __future__ import annotations

import time

import requests
from pydantic import SecretStr

from lx_core import assumptions, deadline
from lx_core.errors import clip
from lx_core.leanix.retry import parse_retry_after
from lx_core.notify.render import payload_json
from lx_core.notify.senders.base import Outgoing, SendResult, classify_status


class TeamsSender:
    """One Teams Workflows (or legacy connector) webhook."""

    def __init__(
        self, url: SecretStr, *, timeout: float = 10.0, session: requests.Session | None = None
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._session = session or requests.Session()

    def send(self, message: Outgoing) -> SendResult:
        if message.payload is None:
            return SendResult("rejected", detail="no Teams payload")
        timeout = max(0.5, min(self._timeout, deadline.remaining()))
        try:
            # The exact bytes the card was sized as (requests' json= adds spaces and escapes).
            response = self._session.post(
                self._url.get_secret_value(),
                data=payload_json(message.payload),
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=timeout,
            )
        except requests.RequestException as exc:
            return SendResult("retry", detail=f"no answer ({type(exc).__name__})")
        except Exception as exc:  # its text may quote the URL (a secret)
            return SendResult("retry", detail=f"cannot send ({type(exc).__name__})")
        status = response.status_code
        outcome = classify_status(status)
        body = response.text[:2000]
        if outcome == "accepted" and assumptions.TEAMS_THROTTLED_TEXT in body:
            outcome, status = "retry", 429
        return SendResult(
            outcome,
            status=status,
            detail="" if outcome == "accepted" else (clip(body, 120) or ""),
            retry_after=parse_retry_after(response.headers.get("Retry-After"), now=time.time()),
        )

    def close(self) -> None:
        self._session.close()
