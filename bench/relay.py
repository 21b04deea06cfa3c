"""The notification relay: overhead against raw forwarding, batching at Slack's real rate, and
memory against the backlog.

* **Overhead.** Items per second from the emulator's PULL endpoint to an unthrottled sink, with
  the outbox in Azurite, against a baseline in the same run that only reads the same PULL
  batches and posts them raw, one message per event, as LeanIX's own callback recipe does (and
  as a chat webhook must take them: one raw batch of hundreds of events is no message). No
  outbox, no rendering, no pace. Goal: at least half the baseline's rate.
* **Items per message.** A 1,000-item burst at Slack's real pace (1 message/s) into a sink that
  enforces it. Goals: at least 20 items per message, at most 50 blocks, drained in under 60 s,
  and no 429.
* **Memory.** Peak memory of the ticks that drain a 10,000-item backlog against a 1,000-item
  one. Goal: at most 1.2x: bounded by the page, not by the backlog.
"""

from __future__ import annotations

import json
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench import report
from bench.common import EmulatorProcess, hermetic_env, make_client, require
from lx_core.config import RelaySettings
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.webhooks import Subscription
from lx_core.notify.notices import IntegrationRunNotice
from lx_core.notify.outbox import Outbox
from lx_core.notify.relay import Relay
from lx_core.notify.rules import Channel, NotificationRules
from lx_core.notify.senders.base import Outgoing, Sender, SendResult
from lx_core.notify.senders.factory import DefaultSenders
from lx_core.state.azure_table import AzureTableStore
from lx_core.state.base import StateStore
from lx_core.state.memory import MemoryStore
from lx_sandbox.azurite import Azurite
from lx_sandbox.sink import SinkServer, no_rate_limits

OVERHEAD_GOAL = 0.5
ITEMS_PER_MESSAGE_GOAL = 20
MAX_BLOCKS = 50
DRAIN_GOAL_S = 60.0
MEMORY_GOAL = 1.2
TAGS = ["integrations", "statistics"]


def _event(i: int) -> dict[str, Any]:
    return {
        "type": "INTEGRATION_RUN_FINISHED",
        "tags": TAGS,
        "payload": {
            "progress": "FINISHED",
            "connectorId": f"connector-{i % 7}",
            "scope": "delta",
            "direction": "inbound",
            "errorCount": i % 3,
            "synchronizationId": f"bench-{i:06}",
        },
    }


def _pull_subscription(client: LeanIXClient, identifier: str) -> str:
    created = client.webhooks.create(
        Subscription.model_validate(
            {
                "identifier": identifier,
                "deliveryType": "PULL",
                "tagSets": [TAGS],
                "workspaceConstraint": "WORKSPACE",
                "workspaceId": client.claims.workspace_id,
            }
        )
    )
    require(created.id, "the PULL subscription has no id")
    return str(created.id)


def _publish(client: LeanIXClient, count: int, start: int = 0) -> None:
    for first in range(start, start + count, 500):
        events = [_event(i) for i in range(first, min(start + count, first + 500))]
        client.request(
            "POST", "/services/webhooks/v1/events/batch", json={"events": events}, idempotent=False
        )


def _rules(identifier: str, url: str, rate: tuple[tuple[float, int], ...]) -> NotificationRules:
    return NotificationRules.model_validate(
        {
            "sources": {
                "pull": [{"subscription": identifier}],
                "outcomes": False,
                "notices": False,
            },
            "channels": {"bench": {"type": "slack", "url": url, "rate": [list(r) for r in rate]}},
            "routes": [{"channels": ["bench"]}],
        }
    )


def _drain(relay: Relay, *, budget: float = 30.0, max_ticks: int = 500) -> int:
    """Ticks until one finds nothing to read or deliver; the number of ticks. (The tick's own
    report says so: counting the outbox here would weigh on the memory measured.)"""
    for ticks in range(1, max_ticks + 1):
        result = relay.tick(budget_seconds=budget)
        require(not result.errors, f"relay tick failed: {result.errors}")
        busy = any(c.delivered or c.pending_left for c in result.channels.values())
        if result.pulled == 0 and result.queued == 0 and not busy:
            return ticks
    raise RuntimeError("the relay did not drain")


@dataclass(frozen=True)
class RelayResult:
    items: int
    baseline_rate: float
    relay_rate: float
    relay_messages: int
    burst_items: int
    burst_messages: int
    burst_max_blocks: int
    burst_drain_s: float
    burst_429: int
    memory_small: int
    memory_large: int
    backlog_small: int
    backlog_large: int

    @property
    def overhead_ratio(self) -> float:
        return self.relay_rate / self.baseline_rate

    @property
    def items_per_message(self) -> float:
        return self.burst_items / max(1, self.burst_messages)

    @property
    def memory_ratio(self) -> float:
        return self.memory_large / max(1, self.memory_small)


@contextmanager
def _world() -> Iterator[tuple[LeanIXClient, SinkServer, SinkServer, Azurite]]:
    """The emulator, an unthrottled sink, a sink enforcing each channel's rate, Azurite."""
    with (
        hermetic_env(),
        tempfile.TemporaryDirectory() as tmp,
        EmulatorProcess("demo") as emulator,
        SinkServer(rates=no_rate_limits()) as open_sink,
        SinkServer() as paced_sink,
        Azurite(Path(tmp)) as azurite,
    ):
        client = make_client(emulator.url)
        try:
            yield client, open_sink, paced_sink, azurite
        finally:
            client.close()


def _store(azurite: Azurite) -> AzureTableStore:
    return AzureTableStore.from_settings(azurite.state_settings("b" + uuid.uuid4().hex[:12]))


def _relay(
    rules: NotificationRules, store: StateStore, client: LeanIXClient | None, senders: Any
) -> Relay:
    settings = RelaySettings(pull_timeout_seconds=0, channel_backoff_seconds=0, page_size=200)
    return Relay(
        rules,
        store=store,
        settings=settings,
        senders=senders,
        webhooks=client.webhooks if client else None,
        workspace_url="https://app.leanix.net/bench",
    )


def _overhead(
    client: LeanIXClient, sink: SinkServer, azurite: Azurite, items: int
) -> tuple[float, float, int]:
    base_sub = _pull_subscription(client, "bench-baseline")
    relay_sub = _pull_subscription(client, "bench-relay")
    _publish(client, items)
    webhooks = client.webhooks
    session = requests.Session()
    raw_url = sink.slack_url("raw")
    started, forwarded = time.perf_counter(), 0
    while True:
        batch = webhooks.pull_events(base_sub, timeout_seconds=0)
        if not batch.events:
            break
        for pulled in batch.events:
            text = json.dumps(pulled.event)
            session.post(raw_url, json={"text": text}, timeout=30).raise_for_status()
            forwarded += 1
        if batch.next_offset is not None:
            webhooks.commit_cursor(base_sub, batch.next_offset)
    baseline_s = time.perf_counter() - started
    require(forwarded == items, f"baseline forwarded {forwarded} of {items}")

    with _store(azurite) as store:
        rules = _rules("bench-relay", sink.slack_url("bench"), ((1.0, 1_000_000),))
        relay = _relay(rules, store, client, DefaultSenders(RelaySettings()))
        del relay_sub
        started = time.perf_counter()
        _drain(relay)
        relay_s = time.perf_counter() - started
        relay.close()
    messages = sink.state.accepted()
    delivered = sum(
        len([b for b in m["body"].get("blocks", []) if b["type"] == "section"])
        for m in messages
        if m["channel"] == "bench"
    )
    require(delivered == items, f"the relay delivered {delivered} of {items}")
    return items / baseline_s, items / relay_s, sum(1 for m in messages if m["channel"] == "bench")


def _burst(sink: SinkServer, azurite: Azurite, items: int) -> tuple[int, int, float, int]:
    """Items routed from the notice log at Slack's default pace into a pace-enforcing sink."""
    from lx_core.notify.outbox import NoticeLog

    with _store(azurite) as store:
        log = NoticeLog(store)
        now = time.time()
        for i in range(items):
            log.record(IntegrationRunNotice(id=f"run-burst-{i:05}", status="FINISHED"), now=now)
        rules = NotificationRules.model_validate(
            {
                "sources": {"outcomes": False},
                "channels": {"burst": {"type": "slack", "url": sink.slack_url("burst")}},
                "routes": [{"channels": ["burst"]}],
            }
        )
        relay = _relay(rules, store, None, DefaultSenders(RelaySettings()))
        started = time.perf_counter()
        outbox = Outbox(store)
        for _ in range(20):
            relay.tick(budget_seconds=45.0)
            if outbox.count_pending("burst") == 0:
                break
        drain_s = time.perf_counter() - started
        relay.close()
    seen = [r for r in sink.state.requests if r["channel"] == "burst"]
    accepted = [r for r in seen if r["status"] == 200]
    blocks = [len(r["body"]["blocks"]) for r in accepted]
    sections = sum(b - (1 if b > 1 else 0) for b in blocks)
    require(sections == items, f"the burst delivered {sections} of {items}")
    return len(accepted), max(blocks), drain_s, sum(1 for r in seen if r["status"] == 429)


class _Accepting:
    """A sender that accepts everything at once (memory is about the relay, not HTTP)."""

    def send(self, message: Outgoing) -> SendResult:
        return SendResult("accepted", status=200)

    def close(self) -> None:
        pass


def _quiet_memory_store() -> MemoryStore:
    store = MemoryStore()

    class _NoLog(list[tuple[str, str, str]]):
        def append(self, _item: tuple[str, str, str]) -> None:
            return None

    store.writes = _NoLog()  # the test-only write log would grow with the backlog
    return store


def _memory(backlog: int) -> int:
    store = _quiet_memory_store()
    outbox = Outbox(store)
    for i in range(backlog):
        outbox.enqueue(
            "bench", IntegrationRunNotice(id=f"run-m-{i:06}", status="FINISHED"), now=0.0
        )
    rules = NotificationRules.model_validate(
        {
            "sources": {"outcomes": False, "notices": False},
            "channels": {
                "bench": {
                    "type": "slack",
                    "url": "https://unused.example",
                    "rate": [[1, 1_000_000]],
                }
            },
            "routes": [{"channels": ["bench"]}],
        }
    )
    senders: Callable[[str, Channel], Sender] = lambda _n, _c: _Accepting()  # noqa: E731
    relay = _relay(rules, store, None, senders)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        _drain(relay, budget=600.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    require(outbox.count_pending("bench") == 0, "the memory backlog did not drain")
    return peak


def measure(items: int = 2000, burst: int = 1000, backlog: int = 10_000) -> RelayResult:
    with _world() as (client, open_sink, paced_sink, azurite):
        baseline_rate, relay_rate, relay_messages = _overhead(client, open_sink, azurite, items)
        burst_messages, max_blocks, drain_s, limited = _burst(paced_sink, azurite, burst)
    small, large = max(1, backlog // 10), backlog
    return RelayResult(
        items=items,
        baseline_rate=baseline_rate,
        relay_rate=relay_rate,
        relay_messages=relay_messages,
        burst_items=burst,
        burst_messages=burst_messages,
        burst_max_blocks=max_blocks,
        burst_drain_s=drain_s,
        burst_429=limited,
        memory_small=_memory(small),
        memory_large=_memory(large),
        backlog_small=small,
        backlog_large=large,
    )


def table(r: RelayResult) -> report.Table:
    return report.Table(
        "relay",
        "Notification relay: overhead, batching at Slack's pace, memory vs backlog",
        [
            report.Row(
                f"items/s PULL → sink ({r.items:,} items, outbox in Azurite)",
                f"{r.relay_rate:,.0f}",
                f"{r.baseline_rate:,.0f} raw forward",
                report.ratio(r.overhead_ratio),
                goal=f"≥ {OVERHEAD_GOAL}x",
                ok=report.check(r.overhead_ratio >= OVERHEAD_GOAL),
            ),
            report.Row("relay messages for those items", report.count(r.relay_messages)),
            report.Row(
                f"items per message, {r.burst_items:,}-item burst at 1 msg/s",
                f"{r.items_per_message:.1f}",
                goal=f"≥ {ITEMS_PER_MESSAGE_GOAL}",
                ok=report.check(r.items_per_message >= ITEMS_PER_MESSAGE_GOAL),
            ),
            report.Row(
                "most blocks in one message",
                str(r.burst_max_blocks),
                goal=f"≤ {MAX_BLOCKS}",
                ok=report.check(r.burst_max_blocks <= MAX_BLOCKS),
            ),
            report.Row(
                "burst drained in",
                report.secs(r.burst_drain_s),
                goal=f"< {DRAIN_GOAL_S:.0f} s",
                ok=report.check(r.burst_drain_s < DRAIN_GOAL_S),
            ),
            report.Row(
                "429s from the pace-enforcing sink",
                str(r.burst_429),
                goal="0",
                ok=report.check(r.burst_429 == 0),
            ),
            report.Row(
                f"peak memory, {r.backlog_large:,} vs {r.backlog_small:,} backlog",
                report.mib(r.memory_large),
                report.mib(r.memory_small),
                report.ratio(r.memory_ratio),
                goal=f"≤ {MEMORY_GOAL}x",
                ok=report.check(r.memory_ratio <= MEMORY_GOAL),
            ),
        ],
    )
