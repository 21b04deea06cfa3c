"""RunWatcher on a fake clock and a fake Integration API: poll cadence, outcomes, budget and
handover, transient and fatal errors, progress callbacks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from lx_core import deadline
from lx_core.config import IntegrationSettings
from lx_core.errors import (
    AuthenticationError,
    BadRequestError,
    LxError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
)
from lx_core.jobs.run_watcher import RunNotFoundError, RunWatcher, WatchResult
from lx_core.leanix.integration_api import RunProgress, RunStatus, RunWarning
from lx_core.leanix.testing import FakeClock

RUN = "run-1"


@dataclass
class FakeRunApi:
    """A run that is IN_PROGRESS until ``clock() >= finish_at``, then ``final``. ``faults``
    maps a call name to the exceptions its next calls raise, in order."""

    clock: FakeClock
    finish_at: float
    final: str = "FINISHED"
    running: str = "IN_PROGRESS"
    warnings_total: int = 0
    progress_counts: dict[str, Any] = field(
        default_factory=lambda: {
            "processedContentCount": 40,
            "errorCount": 1,
            "warningsCount": 0,
            "itemsInScopeCount": 50,
        }
    )
    url: str | None = "https://files.example/run-1.json"
    stop_makes_it: str | None = "STOPPED"
    faults: dict[str, list[Exception]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    deadlines: list[float] = field(default_factory=list)
    stopped: bool = False

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        self.deadlines.append(deadline.remaining())
        pending = self.faults.get(name)
        if pending:
            raise pending.pop(0)

    def count(self, name: str) -> int:
        return self.calls.count(name)

    def status(self, run_id: str) -> RunStatus:
        self._enter("status")
        if self.stopped and self.stop_makes_it:
            value = self.stop_makes_it
        else:
            value = self.final if self.clock() >= self.finish_at else self.running
        return RunStatus(id=run_id, status=value, description=f"{value.lower()} run")

    def progress(self, run_id: str) -> RunProgress:
        self._enter("progress")
        counts = {**self.progress_counts}
        if counts.get("warningsCount") is not None:
            counts["warningsCount"] = self.warnings_total
        return RunProgress.model_validate(counts)

    def iter_warnings(
        self, run_id: str, *, max_items: int, page_size: int = 100
    ) -> Iterator[RunWarning]:
        self._enter("warnings")
        for i in range(min(max_items, self.warnings_total)):
            yield RunWarning(message=f"w{i}", status="WARNING")

    def results_url(self, run_id: str) -> str | None:
        self._enter("results_url")
        return self.url

    def stop_run(self, run_id: str) -> None:
        self._enter("stop")
        self.stopped = True


def _settings(**overrides: Any) -> IntegrationSettings:
    values: dict[str, Any] = {
        "poll_min_seconds": 1.0,
        "poll_max_seconds": 60.0,
        "warnings_limit": 500,
        "handover": "keep_watching",
    }
    values.update(overrides)
    return IntegrationSettings(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _watcher(api: FakeRunApi, clock: FakeClock, **settings: Any) -> RunWatcher:
    return RunWatcher(api, _settings(**settings), clock=clock, sleep=clock.sleep)


def _watch(
    watcher: RunWatcher, clock: FakeClock, *, budget: float, age: float = 0.0, **kw: Any
) -> WatchResult:
    return watcher.watch(RUN, started_at=clock() - age, budget_seconds=budget, **kw)


# --- cadence -------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [5.0, 60.0, 600.0])
def test_end_is_noticed_within_a_tenth_plus_the_minimum_with_few_polls(
    clock: FakeClock, length: float
) -> None:
    started = clock()
    api = FakeRunApi(clock, finish_at=started + length)
    result = _watch(_watcher(api, clock), clock, budget=10_000)
    assert result.outcome is not None
    noticed = result.outcome.finished_at - started
    assert length <= noticed <= length * 1.1 + 1.0
    assert result.polls == api.count("status")
    # 1 s apart for the first 10 s, then 10% longer each time: logarithmic in the length
    assert result.polls <= 12 + math.log(max(length, 10) / 10, 1.1)
    if length >= 600:
        assert result.polls <= length / 10  # the goal against a 1 s poller
    assert all(s >= 1.0 for s in clock.sleeps)


def test_sleeps_follow_a_tenth_of_the_age_and_never_pass_the_budget(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=math.inf)
    result = _watch(_watcher(api, clock), clock, budget=100.0, age=200.0)
    assert result.handed_over and result.outcome is None
    assert clock.sleeps[0] == pytest.approx(20.0)  # a resumed run: 10% of its 200 s age
    assert clock.sleeps[1] == pytest.approx(22.0)
    assert sum(clock.sleeps) == pytest.approx(100.0)
    assert all(s >= 1.0 for s in clock.sleeps[:-1])  # only the last one is cut to the budget
    assert result.polls == len(clock.sleeps) + 1  # a last poll right at the budget's end


def test_the_poll_at_the_budget_end_catches_a_run_that_just_ended(clock: FakeClock) -> None:
    started = clock()
    api = FakeRunApi(clock, finish_at=started + 9.5)
    result = _watch(_watcher(api, clock, poll_min_seconds=4.0), clock, budget=9.5)
    assert result.outcome is not None and result.outcome.status == "FINISHED"
    assert clock.sleeps == [4.0, 4.0, 1.5]


def test_a_zero_budget_polls_once_and_never_sleeps(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=math.inf)
    result = _watch(_watcher(api, clock), clock, budget=0.0)
    assert result.handed_over
    assert result.polls == 1
    assert clock.sleeps == []


def test_a_negative_budget_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="budget"):
        _watch(_watcher(FakeRunApi(clock, finish_at=0), clock), clock, budget=-1)


def test_calls_run_under_a_deadline_of_the_time_left(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=math.inf)
    _watch(_watcher(api, clock), clock, budget=120.0)
    assert all(math.isfinite(d) for d in api.deadlines)
    assert api.deadlines[0] == pytest.approx(120.0)
    assert min(api.deadlines) == pytest.approx(10.0)  # the floor at the budget's end


# --- outcomes ------------------------------------------------------------------------------------


def test_finished_outcome_carries_counts_warnings_location_and_duration(
    clock: FakeClock,
) -> None:
    started = clock()
    api = FakeRunApi(clock, finish_at=started + 30, warnings_total=3)
    result = _watch(_watcher(api, clock), clock, budget=600)
    outcome = result.outcome
    assert outcome is not None and not result.handed_over
    assert outcome.status == "FINISHED"
    assert outcome.description == "finished run"
    assert (outcome.processed, outcome.error_count, outcome.items_in_scope) == (40, 1, 50)
    assert outcome.warning_count == outcome.warnings_total == 3
    assert [w.message for w in outcome.warnings] == ["w0", "w1", "w2"]
    assert outcome.result_location == "https://files.example/run-1.json"
    assert outcome.finished_at == clock()
    assert outcome.duration_seconds == pytest.approx(clock() - started)
    assert result.last_status is not None and result.last_status.status == "FINISHED"
    # without a callback, progress is read once, at the end
    assert api.count("progress") == 1
    assert api.count("results_url") == 1


@pytest.mark.parametrize("final", ["FAILED", "STOPPED"])
def test_failed_and_stopped_end_the_watch_without_a_result_location(
    clock: FakeClock, final: str
) -> None:
    api = FakeRunApi(clock, finish_at=clock() + 12, final=final)
    result = _watch(_watcher(api, clock), clock, budget=600)
    assert result.outcome is not None
    assert result.outcome.status == final
    assert result.outcome.result_location is None
    assert api.count("results_url") == 0


def test_a_finished_run_without_results_url_has_no_location(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock(), url=None)
    result = _watch(_watcher(api, clock), clock, budget=10)
    assert result.outcome is not None and result.outcome.result_location is None


def test_warnings_are_capped_but_the_total_is_kept(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock(), warnings_total=10)
    result = _watch(_watcher(api, clock, warnings_limit=3), clock, budget=10)
    assert result.outcome is not None
    assert len(result.outcome.warnings) == 3
    assert result.outcome.warnings_total == 10


def test_without_a_progress_count_the_total_is_known_only_when_not_capped(
    clock: FakeClock,
) -> None:
    api = FakeRunApi(clock, finish_at=clock(), warnings_total=2)
    api.progress_counts = {"processedContentCount": 1, "warningsCount": None}
    result = _watch(_watcher(api, clock, warnings_limit=5), clock, budget=10)
    assert result.outcome is not None and result.outcome.warnings_total == 2
    api.calls.clear()
    result = _watch(_watcher(api, clock, warnings_limit=2), clock, budget=10)
    assert result.outcome is not None and result.outcome.warnings_total is None


def test_a_zero_warnings_limit_reads_no_warnings(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock(), warnings_total=4)
    result = _watch(_watcher(api, clock, warnings_limit=0), clock, budget=10)
    assert result.outcome is not None
    assert result.outcome.warnings == [] and result.outcome.warnings_total == 4
    assert api.count("warnings") == 0


def test_an_unknown_status_is_not_terminal(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock() + 20, running="QUEUED_SOMEWHERE_NEW")
    result = _watch(_watcher(api, clock), clock, budget=600)
    assert result.outcome is not None and result.outcome.status == "FINISHED"
    assert result.polls > 2


def test_404s_on_end_of_run_reads_mean_none(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock(), warnings_total=1)
    api.faults = {
        "progress": [NotFoundError("x")],
        "warnings": [NotFoundError("x")],
        "results_url": [NotFoundError("x")],
    }
    result = _watch(_watcher(api, clock), clock, budget=10)
    assert result.outcome is not None
    assert result.outcome.progress is None
    assert result.outcome.warnings == []
    assert result.outcome.result_location is None


# --- errors --------------------------------------------------------------------------------------


def test_transient_errors_are_counted_and_polling_goes_on(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock() + 30)
    api.faults["status"] = [
        ServerError("503", status=503),
        RequestTimeoutError("slow"),
        MalformedResponseError("html"),
    ]
    result = _watch(_watcher(api, clock), clock, budget=600)
    assert result.outcome is not None and result.outcome.status == "FINISHED"
    assert result.transient_errors == 3
    assert result.polls == api.count("status")
    assert all(s >= 1.0 for s in clock.sleeps)  # errors never cause a busy loop


def test_an_outage_for_the_whole_budget_hands_the_run_over(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock() + 5)
    api.faults["status"] = [ServerError("503", status=503) for _ in range(1000)]
    result = _watch(_watcher(api, clock), clock, budget=120)
    assert result.handed_over and result.outcome is None
    assert result.last_status is None
    assert result.transient_errors == result.polls
    assert sum(clock.sleeps) == pytest.approx(120)


def test_a_transient_error_on_an_end_of_run_read_is_retried(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock())
    api.faults["progress"] = [ServerError("503", status=503)]
    result = _watch(_watcher(api, clock), clock, budget=60)
    assert result.outcome is not None and result.outcome.processed == 40
    assert result.transient_errors == 1
    assert api.count("status") == 2


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("no", status=401),
        PermissionDeniedError("no", status=403),
        BadRequestError("no", status=400),
    ],
)
def test_non_retryable_errors_propagate(clock: FakeClock, error: LxError) -> None:
    api = FakeRunApi(clock, finish_at=clock() + 30)
    api.faults["status"] = [error]
    with pytest.raises(type(error)):
        _watch(_watcher(api, clock), clock, budget=600)


def test_a_404_on_status_is_a_run_not_found_error(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock() + 30)
    api.faults["status"] = [NotFoundError("gone", method="GET", path="/x", status=404)]
    with pytest.raises(RunNotFoundError) as caught:
        _watch(_watcher(api, clock), clock, budget=600)
    assert caught.value.run_id == RUN
    assert caught.value.status == 404
    assert isinstance(caught.value, NotFoundError)
    assert not caught.value.retryable


# --- handover ------------------------------------------------------------------------------------


def test_keep_watching_hands_over_without_stopping(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=math.inf)
    result = _watch(_watcher(api, clock), clock, budget=30)
    assert result.handed_over and not result.stop_requested
    assert result.last_status is not None and result.last_status.status == "IN_PROGRESS"
    assert api.count("stop") == 0


def test_a_second_watch_resumes_where_the_first_handed_over(clock: FakeClock) -> None:
    started = clock()
    api = FakeRunApi(clock, finish_at=started + 300)
    first = _watcher(api, clock).watch(RUN, started_at=started, budget_seconds=100)
    assert first.handed_over
    second = _watcher(api, clock).watch(RUN, started_at=started, budget_seconds=400)
    assert second.outcome is not None
    assert second.outcome.duration_seconds == pytest.approx(clock() - started)
    assert 300 <= second.outcome.duration_seconds <= 300 * 1.1 + 1


def test_stop_handover_stops_and_returns_the_stopped_outcome(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=math.inf)
    result = _watch(_watcher(api, clock, handover="stop"), clock, budget=30)
    assert result.stop_requested and not result.handed_over
    assert result.outcome is not None and result.outcome.status == "STOPPED"
    stop = api.calls.index("stop")
    assert api.calls[stop:] == ["stop", "status", "progress", "warnings"]


def test_stop_handover_still_running_is_handed_over(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=math.inf, stop_makes_it=None)
    result = _watch(_watcher(api, clock), clock, budget=30, handover="stop")
    assert result.stop_requested and result.handed_over and result.outcome is None
    assert api.calls[-2:] == ["stop", "status"]


@pytest.mark.parametrize(
    "error", [ServerError("503", status=503), BadRequestError("not running", status=400)]
)
def test_a_stop_that_fails_hands_over(clock: FakeClock, error: LxError) -> None:
    api = FakeRunApi(clock, finish_at=math.inf)
    api.faults["stop"] = [error]
    result = _watch(_watcher(api, clock, handover="stop"), clock, budget=30)
    assert result.handed_over and not result.stop_requested
    assert api.calls[-1] == "stop"


def test_stop_on_a_vanished_run_is_run_not_found(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=math.inf)
    api.faults["stop"] = [NotFoundError("gone", status=404)]
    with pytest.raises(RunNotFoundError):
        _watch(_watcher(api, clock, handover="stop"), clock, budget=5)


# --- progress callback ---------------------------------------------------------------------------


def test_on_progress_sees_every_poll_with_its_progress(clock: FakeClock) -> None:
    api = FakeRunApi(clock, finish_at=clock() + 15)
    api.faults["progress"] = [ServerError("503", status=503)]
    seen: list[tuple[str, int | None]] = []

    def show(status: RunStatus, progress: RunProgress | None) -> None:
        seen.append((status.status, progress.processed_content_count if progress else None))

    watcher = RunWatcher(api, _settings(), clock=clock, sleep=clock.sleep, on_progress=show)
    result = _watch(watcher, clock, budget=600)
    assert result.outcome is not None
    assert len(seen) == result.polls
    assert seen[0] == ("IN_PROGRESS", None)  # its progress read failed: shown without
    assert seen[1] == ("IN_PROGRESS", 40)
    assert seen[-1] == ("FINISHED", 40)
    assert api.count("progress") == result.polls
