"""The sender interface: send one prepared message, say whether the channel took it.

Three outcomes, because the relay acts differently on each:

* ``accepted``: the channel took the message; its items are marked delivered.
* ``retry``: the channel is unavailable (connection failure, timeout, 408, 425, 429, 5xx) or
  its webhook is gone (401, 403, 404, 410). Nothing is counted against the items; the channel
  pauses (``retry_after`` if it said so) and the items wait in the outbox.
* ``deferred``: this message cannot go now, but the channel works (an e-mail recipient's
  server said "later"). Nothing is counted and the channel does not pause; the items wait, and
  one deferred for longer than ``deadLetter.maxDeferredHours`` is dead-lettered.
* ``rejected``: the channel refused this message (any other 4xx, such as 400 or 413). Counted
  against its items; an item refused often enough is dead-lettered.

A sender never raises (whatever fails becomes ``retry`` with the exception's type only) and never
puts a webhook URL (a secret) into ``detail``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from lx_core.notify.render import Mail

Outcome = Literal["accepted", "retry", "deferred", "rejected"]


@dataclass(frozen=True)
class Outgoing:
    """One message for one channel. ``message_id`` is stable for the same items, so a receiver
    that keeps ids (a mail system) can spot the duplicate the relay's crash window allows."""

    message_id: str
    payload: dict[str, Any] | None = None
    mail: Mail | None = None
    recipient: str | None = None


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    status: int | None = None
    detail: str = ""
    retry_after: float | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"


class Sender(Protocol):
    """What the relay needs from a channel."""

    def send(self, message: Outgoing) -> SendResult:
        """Deliver ``message`` once (with the sender's own small, deadline-bound retries)."""

    def close(self) -> None:
        """Release connections."""


#: Answers that say the webhook itself is gone or refused (revoked, archived channel, wrong
#: URL), not this message: the channel pauses and keeps its items until someone fixes it,
#: rather than dead-lettering the whole backlog one refusal at a time.
CHANNEL_BROKEN = frozenset({401, 403, 404, 410})


def classify_status(status: int) -> Outcome:
    """HTTP status → outcome: 2xx accepted; 408, 429, 5xx and a broken webhook (401, 403, 404,
    410) retry; any other 4xx rejected (this message)."""
    if 200 <= status < 300:
        return "accepted"
    if status in (408, 425, 429) or status >= 500 or status in CHANNEL_BROKEN:
        return "retry"
    return "rejected"
