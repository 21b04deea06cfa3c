"""The deployment-wide pace across real OS processes: one technical user, one state table.

The emulator limits the user to 60 requests per 2 s (1,800/min, sliding), Azurite holds the
shared budget, and four worker processes (this module run as a script) query GraphQL through
``runtime.leanix_client()`` with ``LEANIX_PACE_SCOPE=deployment`` and a 2 s pace window. Run
with ``-s`` to see the figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from lx_sandbox.azurite import Azurite
from lx_sandbox.emulator import TECHNICAL_TOKEN, SandboxConfig, SandboxServer

REPO_ROOT = Path(__file__).resolve().parents[2]
LIMIT = 60  # requests per WINDOW per user, as the emulator enforces it
WINDOW = 2.0
PER_MINUTE = round(LIMIT * 60 / WINDOW)  # 1,800: the same pace scaled to a minute
SECONDS = 4.0
WORKERS = 4
QUERY = "{ allFactSheets(first: 1) { totalCount } }"

pytestmark = pytest.mark.sandbox


# --- the worker (python -m tests.reliability.test_pace_across_processes busy|idle) -------------


def worker(role: str) -> None:
    """Build the client from the environment, say ready, wait for ``go <seconds>``, then send
    queries as fast as the pace allows (busy) or one query and sleep (idle); print JSON."""
    from lx_core import runtime
    from lx_core.errors import LeanIXError
    from lx_core.leanix.shared_pace import SharedPace

    client = runtime.leanix_client()
    print("ready", flush=True)
    command = sys.stdin.readline().split()
    seconds = float(command[1])
    started = time.monotonic()
    ok = errors = 0
    while True:
        try:
            client.graphql.execute(QUERY)
            ok += 1
        except LeanIXError:
            errors += 1
        if role == "idle":
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        if time.monotonic() - started >= seconds:
            break
    elapsed = time.monotonic() - started
    stats = client.stats.snapshot()
    pacer = client.transport._pacer
    report: dict[str, Any] = {
        "role": role,
        "ok": ok,
        "errors": errors,
        "calls": stats.calls,
        "retries": stats.retries,
        "elapsed": elapsed,
        "shared": isinstance(pacer, SharedPace),
        "pace": vars(pacer.stats) if isinstance(pacer, SharedPace) else {},
    }
    print(json.dumps(report), flush=True)


# --- the test side ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_emulator() -> Iterator[SandboxServer]:
    config = SandboxConfig(seed="demo", rate_limit=LIMIT, rate_limit_window_seconds=WINDOW)
    with SandboxServer(config) as server:
        yield server


def _admin(server: SandboxServer, method: str, path: str) -> Any:
    r = requests.request(method, f"{server.url}/_sandbox{path}", timeout=30)
    assert r.ok, r.text
    return r.json()


def _env(server: SandboxServer, azurite: Azurite, table: str, scope: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LEANIX_", "LX_STATE_", "TIME_"))
    }
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "LEANIX_API_TOKEN": TECHNICAL_TOKEN,
            "LEANIX_HOST": server.url,
            "LEANIX_REQUESTS_PER_MINUTE": str(PER_MINUTE),
            "LEANIX_PACE_SCOPE": scope,
            "LEANIX_PACE_WINDOW_SECONDS": str(WINDOW),
            "LEANIX_MAX_RETRIES": "3",
            "LEANIX_BACKOFF_INITIAL_SECONDS": "0.05",
            "LEANIX_BACKOFF_MAX_SECONDS": "0.5",
            "LX_STATE_CONNECTION_STRING": azurite.connection_string,
            "LX_STATE_TABLE_NAME": table,
        }
    )
    return env


def run_workers(
    server: SandboxServer, azurite: Azurite, roles: list[str], *, scope: str = "deployment"
) -> tuple[list[dict[str, Any]], dict[str, Any], float]:
    """Start one process per role, release them together for SECONDS; their reports, the
    emulator's counters for the technical user, and the wall time the run took."""
    _admin(server, "POST", "/reset")
    env = _env(server, azurite, f"t{uuid.uuid4().hex}", scope)
    procs = [
        subprocess.Popen(  # noqa: S603 - this interpreter running this module
            [sys.executable, "-m", "tests.reliability.test_pace_across_processes", role],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role in roles
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line == "ready", f"worker did not start: {line!r} {proc.stderr}"
        _admin(server, "DELETE", "/stats")
        started = time.monotonic()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"go {SECONDS}\n")
            proc.stdin.flush()
        reports = []
        for proc in procs:
            out, err = proc.communicate(timeout=SECONDS + 20)
            assert proc.returncode == 0, err[-2000:]
            reports.append(json.loads(out.strip().splitlines()[-1]))
        took = time.monotonic() - started
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    users = _admin(server, "GET", "/stats")["users"]
    mine = [u for u in users.values() if u["requests"]]
    assert len(mine) == 1, users  # every worker is the same technical user
    return reports, mine[0], took


def figures(label: str, reports: list[dict[str, Any]], user: dict[str, Any]) -> dict[str, float]:
    admitted = user["requests"] - user["rateLimited"]
    result = {
        "requests": user["requests"],
        "rate_limited": user["rateLimited"],
        "admitted_per_s": admitted / SECONDS,
        "share_of_limit": admitted / SECONDS / (LIMIT / WINDOW),
    }
    print(
        f"\n[{label}] limit {LIMIT}/{WINDOW:g}s = {LIMIT / WINDOW:g}/s; emulator saw "
        f"{user['requests']} requests in {SECONDS:g}s, {user['rateLimited']} answered 429; "
        f"admitted {result['admitted_per_s']:.1f}/s = {result['share_of_limit']:.0%} of the limit"
    )
    for r in reports:
        print(
            f"  {r['role']:4} ok {r['ok']:4} ({r['ok'] / SECONDS:5.1f}/s) errors {r['errors']} "
            f"retries {r['retries']} pace {r['pace']}"
        )
    return result


def test_four_busy_processes_share_one_budget(
    limited_emulator: SandboxServer, azurite: Azurite
) -> None:
    reports, user, took = run_workers(limited_emulator, azurite, ["busy"] * WORKERS)
    result = figures("4 busy processes", reports, user)
    assert all(r["shared"] for r in reports)
    assert all(r["errors"] == 0 for r in reports), reports
    assert user["rateLimited"] <= 0.02 * user["requests"]
    assert result["share_of_limit"] >= 0.70
    assert all(r["ok"] > 0 for r in reports)  # nobody starved
    assert took < SECONDS + 5


def test_one_busy_process_uses_the_budget_the_idle_ones_leave(
    limited_emulator: SandboxServer, azurite: Azurite
) -> None:
    reports, user, _ = run_workers(limited_emulator, azurite, ["busy", "idle", "idle", "idle"])
    figures("1 busy + 3 idle processes", reports, user)
    busy = reports[0]
    assert busy["errors"] == 0 and all(r["ok"] == 1 for r in reports[1:])
    assert user["rateLimited"] <= 0.02 * user["requests"]
    assert busy["ok"] / SECONDS >= 0.70 * LIMIT / WINDOW


def test_control_each_process_pacing_itself_overshoots(
    limited_emulator: SandboxServer, azurite: Azurite
) -> None:
    """The same run with LEANIX_PACE_SCOPE=process fails the first test's 429 assertion (each
    process paces at the full rate until 429s and Retry-After slow it down)."""
    reports, user, _ = run_workers(limited_emulator, azurite, ["busy"] * WORKERS, scope="process")
    figures("4 busy processes, process scope (control)", reports, user)
    assert not any(r["shared"] for r in reports)
    assert user["rateLimited"] > 0.02 * user["requests"]


if __name__ == "__main__":
    worker(sys.argv[1])
