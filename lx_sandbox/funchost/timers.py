"""Fire timer functions on their NCRONTAB schedules, on startup and on demand.

One scheduler thread computes due times; each run happens on its own thread so a slow timer
cannot delay the others. A per-timer lock skips a run while the previous one is still going,
like the singleton lock the real host takes. Exceptions are logged and recorded, never raised
into the scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from azure.functions.timer import TimerRequest

from lx_sandbox.funchost import activity, invoke
from lx_sandbox.funchost.routes import TimerFunction

log = logging.getLogger(__name__)

Status = Literal["ok", "error", "skipped"]
Trigger = Literal["schedule", "startup", "manual"]

PAST_DUE_TOLERANCE = timedelta(seconds=1)
MAX_WAIT_S = 1.0  # re-check at least this often, so clock jumps are noticed


@dataclass(frozen=True)
class InvocationRecord:
    """The outcome of one timer invocation (or of a run skipped because one was in flight)."""

    name: str
    trigger: Trigger
    start: datetime
    duration_s: float
    status: Status
    error: str | None = None
    past_due: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        return data


class TimerScheduler:
    """Runs ``timers``; thread-safe; ``max_records`` bounds the invocation history."""

    def __init__(
        self,
        timers: dict[str, TimerFunction],
        *,
        max_records: int = 500,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._timers = timers
        self._now = now
        self._locks = {name: threading.Lock() for name in timers}
        self._records: deque[InvocationRecord] = deque(maxlen=max_records)
        self._records_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def names(self) -> list[str]:
        return sorted(self._timers)

    def records(self) -> list[InvocationRecord]:
        """Snapshot of recorded invocations, oldest first."""
        with self._records_lock:
            return list(self._records)

    def start(self) -> None:
        """Fire ``run_on_startup`` timers and start the scheduling thread."""
        for name, timer in self._timers.items():
            if timer.run_on_startup:
                self.fire_in_background(name, trigger="startup")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="funchost-timers", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop scheduling; runs already in flight finish on their own (daemon) threads."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def fire(
        self, name: str, *, trigger: Trigger = "manual", past_due: bool = False
    ) -> InvocationRecord:
        """Run timer ``name`` now in this thread and return its record (``KeyError`` if unknown)."""
        timer = self._timers[name]
        start = self._now()
        if not self._locks[name].acquire(blocking=False):
            log.warning("timer %s: previous run still in progress, skipping this one", name)
            return self._record(
                InvocationRecord(name, trigger, start, 0.0, "skipped", None, past_due)
            )
        began = time.monotonic()
        try:
            invoke.call(timer.spec, TimerRequest(past_due=past_due))
        except Exception as exc:
            log.exception("timer %s failed", name)
            status: Status = "error"
            error: str | None = f"{type(exc).__name__}: {exc}"
        else:
            status, error = "ok", None
        finally:
            self._locks[name].release()
        duration = time.monotonic() - began
        return self._record(
            InvocationRecord(name, trigger, start, duration, status, error, past_due)
        )

    def fire_in_background(
        self, name: str, *, trigger: Trigger = "manual", past_due: bool = False
    ) -> None:
        """Start ``fire`` on a new daemon thread (``KeyError`` at once if ``name`` is unknown)."""
        if name not in self._timers:
            raise KeyError(name)
        threading.Thread(
            target=self.fire,
            args=(name,),
            kwargs={"trigger": trigger, "past_due": past_due},
            name=f"funchost-timer-{name}",
            daemon=True,
        ).start()

    def _record(self, record: InvocationRecord) -> InvocationRecord:
        with self._records_lock:
            self._records.append(record)
        activity.log_timer(
            record.name,
            record.status,
            record.trigger,
            record.duration_s,
            record.error,
            record.past_due,
        )
        return record

    def _loop(self) -> None:
        now = self._now()
        due = {name: t.schedule.next_after(now) for name, t in self._timers.items()}
        while not self._stop.is_set():
            now = self._now()
            for name, when in list(due.items()):
                if when > now:
                    continue
                past_due = now - when > PAST_DUE_TOLERANCE
                try:
                    self.fire_in_background(name, trigger="schedule", past_due=past_due)
                except Exception:  # a thread that cannot start must not kill the loop
                    log.exception("timer %s: could not start", name)
                # Like the host, a missed backlog collapses into one (past-due) run.
                due[name] = self._timers[name].schedule.next_after(max(now, when))
            if not due:
                self._stop.wait()
                break
            wait = (min(due.values()) - self._now()).total_seconds()
            self._stop.wait(min(max(wait, 0.0), MAX_WAIT_S))
