"""Timers in the local functions host: NCRONTAB, scheduling, admin API, overlap, errors."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from lx_sandbox.funchost import FunctionsHost, InvocationRecord
from lx_sandbox.funchost.ncrontab import Schedule, ScheduleError, resolve_settings, to_croniter
from tests.sandbox.funchost_app import blueprints
from tests.sandbox.funchost_app.harness import (
    FUNCTION_KEY,
    MASTER_KEY,
    RARE_SCHEDULE,
    restored_environ,
    running_host,
    wait_for,
    write_settings,
)

MONDAY = datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC)  # 2024-01-01 was a Monday


@pytest.fixture(autouse=True)
def funchost_env() -> Iterator[None]:
    with restored_environ():
        os.environ["TEST_TIMER_SCHEDULE"] = RARE_SCHEDULE
        blueprints.TIMER_CALLS.clear()
        blueprints.TIMER_ENTERED.clear()
        blueprints.TIMER_GATE = None
        blueprints.TIMER_FAIL = False
        yield
        if blueprints.TIMER_GATE is not None:
            blueprints.TIMER_GATE.set()  # never leave a timer thread blocked


@pytest.fixture
def funchost_settings(tmp_path: Path) -> Path:
    return tmp_path / "local.settings.json"  # absent on purpose


def _records(host: FunctionsHost, name: str, trigger: str) -> list[InvocationRecord]:
    return [r for r in host.invocations if r.name == name and r.trigger == trigger]


# -- NCRONTAB ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ncrontab", "cron", "first", "second"),
    [
        ("0 */5 * * * *", "*/5 * * * * 0", "2024-01-01T00:05:00", "2024-01-01T00:10:00"),
        ("0 30 2 * * *", "30 2 * * * 0", "2024-01-01T02:30:00", "2024-01-02T02:30:00"),
        ("*/1 * * * * *", "* * * * * */1", "2024-01-01T00:00:01", "2024-01-01T00:00:02"),
        ("15 0 0 * * *", "0 0 * * * 15", "2024-01-01T00:00:15", "2024-01-02T00:00:15"),
        ("0 0 9 * * 0", "0 9 * * 0 0", "2024-01-07T09:00:00", "2024-01-14T09:00:00"),
        ("0 0 9 * * Mon-Fri", "0 9 * * Mon-Fri 0", "2024-01-01T09:00:00", "2024-01-02T09:00:00"),
    ],
)
def test_ncrontab_conversion_and_next_occurrences(
    ncrontab: str, cron: str, first: str, second: str
) -> None:
    assert to_croniter(ncrontab) == cron
    schedule = Schedule.parse(ncrontab, {})
    nxt = schedule.next_after(MONDAY)
    assert nxt == datetime.fromisoformat(first).replace(tzinfo=UTC)
    assert schedule.next_after(nxt) == datetime.fromisoformat(second).replace(tzinfo=UTC)


@pytest.mark.parametrize("bad", ["*/5 * * * *", "00:05:00", "0 99 * * * *", "a b c d e f"])
def test_invalid_ncrontab_is_rejected(bad: str) -> None:
    with pytest.raises(ScheduleError):
        to_croniter(bad)


def test_app_setting_references_are_resolved() -> None:
    assert resolve_settings("%SYNC%", {"SYNC": "0 0 3 * * *"}) == "0 0 3 * * *"
    with pytest.raises(ScheduleError, match="'MISSING', which is not set"):
        resolve_settings("%MISSING%", {})


# -- scheduling ----------------------------------------------------------------------------


def test_scheduled_fire_every_second(funchost_settings: Path) -> None:
    os.environ["TEST_TIMER_SCHEDULE"] = "*/1 * * * * *"
    with running_host(funchost_settings, run_timers=True) as host:
        record = wait_for(lambda: _records(host, "tick", "schedule"), timeout=4)[0]
    assert record.ok
    assert record.past_due is False
    assert blueprints.TIMER_CALLS


def test_run_on_startup_fires_once_at_start(funchost_settings: Path) -> None:
    with running_host(funchost_settings, run_timers=True) as host:
        record = wait_for(lambda: _records(host, "warmup", "startup"))[0]
        assert record.ok
        assert _records(host, "tick", "startup") == []


def test_no_timers_when_disabled(funchost_settings: Path) -> None:
    os.environ["TEST_TIMER_SCHEDULE"] = "*/1 * * * * *"
    with running_host(funchost_settings, run_timers=False) as host:
        threading.Event().wait(1.2)
        assert host.invocations == []


def test_python_fire_records_the_invocation(funchost_settings: Path) -> None:
    with running_host(funchost_settings) as host:
        record = host.fire("tick")
        assert (record.name, record.trigger, record.status) == ("tick", "manual", "ok")
        assert host.invocations == [record]
        with pytest.raises(KeyError):
            host.fire("hello")  # an HTTP function, not a timer


def test_timer_exception_is_recorded_not_raised(funchost_settings: Path) -> None:
    blueprints.TIMER_FAIL = True
    with running_host(funchost_settings) as host:
        record = host.fire("tick")
        assert record.status == "error"
        assert record.error == "ValueError: tick failed on purpose"
        blueprints.TIMER_FAIL = False
        assert host.fire("tick").ok  # the host keeps working


def test_overlapping_run_is_skipped(funchost_settings: Path) -> None:
    blueprints.TIMER_GATE = threading.Event()
    with running_host(funchost_settings) as host:
        host.scheduler.fire_in_background("tick")
        assert blueprints.TIMER_ENTERED.wait(5)
        skipped = host.fire("tick")
        assert skipped.status == "skipped"
        blueprints.TIMER_GATE.set()
        first = wait_for(lambda: [r for r in host.invocations if r.status == "ok"])[0]
    assert first.name == "tick"
    assert len(blueprints.TIMER_CALLS) == 1


# -- admin API -----------------------------------------------------------------------------


def test_admin_fire_returns_202_and_is_recorded(funchost_settings: Path) -> None:
    with running_host(funchost_settings) as host:
        response = requests.post(
            f"{host.url}/admin/functions/tick",
            headers={"x-functions-key": MASTER_KEY},
            json={"input": ""},
            timeout=5,
        )
        assert response.status_code == 202
        wait_for(lambda: _records(host, "tick", "manual"))
        listed = requests.get(
            f"{host.url}/admin/host/invocations", headers={"x-functions-key": MASTER_KEY}, timeout=5
        )
    assert listed.status_code == 200
    [entry] = listed.json()
    assert (entry["name"], entry["trigger"], entry["status"]) == ("tick", "manual", "ok")


@pytest.mark.parametrize("key", [None, FUNCTION_KEY, "wrong"])
def test_admin_api_requires_master_key(funchost_settings: Path, key: str | None) -> None:
    headers = {"x-functions-key": key} if key else {}
    with running_host(funchost_settings) as host:
        fire = requests.post(
            f"{host.url}/admin/functions/tick", headers=headers, json={"input": ""}, timeout=5
        )
        listing = requests.get(f"{host.url}/admin/host/invocations", headers=headers, timeout=5)
        assert (fire.status_code, fire.content) == (401, b"")
        assert listing.status_code == 401
        assert host.invocations == []


def test_admin_fire_unknown_function_is_404(funchost_settings: Path) -> None:
    with running_host(funchost_settings) as host:
        response = requests.post(
            f"{host.url}/admin/functions/nope",
            headers={"x-functions-key": MASTER_KEY},
            json={"input": ""},
            timeout=5,
        )
    assert response.status_code == 404


def test_missing_schedule_setting_is_a_clear_error_and_the_rest_serves(
    funchost_settings: Path,
) -> None:
    del os.environ["TEST_TIMER_SCHEDULE"]
    with running_host(funchost_settings, run_timers=True) as host:
        assert set(host.errors) == {"tick"}
        assert "TEST_TIMER_SCHEDULE" in host.errors["tick"]
        assert host.timers == ["warmup"]
        assert requests.get(f"{host.url}/api/hello", timeout=5).status_code == 200
        fire = requests.post(
            f"{host.url}/admin/functions/tick", headers={"x-functions-key": MASTER_KEY}, timeout=5
        )
        assert fire.status_code == 409
        assert "TEST_TIMER_SCHEDULE" in fire.json()["error"]
        with pytest.raises(RuntimeError, match="TEST_TIMER_SCHEDULE"):
            host.fire("tick")


def test_disabled_app_setting_switches_functions_off(funchost_settings: Path) -> None:
    disabled = {"AzureWebJobs.tick.Disabled": "true", "AzureWebJobs.hello.Disabled": "true"}
    with running_host(write_settings(funchost_settings, disabled)) as host:
        assert host.timers == ["warmup"]
        assert sorted(host.index.disabled) == ["hello", "tick"]
        assert requests.get(f"{host.url}/api/hello", timeout=5).status_code == 404
