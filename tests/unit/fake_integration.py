"""An in-memory stand-in for IntegrationAPI, driven by a fake clock, for state-machine tests.

Runs go CREATED → (start) IN_PROGRESS → FINISHED after ``duration`` seconds of fake time, or
FAILED when told to. ``crash`` makes a named method raise *after* doing its work, which is how a
lost answer (or a process dying right after the call) looks to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lx_core.errors import BadRequestError, NotFoundError, ServerError
from lx_core.integration.identity import ConnectorIdentity
from lx_core.integration.ldif import LdifHeader
from lx_core.leanix.integration_api import RunProgress, RunStatus, RunWarning

_IDENTITY = (
    "connectorType",
    "connectorId",
    "connectorVersion",
    "processingDirection",
    "processingMode",
)


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class CrashError(Exception):
    """The process died right after the call did its work."""


@dataclass
class FakeRun:
    id: str
    header: dict[str, Any]
    items: list[dict[str, Any]]
    status: str = "CREATED"
    started_at: float | None = None
    test: bool = False
    fail: bool = False


@dataclass
class FakeResults:
    data: bytes

    def iter_bytes(self, chunk_size: int = 4) -> Iterator[bytes]:
        for i in range(0, len(self.data), chunk_size):
            yield self.data[i : i + chunk_size]

    def __enter__(self) -> FakeResults:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass
class FakeIntegration:
    clock: FakeClock
    duration: float = 30.0
    runs: dict[str, FakeRun] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    crash: set[str] = field(default_factory=set)
    fail_next_runs: int = 0
    unavailable: set[str] = field(default_factory=set)
    results_body: bytes = b'{"content": []}'

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.unavailable:
            raise ServerError("injected", method="X", path="/" + name, status=503)

    def _after(self, name: str) -> None:
        if name in self.crash:
            self.crash.discard(name)
            raise CrashError(name)

    def _advance(self, run: FakeRun) -> None:
        started = run.started_at
        ended = started is not None and self.clock() - started >= self.duration
        if run.status == "IN_PROGRESS" and ended:
            run.status = "FAILED" if run.fail else "FINISHED"

    # configurations
    def get_configuration(self, identity: ConnectorIdentity) -> dict[str, Any] | None:
        self._call("get_configuration")
        return self.configs.get(identity.key)

    def upsert_configuration(self, doc: Mapping[str, Any]) -> None:
        self._call("upsert_configuration")
        identity = ConnectorIdentity.model_validate({k: doc[k] for k in _IDENTITY if k in doc})
        self.configs[identity.key] = json.loads(json.dumps(doc))

    # runs
    def list_runs(self) -> list[RunStatus]:
        self._call("list_runs")
        return [
            RunStatus(id=r.id, status=r.status, description=r.header.get("description"))
            for r in self.runs.values()
        ]

    def submit(
        self,
        header: LdifHeader,
        items: Iterable[Mapping[str, Any]],
        *,
        start: bool = False,
        test: bool = False,
    ) -> str:
        self._call("submit")
        run_id = f"run-{len(self.runs) + 1}"
        self.runs[run_id] = FakeRun(
            id=run_id,
            header=header.model_dump(by_alias=True, exclude_none=True),
            items=[dict(i) for i in items],
        )
        if self.fail_next_runs:
            self.fail_next_runs -= 1
            self.runs[run_id].fail = True
        self._after("submit")
        return run_id

    def create_run_with_config(
        self, ldif: LdifHeader, configuration: Mapping[str, Any], *, start: bool = False
    ) -> str:
        self.calls.append("create_run_with_config")
        run_id = self.submit(ldif, [])
        self.runs[run_id].header["config"] = dict(configuration)
        return run_id

    def _run(self, run_id: str) -> FakeRun:
        run = self.runs.get(run_id)
        if run is None:
            raise NotFoundError("no such run", method="GET", path="/x", status=404)
        self._advance(run)
        return run

    def start_run(self, run_id: str, *, test: bool = False) -> None:
        self._call("start_run")
        run = self._run(run_id)
        if run.status != "CREATED":
            return  # the real client treats "already started" as done
        run.status, run.started_at, run.test = "IN_PROGRESS", self.clock(), test
        self._after("start_run")

    def stop_run(self, run_id: str) -> None:
        self._call("stop_run")
        run = self._run(run_id)
        if run.status in {"CREATED", "PENDING", "IN_PROGRESS"}:
            run.status = "STOPPED"
        else:
            raise BadRequestError("not running", method="POST", path="/stop", status=400)

    def status(self, run_id: str) -> RunStatus:
        self._call("status")
        run = self._run(run_id)
        return RunStatus(id=run.id, status=run.status, description=run.header.get("description"))

    def progress(self, run_id: str) -> RunProgress:
        self._call("progress")
        run = self._run(run_id)
        done = len(run.items) if run.status == "FINISHED" else 0
        return RunProgress.model_validate(
            {
                "processedContentCount": done,
                "errorCount": 1 if run.status == "FAILED" else 0,
                "warningsCount": 0,
                "itemsInScopeCount": len(run.items),
            }
        )

    def iter_warnings(
        self, run_id: str, *, max_items: int, page_size: int = 100
    ) -> Iterator[RunWarning]:
        self._call("warnings")
        return iter(())

    def results_url(self, run_id: str) -> str | None:
        self._call("results_url")
        return f"https://leanix.example/results/{run_id}"

    def results(self, run_id: str) -> FakeResults | None:
        self._call("results")
        run = self._run(run_id)
        if run.status != "FINISHED":
            return None
        return FakeResults(self.results_body)
