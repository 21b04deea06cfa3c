"""PUSH delivery: a background asyncio worker pool posting events to subscription targets.

Producers never wait: :meth:`Dispatcher.on_event` only enqueues (or schedules, when a delivery
fault holds the event back). Failed attempts are retried with exponential back-off, or later if
the target asked for it with ``Retry-After`` (unless ``ignoreError``); each attempt is logged as
a ``Delivery`` (§4.4), with the faults that applied to it. Limitation: the subscription's
JavaScript ``callback`` is stored but NOT executed (there is no JS engine here), so every
matching event is delivered with the unmodified payload.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from lx_sandbox.emulator.events import StoredEvent, matches, workspace_ok
from lx_sandbox.emulator.faults import FaultInjector
from lx_sandbox.emulator.retry_after import parse_retry_after
from lx_sandbox.emulator.state import new_id, now_iso
from lx_sandbox.emulator.stats import Stats
from lx_sandbox.emulator.subscriptions import Subscription, SubscriptionStore

JsonDict = dict[str, Any]
_MAX_RESPONSE_BODY = 4096


@dataclass(slots=True)
class DeliverySettings:
    """Retry and concurrency policy.

    # ASSUMPTION [U] §4.4: LeanIX's retry schedule, attempt limit and timeout are undocumented;
    # these defaults are the emulator's (tests make them fast).
    """

    max_attempts: int = 5
    backoff_s: float = 0.5
    max_backoff_s: float = 5.0
    concurrency: int = 16
    timeout_s: float = 10.0


@dataclass(slots=True)
class Job:
    """One event to deliver to one subscription."""

    sub_id: str
    event: StoredEvent
    attempt: int = 1
    #: Queue-time faults of this delivery ("delay", "reorder", "duplicate").
    labels: tuple[str, ...] = ()
    held_ms: int = 0


def body_for(mode: str, envelope: JsonDict) -> Any:
    """Request body per ``payloadMode`` ([V] §4.2)."""
    if mode == "WRAPPED_EVENT":
        return envelope
    if mode == "NO_PAYLOAD":
        return {}
    return envelope.get("payload")


@dataclass
class Dispatcher:
    """Matches events to PUSH subscriptions and delivers them in the background."""

    settings: DeliverySettings
    faults: FaultInjector
    stats: Stats
    subscriptions: SubscriptionStore = field(default_factory=SubscriptionStore)
    log: list[JsonDict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: asyncio.Queue[Job] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._client: httpx.AsyncClient | None = None
        self._pending = 0
        self._idle: asyncio.Event | None = None

    async def start(self) -> None:
        """Start the worker pool (called from the app's lifespan, on the server's loop)."""
        self._queue = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        self._client = httpx.AsyncClient(
            timeout=self.settings.timeout_s,
            limits=httpx.Limits(max_connections=self.settings.concurrency),
        )
        self._workers = [
            asyncio.create_task(self._work()) for _ in range(max(1, self.settings.concurrency))
        ]

    async def stop(self) -> None:
        """Cancel pending retries and workers, close the HTTP client."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def reset(self, subscriptions: SubscriptionStore) -> None:
        """Forget subscriptions and logs; queued jobs for old subscriptions are skipped."""
        self.subscriptions = subscriptions
        self.log = []

    @property
    def pending(self) -> int:
        """Jobs queued, in flight or waiting for a retry."""
        return self._pending

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is pending; False on timeout."""
        if self._idle is None or self._pending == 0:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def on_event(self, event: StoredEvent) -> None:
        """Event-store listener: queue one job per matching active PUSH subscription."""
        if self._queue is None:
            return
        for sub in self.subscriptions.items.values():
            data = sub.data
            if data["deliveryType"] != "PUSH" or not data["active"]:
                continue
            if not workspace_ok(
                data["workspaceConstraint"], data["workspaceId"], event.workspace_id
            ):
                continue
            if not matches(data["tagSets"], event.tags):
                continue
            plan = self.faults.delivery_plan()
            held_ms = int(plan.hold_s * 1000)
            for label in plan.labels:
                self.stats.deliveries["delayed" if label == "delay" else "reordered"] += 1
            job = Job(sub.id, event, labels=tuple(plan.labels), held_ms=held_ms)
            self._enqueue(job, plan.hold_s)
            if plan.duplicate:
                # ASSUMPTION [I] §4.4: at-least-once delivery may send an event twice; the copy
                # is an independent delivery of the same event (same eventId).
                self.stats.deliveries["duplicated"] += 1
                copy = Job(sub.id, event, labels=(*plan.labels, "duplicate"), held_ms=held_ms)
                self._enqueue(copy, plan.hold_s)

    def _enqueue(self, job: Job, hold_s: float) -> None:
        if self._queue is None:
            return
        self._pending += 1
        if self._idle is not None:
            self._idle.clear()
        if hold_s <= 0:
            self._queue.put_nowait(job)
        else:
            self._later(hold_s, job)

    def _finish(self) -> None:
        self._pending -= 1
        if self._pending <= 0 and self._idle is not None:
            self._pending = 0
            self._idle.set()

    async def _work(self) -> None:
        queue = self._queue
        if queue is None:
            raise RuntimeError("the delivery worker started before its queue")
        while True:
            job = await queue.get()
            try:
                delay = await self._attempt(job)
            except Exception:  # a bug must not kill the worker; count it as a finished job
                delay = None
            if delay is None:
                self._finish()
            else:
                self._schedule_retry(job, delay)

    def _schedule_retry(self, job: Job, delay: float) -> None:
        retry = Job(job.sub_id, job.event, job.attempt + 1, labels=job.labels)
        self._later(delay, retry)

    def _later(self, delay: float, job: Job) -> None:
        """Queue ``job`` after ``delay`` seconds (a timer, so no worker waits)."""
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.discard(handle)
            if self._queue is not None:
                self._queue.put_nowait(job)

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)

    def _retry_delay(self, job: Job, asked: float | None) -> tuple[float, bool]:
        """Own exponential back-off, or the target's ``Retry-After`` if longer; capped.

        # ASSUMPTION [U] §4.4: LeanIX's redelivery policy is undocumented; the emulator waits
        # max(back-off, Retry-After) and never longer than the max back-off setting (a few
        # seconds by default, so a target's real-world "Retry-After: 60" keeps tests fast).
        """
        s = self.settings
        backoff = min(s.backoff_s * 2 ** (job.attempt - 1), s.max_backoff_s)
        if asked is None or asked <= backoff:
            return float(backoff), False
        return float(min(asked, s.max_backoff_s)), True

    async def _attempt(self, job: Job) -> float | None:
        """Deliver once; return a retry delay, or None when the job is finished."""
        sub = self.subscriptions.items.get(job.sub_id)
        if sub is None or not sub.data["active"] or self._client is None:
            return None
        data = sub.data
        body = body_for(data["payloadMode"], job.event.envelope)
        headers = {"Content-Type": "application/json", "User-Agent": "lx-sandbox-webhooks/1"}
        if data.get("authorizationHeader"):
            headers["Authorization"] = data["authorizationHeader"]
        outcome = self.faults.delivery_outcome()
        labels = self._labels(job, outcome)
        started = time.monotonic()
        status: int | None = None
        response_body: str | None = None
        response_headers: dict[str, str] = {}
        if outcome == "drop":
            self.stats.deliveries["dropped"] += 1
            self._record(
                sub,
                job,
                Attempt(headers, body, None, "dropped by fault injection", {}, started, labels),
            )
            return None
        self.stats.deliveries["attempts"] += 1
        if outcome == "fail":
            status = self.faults.delivery.fail_status
            response_body = "failed by fault injection"
        else:
            try:
                resp = await self._client.request(
                    data["targetMethod"] or "POST",
                    data["targetUrl"],
                    content=json.dumps(body).encode(),
                    headers=headers,
                )
                status = resp.status_code
                response_body = resp.text[:_MAX_RESPONSE_BODY]
                response_headers = dict(resp.headers)
            except httpx.HTTPError as exc:
                response_body = f"{type(exc).__name__}: {exc}"
        # ASSUMPTION [I] §4.4: any 2xx counts as delivered; one event per request (no batching).
        success = status is not None and 200 <= status < 300
        delay: float | None = None
        honoured = False
        asked = None if success else parse_retry_after(response_headers.get("retry-after"))
        if not success and not data["ignoreError"] and job.attempt < self.settings.max_attempts:
            delay, honoured = self._retry_delay(job, asked)
        if honoured:
            self.stats.deliveries["retryAfterHonoured"] += 1
        attempt = Attempt(headers, body, status, response_body, response_headers, started, labels)
        attempt.retry_in, attempt.retry_after_honoured, attempt.retry_after = delay, honoured, asked
        self._record(sub, job, attempt)
        self._update_subscription(sub, status, success)
        self.stats.deliveries["succeeded" if success else "failed"] += 1
        return delay

    @staticmethod
    def _labels(job: Job, outcome: str | None) -> list[str]:
        """Faults of this attempt: drop/fail first; delay/reorder only on the first attempt."""
        labels = [outcome] if outcome else []
        for label in job.labels:
            if label == "duplicate" or job.attempt == 1:
                labels.append(label)
        return labels

    @staticmethod
    def _update_subscription(sub: Subscription, status: int | None, success: bool) -> None:
        # ASSUMPTION [I] §4.4: errorCount / firstTimeDeliveryFailed describe the current run of
        # failures and reset after a successful delivery.
        data = sub.data
        data["lastDeliveryStatus"] = status
        if success:
            data["errorCount"] = 0
            data["firstTimeDeliveryFailed"] = None
        else:
            data["errorCount"] = int(data.get("errorCount") or 0) + 1
            data["firstTimeDeliveryFailed"] = data.get("firstTimeDeliveryFailed") or now_iso()

    def _record(self, sub: Subscription, job: Job, a: Attempt) -> None:
        now = time.monotonic()
        record: JsonDict = {
            "id": new_id(),
            "createdAt": now_iso(),
            "requestHeaders": a.headers,
            "payload": a.body,
            "targetUrl": sub.data["targetUrl"],
            "targetMethod": sub.data["targetMethod"],
            "basicAuth": None,
            "success": a.status is not None and 200 <= a.status < 300,
            "httpStatus": a.status,
            "responseBody": a.response_body,
            "responseHeaders": a.response_headers,
            "active": True,
            "duration": int((now - a.started) * 1000),
            "eventProcessingTime": int((now - job.event.stored_at) * 1000),
            "eventId": job.event.envelope["id"],
        }
        dropped = "drop" in a.labels
        if not dropped:
            sub.deliveries.append(record)
        self.log.append(
            {
                **record,
                "subscriptionId": sub.id,
                "attempt": job.attempt,
                "fault": a.labels[0] if a.labels else None,
                "faults": a.labels,
                "heldMs": job.held_ms if job.attempt == 1 else 0,
                "retryAfterSeconds": _ms(a.retry_after),
                "retryInSeconds": _ms(a.retry_in),
                "retryAfterHonoured": a.retry_after_honoured,
            }
        )


def _ms(seconds: float | None) -> float | None:
    """Seconds rounded to milliseconds, for the log."""
    return None if seconds is None else round(seconds, 3)


@dataclass(slots=True)
class Attempt:
    """What one delivery attempt sent and got back (for the logs)."""

    headers: dict[str, str]
    body: Any
    status: int | None
    response_body: str | None
    response_headers: dict[str, str]
    started: float
    labels: list[str]
    #: Seconds before the next attempt (None: finished).
    retry_in: float | None = None
    retry_after_honoured: bool = False
    #: The target's ``Retry-After`` of a failed attempt, in seconds (either form), if any.
    retry_after: float | None = None
