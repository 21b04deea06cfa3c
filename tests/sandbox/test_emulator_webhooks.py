"""Webhooks API v1: subscriptions, PUSH delivery, PULL events and cursor, custom events (§4)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import requests

from tests.sandbox.conftest import WEBHOOKS, Api, Receiver

JsonDict = dict[str, Any]
SUBS = f"{WEBHOOKS}/subscriptions"
ENVELOPE_KEYS = {
    "id",
    "createdAt",
    "type",
    "sourceName",
    "workspaceId",
    "userId",
    "tags",
    "payload",
    "sequenceInfo",
}


def _push(receiver: Receiver, **extra: Any) -> JsonDict:
    body = {
        "identifier": "time-tagger",
        "deliveryType": "PUSH",
        "tagSets": [["pathfinder", "FACT_SHEET_CREATED"], ["pathfinder", "FACT_SHEET_UPDATED"]],
        "targetUrl": receiver.url,
        "targetMethod": "POST",
        "authorizationHeader": "Bearer shared-secret",
        "callback": "delivery.active = true;",
        "ignoreError": False,
        "payloadMode": "DEFAULT",
        "active": True,
    }
    body.update(extra)
    return body


def _create(api: Api, body: JsonDict) -> JsonDict:
    r = api.rest("POST", SUBS, json=body)
    assert r.status_code == 200, r.text
    data: JsonDict = r.json()["data"]
    return data


def _first_app(api: Api) -> JsonDict:
    app: JsonDict = api.admin("GET", "/factsheets?type=Application&limit=1")["factSheets"][0]
    return app


def _rename(api: Api, fs_id: str, name: str) -> None:
    q = """mutation ($id: ID!, $n: String) { updateFactSheet(id: $id,
             patches: [{op: replace, path: "/name", value: $n}]) { factSheet { rev } } }"""
    api.data(q, {"id": fs_id, "n": name})


def _idle(api: Api) -> None:
    assert api.admin("POST", "/deliveries/wait?timeout=10")["idle"] is True


def test_subscription_crud(emu: Api, emu_receiver: Receiver) -> None:
    created = _create(emu, _push(emu_receiver))
    ws = emu.admin("GET", "/workspace")
    assert created["id"] and created["workspaceId"] == ws["workspace"]["id"]
    assert created["userId"] == next(u["id"] for u in ws["users"] if u["technical"])
    for key in (
        "createdAt",
        "workspaceConstraint",
        "maxBatchSize",
        "errorCount",
        "lastDeliveryStatus",
    ):
        assert key in created
    r = emu.rest("GET", f"{SUBS}/{created['id']}")
    env = r.json()
    assert env["status"] == "OK" and env["errors"] == [] and env["data"] == created
    _create(emu, _push(emu_receiver, identifier="other"))
    listed = emu.rest("GET", SUBS).json()
    assert listed["total"] == 2 and len(listed["data"]) == 2
    only = emu.rest("GET", SUBS, params={"identifier": "time-tagger"}).json()["data"]
    assert [s["id"] for s in only] == [created["id"]]
    updated = emu.rest("PUT", f"{SUBS}/{created['id']}", json=_push(emu_receiver, active=False))
    assert updated.status_code == 200 and updated.json()["data"]["active"] is False
    assert updated.json()["data"]["createdAt"] == created["createdAt"]
    deleted = emu.rest("DELETE", f"{SUBS}/{created['id']}")
    assert deleted.json()["data"]["id"] == created["id"]
    assert emu.rest("GET", f"{SUBS}/{created['id']}").status_code == 404


def test_subscription_validation(emu: Api, emu_receiver: Receiver) -> None:
    cases = [
        (_push(emu_receiver, targetUrl=None), "targetUrl"),
        ({k: v for k, v in _push(emu_receiver).items() if k != "ignoreError"}, "ignoreError"),
        (_push(emu_receiver, identifier="x" * 256), "identifier"),
        (_push(emu_receiver, deliveryType="EMAIL"), "deliveryType"),
        (_push(emu_receiver, payloadMode="ALL"), "payloadMode"),
        (_push(emu_receiver, authorizationHeader="a" * 4097), "authorizationHeader"),
    ]
    for body, field in cases:
        r = emu.rest("POST", SUBS, json=body)
        assert r.status_code == 400, field
        env = r.json()
        assert env["status"] == "ERROR"
        assert field in [e["value"] for e in env["errors"]]
    assert emu.rest("POST", SUBS, json=_push(emu_receiver, identifier="x" * 255)).status_code == 200
    pull = {"identifier": "p", "deliveryType": "PULL", "ignoreError": False}
    assert emu.rest("POST", SUBS, json=pull).status_code == 200


def test_push_delivers_default_payload_with_authorization(emu: Api, emu_receiver: Receiver) -> None:
    sub = _create(emu, _push(emu_receiver))
    app = _first_app(emu)
    _rename(emu, app["id"], "Payroll NG")
    got = emu_receiver.wait_for(1)
    req = got[0]
    assert req["method"] == "POST"
    assert req["headers"]["Authorization"] == "Bearer shared-secret"
    assert req["headers"]["Content-Type"] == "application/json"
    payload = req["body"]
    assert payload["type"] == "FactSheetUpdatedEvent"
    ws = emu.admin("GET", "/workspace")
    assert payload["workspaceId"] == ws["workspace"]["id"]
    assert payload["userId"] == next(u["id"] for u in ws["users"] if u["technical"])
    assert isinstance(payload["id"], int) and isinstance(payload["transactionSequenceNumber"], int)
    fs = payload["factSheet"]
    assert fs["id"] == app["id"] and fs["rev"] == app["rev"] + 1 and fs["name"] == "Payroll NG"
    assert fs["type"] == "Application" and fs["status"] == "ACTIVE" and fs["lxState"]
    assert {f["name"] for f in fs["fields"]} == set(app["values"])
    assert all(set(f) >= {"name", "data"} for f in fs["fields"])
    _idle(emu)
    log = emu.rest("GET", f"{SUBS}/{sub['id']}/deliveries").json()
    assert log["total"] == 1
    delivery = log["data"][0]
    for key in (
        "id",
        "createdAt",
        "requestHeaders",
        "payload",
        "targetUrl",
        "targetMethod",
        "success",
        "httpStatus",
        "responseBody",
        "duration",
        "eventId",
    ):
        assert key in delivery
    assert delivery["success"] is True and delivery["httpStatus"] == 200
    state = emu.rest("GET", f"{SUBS}/{sub['id']}").json()["data"]
    assert state["lastDeliveryStatus"] == 200 and state["errorCount"] == 0


def test_human_user_events_carry_the_human_id(
    emu: Api, emu_human: Api, emu_receiver: Receiver
) -> None:
    _create(emu, _push(emu_receiver))
    _rename(emu_human, _first_app(emu)["id"], "By a human")
    human = next(u for u in emu.admin("GET", "/workspace")["users"] if not u["technical"])
    assert emu_receiver.wait_for(1)[0]["body"]["userId"] == human["id"]


def test_payload_modes_and_tag_events(emu: Api, emu_receiver: Receiver) -> None:
    _create(
        emu,
        _push(
            emu_receiver,
            payloadMode="WRAPPED_EVENT",
            tagSets=[["pathfinder", "FACT_SHEET_TAG_ADDED"]],
        ),
    )
    app = _first_app(emu)
    value = json.dumps([{"tagName": "fresh"}])
    q = """mutation ($id: ID!, $v: String) { updateFactSheet(id: $id,
             patches: [{op: add, path: "/tags", value: $v}]) { factSheet { rev } } }"""
    emu.data(q, {"id": app["id"], "v": value})
    envelope = emu_receiver.wait_for(1)[0]["body"]
    assert set(envelope) >= ENVELOPE_KEYS
    assert envelope["sourceName"] == "EAM"
    assert envelope["tags"] == ["pathfinder", "FACT_SHEET_TAG_ADDED"]
    assert envelope["payload"]["tag"]["name"] == "fresh"
    _idle(emu)
    assert len(emu_receiver.ok()) == 1  # the UPDATED event did not match the tag set


def test_tag_sets_filter_and_inactive(emu: Api, emu_receiver: Receiver) -> None:
    _create(
        emu,
        _push(
            emu_receiver, tagSets=[["pathfinder", "FACT_SHEET_ARCHIVED"]], payloadMode="NO_PAYLOAD"
        ),
    )
    _create(emu, _push(emu_receiver, identifier="off", active=False, tagSets=[]))
    app = _first_app(emu)
    _rename(emu, app["id"], "ignored")
    q = """mutation ($id: ID!) { updateFactSheet(id: $id,
             patches: [{op: add, path: "/status", value: "ARCHIVED"}]) { factSheet { rev } } }"""
    emu.data(q, {"id": app["id"]})
    _idle(emu)
    assert [r["body"] for r in emu_receiver.requests] == [{}]


def test_failed_push_is_retried_then_succeeds(emu: Api, emu_receiver: Receiver) -> None:
    sub = _create(emu, _push(emu_receiver))
    emu_receiver.fail_next = 2
    _rename(emu, _first_app(emu)["id"], "retry me")
    assert len(emu_receiver.wait_for(1)) == 1
    _idle(emu)
    statuses = [r["status"] for r in emu_receiver.requests]
    assert statuses == [500, 500, 200]
    log = emu.rest("GET", f"{SUBS}/{sub['id']}/deliveries", params={"sort": "createdAt-asc"}).json()
    assert [d["httpStatus"] for d in log["data"]] == [500, 500, 200]
    assert len({d["eventId"] for d in log["data"]}) == 1
    assert (
        emu.rest("GET", f"{SUBS}/{sub['id']}/deliveries", params={"size": 101}).status_code == 400
    )
    page = emu.rest("GET", f"{SUBS}/{sub['id']}/deliveries", params={"size": 1, "page": 2}).json()
    assert page["total"] == 3 and page["data"][0]["httpStatus"] == 500


def test_ignore_error_does_not_retry_and_counts_errors(emu: Api, emu_receiver: Receiver) -> None:
    sub = _create(emu, _push(emu_receiver, ignoreError=True))
    emu_receiver.fail_next = 5
    _rename(emu, _first_app(emu)["id"], "once")
    _idle(emu)
    assert [r["status"] for r in emu_receiver.requests] == [500]
    state = emu.rest("GET", f"{SUBS}/{sub['id']}").json()["data"]
    assert state["lastDeliveryStatus"] == 500 and state["errorCount"] == 1
    assert state["firstTimeDeliveryFailed"]


def test_delivery_faults_drop_and_fail(emu: Api, emu_receiver: Receiver) -> None:
    _create(emu, _push(emu_receiver))
    emu.admin("PUT", "/faults", json={"delivery": {"dropNext": 1, "failNext": 1}})
    app = _first_app(emu)
    _rename(emu, app["id"], "dropped")  # dropped: never sent
    _rename(emu, app["id"], "failed then retried")
    _idle(emu)
    bodies = [r["body"]["factSheet"]["name"] for r in emu_receiver.requests]
    assert bodies == ["failed then retried"]
    log = emu.admin("GET", "/deliveries")["deliveries"]
    assert [d["fault"] for d in log] == ["drop", "fail", None]
    assert emu.admin("GET", "/stats")["deliveries"]["dropped"] == 1


def _pull(api: Api, sub_id: str, **params: Any) -> JsonDict:
    r = api.rest("GET", f"{SUBS}/{sub_id}/events", params={"timeout": 0, **params})
    assert r.status_code == 200, r.text
    body: JsonDict = r.json()
    assert body["type"] == "PullResult" and body["status"] == "OK"
    return body


def test_pull_events_and_cursor(emu: Api) -> None:
    sub = _create(
        emu,
        {
            "identifier": "pull",
            "deliveryType": "PULL",
            "ignoreError": False,
            "tagSets": [["pathfinder", "FACT_SHEET_UPDATED"]],
        },
    )
    assert _pull(emu, sub["id"])["data"]["events"] == []
    app = _first_app(emu)
    _rename(emu, app["id"], "one")
    _rename(emu, app["id"], "two")
    first = _pull(emu, sub["id"])
    events = first["data"]["events"]
    assert first["total"] == 2 and len(events) == 2
    assert [e["event"]["payload"]["factSheet"]["name"] for e in events] == ["one", "two"]
    assert set(events[0]["event"]) >= ENVELOPE_KEYS
    next_cursor = first["data"]["nextCursor"]["offset"]
    assert next_cursor > events[-1]["cursor"]["offset"]
    again = _pull(emu, sub["id"])  # not committed: the same events again
    assert [e["cursor"] for e in again["data"]["events"]] == [e["cursor"] for e in events]
    commit = emu.rest("PUT", f"{SUBS}/{sub['id']}/cursor", json={"offset": next_cursor})
    assert commit.status_code == 200 and commit.json()["status"] == "OK"
    assert _pull(emu, sub["id"])["data"]["events"] == []
    back = emu.rest("PUT", f"{SUBS}/{sub['id']}/cursor", json={"offset": 0})
    assert back.status_code == 400


def test_pull_autocommit_and_long_poll(emu: Api) -> None:
    sub = _create(emu, {"identifier": "pull", "deliveryType": "PULL", "ignoreError": True})
    app = _first_app(emu)
    started = time.monotonic()
    result: list[JsonDict] = []

    def poll() -> None:
        result.append(_pull(emu, sub["id"], timeout=5, autoCommit="true"))

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.3)
    _rename(Api(emu.base_url), app["id"], "woken")
    thread.join(10)
    assert time.monotonic() - started < 4
    assert result[0]["data"]["events"]
    assert _pull(emu, sub["id"])["data"]["events"] == []  # auto-committed


def test_pull_respects_max_batch_size(emu: Api) -> None:
    sub = _create(
        emu, {"identifier": "pull", "deliveryType": "PULL", "ignoreError": False, "maxBatchSize": 1}
    )
    app = _first_app(emu)
    for i in range(4):
        _rename(emu, app["id"], f"n{i}")
    batch = _pull(emu, sub["id"])["data"]["events"]
    assert len(batch) == 1  # one event (~2 KiB) exceeds 1 KiB but is still returned


def test_custom_events(emu: Api, emu_receiver: Receiver) -> None:
    _create(emu, _push(emu_receiver, tagSets=[["custom", "HELLO"]], payloadMode="DEFAULT"))
    r = emu.rest(
        "POST",
        f"{WEBHOOKS}/events",
        json={"type": "Hello", "tags": ["custom", "HELLO"], "payload": {"x": 1}},
    )
    assert r.status_code == 200 and r.json()["data"]["id"]
    batch = emu.rest(
        "POST",
        f"{WEBHOOKS}/events/batch",
        json={
            "events": [
                {"type": "Hello", "tags": ["custom", "HELLO"], "payload": {"x": 2}},
                {"type": "Other", "tags": ["custom"], "payload": {"x": 3}},
            ]
        },
    )
    assert batch.status_code == 200 and batch.json()["total"] == 2
    got = emu_receiver.wait_for(2)
    assert sorted(g["body"]["x"] for g in got) == [1, 2]
    assert emu.rest("POST", f"{WEBHOOKS}/events", json={"tags": "nope"}).status_code == 400
    assert len(emu.admin("GET", "/events")["events"]) == 3


def test_unknown_subscription_is_404(emu: Api) -> None:
    missing = f"{SUBS}/00000000-0000-4000-8000-000000000000"
    for method in ("GET", "DELETE"):
        assert emu.rest(method, missing).status_code == 404
    assert requests.get(emu.base_url + missing, timeout=5).status_code == 401
