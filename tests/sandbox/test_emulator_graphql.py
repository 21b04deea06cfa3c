"""Pathfinder GraphQL: pagination, facets, reads, mutations, tags, introspection (§2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sandbox.conftest import Api

JsonDict = dict[str, Any]

PAGE = """
query ($first: Int!, $after: String) {
  allFactSheets(factSheetType: Application, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name ... on Application { functionalSuitability } } }
  }
}"""

READ = """
query ($id: ID!) {
  factSheet(id: $id) {
    id rev type name displayName status
    ... on Application { functionalSuitability technicalSuitability lxTimeClassification }
    tags { id name tagGroup { id name } }
  }
}"""

UPDATE = """
mutation ($id: ID!, $rev: Long, $patches: [Patch]!, $validateOnly: Boolean) {
  updateFactSheet(id: $id, rev: $rev, patches: $patches, validateOnly: $validateOnly) {
    factSheet { id rev name ... on Application { technicalSuitability } tags { id name } }
  }
}"""


def _workspace(api: Api) -> JsonDict:
    ws: JsonDict = api.admin("GET", "/workspace")
    return ws


def _group(api: Api, name: str) -> JsonDict:
    return next(g for g in _workspace(api)["tagGroups"] if g["name"] == name)


def _tag(api: Api, group: str, name: str) -> str:
    tag_id: str = next(t["id"] for t in _group(api, group)["tags"] if t["name"] == name)
    return tag_id


def _apps(api: Api, limit: int = 100) -> list[JsonDict]:
    items: list[JsonDict] = api.admin("GET", f"/factsheets?type=Application&limit={limit}")[
        "factSheets"
    ]
    return items


def _tags_value(*tag_ids: str) -> str:
    return json.dumps([{"tagId": t} for t in tag_ids])


def test_pagination_over_generated_workspace(emu: Api) -> None:
    emu.admin("POST", "/seed", json={"generated": {"applications": 2600, "seed": 7}})
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        conn = emu.data(PAGE, {"first": 500, "after": after})["allFactSheets"]
        assert conn["totalCount"] == 2600
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        edges = conn["edges"]
        assert conn["pageInfo"]["startCursor"] == edges[0]["cursor"]
        assert conn["pageInfo"]["endCursor"] == edges[-1]["cursor"]
        seen += [e["node"]["id"] for e in edges]
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert pages == 6
    assert len(seen) == len(set(seen)) == 2600
    again = emu.data(PAGE, {"first": 500, "after": None})["allFactSheets"]
    assert [e["node"]["id"] for e in again["edges"]] == seen[:500]


def test_page_size_limit_and_bad_cursor(emu: Api) -> None:
    emu.admin("PUT", "/config", json={"maxPageSize": 10})
    body = emu.gql(PAGE, {"first": 11})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["errorType"]
    assert emu.data(PAGE, {"first": 10})["allFactSheets"]["pageInfo"]["hasNextPage"] is True
    bad = emu.gql(PAGE, {"first": 5, "after": "not-a-cursor"})
    assert bad["data"] is None and bad["errors"]


def test_facet_filters(emu: Api) -> None:
    q = """query ($f: FilterInput) { allFactSheets(filter: $f) { totalCount
             edges { node { id type tags { id }
                            ... on Application { technicalSuitability } } } } }"""

    def run(*facets: JsonDict) -> JsonDict:
        conn: JsonDict = emu.data(q, {"f": {"facetFilters": list(facets)}})["allFactSheets"]
        return conn

    apps = run({"facetKey": "FactSheetTypes", "operator": "OR", "keys": ["Application"]})
    assert apps["totalCount"] == 50  # the archived one is hidden
    assert {e["node"]["type"] for e in apps["edges"]} == {"Application"}
    both = run(
        {"facetKey": "FactSheetTypes", "operator": "OR", "keys": ["Application", "ITComponent"]}
    )
    assert both["totalCount"] == 65
    adequate = run(
        {"facetKey": "FactSheetTypes", "keys": ["Application"]},
        {"facetKey": "technicalSuitability", "operator": "OR", "keys": ["adequate"]},
    )
    assert adequate["totalCount"] == 9
    assert all(e["node"]["technicalSuitability"] == "adequate" for e in adequate["edges"])
    not_adequate = run(
        {"facetKey": "FactSheetTypes", "keys": ["Application"]},
        {"facetKey": "technicalSuitability", "operator": "NOR", "keys": ["adequate"]},
    )
    assert not_adequate["totalCount"] == 50 - 9
    invest = _tag(emu, "TIME Model", "Invest")
    tagged = run({"facetKey": "_TAGS_", "operator": "OR", "keys": [invest]})
    assert tagged["totalCount"] >= 1
    assert all(invest in [t["id"] for t in e["node"]["tags"]] for e in tagged["edges"])
    approved = run({"facetKey": "lxState", "operator": "OR", "keys": ["APPROVED"]})
    assert 0 < approved["totalCount"] < 71
    first_two = [e["node"]["id"] for e in apps["edges"][:2]]
    by_ids = emu.data(q, {"f": {"ids": first_two}})["allFactSheets"]
    assert {e["node"]["id"] for e in by_ids["edges"]} == set(first_two)


def test_invalid_facet_key_is_an_error_without_data(emu: Api) -> None:
    body = emu.gql(
        '{ allFactSheets(filter: {facetFilters: [{facetKey: "noSuchKey", keys: ["x"]}]}) '
        "{ totalCount } }"
    )
    assert body["data"] is None
    assert "noSuchKey" in body["errors"][0]["message"]


def test_fact_sheet_read_and_unknown_id(emu: Api) -> None:
    app = _apps(emu)[0]
    fs = emu.data(READ, {"id": app["id"]})["factSheet"]
    assert fs["id"] == app["id"] and fs["type"] == "Application" and fs["rev"] == app["rev"]
    assert fs["functionalSuitability"] == app["values"].get("functionalSuitability")
    assert emu.data(READ, {"id": "00000000-0000-4000-8000-000000000000"})["factSheet"] is None


def test_replace_tags_bumps_rev_and_keeps_other_groups(emu: Api) -> None:
    app = _apps(emu)[0]  # carries a TIME tag and a Hosting tag
    tags_before = app["tagIds"]
    invest = _tag(emu, "TIME Model", "Invest")
    time_ids = {t["id"] for t in _group(emu, "TIME Model")["tags"]}
    keep = [t for t in tags_before if t not in time_ids]
    result = emu.data(
        UPDATE,
        {
            "id": app["id"],
            "rev": app["rev"],
            "patches": [{"op": "replace", "path": "/tags", "value": _tags_value(invest, *keep)}],
        },
    )["updateFactSheet"]["factSheet"]
    assert result["rev"] == app["rev"] + 1
    assert {t["id"] for t in result["tags"]} == {invest, *keep}
    state = emu.admin("GET", f"/factsheets/{app['id']}")
    assert set(state["tagIds"]) == {invest, *keep}


def test_noop_patch_changes_nothing(emu: Api) -> None:
    app = _apps(emu)[0]
    before = emu.admin("GET", "/events")["endOffset"]
    patch = {"op": "replace", "path": "/tags", "value": _tags_value(*reversed(app["tagIds"]))}
    fs = emu.data(UPDATE, {"id": app["id"], "rev": app["rev"], "patches": [patch]})
    assert fs["updateFactSheet"]["factSheet"]["rev"] == app["rev"]
    assert emu.admin("GET", "/events")["endOffset"] == before


def test_single_group_constraint_violation(emu: Api) -> None:
    app = _apps(emu)[0]
    invest = _tag(emu, "TIME Model", "Invest")
    migrate = _tag(emu, "TIME Model", "Migrate")
    body = emu.gql(
        UPDATE,
        {
            "id": app["id"],
            "patches": [{"op": "add", "path": "/tags", "value": _tags_value(invest, migrate)}],
        },
    )
    assert body["data"]["updateFactSheet"] is None
    assert body["errors"][0]["extensions"]["errorType"] == "CONSTRAINT_VIOLATION"
    assert body["errors"][0]["path"] == ["updateFactSheet"]
    assert emu.admin("GET", f"/factsheets/{app['id']}")["rev"] == app["rev"]


def test_restricted_group_rejects_other_types(emu: Api) -> None:
    itc = emu.admin("GET", "/factsheets?type=ITComponent&limit=1")["factSheets"][0]
    invest = _tag(emu, "TIME Model", "Invest")
    body = emu.gql(
        UPDATE,
        {
            "id": itc["id"],
            "patches": [{"op": "add", "path": "/tags", "value": _tags_value(invest)}],
        },
    )
    assert body["errors"][0]["extensions"]["errorType"] == "CONSTRAINT_VIOLATION"


def test_stale_rev_is_a_revision_clash(emu: Api) -> None:
    app = _apps(emu)[0]
    patch = [{"op": "replace", "path": "/technicalSuitability", "value": "adequate"}]
    if app["values"].get("technicalSuitability") == "adequate":
        patch[0]["value"] = "inappropriate"
    body = emu.gql(UPDATE, {"id": app["id"], "rev": app["rev"] - 1, "patches": patch})
    error = body["errors"][0]
    assert error["extensions"]["errorType"] == "REVISION_CLASH"
    assert error["message"] == (
        f"DB revision of Fact Sheet has changed: {app['rev']} instead of given {app['rev'] - 1}"
    )
    ok = emu.data(UPDATE, {"id": app["id"], "patches": patch})  # rev omitted: no check
    assert ok["updateFactSheet"]["factSheet"]["rev"] == app["rev"] + 1


def test_validate_only_saves_nothing(emu: Api) -> None:
    app = _apps(emu)[0]
    before = emu.admin("GET", "/events")["endOffset"]
    patch = [{"op": "replace", "path": "/name", "value": "Renamed"}]
    fs = emu.data(UPDATE, {"id": app["id"], "patches": patch, "validateOnly": True})
    assert fs["updateFactSheet"]["factSheet"]["name"] == "Renamed"
    state = emu.admin("GET", f"/factsheets/{app['id']}")
    assert state["name"] == app["name"] and state["rev"] == app["rev"]
    assert emu.admin("GET", "/events")["endOffset"] == before


def test_field_patches_and_invalid_values(emu: Api) -> None:
    app = _apps(emu)[0]
    q = """mutation ($id: ID!, $p: [Patch]!) { updateFactSheet(id: $id, patches: $p) {
             factSheet { rev
               ... on Application { lxTimeClassification technicalSuitability } } } }"""
    out = emu.data(
        q,
        {
            "id": app["id"],
            "p": [
                {"op": "replace", "path": "/lxTimeClassification", "value": "invest"},
                {"op": "remove", "path": "/technicalSuitability"},
            ],
        },
    )["updateFactSheet"]["factSheet"]
    assert out["lxTimeClassification"] == "invest" and out["technicalSuitability"] is None
    bad = emu.gql(
        q,
        {
            "id": app["id"],
            "p": [{"op": "replace", "path": "/technicalSuitability", "value": "great"}],
        },
    )
    assert bad["data"]["updateFactSheet"] is None and bad["errors"]
    unknown = emu.gql(q, {"id": app["id"], "p": [{"op": "replace", "path": "/nope", "value": "x"}]})
    assert unknown["errors"]


def test_aliased_mutations_fail_individually(emu: Api) -> None:
    a, b = _apps(emu)[:2]
    q = """mutation ($a: ID!, $b: ID!, $ra: Long, $rb: Long) {
      first: updateFactSheet(id: $a, rev: $ra,
                             patches: [{op: replace, path: "/description", value: "one"}]) {
        factSheet { id rev } }
      second: updateFactSheet(id: $b, rev: $rb,
                              patches: [{op: replace, path: "/description", value: "two"}]) {
        factSheet { id rev } }
    }"""
    body = emu.gql(q, {"a": a["id"], "b": b["id"], "ra": a["rev"], "rb": b["rev"] + 5})
    assert body["data"]["first"]["factSheet"]["rev"] == a["rev"] + 1
    assert body["data"]["second"] is None
    assert len(body["errors"]) == 1 and body["errors"][0]["path"] == ["second"]
    assert body["errors"][0]["extensions"]["errorType"] == "REVISION_CLASH"
    stats = emu.admin("GET", "/stats")
    assert stats["graphql"]["updateFactSheet"] >= 2


def test_archive_hides_from_lists(emu: Api) -> None:
    app = _apps(emu)[0]
    q = """mutation ($id: ID!) { updateFactSheet(id: $id, comment: "retired",
             patches: [{op: add, path: "/status", value: "ARCHIVED"}]) { factSheet { status } } }"""
    assert emu.data(q, {"id": app["id"]})["updateFactSheet"]["factSheet"]["status"] == "ARCHIVED"
    count = emu.data("{ allFactSheets(factSheetType: Application) { totalCount } }")
    assert count["allFactSheets"]["totalCount"] == 49


def test_tag_name_patch_creates_other_tag(emu: Api) -> None:
    app = _apps(emu)[0]
    value = json.dumps([{"tagName": "brand-new"}])
    out = emu.data(
        UPDATE, {"id": app["id"], "patches": [{"op": "add", "path": "/tags", "value": value}]}
    )
    names = [t["name"] for t in out["updateFactSheet"]["factSheet"]["tags"]]
    assert "brand-new" in names
    tags = emu.data(
        '{ allTags(filter: {nameSubstring: "brand"}) { edges { node { name tagGroup { id } } } } }'
    )
    assert [e["node"] for e in tags["allTags"]["edges"]] == [
        {"name": "brand-new", "tagGroup": None}
    ]


def test_create_fact_sheet(emu: Api) -> None:
    q = """mutation { createFactSheet(input: {name: "Fresh", type: Application},
             patches: [{op: replace, path: "/functionalSuitability", value: "perfect"}]) {
             factSheet { id rev name type ... on Application { functionalSuitability } } } }"""
    fs = emu.data(q)["createFactSheet"]["factSheet"]
    assert fs["name"] == "Fresh" and fs["functionalSuitability"] == "perfect" and fs["rev"] == 0
    events = emu.admin("GET", "/events?tag=FACT_SHEET_CREATED")["events"]
    assert events[-1]["event"]["payload"]["factSheet"]["id"] == fs["id"]


def test_upsert_tag_group_and_tag_are_idempotent(emu: Api) -> None:
    group_q = """mutation { upsertTagGroup(name: "Lifecycle Flags", mode: SINGLE,
                   restrictToFactSheetTypes: Application) {
                   id name mode restrictToFactSheetTypes } }"""
    tag_q = """mutation { upsertTag(name: "Sunset", tagGroupName: "Lifecycle Flags",
                 description: "d", color: "#f8333c") { id name color tagGroup { id name } } }"""
    g1 = emu.data(group_q)["upsertTagGroup"]
    g2 = emu.data(group_q)["upsertTagGroup"]
    assert g1 == g2 and g1["mode"] == "SINGLE" and g1["restrictToFactSheetTypes"] == ["Application"]
    t1 = emu.data(tag_q)["upsertTag"]
    t2 = emu.data(tag_q)["upsertTag"]
    assert t1 == t2 and t1["tagGroup"]["id"] == g1["id"] and t1["color"] == "#f8333c"
    groups = emu.data("{ allTagGroups { edges { node { name tags { totalCount } } } } }")
    names = [e["node"]["name"] for e in groups["allTagGroups"]["edges"]]
    assert names.count("Lifecycle Flags") == 1


def test_create_tag(emu: Api) -> None:
    group_id = _group(emu, "Business Domain")["id"]
    q = """mutation ($g: ID) {
             createTag(name: "Legal", tagGroupId: $g, color: "#000000") { id name } }"""
    assert emu.data(q, {"g": group_id})["createTag"]["name"] == "Legal"
    dup = emu.gql(q, {"g": group_id})
    assert dup["data"]["createTag"] is None and dup["errors"]


def test_all_tags_by_group_name(emu: Api) -> None:
    q = '{ allTags(filter: {tagGroupName: "TIME Model"}) { edges { node { id name color } } } }'
    nodes = [e["node"] for e in emu.data(q)["allTags"]["edges"]]
    assert [n["name"] for n in nodes] == ["Tolerate", "Invest", "Migrate", "Eliminate"]
    assert {n["name"]: n["color"] for n in nodes}["Invest"] == "#00b361"


ENUMS = (
    """{ __type(name: "Application") { fields { name type { kind name enumValues { name } } } } }"""
)


def _enum_values(api: Api, field: str) -> list[str]:
    fields = api.data(ENUMS)["__type"]["fields"]
    spec = next(f for f in fields if f["name"] == field)
    assert spec["type"]["kind"] == "ENUM"
    return [v["name"] for v in spec["type"]["enumValues"]]


def test_introspection_lists_fit_values_in_order(emu: Api) -> None:
    assert _enum_values(emu, "functionalSuitability") == [
        "unreasonable",
        "insufficient",
        "appropriate",
        "perfect",
    ]
    assert _enum_values(emu, "technicalSuitability") == [
        "inappropriate",
        "unreasonable",
        "adequate",
        "fullyAppropriate",
    ]
    assert _enum_values(emu, "lxTimeClassification") == [
        "tolerate",
        "invest",
        "migrate",
        "eliminate",
    ]
    schema = emu.data("{ __schema { queryType { name } types { name } } }")["__schema"]
    assert {"BaseFactSheet", "FactSheetType", "Long", "Patch"} <= {
        t["name"] for t in schema["types"]
    }


@pytest.mark.parametrize("via", ["seed", "datamodel"])
def test_data_model_override_changes_order(emu: Api, via: str) -> None:
    order = ["poor", "fair", "good", "excellent"]
    override = {"Application": {"technicalSuitability": order, "lxTimeClassification": None}}
    if via == "seed":
        emu.admin("POST", "/seed", json={"fixture": "demo", "dataModel": override})
    else:
        emu.admin("PUT", "/datamodel", json=override)
    assert _enum_values(emu, "technicalSuitability") == order
    names = [f["name"] for f in emu.data(ENUMS)["__type"]["fields"]]
    assert "lxTimeClassification" not in names
    app = _apps(emu)[0]
    q = """mutation ($id: ID!) { updateFactSheet(id: $id, patches: [{op: replace,
             path: "/technicalSuitability", value: "good"}]) {
             factSheet { ... on Application { technicalSuitability } } } }"""
    assert (
        emu.data(q, {"id": app["id"]})["updateFactSheet"]["factSheet"]["technicalSuitability"]
        == "good"
    )


def test_syntax_and_validation_errors(emu: Api) -> None:
    body = emu.gql("{ allFactSheets(")
    assert body["data"] is None and body["errors"][0]["locations"]
    body = emu.gql("{ noSuchField }")
    assert body["data"] is None and "noSuchField" in body["errors"][0]["message"]
    assert emu.rest("POST", "/services/pathfinder/v1/graphql", data="nope").status_code == 400
