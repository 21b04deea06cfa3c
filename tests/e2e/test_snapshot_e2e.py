"""The data-quality snapshot end to end: a hand-written workspace with known figures → one
paged read per type → Metrics v2 points at the start of the day in the emulator; a rerun the
same day writes nothing, changed figures replace the day's points, a 503 mid-way is retried.
The ledger is on Azurite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from lx_core import runtime
from lx_core.config import MetricsSettings, TimeSettings
from lx_core.jobs.metrics_snapshot import MetricsSnapshot
from lx_core.leanix.graphql import Patch
from lx_sandbox.azurite import Azurite
from lx_sandbox.emulator import HUMAN_TOKEN, TECHNICAL_TOKEN, SandboxConfig, SandboxServer

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

DAY = date(2026, 12, 3)
PAST = {
    "phases": [
        {"phase": "active", "startDate": "2020-01-01"},
        {"phase": "endOfLife", "startDate": "2025-06-30"},
    ]
}
FUTURE = {
    "phases": [
        {"phase": "active", "startDate": "2020-01-01"},
        {"phase": "endOfLife", "startDate": "2030-01-01"},
    ]
}


def _seed() -> dict[str, Any]:
    apps = [
        # id, completion, lxState, lifecycle, TIME tag
        ("a1", 1.0, "APPROVED", PAST, "t-invest"),
        ("a2", 0.5, "BROKEN_QUALITY_SEAL", FUTURE, "t-invest"),
        ("a3", 0.0, "BROKEN_QUALITY_SEAL", None, "t-migrate"),
        ("a4", 0.25, "DRAFT", PAST, None),
    ]
    fact_sheets: list[dict[str, Any]] = [
        {
            "id": f"00000000-0000-4000-8000-00000000000{i}",
            "type": "Application",
            "name": name,
            "lxState": state,
            "completion": completion,
            **({"lifecycle": life} if life else {}),
            "tags": [tag] if tag else [],
        }
        for i, (name, completion, state, life, tag) in enumerate(apps, start=1)
    ]
    fact_sheets.append(
        {
            "id": "00000000-0000-4000-8000-000000000009",
            "type": "Application",
            "name": "archived",
            "status": "ARCHIVED",
            "completion": 1.0,
        }
    )
    fact_sheets.append(
        {
            "id": "00000000-0000-4000-8000-000000000010",
            "type": "ITComponent",
            "name": "c1",
            "completion": 0.4,
            "lifecycle": PAST,
        }
    )
    return {
        "workspace": {"id": "11111111-1111-4111-8111-111111111111", "name": "snapshot"},
        "account": {"id": "22222222-2222-4222-8222-222222222222", "name": "acme"},
        "users": [
            {
                "id": "33333333-3333-4333-8333-333333333333",
                "username": "tech",
                "token": TECHNICAL_TOKEN,
                "technical": True,
            },
            {
                "id": "44444444-4444-4444-8444-444444444444",
                "username": "jane@example.com",
                "token": HUMAN_TOKEN,
                "technical": False,
            },
        ],
        "tagGroups": [
            {
                "id": "55555555-5555-4555-8555-555555555555",
                "name": "TIME Model",
                "mode": "SINGLE",
                "tags": [
                    {"id": "t-invest", "name": "Invest"},
                    {"id": "t-migrate", "name": "Migrate"},
                ],
            }
        ],
        "factSheets": fact_sheets,
        "subscriptions": [
            {
                "id": "66666666-6666-4666-8666-666666666666",
                "userId": "44444444-4444-4444-8444-444444444444",
                "factSheetId": "00000000-0000-4000-8000-000000000001",
                "type": "RESPONSIBLE",
            },
            {
                "id": "77777777-7777-4777-8777-777777777777",
                "userId": "44444444-4444-4444-8444-444444444444",
                "factSheetId": "00000000-0000-4000-8000-000000000002",
                "type": "OBSERVER",
            },
        ],
    }


@pytest.fixture
def emulator(azurite: Azurite) -> Iterator[SandboxServer]:
    saved = dict(os.environ)
    with SandboxServer(SandboxConfig(seed="empty", https=False)) as server:
        seeded = requests.post(
            f"{server.url}/_sandbox/seed", json={"document": _seed()}, timeout=10
        )
        seeded.raise_for_status()
        os.environ.update(
            {
                "LEANIX_HOST": server.url,
                "LEANIX_API_TOKEN": TECHNICAL_TOKEN,
                "LEANIX_BACKOFF_INITIAL_SECONDS": "0.02",
                "LX_STATE_CONNECTION_STRING": azurite.connection_string,
                "LX_STATE_TABLE_NAME": "snap" + os.urandom(5).hex(),
            }
        )
        runtime.reset_process_state()
        try:
            yield server
        finally:
            runtime.reset_process_state()
            os.environ.clear()
            os.environ.update(saved)


def _snapshot() -> MetricsSnapshot:
    settings = MetricsSettings(fact_sheet_types=("Application", "ITComponent"))
    return MetricsSnapshot(
        runtime.leanix_client(), runtime.state_store(), settings, TimeSettings(target="tag")
    )


def _points(server: SandboxServer) -> dict[str, list[dict[str, Any]]]:
    schemas = requests.get(f"{server.url}/_sandbox/metrics", timeout=10).json()["schemas"]
    return {s["name"]: s["points"] for s in schemas}


def test_known_figures_become_todays_points_and_a_rerun_writes_nothing(
    emulator: SandboxServer,
) -> None:
    report = _snapshot().run(day=DAY)
    apps = next(f for f in report.figures if f.fact_sheet_type == "Application")
    assert apps.point() == {
        "factSheetType": "Application",
        "count": 4,
        "meanCompletion": 43.75,
        "brokenQualitySeal": 2,
        "withoutOwner": 3,
        "pastEndOfLife": 2,
    }
    classes = {"invest": 2, "migrate": 1, "unclassified": 1, "tolerate": 0, "eliminate": 0}
    assert apps.time_classes == classes
    points = _points(emulator)
    quality = sorted(points["lxDataQuality"], key=lambda p: p["factSheetType"])
    assert [p["timestamp"] for p in quality] == ["2026-12-03T00:00:00.000Z"] * 2
    assert quality[1]["pastEndOfLife"] == 1 and quality[1]["count"] == 1
    assert sorted((p["timeClass"], p["count"]) for p in points["lxTimeClasses"]) == [
        ("eliminate", 0),
        ("invest", 2),
        ("migrate", 1),
        ("tolerate", 0),
        ("unclassified", 1),
    ]

    again = _snapshot().run(day=DAY)
    assert {o for outcomes in again.written.values() for o in outcomes.values()} == {"unchanged"}
    assert _points(emulator) == points


def test_changed_figures_replace_the_days_points_despite_a_503(emulator: SandboxServer) -> None:
    _snapshot().run(day=DAY)
    gql = runtime.leanix_client().graphql
    fs_id = "00000000-0000-4000-8000-000000000004"
    current = gql.get_fact_sheet(fs_id, "rev")
    assert current is not None
    gql.update_fact_sheet(
        fs_id,
        [Patch(op="replace", path="/lxState", value="BROKEN_QUALITY_SEAL")],
        rev=current["rev"],
    )
    rule = {
        "pathPrefix": "/services/metrics/v2/schemas",
        "method": "DELETE",
        "status": 503,
        "count": 1,
    }
    requests.post(f"{emulator.url}/_sandbox/faults/rules", json=rule, timeout=10)
    report = _snapshot().run(day=DAY)
    assert report.written["lxDataQuality"]["Application"] == "rewritten"
    quality = [p for p in _points(emulator)["lxDataQuality"] if p["factSheetType"] == "Application"]
    assert [p["brokenQualitySeal"] for p in quality] == [3]
