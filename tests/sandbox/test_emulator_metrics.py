"""Metrics v2 (§7.2): schemas and points as bare JSON, validation, append-then-delete at one
instant, range reads, timestamp normalisation, auth, admin view and reset."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from tests.sandbox.conftest import Api

JsonDict = dict[str, Any]
SCHEMAS = "/services/metrics/v2/schemas"
COSTS: JsonDict = {
    "name": "cloudCosts",
    "description": "Daily costs for cloud resources.",
    "attributes": [
        {"name": "cost", "type": "metric"},
        {"name": "factSheetId", "type": "dimension"},
    ],
}


def _schema(api: Api, body: JsonDict | None = None) -> JsonDict:
    r = api.rest("POST", SCHEMAS, json=body or COSTS)
    assert r.status_code == 201, r.text
    schema: JsonDict = r.json()
    return schema


def _post(api: Api, uuid: str, point: JsonDict, status: int = 201) -> requests.Response:
    r = api.rest("POST", f"{SCHEMAS}/{uuid}/points", json=point)
    assert r.status_code == status, (point, r.text)
    return r


def _error(r: requests.Response, status: int, fragment: str = "") -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == "ERROR" and fragment in body["message"], body


def _at(ts: str) -> str:
    return quote(ts, safe="")


def test_schemas_are_bare_json(emu: Api) -> None:
    schema = _schema(emu)
    assert set(schema) == {"uuid", "name", "description", "attributes"}
    assert schema["uuid"] and schema["attributes"] == COSTS["attributes"]
    assert {k: schema[k] for k in ("name", "description")} == {
        "name": "cloudCosts",
        "description": "Daily costs for cloud resources.",
    }
    other = _schema(emu, {"name": "users", "attributes": [{"name": "n", "type": "metric"}]})
    assert other["description"] is None
    listed = emu.rest("GET", SCHEMAS)
    assert listed.status_code == 200 and listed.json() == [schema, other]
    found = emu.rest("GET", f"{SCHEMAS}/find", params={"name": "cloudCosts"})
    assert found.status_code == 200 and found.json() == [schema]
    assert emu.rest("GET", f"{SCHEMAS}/find", params={"name": "cloud"}).json() == []
    _error(emu.rest("GET", f"{SCHEMAS}/find"), 400, "name")
    assert emu.rest("GET", f"{SCHEMAS}/{schema['uuid']}").json() == schema
    _error(emu.rest("POST", SCHEMAS, json=COSTS), 409, "cloudCosts")
    deleted = emu.rest("DELETE", f"{SCHEMAS}/{schema['uuid']}")
    assert deleted.status_code == 204 and deleted.content == b""
    _error(emu.rest("GET", f"{SCHEMAS}/{schema['uuid']}"), 404)
    _error(emu.rest("DELETE", f"{SCHEMAS}/{schema['uuid']}"), 404)
    assert emu.rest("GET", SCHEMAS).json() == [other]
    assert _schema(emu)["uuid"] != schema["uuid"]  # the name is free again


def test_schema_validation(emu: Api) -> None:
    metric = {"name": "cost", "type": "metric"}
    cases: list[tuple[Any, str]] = [
        ({"attributes": [metric]}, "name"),
        ({"name": "", "attributes": [metric]}, "name"),
        ({"name": "s", "description": 5, "attributes": [metric]}, "description"),
        ({"name": "s"}, "attributes"),
        ({"name": "s", "attributes": []}, "attributes"),
        ({"name": "s", "attributes": [{"name": "", "type": "metric"}]}, "attributes[0].name"),
        ({"name": "s", "attributes": [{"name": "c", "type": "tag"}]}, "attributes[0].type"),
        ({"name": "s", "attributes": [metric, metric]}, "duplicate"),
        ({"name": "s", "attributes": [{"name": "d", "type": "dimension"}]}, "at least one metric"),
        (
            {"name": "s", "attributes": [metric, {"name": "timestamp", "type": "metric"}]},
            "reserved",
        ),
        ({"name": "s", "attributes": ["cost"]}, "attributes[0]"),
        ([COSTS], "expected"),
    ]
    for body, fragment in cases:
        _error(emu.rest("POST", SCHEMAS, json=body), 400, fragment)
    _error(emu.rest("POST", SCHEMAS, data=b"{oops"), 400)
    assert emu.rest("GET", SCHEMAS).json() == []


def test_points_are_validated_and_normalised(emu: Api) -> None:
    uuid = _schema(emu)["uuid"]
    stored = _post(emu, uuid, {"factSheetId": "fs-1", "cost": 12.5, "timestamp": "2024-05-01"})
    assert stored.json() == {
        "timestamp": "2024-05-01T00:00:00.000Z",
        "cost": 12.5,
        "factSheetId": "fs-1",
    }
    forms = {
        "2024-05-01T02:30:00+02:00": "2024-05-01T00:30:00.000Z",
        "2024-05-01T00:30:00.123456Z": "2024-05-01T00:30:00.123Z",
        "2024-05-01T00:30:00": "2024-05-01T00:30:00.000Z",
    }
    for sent, kept in forms.items():
        assert _post(emu, uuid, {"timestamp": sent, "cost": 1}).json() == {
            "timestamp": kept,
            "cost": 1,
        }
    bad = [
        ({"cost": 1}, "timestamp"),
        ({"timestamp": "yesterday", "cost": 1}, "timestamp"),
        ({"timestamp": 1714521600, "cost": 1}, "timestamp"),
        ({"timestamp": "2024-05-01", "cost": 1, "region": "eu"}, "unknown attributes"),
        ({"timestamp": "2024-05-01", "cost": True}, "cost"),
        ({"timestamp": "2024-05-01", "cost": "12"}, "cost"),
        ({"timestamp": "2024-05-01", "cost": None}, "cost"),
        ({"timestamp": "2024-05-01", "factSheetId": 7}, "factSheetId"),
    ]
    for point, fragment in bad:
        _error(emu.rest("POST", f"{SCHEMAS}/{uuid}/points", json=point), 400, fragment)
    _error(emu.rest("POST", f"{SCHEMAS}/{uuid}/points", json=["x"]), 400)
    _error(emu.rest("POST", f"{SCHEMAS}/nope/points", json={"timestamp": "2024-05-01"}), 404)
    assert len(emu.rest("GET", f"{SCHEMAS}/{uuid}/points").json()) == 4


def test_a_second_point_at_an_instant_is_appended_until_deleted(emu: Api) -> None:
    uuid = _schema(emu)["uuid"]
    day = "2024-05-01T00:00:00.000Z"
    _post(emu, uuid, {"timestamp": day, "cost": 1, "factSheetId": "fs-1"})
    _post(emu, uuid, {"timestamp": "2024-05-01T02:00:00+02:00", "cost": 2, "factSheetId": "fs-1"})
    _post(emu, uuid, {"timestamp": "2024-05-02T00:00:00Z", "cost": 3})
    at_day = emu.rest("GET", f"{SCHEMAS}/{uuid}/points/{_at(day)}")
    assert at_day.status_code == 200 and [p["cost"] for p in at_day.json()] == [1, 2]
    same_instant = emu.rest("GET", f"{SCHEMAS}/{uuid}/points/{_at('2024-05-01T01:00:00+01:00')}")
    assert same_instant.json() == at_day.json()
    deleted = emu.rest("DELETE", f"{SCHEMAS}/{uuid}/points/{_at('2024-05-01')}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert emu.rest("GET", f"{SCHEMAS}/{uuid}/points/{_at(day)}").json() == []
    assert emu.rest("DELETE", f"{SCHEMAS}/{uuid}/points/{_at(day)}").status_code == 204
    _post(emu, uuid, {"timestamp": day, "cost": 4})  # the client's "replace the day's point"
    assert [p["cost"] for p in emu.rest("GET", f"{SCHEMAS}/{uuid}/points").json()] == [4, 3]
    _error(emu.rest("GET", f"{SCHEMAS}/{uuid}/points/not-a-time"), 400)
    _error(emu.rest("DELETE", f"{SCHEMAS}/{uuid}/points/not-a-time"), 400)
    _error(emu.rest("GET", f"{SCHEMAS}/nope/points/{_at(day)}"), 404)
    _error(emu.rest("DELETE", f"{SCHEMAS}/nope/points/{_at(day)}"), 404)


def test_range_reads(emu: Api) -> None:
    uuid = _schema(emu)["uuid"]
    for day in (3, 1, 4, 2):  # posted out of order, read oldest first
        _post(emu, uuid, {"timestamp": f"2024-05-0{day}T00:00:00Z", "cost": day})
    path = f"{SCHEMAS}/{uuid}/points"

    def costs(**params: str) -> list[int]:
        r = emu.rest("GET", path, params=params)
        assert r.status_code == 200, r.text
        return [p["cost"] for p in r.json()]

    assert costs() == [1, 2, 3, 4]
    assert costs(start="2024-05-02T00:00:00.000Z", end="2024-05-04T00:00:00.000Z") == [2, 3]
    assert costs(start="2024-05-02T02:00:00+02:00") == [2, 3, 4]  # the same instant
    assert costs(end="2024-05-02T00:00:00.001Z") == [1, 2]
    assert costs(start="2024-05-05T00:00:00Z") == []
    _error(emu.rest("GET", path, params={"start": "soon"}), 400, "start")
    _error(emu.rest("GET", path, params={"end": ""}), 400, "end")
    _error(emu.rest("GET", f"{SCHEMAS}/nope/points"), 404)


def test_auth_admin_view_and_reset(emu: Api) -> None:
    uuid = _schema(emu)["uuid"]
    day = "2024-05-01T00:00:00.000Z"
    point: JsonDict = {"timestamp": day, "cost": 1.5, "factSheetId": "fs-1"}
    _post(emu, uuid, point)
    view = emu.admin("GET", "/metrics")
    assert view == {"schemas": [{**COSTS, "uuid": uuid, "points": [point]}]}
    stats = emu.admin("GET", "/stats")["requests"]
    assert stats["POST /services/metrics/v2/schemas/{id}/points"] == 1
    for method, path in (
        ("GET", SCHEMAS),
        ("POST", SCHEMAS),
        ("GET", f"{SCHEMAS}/find?name=x"),
        ("GET", f"{SCHEMAS}/{uuid}"),
        ("DELETE", f"{SCHEMAS}/{uuid}"),
        ("POST", f"{SCHEMAS}/{uuid}/points"),
        ("GET", f"{SCHEMAS}/{uuid}/points"),
        ("GET", f"{SCHEMAS}/{uuid}/points/{_at(day)}"),
        ("DELETE", f"{SCHEMAS}/{uuid}/points/{_at(day)}"),
    ):
        r = requests.request(method, emu.base_url + path, json={}, timeout=10)
        assert r.status_code == 401, (method, path)
    emu.admin("POST", "/reset")
    assert emu.admin("GET", "/metrics") == {"schemas": []}
    assert emu.rest("GET", SCHEMAS).json() == []
