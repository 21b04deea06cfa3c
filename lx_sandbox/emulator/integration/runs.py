"""Synchronization runs and their lifecycle: CREATED -> PENDING -> IN_PROGRESS -> FINISHED |
FAILED | STOPPED ([V] §5.2 for the states; durations are the emulator's, see settings).

The state is derived from the start time (so reads are deterministic) and the engine's work is
done in steps as the run's time passes: on every read (:meth:`RunManager.advance`) and by one
background task per started run, so a run ends (and emits its event) even if nobody watches.
A ``test`` run works on a copy of the workspace with a scratch event store: it changes nothing.
"""

from __future__ import annotations

import asyncio
import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.events import EventStore
from lx_sandbox.emulator.integration.documents import Identity, identity_json
from lx_sandbox.emulator.integration.engine import Engine
from lx_sandbox.emulator.integration.settings import IntegrationSettings
from lx_sandbox.emulator.integration.writer import Writer
from lx_sandbox.emulator.state import Workspace, new_id, now_iso

JsonDict = dict[str, Any]
#: [V] §5.2 enum, in the spec's order.
STATUSES = ("CREATED", "PENDING", "IN_PROGRESS", "FINISHED", "STOPPED", "FAILED")
TERMINAL = frozenset({"FINISHED", "STOPPED", "FAILED"})
_TICK_S = 0.05


@dataclass
class Run:
    """One synchronization run."""

    id: str
    identity: Identity
    config: JsonDict
    ldif: JsonDict
    user_id: str
    test: bool = False
    status: str = "CREATED"
    description: str | None = None
    created_at: str = field(default_factory=now_iso)
    started_at: str | None = None
    finished_at: str | None = None
    started_mono: float | None = None
    pending_s: float = 0.0
    run_s: float = 0.0
    fail_at: float | None = None
    engine: Engine | None = None
    steps: Iterator[None] | None = None
    results: JsonDict | None = None
    results_token: str = field(default_factory=new_id)

    @property
    def terminal(self) -> bool:
        """FINISHED, STOPPED or FAILED ([I] §5.2)."""
        return self.status in TERMINAL

    def status_json(self) -> JsonDict:
        """``StatusResponse``: ``{"id", "status", "description"?}`` ([V] §5.1).

        ASSUMPTION [U] §5.1: the connector fields and ``createdAt`` are added so a client can
        tell which connector an unknown run belongs to (StatusResponse's other fields are
        undocumented).
        """
        doc: JsonDict = {"id": self.id, "status": self.status}
        if self.description is not None:
            doc["description"] = self.description
        doc.update(identity_json(self.identity))
        doc["createdAt"] = self.created_at
        return doc

    def progress_json(self) -> JsonDict:
        """``SyncRunInboundProgressReport`` ([V] §5.2 field names).

        ASSUMPTION [U] §5.2: ``status`` is an integer in the spec with undocumented values; here
        it is the index of the status in the spec's enum order (CREATED = 0 ... FAILED = 5).
        """
        engine = self.engine
        content = self.ldif.get("content") or []
        return {
            "processedContentCount": engine.processed if engine else 0,
            "errorCount": engine.report.error_count if engine else 0,
            "warningsCount": engine.report.warning_count if engine else 0,
            "itemsInScopeCount": engine.items_in_scope if engine else len(content),
            "contentsCount": engine.contents_count if engine else len(content),
            "runLevelIndex": engine.level_index if engine else 0,
            "graphQLRequestCount": engine.writer.writes if engine else 0,
            "status": STATUSES.index(self.status),
        }

    def warnings(self) -> list[JsonDict]:
        """Every warning so far."""
        return self.engine.report.warnings if self.engine else []


@dataclass
class RunManager:
    """All runs of the workspace; advances them as time passes."""

    settings: IntegrationSettings
    workspace: Callable[[], Workspace]
    events: Callable[[], EventStore]
    base_url: Callable[[], str]
    on_end: Callable[[Run], None]
    clock: Callable[[], float] = time.monotonic
    runs: dict[str, Run] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def reset(self) -> None:
        """Forget every run and stop their background tasks."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self.runs.clear()

    def create(
        self, identity: Identity, config: JsonDict, ldif: JsonDict, user_id: str, *, test: bool
    ) -> Run:
        """A new CREATED run (the configuration is captured now)."""
        run = Run(
            id=new_id(),
            identity=identity,
            config=copy.deepcopy(config),
            ldif=ldif,
            user_id=user_id,
            test=test,
            # ASSUMPTION [U] §5.1: a run's description starts as the LDIF's ``description``
            # (StatusResponse documents the field, not its content); a stop or failure
            # replaces it with the reason.
            description=_text_or_none(ldif.get("description")),
        )
        self.runs[run.id] = run
        return run

    def start(self, run: Run, *, test: bool | None = None) -> None:
        """CREATED -> PENDING; decides now whether the run will fail (injected)."""
        if test is not None:
            run.test = run.test or test
        settings = self.settings
        run.status = "PENDING"
        run.started_at = now_iso()
        run.started_mono = self.clock()
        run.pending_s, run.run_s = settings.pending_seconds, settings.run_seconds
        if settings.fail_next > 0:
            settings.fail_next -= 1
            run.fail_at = settings.fail_after_fraction
        elif run.identity[1] in settings.fail_connector_ids:
            run.fail_at = settings.fail_after_fraction
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._drive(run))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self, run: Run) -> bool:
        """PENDING/IN_PROGRESS -> STOPPED (work done so far is kept); False if not running."""
        self.advance(run)
        if run.status not in ("PENDING", "IN_PROGRESS"):
            return False
        run.description = "Stopped by user"
        self._end(run, "STOPPED")
        return True

    async def _drive(self, run: Run) -> None:
        while not run.terminal and run.id in self.runs:
            self.advance(run)
            if run.terminal or run.started_mono is None:
                return
            elapsed = self.clock() - run.started_mono
            if run.status == "PENDING":
                delay = max(0.0, run.pending_s - elapsed)
            else:
                delay = min(_TICK_S, max(0.0, run.pending_s + run.run_s - elapsed))
            await asyncio.sleep(max(delay, 0.001))

    def advance(self, run: Run) -> None:
        """Bring ``run`` to where its time says it is, doing the engine work that is due."""
        if run.terminal or run.started_mono is None:
            return
        elapsed = self.clock() - run.started_mono
        if elapsed < run.pending_s:
            return
        if run.status == "PENDING":
            self._begin(run)
        engine, steps = run.engine, run.steps
        if engine is None or steps is None:
            return
        fraction = 1.0 if run.run_s <= 0 else min(1.0, (elapsed - run.pending_s) / run.run_s)
        due = math.ceil(fraction * engine.total_units)
        if run.fail_at is not None:
            fail_units = math.floor(run.fail_at * engine.total_units)
            if due >= fail_units:
                self._pull(engine, steps, fail_units)
                run.description = "Injected failure (sandbox): the run failed"
                self._end(run, "FAILED")
                return
        exhausted = self._pull(engine, steps, due)
        if fraction >= 1.0:
            if not exhausted:
                exhausted = self._pull(engine, steps, math.inf)
            run.results = engine.results()
            self._end(run, "FINISHED")

    @staticmethod
    def _pull(engine: Engine, steps: Iterator[None], until: float) -> bool:
        """Run steps until ``until`` units are done; True when the work is complete."""
        while engine.done_units < until:
            try:
                next(steps)
            except StopIteration:
                return True
        return engine.done_units >= engine.total_units

    def _begin(self, run: Run) -> None:
        run.status = "IN_PROGRESS"
        ws, events = self.workspace(), self.events()
        if run.test:
            ws, events = copy.deepcopy(ws), EventStore()
        writer = Writer(ws, events, self.base_url(), run.user_id)
        run.engine = Engine(writer, run.config, run.ldif)
        run.steps = run.engine.steps()

    def _end(self, run: Run, status: str) -> None:
        run.status = status
        run.finished_at = now_iso()
        run.steps = None
        self.on_end(run)

    def admin_json(self, run: Run) -> JsonDict:
        """A run as the admin API lists it."""
        return {
            **run.status_json(),
            "test": run.test,
            "startedAt": run.started_at,
            "finishedAt": run.finished_at,
            "progress": run.progress_json(),
            "hasResults": run.results is not None,
        }


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
