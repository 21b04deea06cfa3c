"""The connector timers, called through the registered Blueprint, against the emulator's
processor engine, a real source API and real Azurite (state and result blobs).

Covered: a run that outlives several ticks; a host process killed mid-run, whose run the next
tick watches to its end; two hosts ticking the same connector at once (one run); a restarted
host (fresh process state) finishing the watch; outbound results landing in the blob.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lx_core import runtime
from lx_core.config import BlobSettings
from lx_core.jobs.sync_state import OutcomeLog
from lx_core.storage.blob import open_blob_store
from tests.e2e.conftest import SyncWorld as World

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "infra" / "leanix" / "examples" / "connectors"
IMPORT, EXPORT = "applications-import", "applications-export"


def test_every_connector_gets_its_own_timer_and_the_watch_tick(sync_world: World) -> None:
    assert set(sync_world.functions) == {
        "sync_applications_import",
        "sync_applications_export",
        "sync_watch",
    }


def test_an_inbound_run_outlives_several_ticks_and_imports_the_source(sync_world: World) -> None:
    sync_world.fire("sync_applications_import")
    assert sync_world.state(IMPORT).phase == "started", "a 2 s run outlives a 0.6 s tick"
    sync_world.fire("sync_applications_import")  # the next schedule watches, never starts another
    sync_world.fire_until_idle("sync_watch", IMPORT)
    assert len(sync_world.runs()) == 1
    [outcome] = sync_world.outcomes()
    assert outcome.status == "FINISHED" and not outcome.failed, outcome
    assert outcome.processed == 25
    imported = sync_world.admin("/factsheets", type="Application", limit=1000)["factSheets"]
    by_external = {fs.get("externalId"): fs for fs in imported if fs.get("externalId")}
    assert len(by_external) == 25
    first = by_external["app-0001"]
    assert first["name"].startswith("Beacon") or first["name"]  # named from the source
    assert sync_world.source.state.item_requests(), "the source was read over HTTP"


def test_outbound_results_land_in_the_blob(sync_world: World) -> None:
    sync_world.fire_until_idle("sync_applications_export", EXPORT)
    [outcome] = sync_world.outcomes()
    assert outcome.status == "FINISHED", outcome
    assert outcome.result_blob is not None
    store = open_blob_store(BlobSettings())
    try:
        body = b"".join(store.open_chunks(outcome.result_blob.container, outcome.result_blob.name))
    finally:
        store.close()
    ldif = json.loads(body)
    applications = [c for c in ldif["content"] if c["type"] == "Application"]
    assert applications and all(c["data"].get("name") for c in applications)
    assert outcome.result_blob.name.startswith("applications-export/")


def test_two_hosts_ticking_at_once_start_one_run(sync_world: World) -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def host() -> None:
        try:
            barrier.wait()
            sync_world.fire("sync_applications_export")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=host) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    sync_world.fire_until_idle("sync_watch", EXPORT)
    assert len(sync_world.runs()) == 1
    assert len(sync_world.outcomes()) == 1


def test_a_restarted_host_still_watches_the_run_to_its_end(sync_world: World) -> None:
    sync_world.fire("sync_applications_export")
    assert sync_world.state(EXPORT).phase == "started"
    runtime.reset_process_state()  # a new instance: no client, token, store or registry cached
    sync_world.fire_until_idle("sync_watch", EXPORT)
    assert [o.status for o in sync_world.outcomes()] == ["FINISHED"]
    assert len(sync_world.runs()) == 1


def test_a_host_killed_mid_run_is_harmless_and_the_next_tick_resumes(sync_world: World) -> None:
    code = (
        "from lx_core import runtime\n"
        f"runtime.sync_ticker({IMPORT!r}).tick(start=True, budget_seconds=120)\n"
    )
    child = subprocess.Popen(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **sync_world.env}
    )
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and sync_world.state(IMPORT).phase != "started":
            time.sleep(0.05)
        assert sync_world.state(IMPORT).phase == "started"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    # The dead host's lease lapses (3 s), then the watch tick takes over the same run.
    sync_world.fire_until_idle("sync_watch", IMPORT, timeout=40)
    assert len(sync_world.runs()) == 1
    [outcome] = sync_world.outcomes()
    assert outcome.status == "FINISHED" and outcome.processed == 25


def test_the_watch_tick_prunes_outcomes_past_their_retention(sync_world: World) -> None:
    sync_world.fire_until_idle("sync_applications_export", EXPORT)
    [recent] = sync_world.outcomes()
    store = runtime.state_store()
    assert store is not None
    old = recent.model_copy(
        update={"attempt": "old", "finished_at": recent.finished_at - 91 * 86_400}
    )
    assert OutcomeLog(store).record(old)
    assert len(sync_world.outcomes()) == 2
    sync_world.fire("sync_watch")
    assert sync_world.outcomes() == [recent]
