"""In-memory doubles for the relay's unit tests: a PULL endpoint and a channel sender.

The real ones are exercised over HTTP against the emulator and the sink in tests/e2e; these
keep the relay's own logic (order of writes, batching, poison, crashes) fast to test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lx_core.config import RelaySettings
from lx_core.leanix.webhooks import PullBatch, PulledEvent, Subscription
from lx_core.notify.crash import CrashPoints, raise_crash
from lx_core.notify.relay import Relay
from lx_core.notify.rules import Channel, NotificationRules
from lx_core.notify.senders.base import Outgoing, Sender, SendResult
from lx_core.state.memory import MemoryStore

SUBSCRIPTION = "lx-functions-relay"


class FakePull:
    """One PULL subscription: events with offsets, a cursor that moves only on commit."""

    def __init__(self, batch_size: int = 50) -> None:
        self.events: list[dict[str, Any]] = []
        self.cursor = 0
        self.batch_size = batch_size
        self.commits: list[int] = []
        self.pulls = 0

    def add(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def list_subscriptions(self, identifier: str | None = None) -> list[Subscription]:
        return [
            Subscription.model_validate(
                {"id": "sub-1", "identifier": SUBSCRIPTION, "deliveryType": "PULL"}
            )
        ]

    def pull_events(self, subscription_id: str, *, timeout_seconds: int = 10) -> PullBatch:
        self.pulls += 1
        batch = self.events[self.cursor : self.cursor + self.batch_size]
        if not batch:
            return PullBatch()
        return PullBatch(
            events=[PulledEvent(offset=self.cursor + i, event=e) for i, e in enumerate(batch)],
            next_offset=self.cursor + len(batch),
        )

    def commit_cursor(self, subscription_id: str, offset: int) -> None:
        self.commits.append(offset)
        self.cursor = offset


@dataclass
class FakeSender:
    """Records every send; ``script`` decides each answer (default: accepted)."""

    sent: list[Outgoing] = field(default_factory=list)
    script: Callable[[Outgoing], SendResult] = lambda _m: SendResult("accepted", status=200)

    def send(self, message: Outgoing) -> SendResult:
        self.sent.append(message)
        return self.script(message)

    def close(self) -> None:
        pass

    def accepted_items(self) -> list[str]:
        """Headlines of every item in every accepted-or-not send, in order (Slack payloads)."""
        out: list[str] = []
        for message in self.sent:
            blocks = (message.payload or {}).get("blocks", [])
            out.extend(b["text"]["text"] for b in blocks if b["type"] == "section")
        return out


def run_event(run_id: str, *, progress: str = "FINISHED", errors: int = 0) -> dict[str, Any]:
    """A statistics event as the emulator and SAP's recipe describe it."""
    return {
        "id": f"ev-{run_id}",
        "type": "INTEGRATION_RUN_FINISHED",
        "tags": ["integrations", "statistics"],
        "payload": {
            "progress": progress,
            "connectorId": "hr-apps",
            "scope": "full",
            "direction": "inbound",
            "errorCount": errors,
            "synchronizationId": run_id,
        },
    }


def rules(**channels: dict[str, Any]) -> NotificationRules:
    chans = channels or {"ops": {"type": "slack", "url": "https://sink.example/slack/ops"}}
    return NotificationRules.model_validate(
        {
            "sources": {"pull": [{"subscription": SUBSCRIPTION}]},
            "channels": chans,
            "routes": [{"channels": list(chans)}],
            "deadLetter": {"maxAttempts": 3, "fallbackChannel": next(iter(chans))},
        }
    )


def settings(**overrides: Any) -> RelaySettings:
    values: dict[str, Any] = {"channel_backoff_seconds": 0, "pull_timeout_seconds": 0}
    values.update(overrides)
    return RelaySettings(**values)


def relay(
    store: MemoryStore,
    pull: FakePull,
    senders: dict[str, Sender],
    *,
    rules_: NotificationRules | None = None,
    crash: tuple[str, ...] = (),
    **overrides: Any,
) -> Relay:
    def factory(name: str, channel: Channel) -> Sender:
        return senders[name]

    return Relay(
        rules_ or rules(),
        store=store,
        settings=settings(**overrides),
        senders=factory,
        webhooks=pull,
        workspace_url="https://app.leanix.net/acme",
        crash=CrashPoints(crash, action=raise_crash),
        sleep=lambda _s: None,
    )
