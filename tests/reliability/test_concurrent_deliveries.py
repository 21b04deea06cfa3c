"""50 deliveries at once over 10 Applications, while a human edits some of them.

The bodies are the emulator's own PUSH bodies (the payloads of the human's events, DEFAULT
payload mode), POSTed from 50 threads released together to the local host, with the function
key and the subscription's Authorization header; the emulator's own PUSH deliveries of the same
events and of the human's further edits run at the same time. Every answer must be 200 or 503
(LeanIX busy: retry later), never another 5xx; after re-POSTing each 503 until it is 200
(bounded), every Application must carry exactly the TIME tag its final fits call for.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from lx_core.leanix.graphql import Patch
from lx_sandbox.azurite import Azurite
from lx_sandbox.emulator import TECHNICAL_TOKEN
from lx_sandbox.emulator.seed import expected_time_of
from lx_sandbox.stack import SandboxStack
from tests.reliability.conftest import generated_stack
from tests.reliability.storm import COMBOS, TIME_GROUP

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

APPS = 10
DELIVERIES = 50
MAX_ROUNDS = 30
REDELIVERY_CONCURRENCY = 4


def _fits(app: dict[str, Any]) -> tuple[str | None, str | None]:
    values = app["values"]
    return values.get("functionalSuitability"), values.get("technicalSuitability")


def _edit(stack: SandboxStack, fs_id: str, fits: tuple[str, str]) -> None:
    human = stack.human_client()
    try:
        human.graphql.update_fact_sheet(
            fs_id,
            [
                Patch(op="replace", path="/functionalSuitability", value=fits[0]),
                Patch(op="replace", path="/technicalSuitability", value=fits[1]),
            ],
            rev=None,
        )
    finally:
        human.close()


def _technical_calls(stack: SandboxStack) -> int:
    users = stack.admin("GET", "/stats")["users"].values()
    return sum(int(u["requests"]) for u in users if u["username"].startswith("lx-functions"))


def _post(url: str, body: bytes, secret: str) -> requests.Response:
    return requests.post(
        url,
        data=body,
        headers={"Authorization": secret, "Content-Type": "application/json"},
        timeout=60,
    )


#: "busy": a slow pace (so many deliveries outlast their deadline and answer 503) and LeanIX
#: answering 10% of the technical user's calls 503 or 429.
BUSY_FAULTS = {
    "latencyMs": 20,
    "rules": [
        {"token": TECHNICAL_TOKEN, "status": 503, "rate": 0.05},
        {"token": TECHNICAL_TOKEN, "status": 429, "retryAfter": 1, "rate": 0.05},
    ],
}
SCENARIOS = {
    "clean": ({"latencyMs": 20}, {}),
    "busy": (
        BUSY_FAULTS,
        {"LEANIX_REQUESTS_PER_MINUTE": "1200", "LX_WEBHOOK_DEADLINE_SECONDS": "4"},
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_concurrent_deliveries_converge_on_the_right_tags(azurite: Azurite, scenario: str) -> None:
    rng = random.Random(11)
    faults, app_settings = SCENARIOS[scenario]
    with generated_stack(
        azurite, 80, emulator={"faults": faults}, app_settings=app_settings
    ) as stack:
        assert stack.host is not None
        url = f"{stack.host_url}/api/leanix/time?code={stack.host.function_key}"
        secret = stack.options.webhook_secret
        apps = [a for a in stack.applications() if a["status"] == "ACTIVE" and all(_fits(a))][:APPS]
        assert len(apps) == APPS
        ids = [str(a["id"]) for a in apps]

        # The human edits all ten: their events are the bodies the threads deliver again.
        since = stack.admin("GET", "/events", params={"limit": 1})["endOffset"]
        for app in apps:
            _edit(stack, app["id"], rng.choice([c for c in COMBOS if c != _fits(app)]))
        events = stack.admin("GET", "/events", params={"since": since, "limit": 10_000})["events"]
        bodies = {
            e["event"]["payload"]["factSheet"]["id"]: json.dumps(e["event"]["payload"]).encode()
            for e in events
            if e["event"]["payload"].get("type") == "FactSheetUpdatedEvent"
        }
        assert set(bodies) == set(ids)

        calls_before = _technical_calls(stack)
        start = threading.Barrier(DELIVERIES + 1)

        def deliver(i: int) -> requests.Response:
            start.wait(timeout=30)
            return _post(url, bodies[ids[i % APPS]], secret)

        def human_edits() -> None:
            start.wait(timeout=30)
            for fs_id in rng.sample(ids, 5):
                _edit(stack, fs_id, rng.choice(COMBOS))
                time.sleep(0.05)

        with ThreadPoolExecutor(max_workers=DELIVERIES + 1) as pool:
            edits = pool.submit(human_edits)
            futures = [pool.submit(deliver, i) for i in range(DELIVERIES)]
            answers = [f.result() for f in futures]
            edits.result()
        burst_calls = _technical_calls(stack) - calls_before

        statuses = Counter(r.status_code for r in answers)
        assert set(statuses) <= {200, 503}, statuses
        assert not any("Traceback" in r.text for r in answers)
        # Redeliver like LeanIX: every 503 again after its Retry-After (at most 1 s here),
        # a few at a time, in bounded rounds.
        retried = Counter[int]()
        pending = {i: r for i, r in enumerate(answers) if r.status_code == 503}
        for _ in range(MAX_ROUNDS):
            if not pending:
                break
            time.sleep(
                min(1.0, max(float(r.headers.get("Retry-After", "1")) for r in pending.values()))
            )
            with ThreadPoolExecutor(max_workers=REDELIVERY_CONCURRENCY) as pool:
                again = dict(
                    zip(
                        pending,
                        pool.map(lambda i: _post(url, bodies[ids[i % APPS]], secret), pending),
                        strict=True,
                    )
                )
            retried.update(r.status_code for r in again.values())
            pending = {i: r for i, r in again.items() if r.status_code == 503}
        assert not pending, f"{len(pending)} deliveries still 503 after {MAX_ROUNDS} rounds"
        assert set(retried) <= {200, 503}, retried

        assert stack.wait_until(lambda: stack.wait_for_deliveries(10), timeout=60)
        pushed = Counter(d["httpStatus"] for d in stack.admin("GET", "/deliveries")["deliveries"])
        assert all(s in (200, 503) for s in pushed), pushed

        names = stack.tag_names()
        final = {a["id"]: a for a in stack.applications() if a["id"] in set(ids)}
        wrong = []
        for app in final.values():
            want = expected_time_of(app)
            have = [names[t][1] for t in app["tagIds"] if names.get(t, ("", ""))[0] == TIME_GROUP]
            if have != [want]:
                wrong.append((app["name"], _fits(app), want, have))
        assert not wrong, wrong
        print(
            f"\nconcurrent ({scenario}): {DELIVERIES} deliveries over {APPS} Applications: answers "
            f"{dict(statuses)} ({burst_calls} technical-user LeanIX calls), re-POSTs "
            f"{dict(retried)}, PUSH answers {dict(pushed)}"
        )
