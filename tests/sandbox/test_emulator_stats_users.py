"""Statistics by user, no-op writes, and doubled-slash URLs."""

from __future__ import annotations

from typing import Any

import requests

from lx_sandbox.emulator import HUMAN_TOKEN
from tests.sandbox.conftest import GQL, TOKEN_PATH, Api

JsonDict = dict[str, Any]
QUERY = "{ allTagGroups { totalCount } }"
SET_FIT = """mutation ($id: ID!, $v: String, $validateOnly: Boolean) {
  updateFactSheet(id: $id, validateOnly: $validateOnly,
    patches: [{op: replace, path: "/technicalSuitability", value: $v}]) { factSheet { rev } } }"""
TWO = """mutation ($a: ID!, $b: ID!, $va: String, $vb: String) {
  x: updateFactSheet(id: $a, patches: [{op: replace, path: "/technicalSuitability", value: $va}])
    { factSheet { rev } }
  y: updateFactSheet(id: $b, patches: [{op: replace, path: "/technicalSuitability", value: $vb}])
    { factSheet { rev } } }"""


def _apps_with_fit(api: Api) -> list[JsonDict]:
    apps: list[JsonDict] = api.admin("GET", "/factsheets?type=Application&limit=100")["factSheets"]
    return [a for a in apps if a["values"].get("technicalSuitability")]


def test_requests_statuses_and_exchanges_are_split_by_user(emu: Api, emu_human: Api) -> None:
    emu.admin("DELETE", "/stats")
    emu.login()
    emu.data(QUERY)
    emu.data(QUERY)
    emu_human.login()
    emu_human.data(QUERY)
    emu_human.gql_raw("{ nope }")
    requests.post(emu.base_url + GQL, json={"query": QUERY}, timeout=5)  # no bearer
    stats = emu.admin("GET", "/stats")
    tech = stats["users"][emu.user_id()]
    human = stats["users"][emu.user_id(HUMAN_TOKEN)]
    assert tech == {
        "username": "lx-functions-technical-user",
        "requests": 3,
        "statusCodes": {"200": 3},
        "tokenExchanges": 1,
        "rateLimited": 0,
        "updateFactSheet": 0,
        "noopWrites": 0,
    }
    assert human["username"] == "jane.doe@example.com"
    assert human["requests"] == 3 and human["tokenExchanges"] == 1
    assert stats["anonymous"] == {"requests": 1, "statusCodes": {"401": 1}}
    assert stats["total"] == 7 and stats["tokensIssued"] == 2
    assert emu.admin("DELETE", "/stats")["users"] == {}


def test_noop_writes_are_counted_and_change_nothing(emu: Api, emu_human: Api) -> None:
    a, b = _apps_with_fit(emu)[:2]
    events = emu.admin("GET", "/events")["endOffset"]
    same = a["values"]["technicalSuitability"]
    out = emu.data(SET_FIT, {"id": a["id"], "v": same})["updateFactSheet"]["factSheet"]
    assert out["rev"] == a["rev"]  # unchanged behaviour: no rev bump ...
    assert emu.admin("GET", "/events")["endOffset"] == events  # ... and no event
    emu.data(SET_FIT, {"id": a["id"], "v": same, "validateOnly": True})  # not applied: not counted
    other = "adequate" if b["values"]["technicalSuitability"] != "adequate" else "inappropriate"
    emu_human.data(
        TWO, {"a": a["id"], "b": b["id"], "va": same, "vb": other}
    )  # one no-op, one real change
    assert emu.admin("GET", f"/factsheets/{b['id']}")["rev"] == b["rev"] + 1
    stats = emu.admin("GET", "/stats")
    assert stats["noopWrites"] == 2
    assert stats["users"][emu.user_id()]["noopWrites"] == 1
    assert stats["users"][emu.user_id()]["updateFactSheet"] == 2
    assert stats["users"][emu.user_id(HUMAN_TOKEN)]["noopWrites"] == 1
    assert stats["users"][emu.user_id(HUMAN_TOKEN)]["updateFactSheet"] == 2


def test_doubled_slash_is_accepted_counted_and_can_be_refused(emu: Api) -> None:
    doubled = emu.base_url + "/" + TOKEN_PATH
    grant = {"grant_type": "client_credentials"}
    auth = ("apitoken", "sandbox-technical-user-token")
    r = requests.post(doubled, auth=auth, data=grant, timeout=5)
    assert r.status_code == 200 and r.json()["access_token"]
    bearer = {"Authorization": "Bearer " + r.json()["access_token"]}
    gql = requests.post(emu.base_url + "/" + GQL, json={"query": QUERY}, headers=bearer, timeout=5)
    assert gql.status_code == 200 and gql.json()["data"]["allTagGroups"]["totalCount"] == 3
    emu.login()  # a single slash is not counted
    stats = emu.admin("GET", "/stats")
    assert stats["doubleSlashRequests"] == 2
    assert stats["requests"]["POST " + TOKEN_PATH] == 2  # counted under the normal path
    assert (
        emu.admin("PUT", "/config", json={"acceptDoubleSlash": False})["acceptDoubleSlash"] is False
    )
    assert requests.post(doubled, auth=auth, data=grant, timeout=5).status_code == 404
    assert emu.token_raw().status_code == 200
    assert emu.admin("GET", "/stats")["doubleSlashRequests"] == 3
    assert emu.admin_raw("PUT", "/config", json={"acceptDoubleSlash": "no"}).status_code == 400
    emu.admin("POST", "/reset")
    assert emu.admin("GET", "/config")["acceptDoubleSlash"] is True
    assert emu.admin("GET", "/stats")["doubleSlashRequests"] == 0
