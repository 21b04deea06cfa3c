"""Number and text fields, completion, lifecycle, comments, UserGroup relations and the generated
workspace's quality figures, over real HTTP GraphQL against the emulator."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.sandbox.conftest import Api

pytestmark = pytest.mark.sandbox

JsonDict = dict[str, Any]

UPDATE = """
mutation ($id: ID!, $patches: [Patch]!) {
  updateFactSheet(id: $id, patches: $patches) {
    factSheet { id rev ... on Application { cloudReadinessScore cloudReadinessNote
      lifecycle { asString phases { phase startDate } } } }
  }
}"""
READ = """
query ($id: ID!) { factSheet(id: $id) { id rev completion { completion percentage }
  comments { totalCount edges { node { id message status createdAt author { id } } } }
  ... on Application { cloudReadinessScore cloudReadinessNote
    lifecycle { asString phases { phase startDate } }
    relApplicationToUserGroup { totalCount edges { node { id type factSheet { id name type } } } }
  } } }"""
COMMENT = """
mutation ($id: ID!, $message: String!, $status: CommentStatus) {
  createComment(factSheetId: $id, message: $message, status: $status) {
    id message status createdAt author { id displayName } factSheet { id }
  }
}"""
PAGE = """
query ($after: String) {
  allFactSheets(factSheetType: Application, first: 20, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id lxState completion { completion percentage }
      subscriptions { edges { node { type user { id email technicalUser } roles { name } } } }
      ... on Application { lifecycle { asString phases { phase startDate } }
        relApplicationToUserGroup { edges { node { factSheet { id name type } } } } } } }
  }
}"""


def _app(api: Api, name: str) -> JsonDict:
    apps = api.admin("GET", "/factsheets?type=Application&limit=1000")["factSheets"]
    found: JsonDict = next(a for a in apps if a["name"] == name)
    return found


def _patch(api: Api, fs_id: str, *patches: JsonDict) -> JsonDict:
    return api.gql(UPDATE, {"id": fs_id, "patches": list(patches)})


def _error_type(body: JsonDict) -> str:
    error_type: str = body["errors"][0]["extensions"]["errorType"]
    return error_type


def _read(api: Api, fs_id: str) -> JsonDict:
    node: JsonDict = api.data(READ, {"id": fs_id})["factSheet"]
    return node


def _all_pages(api: Api) -> list[JsonDict]:
    nodes: list[JsonDict] = []
    after: str | None = None
    while True:
        conn = api.data(PAGE, {"after": after})["allFactSheets"]
        nodes += [e["node"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return nodes
        after = conn["pageInfo"]["endCursor"]


def test_number_and_text_fields_patch_read_and_no_op(emu: Api) -> None:
    model = emu.admin("GET", "/datamodel")["Application"]
    assert model["cloudReadinessScore"] == {"type": "DOUBLE"}
    assert model["cloudReadinessNote"] == {"type": "STRING"}
    types = emu.data('{ __type(name: "Application") { fields { name type { kind name } } } }')
    kinds = {f["name"]: f["type"]["name"] for f in types["__type"]["fields"]}
    assert (kinds["cloudReadinessScore"], kinds["cloudReadinessNote"]) == ("Float", "String")
    assert "cloudReadinessScoreDescription" not in kinds

    app = _app(emu, "CRM")
    rev = app["rev"]
    score = {"op": "replace", "path": "/cloudReadinessScore", "value": "72.5"}
    note = {"op": "replace", "path": "/cloudReadinessNote", "value": " Lift & shift, 2 DBs "}
    saved = _patch(emu, app["id"], score, note)["data"]["updateFactSheet"]["factSheet"]
    assert saved["rev"] == rev + 1
    assert saved["cloudReadinessScore"] == 72.5
    assert saved["cloudReadinessNote"] == " Lift & shift, 2 DBs "
    values = emu.admin("GET", f"/factsheets/{app['id']}")["values"]
    assert values["cloudReadinessScore"] == 72.5
    assert values["cloudReadinessNote"] == " Lift & shift, 2 DBs "

    # The same number in other spellings is a no-op: no rev bump, no event.
    end = emu.admin("GET", "/events")["endOffset"]
    noops = emu.admin("GET", "/stats")["noopWrites"]
    for same in ("72.50", "7.25e1", " 72.5"):
        same_value = {"op": "replace", "path": "/cloudReadinessScore", "value": same}
        body = _patch(emu, app["id"], same_value)
        assert body["errors"] is None
        assert body["data"]["updateFactSheet"]["factSheet"]["rev"] == rev + 1
    assert emu.admin("GET", "/events")["endOffset"] == end
    assert emu.admin("GET", "/stats")["noopWrites"] == noops + 3

    for bad in ("abc", "NaN", "1,5", ""):
        body = _patch(
            emu, app["id"], {"op": "replace", "path": "/cloudReadinessScore", "value": bad}
        )
        assert body["data"]["updateFactSheet"] is None
        assert (
            _error_type(body) == "INVALID_PATCH"
            and "cloudReadinessScore" in body["errors"][0]["message"]
        )
    assert _read(emu, app["id"])["cloudReadinessScore"] == 72.5

    cleared = _patch(
        emu,
        app["id"],
        {"op": "remove", "path": "/cloudReadinessScore"},
        {"op": "replace", "path": "/cloudReadinessNote", "value": None},
    )["data"]["updateFactSheet"]["factSheet"]
    assert (cleared["cloudReadinessScore"], cleared["cloudReadinessNote"]) == (None, None)
    assert cleared["rev"] == rev + 2
    event = emu.admin("GET", f"/events?since={end}&tag=FACT_SHEET_UPDATED")["events"][-1]
    assert event["event"]["payload"]["factSheet"]["id"] == app["id"]


def test_integer_fields_and_data_model_validation(emu: Api) -> None:
    model = emu.admin("PUT", "/datamodel", json={"Application": {"riskCount": {"type": "INTEGER"}}})
    assert model["Application"]["riskCount"] == {"type": "INTEGER"}
    app = _app(emu, "Billing")
    q = """mutation ($id: ID!, $v: String) { updateFactSheet(id: $id, patches: [{op: replace,
             path: "/riskCount", value: $v}]) {
             factSheet { rev ... on Application { riskCount } } } }"""
    assert (
        emu.data(q, {"id": app["id"], "v": "3"})["updateFactSheet"]["factSheet"]["riskCount"] == 3
    )
    for bad in ("3.5", "3.0", "x", "99999999999"):
        body = emu.gql(q, {"id": app["id"], "v": bad})
        assert _error_type(body) == "INVALID_PATCH", bad

    for field, spec in (
        ("x", {"type": "FLOAT"}),
        ("x", {"type": "DOUBLE", "min": 0}),
        ("lifecycle", {"type": "STRING"}),
        ("relApplicationToX", {"type": "STRING"}),
        ("functionalSuitabilityDescription", {"type": "STRING"}),
        ("x", "DOUBLE"),
    ):
        r = emu.admin_raw("PUT", "/datamodel", json={"Application": {field: spec}})
        assert r.status_code == 400 and f"Application.{field}" in r.json()["error"], r.text

    # A fact sheet type may not take a GraphQL type's name.
    assert emu.admin_raw("PUT", "/datamodel", json={"Comment": {}}).status_code == 400

    # A field that changes kind loses its values; the schema follows.
    emu.admin("PUT", "/datamodel", json={"Application": {"riskCount": {"type": "STRING"}}})
    assert _app(emu, "Billing")["values"].get("riskCount") is None

    doc = emu.admin("GET", "/workspace")
    seed: JsonDict = {
        "workspace": doc["workspace"],
        "users": [{"id": "u-1", "username": "t", "token": "t-token", "technical": True}],
        "dataModel": {"Application": {"score": {"type": "DOUBLE"}, "n": {"type": "INTEGER"}}},
        "factSheets": [
            {"id": "a-1", "type": "Application", "name": "A", "fields": {"score": 4, "n": "7"}},
        ],
    }
    emu.admin("POST", "/seed", json={"document": seed})
    assert emu.admin("GET", "/factsheets/a-1")["values"] == {"score": 4.0, "n": 7}
    seed["factSheets"][0]["fields"] = {"n": 1.5}
    r = emu.admin_raw("POST", "/seed", json={"document": seed})
    assert r.status_code == 400 and "a-1" in r.json()["error"]


def test_completion_subscriptions_and_lifecycles_in_the_paged_read(emu: Api) -> None:
    nodes = _all_pages(emu)
    assert len(nodes) == 50
    completions = [n["completion"] for n in nodes]
    assert all(0 <= c["completion"] <= 1 for c in completions)
    assert all(c["percentage"] == round(c["completion"] * 100) for c in completions)
    assert len({c["completion"] for c in completions}) > 5
    by_id = {n["id"]: n for n in nodes}
    payroll = by_id[_app(emu, "Payroll")["id"]]
    assert (
        payroll["relApplicationToUserGroup"]["edges"][0]["node"]["factSheet"]["name"] == "Finance"
    )
    subscribed = [n for n in nodes if n["subscriptions"]["edges"]]
    assert subscribed and all(
        {"type", "user", "roles"} <= set(e["node"])
        for n in subscribed
        for e in n["subscriptions"]["edges"]
    )
    assert {n["lxState"] for n in nodes} >= {"APPROVED", "BROKEN_QUALITY_SEAL"}
    eol = [n for n in nodes if n["lifecycle"] and n["lifecycle"]["asString"] == "endOfLife"]
    assert [n["id"] for n in eol] == [_app(emu, "Fax Server")["id"]]

    # Completion is set through the admin API: no rev bump, no event.
    app = _app(emu, "Warehouse")
    end = emu.admin("GET", "/events")["endOffset"]
    answer = emu.admin("PATCH", f"/factsheets/{app['id']}", json={"completion": 0.426})
    assert answer["completion"] == {"completion": 0.426, "percentage": 43}
    node = _read(emu, app["id"])
    assert node["completion"] == {"completion": 0.426, "percentage": 43}
    assert node["rev"] == app["rev"] and emu.admin("GET", "/events")["endOffset"] == end
    event_fs = emu.admin("GET", f"/factsheets/{app['id']}")
    assert event_fs["completion"]["type"] == "SectionCompletion"
    for bad in ({"completion": 1.5}, {"completion": "0.5"}, {"completeness": 0.5}):
        assert emu.admin_raw("PATCH", f"/factsheets/{app['id']}", json=bad).status_code == 400
    assert emu.admin_raw("PATCH", "/factsheets/nope", json={"completion": 0}).status_code == 404


def test_lifecycle_whole_and_one_phase(emu: Api) -> None:
    app = _app(emu, "Warehouse")
    whole = {
        "phases": [
            {"phase": "plan", "startDate": "2017-03-12"},
            {"phase": "active", "startDate": "2018-01-01"},
            {"phase": "endOfLife", "startDate": "2099-12-31"},
        ]
    }
    body = _patch(
        emu, app["id"], {"op": "replace", "path": "/lifecycle", "value": json.dumps(whole)}
    )
    saved = body["data"]["updateFactSheet"]["factSheet"]
    assert saved["rev"] == app["rev"] + 1
    assert saved["lifecycle"] == {"asString": "active", **whole}
    one = {"op": "replace", "path": "/lifecycle/phaseOut", "value": "2020-06-30"}
    saved = _patch(emu, app["id"], one)["data"]["updateFactSheet"]["factSheet"]
    assert saved["lifecycle"]["asString"] == "phaseOut"
    assert [p["phase"] for p in saved["lifecycle"]["phases"]] == [
        "plan",
        "active",
        "phaseOut",
        "endOfLife",
    ]
    assert (
        _patch(emu, app["id"], one)["data"]["updateFactSheet"]["factSheet"]["rev"] == saved["rev"]
    )
    assert emu.admin("GET", f"/factsheets/{app['id']}")["attributes"]["lifecycle"] == {
        "plan": "2017-03-12",
        "active": "2018-01-01",
        "phaseOut": "2020-06-30",
        "endOfLife": "2099-12-31",
    }
    past = {"op": "replace", "path": "/lifecycle/endOfLife", "value": "2021-01-01"}
    saved = _patch(emu, app["id"], past)["data"]["updateFactSheet"]["factSheet"]
    assert saved["lifecycle"]["asString"] == "endOfLife"

    bad_patches = [
        {"op": "replace", "path": "/lifecycle/retired", "value": "2020-01-01"},
        {"op": "replace", "path": "/lifecycle/active", "value": "2020-02-30"},
        {"op": "replace", "path": "/lifecycle/active", "value": "01.02.2020"},
        {"op": "replace", "path": "/lifecycle", "value": "not json"},
        {"op": "replace", "path": "/lifecycle", "value": '{"phases": [{"phase": "eol"}]}'},
        {"op": "replace", "path": "/lifecycle", "value": '[{"phase": "plan"}]'},
    ]
    for bad in bad_patches:
        body = _patch(emu, app["id"], bad)
        assert body["data"]["updateFactSheet"] is None and _error_type(body) == "INVALID_PATCH", bad
    bc = emu.admin("GET", "/factsheets?type=BusinessCapability&limit=1")["factSheets"][0]
    q = """mutation ($id: ID!) { updateFactSheet(id: $id, patches: [{op: replace,
             path: "/lifecycle/active", value: "2020-01-01"}]) { factSheet { id } } }"""
    assert _error_type(emu.gql(q, {"id": bc["id"]})) == "INVALID_PATCH"

    future = {"phases": [{"phase": "plan", "startDate": "2999-01-01"}]}
    value = json.dumps(future)
    saved = _patch(emu, app["id"], {"op": "replace", "path": "/lifecycle", "value": value})
    assert saved["data"]["updateFactSheet"]["factSheet"]["lifecycle"]["asString"] is None
    cleared = _patch(emu, app["id"], {"op": "remove", "path": "/lifecycle"})
    assert cleared["data"]["updateFactSheet"]["factSheet"]["lifecycle"] is None


def test_comments_create_list_events_and_validation(emu: Api, emu_human: Api) -> None:
    app = _app(emu, "Intranet")
    end = emu.admin("GET", "/events")["endOffset"]
    first = emu.data(COMMENT, {"id": app["id"], "message": "Score 72.5 (model v1)"})[
        "createComment"
    ]
    assert first["status"] == "ACTIVE" and first["factSheet"]["id"] == app["id"]
    assert first["author"]["id"] == emu.user_id()
    closed = emu_human.data(COMMENT, {"id": app["id"], "message": "done", "status": "CLOSED"})
    assert closed["createComment"]["author"]["displayName"] == "Jane Doe"
    node = _read(emu, app["id"])
    assert node["rev"] == app["rev"]  # a comment is not a fact-sheet change
    comments = node["comments"]
    assert comments["totalCount"] == 2
    assert [e["node"]["message"] for e in comments["edges"]] == ["done", "Score 72.5 (model v1)"]
    assert [e["node"]["status"] for e in comments["edges"]] == ["CLOSED", "ACTIVE"]

    events = emu.admin("GET", f"/events?since={end}")["events"]
    assert [e["event"]["tags"] for e in events] == [["pathfinder", "COMMENT_CREATED"]] * 2
    payload = events[0]["event"]["payload"]
    assert payload["type"] == "CommentCreatedEvent" and payload["userId"] == emu.user_id()
    fs = payload["factSheet"]
    assert (fs["id"], fs["type"], fs["name"]) == (app["id"], "Application", "Intranet")
    assert payload["comment"]["id"] == first["id"]
    assert events[1]["event"]["userId"] == emu.user_id("sandbox-human-user-token")

    for message in ("", "   ", "x" * 10_001):
        body = emu.gql(COMMENT, {"id": app["id"], "message": message})
        assert body["data"]["createComment"] is None and _error_type(body) == "INVALID_INPUT"
    assert emu.data(COMMENT, {"id": app["id"], "message": "y" * 10_000})["createComment"]["id"]
    body = emu.gql(COMMENT, {"id": "00000000-0000-4000-8000-000000000000", "message": "x"})
    assert _error_type(body) == "NOT_FOUND"
    bad_status = emu.gql(COMMENT, {"id": app["id"], "message": "x", "status": "OPEN"})
    assert bad_status["data"] is None and bad_status["errors"]
    admin = emu.admin("GET", f"/factsheets/{app['id']}")["comments"]
    assert [c["message"] for c in admin][1:] == ["done", "Score 72.5 (model v1)"]
    assert admin[1]["author"]["id"] == emu.user_id("sandbox-human-user-token")


def test_user_group_relations_on_both_ends(emu: Api) -> None:
    summary = emu.admin("GET", "/workspace")
    assert summary["factSheetCounts"]["UserGroup"] == 2
    finance = next(
        f
        for f in emu.admin("GET", "/factsheets?type=UserGroup")["factSheets"]
        if f["name"] == "Finance"
    )
    q = """query ($id: ID!) { factSheet(id: $id) { ... on UserGroup {
             relUserGroupToApplication { totalCount edges { node { factSheet { name } } } } } } }"""
    back = emu.data(q, {"id": finance["id"]})["factSheet"]["relUserGroupToApplication"]
    names = {e["node"]["factSheet"]["name"] for e in back["edges"]}
    assert back["totalCount"] == 8 and {"Payroll", "Treasury", "Mainframe Ledger"} <= names
    crm = _read(emu, _app(emu, "CRM")["id"])["relApplicationToUserGroup"]
    assert [e["node"]["factSheet"]["name"] for e in crm["edges"]] == ["Sales & Marketing"]
    assert crm["edges"][0]["node"]["type"] == "relApplicationToUserGroup"
    none = _read(emu, _app(emu, "Warehouse")["id"])["relApplicationToUserGroup"]
    assert none == {"totalCount": 0, "edges": []}


def _figures(api: Api) -> JsonDict:
    """What the generated workspace holds of the new attributes, by fact sheet id."""
    listed = api.admin("GET", "/factsheets?limit=1000")["factSheets"]
    figures: JsonDict = {}
    for fs in listed:
        full = api.admin("GET", f"/factsheets/{fs['id']}")
        figures[fs["id"]] = (
            full["completion"]["completion"],
            fs["attributes"].get("lifecycle"),
            full["lxState"],
            sorted((s["type"], s["user"]["technicalUser"]) for s in full["subscriptions"]),
        )
    return figures


def test_generated_workspace_quality_figures_are_deterministic(emu: Api) -> None:
    body = {"generated": {"applications": 150, "seed": 5, "archived": 0.05}}
    emu.admin("POST", "/seed", json=body)
    first = _figures(emu)
    emu.admin("POST", "/seed", json={"generated": {"applications": 150, "seed": 6}})
    other = _figures(emu)
    emu.admin("POST", "/seed", json=body)
    assert _figures(emu) == first
    assert [v[0] for v in other.values()] != [v[0] for v in first.values()]

    apps = emu.admin("GET", "/factsheets?type=Application&limit=1000")["factSheets"]
    active = [a["id"] for a in apps if a["status"] == "ACTIVE"]
    assert len({first[i][0] for i in first}) > 20  # varied completions
    today = datetime.now(UTC).date().isoformat()
    lifecycles = [first[i][1] for i in active if first[i][1]]
    past = [lc for lc in lifecycles if lc["endOfLife"] < today]
    assert 0.25 * len(active) < len(lifecycles) < 0.55 * len(active)
    assert 0 < len(past) < len(lifecycles)
    app_ids = {a["id"] for a in apps}
    itc = [i for i in first if i not in app_ids]
    assert any(first[i][1] for i in itc)
    states = Counter(first[i][2] for i in active)
    assert states["APPROVED"] > states["BROKEN_QUALITY_SEAL"] > 0
    subs = [first[i][3] for i in active]
    assert 0.2 * len(active) < sum(1 for s in subs if not s) < 0.5 * len(active)
    kinds = {t for s in subs for t, _ in s}
    assert kinds == {"RESPONSIBLE", "ACCOUNTABLE", "OBSERVER"}
    only_technical = [s for s in subs if s and all(technical for _, technical in s)]
    assert only_technical  # owned by a technical user only: "no real owner"
    # Same shape through the paged GraphQL read.
    nodes = _all_pages(emu)
    assert {n["id"] for n in nodes} == set(active)
    assert all(n["completion"]["completion"] == first[n["id"]][0] for n in nodes)
