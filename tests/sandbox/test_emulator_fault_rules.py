"""Fault rules: listing and removing, time boxes, targeting, per-rule seeded randomness."""

from __future__ import annotations

import time
from typing import Any

from lx_sandbox.emulator import HUMAN_TOKEN
from tests.sandbox.conftest import GQL, WEBHOOKS, Api

JsonDict = dict[str, Any]
QUERY = "{ allTagGroups { totalCount } }"
RENAME = """mutation ($id: ID!, $n: String) { updateFactSheet(id: $id,
  patches: [{op: replace, path: "/name", value: $n}]) { factSheet { name } } }"""


def _rule(api: Api, **rule: Any) -> JsonDict:
    created: JsonDict = api.admin("POST", "/faults/rules", json=rule)
    return created


def _app(api: Api) -> JsonDict:
    app: JsonDict = api.admin("GET", "/factsheets?type=Application&limit=1")["factSheets"][0]
    return app


def test_rules_are_listed_and_removed_one_by_one(emu: Api) -> None:
    emu.login()
    first = _rule(emu, pathPrefix=GQL, status=503)
    second = _rule(emu, pathPrefix=WEBHOOKS, status=500)
    listed = emu.admin("GET", "/faults/rules")["rules"]
    assert [r["id"] for r in listed] == [first["id"], second["id"]] == [1, 2]
    assert listed[0]["kind"] == "status" and listed[0]["active"] is True
    assert emu.gql_raw(QUERY).status_code == 503
    removed = emu.admin("DELETE", f"/faults/rules/{first['id']}")
    assert removed["id"] == first["id"] and removed["fired"] == 1
    assert emu.gql_raw(QUERY).status_code == 200
    assert [r["id"] for r in emu.admin("GET", "/faults/rules")["rules"]] == [second["id"]]
    assert emu.admin_raw("DELETE", f"/faults/rules/{first['id']}").status_code == 404
    assert emu.admin_raw("DELETE", "/faults/rules/x").status_code == 400
    assert emu.admin("GET", "/faults")["rules"][0]["id"] == second["id"]


def test_time_box_limits_when_a_rule_fires(emu: Api) -> None:
    emu.login()
    _rule(emu, pathPrefix=GQL, status=503, startAfterSeconds=0.4, durationSeconds=0.4)
    added = time.monotonic()
    assert emu.gql_raw(QUERY).status_code == 200  # before the box
    assert emu.admin("GET", "/faults/rules")["rules"][0]["active"] is False
    time.sleep(max(0.0, added + 0.55 - time.monotonic()))
    assert emu.gql_raw(QUERY).status_code == 503  # inside
    assert emu.admin("GET", "/faults/rules")["rules"][0]["active"] is True
    time.sleep(max(0.0, added + 0.95 - time.monotonic()))
    assert emu.gql_raw(QUERY).status_code == 200  # after
    rule = emu.admin("GET", "/faults/rules")["rules"][0]
    assert rule["active"] is False and rule["fired"] == 1
    assert rule["startAfterSeconds"] == 0.4 and rule["durationSeconds"] == 0.4


def test_target_by_user_id_username_and_api_token(emu: Api, emu_human: Api) -> None:
    emu.login()
    emu_human.login()
    human_id = emu.user_id(HUMAN_TOKEN)
    for target in ({"user": human_id}, {"user": "jane.doe@example.com"}, {"token": HUMAN_TOKEN}):
        emu.admin("DELETE", "/faults")
        _rule(emu, status=503, **target)
        assert emu.gql_raw(QUERY).status_code == 200, target
        assert emu_human.gql_raw(QUERY).status_code == 503, target
        assert emu_human.token_raw().status_code == 503, target  # the token's user, via MTM
        assert emu.token_raw().status_code == 200, target


def test_target_by_service(emu: Api) -> None:
    emu.login()
    _rule(emu, pathPrefix="/", service="webhooks", status=503)
    assert emu.gql_raw(QUERY).status_code == 200
    assert emu.rest("GET", f"{WEBHOOKS}/subscriptions").status_code == 503
    emu.admin("DELETE", "/faults")
    _rule(emu, service="mtm", status=500, count=1)
    assert emu.token_raw().status_code == 500
    assert emu.gql_raw(QUERY).status_code == 200
    emu.admin("DELETE", "/faults")
    _rule(emu, service="graphql", status=502)  # the GraphQL endpoint, not all of Pathfinder
    assert emu.gql_raw(QUERY).status_code == 502
    assert emu.rest("GET", "/services/pathfinder/v1/nothing-here").status_code == 404
    assert emu.token_raw().status_code == 200
    assert (
        emu.admin_raw("POST", "/faults/rules", json={"service": "x", "status": 500}).status_code
        == 400
    )


def test_target_by_graphql_operation_and_body_is_untouched(emu: Api) -> None:
    emu.login()
    app = _app(emu)
    _rule(emu, operation="mutation", status=503)
    assert emu.gql_raw(QUERY).status_code == 200
    blocked = emu.gql_raw(RENAME, {"id": app["id"], "n": "blocked"})
    assert blocked.status_code == 503
    assert emu.admin("GET", f"/factsheets/{app['id']}")["name"] == app["name"]
    two_ops = 'query Q { allTagGroups { totalCount } } mutation M { upsertTag(name: "x") { id } }'
    picked = emu.session.post(
        emu.base_url + GQL,
        json={"query": two_ops, "operationName": "Q"},
        headers=emu.headers,
        timeout=10,
    )
    assert picked.status_code == 200 and picked.json()["data"]["allTagGroups"]["totalCount"] == 3
    emu.admin("DELETE", "/faults")
    _rule(emu, operation="query", status=503)
    # The middleware parsed the body to classify it; the app still gets every byte of it.
    done = emu.gql_raw(RENAME, {"id": app["id"], "n": "Ünïcode name ✓"})
    assert done.status_code == 200
    assert done.json()["data"]["updateFactSheet"]["factSheet"]["name"] == "Ünïcode name ✓"
    assert emu.gql_raw(QUERY).status_code == 503
    assert emu.gql_raw("{ not valid").status_code == 200  # unparseable: no operation, no match
    stats = emu.admin("GET", "/stats")["faultsByKind"]
    assert stats == {"status:503": 2}  # the blocked mutation and the blocked query
    bad = emu.admin_raw("POST", "/faults/rules", json={"operation": "subscription", "status": 500})
    assert bad.status_code == 400


def _pattern(api: Api, n: int = 30) -> list[int]:
    return [api.gql_raw(QUERY).status_code for _ in range(n)]


def test_each_rule_has_its_own_reproducible_randomness(emu: Api) -> None:
    emu.login()
    rule = {"pathPrefix": GQL, "status": 503, "rate": 0.5}
    emu.admin("PUT", "/faults", json={"seed": 11, "rules": [rule]})
    alone = _pattern(emu)
    seed = emu.admin("GET", "/faults/rules")["rules"][0]["seed"]
    assert 5 <= alone.count(503) <= 25
    emu.admin("PUT", "/faults", json={"seed": 11, "rules": [rule]})
    assert _pattern(emu) == alone  # ids restart at 1: the same derived seed
    # Another random rule before it, drawing on other requests, does not shift its sequence.
    other = {"pathPrefix": WEBHOOKS, "status": 500, "rate": 0.5}
    emu.admin("PUT", "/faults", json={"seed": 11, "rules": [other, {**rule, "seed": seed}]})
    mixed: list[int] = []
    for _ in range(30):
        emu.rest("GET", f"{WEBHOOKS}/subscriptions")
        mixed.append(emu.gql_raw(QUERY).status_code)
    assert mixed == alone
    emu.admin("PUT", "/faults", json={"seed": 12, "rules": [rule]})
    assert _pattern(emu) != alone
