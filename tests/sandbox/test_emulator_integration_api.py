"""Integration API endpoints (§5.1) and the run lifecycle of the emulator, over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.sandbox.conftest import Api
from tests.sandbox.integration_client import (
    API,
    RUNS,
    Integration,
    connector,
    fact_sheet_processor,
    update,
)

JsonDict = dict[str, Any]


def _items(n: int, prefix: str = "a") -> list[JsonDict]:
    return [{"type": "app", "id": f"{prefix}-{i}", "data": {"name": f"App {i}"}} for i in range(n)]


def test_configurations_put_get_list_delete(emu: Api) -> None:
    doc = {
        **connector("cfg"),
        "processors": [fact_sheet_processor("Application", "app")],
        "unknownKey": {"kept": [1, 2]},
    }
    del doc["processingMode"]  # defaults to partial
    assert emu.rest("PUT", f"{API}/configurations", json=doc).status_code == 204
    params = connector("cfg")
    r = emu.rest("GET", f"{API}/configurations", params=params)
    assert r.status_code == 200 and r.json() == doc  # exactly what was PUT
    assert emu.rest("GET", f"{API}/configurations").json() == [doc]
    changed = {**doc, "processors": []}
    assert emu.rest("PUT", f"{API}/configurations", json=changed).status_code == 204
    assert emu.rest("GET", f"{API}/configurations").json() == [changed]  # upsert, not a second one
    r = emu.rest("DELETE", f"{API}/configurations", params={"connectorId": "cfg"})
    assert r.status_code == 400 and "connectorType" in r.json()["message"]
    missing = {**params, "connectorVersion": "9.9.9"}
    assert emu.rest("DELETE", f"{API}/configurations", params=missing).status_code == 404
    assert emu.rest("GET", f"{API}/configurations", params=missing).status_code == 404
    assert emu.rest("DELETE", f"{API}/configurations", params=params).status_code == 204
    assert emu.rest("GET", f"{API}/configurations").json() == []
    bad = emu.rest("PUT", f"{API}/configurations", json={**doc, "processingDirection": "sideways"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["value"] == "processingDirection"


def test_auth_and_invalid_ldif_name_the_field(emu: Api) -> None:
    intg = Integration(emu)
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    assert requests.get(emu.base_url + RUNS, timeout=10).status_code == 401
    ldif = intg.ldif(ident, [{"type": "app", "id": "a-1", "data": "not an object"}])
    r = emu.rest("POST", RUNS, json=ldif)
    assert r.status_code == 400 and r.json()["errors"][0]["value"] == "content[0].data"
    r = emu.rest("POST", RUNS, json={k: v for k, v in ldif.items() if k != "lxVersion"})
    assert r.status_code == 400 and r.json()["errors"][0]["value"] == "lxVersion"
    r = emu.rest("POST", RUNS, json={**ldif, "connectorId": "x" * 501})
    assert r.status_code == 400 and "500" in r.json()["message"]
    r = emu.rest("POST", RUNS, json={**intg.ldif(ident, []), "connectorVersion": "2.0.0"})
    assert r.status_code == 400 and "No processor configuration matches" in r.json()["message"]
    headers = {**emu.headers, "content-type": "application/json"}
    r = emu.session.post(emu.base_url + RUNS, data=b"{not json", headers=headers, timeout=10)
    assert r.status_code == 400


def test_lifecycle_progress_grows_and_start_rules(emu: Api) -> None:
    intg = Integration(emu, pending=0.1, run=0.6)
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    run_id = intg.create(intg.ldif(ident, _items(40)), start=False)
    assert intg.status(run_id) == {"id": run_id, "status": "CREATED"}
    assert intg.get(run_id, "progress").json()["status"] == 0
    assert emu.rest("POST", f"{RUNS}/{run_id}/stop").status_code == 400  # not pending/running
    assert emu.rest("POST", f"{RUNS}/{run_id}/start").status_code == 200
    assert emu.rest("POST", f"{RUNS}/{run_id}/start").status_code == 400  # already started
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        p = intg.get(run_id, "progress").json()
        s = intg.status(run_id)["status"]
        seen.append((s, p["processedContentCount"]))
        if s == "FINISHED":
            break
        time.sleep(0.03)
    states = [s for s, _ in seen]
    assert states[0] == "PENDING" and states[-1] == "FINISHED" and "IN_PROGRESS" in states
    counts = [c for s, c in seen if s == "IN_PROGRESS"]
    assert counts == sorted(counts) and any(0 < c < 40 for c in counts), seen
    final = intg.get(run_id, "progress").json()
    assert final["processedContentCount"] == 40 and final["itemsInScopeCount"] == 40
    assert final["status"] == 3 and final["graphQLRequestCount"] == 40
    assert emu.rest("POST", f"{RUNS}/{run_id}/stop").status_code == 400
    listed = emu.rest("GET", RUNS).json()
    assert [(r["id"], r["status"], r["connectorId"]) for r in listed] == [
        (run_id, "FINISHED", "test")
    ]
    for what in ("status", "progress", "results", "resultsUrl", "warnings"):
        assert intg.get("no-such-run", what).status_code == 404
    assert emu.rest("POST", f"{RUNS}/no-such-run/start").status_code == 404


def test_stop_keeps_partial_effects(emu: Api) -> None:
    intg = Integration(emu, pending=0.0, run=3.0)
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    run_id = intg.create(intg.ldif(ident, _items(100)))
    deadline = time.monotonic() + 5
    while intg.get(run_id, "progress").json()["processedContentCount"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert emu.rest("POST", f"{RUNS}/{run_id}/stop").status_code == 200
    assert intg.status(run_id)["status"] == "STOPPED"
    created = len(intg.by_external("Application"))
    assert 0 < created < 100
    time.sleep(0.2)
    assert len(intg.by_external("Application")) == created  # nothing more after the stop
    assert emu.rest("POST", f"{RUNS}/{run_id}/stop").status_code == 400
    assert intg.get(run_id, "results").status_code == 204


def test_injected_failures_next_and_by_connector(emu: Api) -> None:
    intg = Integration(emu)
    intg.settings(failNext=1, failAfterFraction=0.5)
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    run_id, status = intg.run(intg.ldif(ident, _items(10)))
    assert status["status"] == "FAILED" and "Injected failure" in status["description"]
    assert 0 < len(intg.by_external("Application")) < 10
    _, status = intg.run(intg.ldif(ident, _items(10, "b")))
    assert status["status"] == "FINISHED"  # failNext was used up
    assert emu.admin("GET", "/integration/config")["failNext"] == 0
    intg.settings(failConnectorIds=["test"], failAfterFraction=0.0)
    _, status = intg.run(intg.ldif(ident, _items(3, "c")))
    assert status["status"] == "FAILED"
    assert not any(k.startswith("c-") for k in intg.by_external("Application"))
    assert intg.get(run_id, "results").status_code == 204


def test_test_runs_change_nothing_but_report(emu: Api) -> None:
    intg = Integration(emu)
    ident = intg.configure(
        [
            fact_sheet_processor(
                "Application", "app", update("name", "${data.name}"), update("nope", "x")
            )
        ]
    )
    since = emu.admin("GET", "/events")["endOffset"]
    before = emu.admin("GET", "/factsheets?limit=100000")
    run_id, status = intg.run(intg.ldif(ident, _items(3)), test=True)
    assert status["status"] == "FINISHED"
    assert emu.admin("GET", "/factsheets?limit=100000") == before
    assert emu.admin("GET", f"/events?since={since}&tag=pathfinder")["events"] == []
    assert len(intg.warnings(run_id)) == 3
    assert intg.get(run_id, "progress").json()["processedContentCount"] == 3
    # test on /start works the same way
    later = intg.create(intg.ldif(ident, _items(2)), start=False)
    assert emu.rest("POST", f"{RUNS}/{later}/start", params={"test": "true"}).status_code == 200
    assert intg.wait(later)["status"] == "FINISHED"
    assert emu.admin("GET", "/factsheets?limit=100000") == before


def test_warnings_paging_and_limits(emu: Api) -> None:
    intg = Integration(emu, run=0.0)
    proc = fact_sheet_processor(
        "Application", "app", update("name", "${data.name}"), update("description", "${data.none}")
    )
    ident = intg.configure([proc])
    run_id, _ = intg.run(intg.ldif(ident, _items(150)))
    first = intg.warnings(run_id)
    assert len(first) == 100 and first[0]["content"] == "a-0"
    assert set(first[0]) == {"processor", "content", "message", "detail", "category", "status"}
    rest = intg.warnings(run_id, offset=100, limit=100)
    assert [w["content"] for w in rest] == [f"a-{i}" for i in range(100, 150)]
    assert intg.warnings(run_id, offset=149, limit=1)[0]["content"] == "a-149"
    assert intg.warnings(run_id, offset=500) == []
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}):
        assert intg.get(run_id, "warnings", **params).status_code == 400
    assert intg.get(run_id, "progress").json()["warningsCount"] == 150


def test_with_config_and_fast_runs(emu: Api) -> None:
    intg = Integration(emu)
    config = {**connector("adhoc"), "processors": [fact_sheet_processor("Application", "app")]}
    ldif = intg.ldif(connector("adhoc"), _items(2))
    r = emu.rest(
        "POST",
        f"{RUNS}/withConfig",
        json={"input": ldif, "processorConfiguration": config},
        params={"start": "true"},
    )
    assert r.status_code == 200
    assert intg.wait(r.json()["id"])["status"] == "FINISHED"
    assert set(intg.by_external("Application")) == {"a-0", "a-1"}
    assert emu.rest("GET", f"{API}/configurations").json() == []  # nothing stored

    r = emu.rest(
        "POST",
        f"{API}/fastSynchronizationRuns/withConfig",
        json={
            "input": intg.ldif(connector("adhoc"), _items(3, "f")),
            "processorConfiguration": config,
        },
        params={"test": "true"},
    )
    body = r.json()
    assert r.status_code == 200 and body["status"] == "FINISHED"
    assert body["stats"]["processedContentCount"] == 3 and body["stats"]["processorCount"] == 1
    assert body["stats"]["duration"].startswith("PT") and body["results"] is None
    assert not any(k.startswith("f-") for k in intg.by_external("Application"))  # test=true

    stored = intg.configure(config["processors"], name="fast")
    r = emu.rest("POST", f"{API}/fastSynchronizationRuns", json=intg.ldif(stored, _items(1, "g")))
    assert r.status_code == 200 and "g-0" in intg.by_external("Application")
    out = intg.configure([], name="out", direction="outbound", scope={})
    r = emu.rest("POST", f"{API}/fastSynchronizationRuns", json=intg.ldif(out, []))
    assert (
        r.status_code == 400
        and r.json()["message"] == "Fast execution does not support outbound yet"
    )


def test_body_limit_is_413(emu: Api) -> None:
    intg = Integration(emu)
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    intg.settings(maxBodyBytes=2000)
    r = emu.rest("POST", RUNS, json=intg.ldif(ident, _items(100)))
    assert r.status_code == 413
    assert emu.rest("POST", RUNS, json=intg.ldif(ident, _items(1))).status_code == 200


def test_admin_runs_config_and_reset(emu: Api) -> None:
    intg = Integration(emu)
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    run_id, _ = intg.run(intg.ldif(ident, _items(2)))
    runs = emu.admin("GET", "/integration/runs")["runs"]
    assert [(r["id"], r["status"], r["progress"]["processedContentCount"]) for r in runs] == [
        (run_id, "FINISHED", 2)
    ]
    one = emu.admin("GET", f"/integration/runs/{run_id}")
    assert one["warnings"] == [] and one["results"] is None
    bad = emu.admin_raw("PUT", "/integration/config", json={"runSecs": 1})
    assert bad.status_code == 400 and "runSeconds" in bad.json()["error"]
    assert (
        emu.admin_raw("PUT", "/integration/config", json={"failAfterFraction": 2}).status_code
        == 400
    )
    cfg = emu.admin("GET", "/integration/config")
    assert emu.admin("PUT", "/integration/config", json=cfg) == cfg  # a GET answer goes back as is
    emu.admin("POST", "/reset")
    assert emu.admin("GET", "/integration/runs")["runs"] == []
    assert emu.rest("GET", f"{API}/configurations").json() == []
    assert emu.admin("GET", "/integration/config")["runSeconds"] == 0.5  # SandboxConfig default
    assert intg.get(run_id, "status").status_code == 404


def test_examples_and_execution_groups(emu: Api) -> None:
    intg = Integration(emu)
    starter = emu.rest("GET", f"{API}/examples/starterExample").json()
    assert starter["processorConfiguration"]["connectorId"] == "importProjectsExample"
    advanced = emu.rest("GET", f"{API}/examples/advancedExample").json()
    r = emu.rest("POST", f"{API}/fastSynchronizationRuns/withConfig", json=advanced)
    assert r.status_code == 200 and r.json()["warnings"] == []
    assert emu.rest("GET", f"{API}/examples/nope").status_code == 404

    intg.configure([fact_sheet_processor("Application", "app")], name="g1", executionGroups=["grp"])
    intg.configure([fact_sheet_processor("ITComponent", "itc")], name="g2", executionGroups=["grp"])
    content = [
        {"type": "app", "id": "a-1", "data": {"name": "A"}},
        {"type": "itc", "id": "i-1", "data": {"name": "I"}},
    ]
    r = emu.rest(
        "POST",
        f"{RUNS}/withExecutionGroup",
        params={"groupName": "grp", "start": "true"},
        json=intg.ldif(connector("g1"), content),
    )
    assert r.status_code == 200 and len(r.json()["processorConfiguration"]["processors"]) == 2
    assert intg.wait(r.json()["id"])["status"] == "FINISHED"
    assert "a-1" in intg.by_external("Application") and "i-1" in intg.by_external("ITComponent")
    r = emu.rest(
        "POST",
        f"{RUNS}/withExecutionGroup",
        params={"groupName": "none"},
        json=intg.ldif(connector("g1"), []),
    )
    assert r.status_code == 404
