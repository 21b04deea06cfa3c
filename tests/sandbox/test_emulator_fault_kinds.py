"""Fault kinds: applied-then-lost answers (5xx, hang, cut), GraphQL errors, non-JSON bodies,
and Retry-After as an HTTP-date."""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import requests

from tests.sandbox.conftest import GQL, Api

JsonDict = dict[str, Any]
QUERY = "{ allTagGroups { totalCount } }"
RENAME = """mutation ($id: ID!, $n: String) { updateFactSheet(id: $id,
  patches: [{op: replace, path: "/name", value: $n}]) { factSheet { name rev } } }"""
IMF_FIXDATE = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


def _app(api: Api) -> JsonDict:
    app: JsonDict = api.admin("GET", "/factsheets?type=Application&limit=1")["factSheets"][0]
    return app


def _rule(api: Api, **rule: Any) -> JsonDict:
    created: JsonDict = api.admin("POST", "/faults/rules", json={"pathPrefix": GQL, **rule})
    return created


def _rename(api: Api, fs_id: str, name: str, timeout: float = 10) -> requests.Response:
    return api.session.post(
        api.base_url + GQL,
        json={"query": RENAME, "variables": {"id": fs_id, "n": name}},
        headers=api.headers,
        timeout=timeout,
    )


def _state(api: Api, fs_id: str) -> JsonDict:
    state: JsonDict = api.admin("GET", f"/factsheets/{fs_id}")
    return state


def _events(api: Api) -> int:
    end: int = api.admin("GET", "/events")["endOffset"]
    return end


def test_processed_then_5xx_applies_the_write(emu: Api) -> None:
    emu.login()
    app = _app(emu)
    events = _events(emu)
    rule = _rule(emu, kind="processed_then_fail", count=1)
    assert rule["failAs"] == "status" and rule["status"] == 502
    r = _rename(emu, app["id"], "applied anyway")
    assert r.status_code == 502 and r.json()["status"] == "ERROR"
    state = _state(emu, app["id"])
    assert state["name"] == "applied anyway" and state["rev"] == app["rev"] + 1
    assert _events(emu) == events + 1
    _rule(emu, kind="processed_then_fail", status=503, retryAfter=1, count=1)
    r = _rename(emu, app["id"], "again")
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert _state(emu, app["id"])["rev"] == app["rev"] + 2
    stats = emu.admin("GET", "/stats")
    assert stats["faultsByKind"] == {"processed_then_fail:status": 2}
    assert stats["graphql"]["mutations"] == 2 and stats["statusCodes"] == {
        "200": 1,
        "502": 1,
        "503": 1,
    }


def test_processed_then_timeout_hangs_past_the_read_timeout(emu: Api) -> None:
    emu.login()
    app = _app(emu)
    _rule(emu, kind="processed_then_fail", failAs="timeout", holdMs=3000, count=1)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        _rename(emu, app["id"], "written, never answered", timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert _state(emu, app["id"])["name"] == "written, never answered"
    # A patient client sees the connection closed without any answer after holdMs.
    _rule(emu, kind="processed_then_fail", failAs="timeout", holdMs=200, count=1)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        _rename(emu, app["id"], "second", timeout=5)
    assert time.monotonic() - started >= 0.2
    assert "without response" in str(info.value)
    assert _state(emu, app["id"])["name"] == "second"
    assert emu.gql_raw(QUERY).status_code == 200


def test_processed_then_reset_cuts_the_body(emu: Api) -> None:
    emu.login()
    app = _app(emu)
    _rule(emu, kind="processed_then_fail", failAs="reset", count=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _rename(emu, app["id"], "cut mid-answer")
    assert _state(emu, app["id"])["name"] == "cut mid-answer"
    raw = requests.post(
        emu.base_url + GQL,
        json={"query": QUERY},
        headers=emu.headers,
        timeout=5,
        stream=True,
    )
    assert raw.status_code == 200  # unaffected afterwards (count exhausted)
    assert emu.admin("GET", "/stats")["faultsByKind"] == {"processed_then_fail:reset": 1}


def test_graphql_errors_are_200_and_not_executed(emu: Api) -> None:
    emu.login()
    app = _app(emu)
    _rule(emu, kind="graphql_errors", count=1)
    body = _rename(emu, app["id"], "never").json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["errorType"] == "INTERNAL_ERROR"
    _rule(emu, kind="graphql_errors", errorType="REVISION_CLASH", message="stale", count=1)
    r = _rename(emu, app["id"], "never either")
    assert r.status_code == 200
    assert r.json()["errors"] == [
        {"message": "stale", "extensions": {"errorType": "REVISION_CLASH"}}
    ]
    state = _state(emu, app["id"])
    assert state["name"] == app["name"] and state["rev"] == app["rev"]


def test_malformed_bodies_are_200_non_json_and_not_executed(emu: Api) -> None:
    emu.login()
    app = _app(emu)
    _rule(emu, kind="malformed", count=1)
    html = _rename(emu, app["id"], "never")
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert html.text.startswith("<!DOCTYPE html>")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        html.json()
    _rule(emu, kind="malformed", malformedBody="truncated", count=1)
    cut = _rename(emu, app["id"], "never")
    assert cut.status_code == 200 and cut.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        cut.json()
    assert _state(emu, app["id"])["name"] == app["name"]
    assert emu.admin("GET", "/stats")["graphql"]["requests"] == 0  # nothing reached the app


def test_retry_after_as_http_date(emu: Api) -> None:
    emu.login()
    _rule(emu, status=503, retryAfter=5, retryAfterFormat="http-date", count=1)
    _rule(emu, status=429, retryAfter=5, count=1)
    dated = emu.gql_raw(QUERY)
    assert dated.status_code == 503
    value = dated.headers["Retry-After"]
    assert IMF_FIXDATE.match(value), value
    delay = parsedate_to_datetime(value).timestamp() - time.time()
    assert 4.0 <= delay <= 6.0
    seconds = emu.gql_raw(QUERY)
    assert seconds.status_code == 429 and seconds.headers["Retry-After"] == "5"


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "nope"},
        {"kind": "processed_then_fail", "status": 404},
        {"kind": "processed_then_fail", "failAs": "explode"},
        {"kind": "malformed", "malformedBody": "xml"},
        {"status": 503, "retryAfterFormat": "minutes"},
        {"status": 503, "durationSeconds": 0},
        {"status": 503, "startAfterSeconds": -1},
        {"kind": "processed_then_fail", "failAs": "timeout", "holdMs": -5},
        {"status": 503, "retry_after": 2},
        {"status": 503, "retryAfter": -1},
        {"status": 700},
        {"status": 503, "rate": 1.5},
    ],
)
def test_invalid_rules_are_rejected(emu: Api, rule: JsonDict) -> None:
    assert emu.admin_raw("POST", "/faults/rules", json=rule).status_code == 400
    assert emu.admin_raw("PUT", "/faults", json={"rules": [rule]}).status_code == 400
    assert emu.admin("GET", "/faults/rules")["rules"] == []


@pytest.mark.parametrize(
    "doc",
    [
        {"rules": {"status": 503}},
        {"rules": [503]},
        {"delivery": "drop"},
        {"delivery": {"dropNxt": 1}},
        {"delivery": {"failStatus": 200}},
        {"latencyMs": -1},
        {"tokenLifetimeSeconds": 0},
        {"latency": 5},
    ],
)
def test_invalid_fault_documents_are_rejected_and_change_nothing(emu: Api, doc: JsonDict) -> None:
    _rule(emu, status=503, count=1)
    before = emu.admin("GET", "/faults")
    assert emu.admin_raw("PUT", "/faults", json=doc).status_code == 400, doc
    assert emu.admin("GET", "/faults") == before
    assert emu.admin_raw("PUT", "/faults", json=[]).status_code == 400
    assert emu.admin_raw("POST", "/faults/rules", json=[]).status_code == 400


def test_a_faults_answer_can_be_sent_back_as_it_is(emu: Api) -> None:
    emu.admin(
        "PUT",
        "/faults",
        json={
            "seed": 3,
            "rules": [{"status": 503, "rate": 0.5}, {"kind": "malformed", "count": 2}],
            "delivery": {"dropNext": 1},
        },
    )
    saved = emu.admin("GET", "/faults")
    assert emu.admin("PUT", "/faults", json=saved) == saved  # ids, active, fired are state
