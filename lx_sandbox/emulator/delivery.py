"""PUSH delivery: a background asyncio worker pool posting events to subscription targets.

Producers never wait: :meth:`Dispatcher.on_event` only enqueues. Failed attempts are retried
with exponential back-off (unless ``ignoreError``), each attempt is logged as a ``Delivery``
(§4.4). Limitation: the subscription's JavaScript ``callback`` is stored but NOT executed (there
is no JS engine here), so every matching event is delivered with the unmodified payload.
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
    max_backoff_s: float = 30.0
    concurrency: int = 16
    timeout_s: float = 10.0


@dataclass(slots=True)
class Job:
    """One event to deliver to one subscription."""

    sub_id: str
    event: StoredEvent
    attempt: int = 1


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
        """Event-store listener: enqueue one job per matching active PUSH subscription."""
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
            self._pending += 1
            if self._idle is not None:
                self._idle.clear()
            self._queue.put_nowait(Job(sub.id, event))

    def _finish(self) -> None:
        self._pending -= 1
        if self._pending <= 0 and self._idle is not None:
            self._pending = 0
            self._idle.set()

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            try:
                delay = await self._attempt(job)
            except Exception:  # a bug must not kill the worker; count it as a finished job
                delay = None
            if delay is None:
                self._finish()
            else:
                self._schedule_retry(job, delay)

    def _schedule_retry(self, job: Job, delay: float) -> None:
        loop = asyncio.get_running_loop()
        retry = Job(job.sub_id, job.event, job.attempt + 1)

        def fire() -> None:
            self._timers.discard(handle)
            if self._queue is not None:
                self._queue.put_nowait(retry)

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)

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
        started = time.monotonic()
        status: int | None = None
        response_body: str | None = None
        response_headers: dict[str, str] = {}
        if outcome == "drop":
            self.stats.deliveries["dropped"] += 1
            self._record(
                sub,
                job,
                headers,
                body,
                None,
                "dropped by fault injection",
                {},
                started,
                fault="drop",
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
        self._record(
            sub,
            job,
            headers,
            body,
            status,
            response_body,
            response_headers,
            started,
            fault="fail" if outcome == "fail" else None,
        )
        self._update_subscription(sub, status, success)
        if success:
            self.stats.deliveries["succeeded"] += 1
            return None
        self.stats.deliveries["failed"] += 1
        if data["ignoreError"] or job.attempt >= self.settings.max_attempts:
            return None
        return float(
            min(self.settings.backoff_s * 2 ** (job.attempt - 1), self.settings.max_backoff_s)
        )

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

    def _record(
        self,
        sub: Subscription,
        job: Job,
        headers: dict[str, str],
        body: Any,
        status: int | None,
        response_body: str | None,
        response_headers: dict[str, str],
        started: float,
        *,
        fault: str | None,
    ) -> None:
        now = time.monotonic()
        record: JsonDict = {
            "id": new_id(),
            "createdAt": now_iso(),
            "requestHeaders": headers,
            "payload": body,
            "targetUrl": sub.data["targetUrl"],
            "targetMethod": sub.data["targetMethod"],
            "basicAuth": None,
            "success": status is not None and 200 <= status < 300,
            "httpStatus": status,
            "responseBody": response_body,
            "responseHeaders": response_headers,
            "active": True,
            "duration": int((now - started) * 1000),
            "eventProcessingTime": int((now - job.event.stored_at) * 1000),
            "eventId": job.event.envelope["id"],
        }
        if fault != "drop":
            sub.deliveries.append(record)
        self.log.append(
            {**record, "subscriptionId": sub.id, "attempt": job.attempt, "fault": fault}
        )
