"""Fidelity: replay LeanIX's documented flows with plain ``requests`` and check documented shapes.

Query texts are copied from the reference (§1.1, §2.2, §2.3, §2.6, §2.7, §3.3, §3.4, §4.2, §4.3).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import requests

from tests.sandbox.conftest import Api

JsonDict = dict[str, Any]

# §2.2 facet filter form [V]
FACET_FORM = """{ allFactSheets(first: 2, filter: {facetFilters: [
      {facetKey: "FactSheetTypes", operator: OR, keys: ["Application"]}]}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id displayName type } } } }"""

# §2.2 type-argument form [V]
TYPE_FORM = """query ($first: Int!, $after: String) {
  allFactSheets(factSheetType: Application, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id name ... on Application { technicalSuitability functionalSuitability } } } } }"""  # noqa: E501

# §2.3 [V]
READ_ONE = """query ($id: ID!) {
  factSheet(id: $id) {
    id rev type name displayName
    ... on Application { technicalSuitability functionalSuitability }
    tags { id name tagGroup { id name shortName } }
  } }"""

# §3.4 batch variant [V]
TIME_BATCH = (
    '{allFactSheets(filter:{facetFilters:[{facetKey:"FactSheetTypes",operator:OR,'
    'keys:["Application"]}]}){ edges { node { id ... on Application '
    "{ technicalSuitability functionalSuitability } tags { id } } } } }"
)
TIME_TAGS = '{allTags(filter:{tagGroupName:"Time Model"}){ edges { node { id name } } } }'
# §2.7 [V]
TAGS_BY_NAME = (
    '{ allTags(filter: {tagGroupName: "Time Model", nameSubstring: "Inv"}) '
    "{ edges { node { id name } } } }"
)
UPSERT_GROUP = (
    'mutation { upsertTagGroup(name:"Time Model", mode:SINGLE, '
    "restrictToFactSheetTypes:Application){ id name } }"
)
UPSERT_TAG = (
    'mutation { upsertTag(name:"Invest", tagGroupName:"Time Model", description:"Invest", '
    'color:"#00b361"){ id name tagGroup{ id name } } }'
)

# §2.6 signature [V]
UPDATE_SIGNATURE = """mutation ($id: ID!, $rev: Long, $comment: String, $patches: [Patch]!, $validateOnly: Boolean) {
  updateFactSheet(id: $id, rev: $rev, comment: $comment, patches: $patches, validateOnly: $validateOnly) {
    factSheet { id rev ... on Application { tags { id name tagGroup { name } } } }
  } }"""  # noqa: E501


def _post(api: Api, query: str, variables: JsonDict | None = None) -> JsonDict:
    body: JsonDict = {"query": query}
    if variables is not None:
        body["variables"] = variables
    r = requests.post(
        api.base_url + "/services/pathfinder/v1/graphql",
        json=body,
        headers={**api.headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 200
    result: JsonDict = r.json()
    # [V] §2.8: S-TIME checks `status == 200 and result['errors'] is None`.
    assert set(result) == {"data", "errors"}
    return result


def _ok(api: Api, query: str, variables: JsonDict | None = None) -> JsonDict:
    result = _post(api, query, variables)
    assert result["errors"] is None, result["errors"]
    data: JsonDict = result["data"]
    return data


def test_token_exchange_as_documented(emu: Api) -> None:
    # D-SCIM curl: -u apitoken:{API_TOKEN} --data grant_type=client_credentials
    r = requests.post(
        emu.base_url + "/services/mtm/v1/oauth2/token",
        auth=("apitoken", "sandbox-technical-user-token"),
        data="grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["scope"] == "" and body["expired"] is False and body["token_type"] == "bearer"
    assert body["expires_in"] == 3599 and body["access_token"].startswith("eyJ")
    header = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "==="))
    assert header["alg"] == "RS256"


def test_list_application_forms(emu: Api) -> None:
    data = _ok(emu, FACET_FORM)["allFactSheets"]
    assert set(data) == {"totalCount", "pageInfo", "edges"}
    assert data["totalCount"] == 50 and len(data["edges"]) == 2
    assert data["pageInfo"]["hasNextPage"] is True and data["pageInfo"]["endCursor"]
    assert set(data["edges"][0]["node"]) == {"id", "displayName", "type"}
    assert data["edges"][0]["node"]["type"] == "Application"
    after = None
    names: list[str] = []
    while True:
        page = _ok(emu, TYPE_FORM, {"first": 40, "after": after})["allFactSheets"]
        names += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(names) == 50


def test_time_sample_flow(emu: Api) -> None:
    # Set-up as in the S-TIME python README (idempotent against the existing group).
    group = _ok(emu, UPSERT_GROUP)["upsertTagGroup"]
    tag = _ok(emu, UPSERT_TAG)["upsertTag"]
    assert tag["tagGroup"]["id"] == group["id"]
    assert [e["node"]["name"] for e in _ok(emu, TAGS_BY_NAME)["allTags"]["edges"]] == ["Invest"]

    # §3.4: resolve the TIME tag ids and read all Applications without pagination.
    tag_ids = {
        e["node"]["name"].lower(): e["node"]["id"] for e in _ok(emu, TIME_TAGS)["allTags"]["edges"]
    }
    assert set(tag_ids) == {"tolerate", "invest", "migrate", "eliminate"}
    apps = [e["node"] for e in _ok(emu, TIME_BATCH)["allFactSheets"]["edges"]]
    assert len(apps) == 50
    target = next(
        a
        for a in apps
        if a["technicalSuitability"] == "adequate" and a["functionalSuitability"] == "perfect"
    )

    # §3.3 step 2: the webhook function's read (alias tagId).
    read = _ok(
        emu,
        f'{{factSheet(id:"{target["id"]}"){{ id rev ... on Application '
        "{ technicalSuitability functionalSuitability } tags { tagId: id } } }",
    )["factSheet"]
    assert set(read) == {"id", "rev", "technicalSuitability", "functionalSuitability", "tags"}
    assert all(set(t) == {"tagId"} for t in read["tags"])

    # §3.3 steps 5-6: keep non-TIME tags, add Invest, replace /tags with rev, validateOnly false.
    new_tags = [{"tagId": tag_ids["invest"]}] + [
        t for t in read["tags"] if t["tagId"] not in tag_ids.values()
    ]
    mutation = """mutation ($id: ID!, $rev: Long, $patches: [Patch]!) {
      updateFactSheet(id: $id, rev: $rev, patches: $patches, validateOnly: false) {
        factSheet { ...on Application { displayName tags { name tagGroup { name } } } } } }"""
    patches = [{"op": "replace", "path": "/tags", "value": json.dumps(new_tags)}]
    out = _ok(emu, mutation, {"id": read["id"], "rev": read["rev"], "patches": patches})
    fs = out["updateFactSheet"]["factSheet"]
    assert {"name": "Invest", "tagGroup": {"name": "TIME Model"}} in fs["tags"]
    assert (
        sum(1 for t in fs["tags"] if t["tagGroup"] and t["tagGroup"]["name"] == "TIME Model") == 1
    )

    # §2.3 read back, §2.6 signature with a stale rev -> REVISION_CLASH.
    after = _ok(emu, READ_ONE, {"id": read["id"]})["factSheet"]
    assert after["rev"] == read["rev"] + 1
    assert {"id", "name", "tagGroup"} <= set(after["tags"][0])
    clash = _post(
        emu,
        UPDATE_SIGNATURE,
        {
            "id": read["id"],
            "rev": read["rev"],
            "comment": "c",
            "patches": patches,
            "validateOnly": False,
        },
    )
    assert clash["data"]["updateFactSheet"] is None
    assert clash["errors"][0]["extensions"]["errorType"] == "REVISION_CLASH"
    assert set(clash["errors"][0]) >= {"message", "locations", "path", "extensions"}


def test_webhook_subscription_and_pull_as_documented(emu: Api) -> None:
    ws_id = emu.admin("GET", "/workspace")["workspace"]["id"]
    # §4.2 example create body (PULL variant of the documented field set).
    body = {
        "identifier": "time-tagger",
        "deliveryType": "PULL",
        "workspaceId": ws_id,
        "workspaceConstraint": "WORKSPACE",
        "tagSets": [["pathfinder", "FACT_SHEET_CREATED"], ["pathfinder", "FACT_SHEET_UPDATED"]],
        "ignoreError": False,
        "payloadMode": "DEFAULT",
        "active": True,
    }
    r = requests.post(
        emu.base_url + "/services/webhooks/v1/subscriptions",
        json=body,
        headers=emu.headers,
        timeout=10,
    )
    assert r.status_code == 200
    envelope = r.json()
    assert set(envelope) == {"status", "type", "message", "errors", "total", "data"}
    sub_id = envelope["data"]["id"]
    app_id = emu.admin("GET", "/factsheets?type=Application&limit=1")["factSheets"][0]["id"]
    _ok(
        emu,
        UPDATE_SIGNATURE,
        {"id": app_id, "patches": [{"op": "replace", "path": "/description", "value": "x"}]},
    )
    pulled = requests.get(
        f"{emu.base_url}/services/webhooks/v1/subscriptions/{sub_id}/events",
        params={"autoCommit": "false", "timeout": "1"},
        headers=emu.headers,
        timeout=10,
    ).json()
    assert pulled["status"] == "OK" and pulled["type"] == "PullResult" and pulled["total"] == 1
    item = pulled["data"]["events"][0]
    assert set(item) == {"cursor", "event"} and isinstance(item["cursor"]["offset"], int)
    assert item["event"]["payload"]["type"] == "FactSheetUpdatedEvent"
    commit = requests.put(
        f"{emu.base_url}/services/webhooks/v1/subscriptions/{sub_id}/cursor",
        json={"offset": pulled["data"]["nextCursor"]["offset"]},
        headers=emu.headers,
        timeout=10,
    )
    assert commit.status_code == 200
