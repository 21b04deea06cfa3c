"""Fact-sheet subscriptions, the creator and archiver in events, and the MTM user lookup.

Over real HTTP against the emulator, like the other emulator tests.
"""

from __future__ import annotations

from typing import Any

from tests.sandbox.conftest import Api

JsonDict = dict[str, Any]

SUBS = """query ($id: ID!) { factSheet(id: $id) { id rev subscriptions { totalCount edges { node {
  id type createdAt factSheet { id }
  user { id email displayName firstName lastName technicalUser }
  roles { id name subscriptionType comment } } } } } }"""

CREATE = """mutation ($fs: ID!, $user: UserInput!, $type: SubscriptionType!, $roleIds: [ID],
  $validateOnly: Boolean) {
  createSubscription(factSheetId: $fs, user: $user, type: $type, roleIds: $roleIds,
                     validateOnly: $validateOnly) {
    id type user { id email technicalUser } roles { id name subscriptionType } createdAt
    factSheet { id rev } } }"""

DELETE = "mutation ($id: ID!) { deleteSubscription(id: $id) { id type user { id } } }"

ROLES = "{ allSubscriptionRoles { edges { node { id name subscriptionType "
ROLES += "restrictToFactSheetTypes } } } }"

PAYLOAD_KEYS = {
    "id",
    "type",
    "userId",
    "createdAt",
    "workspaceId",
    "transactionSequenceNumber",
    "factSheet",
    "subscription",
}


def _apps(emu: Api) -> list[JsonDict]:
    """Applications of the demo seed in seed order (archived ones included)."""
    found: list[JsonDict] = emu.admin("GET", "/factsheets?type=Application&limit=1000")[
        "factSheets"
    ]
    return found


def _app(emu: Api, name: str) -> JsonDict:
    return next(a for a in _apps(emu) if a["name"] == name)


def _roles(emu: Api) -> dict[str, JsonDict]:
    return {e["node"]["name"]: e["node"] for e in emu.data(ROLES)["allSubscriptionRoles"]["edges"]}


def _subs(emu: Api, fs_id: str) -> list[JsonDict]:
    conn = emu.data(SUBS, {"id": fs_id})["factSheet"]["subscriptions"]
    nodes: list[JsonDict] = [e["node"] for e in conn["edges"]]
    assert conn["totalCount"] == len(nodes)
    return nodes


def _events(emu: Api, tag: str | None = None) -> list[JsonDict]:
    path = "/events" + (f"?tag={tag}" if tag else "")
    return [e["event"] for e in emu.admin("GET", path)["events"]]


def _error_type(body: JsonDict) -> str:
    error_type: str = body["errors"][0]["extensions"]["errorType"]
    return error_type


def test_roles_and_seeded_subscribers_read_back(emu: Api) -> None:
    roles = _roles(emu)
    assert {n: r["subscriptionType"] for n, r in roles.items()} == {
        "Application Owner": "RESPONSIBLE",
        "Business Owner": "ACCOUNTABLE",
        "Observer": "OBSERVER",
        "Technical Owner": "RESPONSIBLE",
    }
    assert roles["Technical Owner"]["restrictToFactSheetTypes"] == ["ITComponent"]
    assert roles["Observer"]["restrictToFactSheetTypes"] == []
    human, technical = emu.user_id("sandbox-human-user-token"), emu.user_id()

    payroll = _app(emu, "Payroll")
    [owner] = _subs(emu, payroll["id"])
    assert owner["type"] == "ACCOUNTABLE" and owner["factSheet"]["id"] == payroll["id"]
    assert owner["user"] == {
        "id": human,
        "email": "jane.doe@example.com",
        "displayName": "Jane Doe",
        "firstName": "Jane",
        "lastName": "Doe",
        "technicalUser": False,
    }
    assert [r["name"] for r in owner["roles"]] == ["Business Owner"]
    assert owner["createdAt"] == "2024-01-15T09:00:00Z"
    [ledger] = _subs(emu, _app(emu, "General Ledger")["id"])
    assert (ledger["type"], ledger["user"]["id"]) == ("RESPONSIBLE", human)
    crm = _subs(emu, _app(emu, "CRM")["id"])
    assert [(s["type"], s["user"]["id"], s["user"]["technicalUser"]) for s in crm] == [
        ("RESPONSIBLE", human, False),
        ("OBSERVER", technical, True),
    ]
    assert _subs(emu, _app(emu, "Order Management")["id"]) == []

    admin = emu.admin("GET", f"/factsheets/{payroll['id']}")["subscriptions"]
    assert admin == [
        {
            "id": owner["id"],
            "type": "ACCOUNTABLE",
            "user": {
                "id": human,
                "email": "jane.doe@example.com",
                "userName": "jane.doe@example.com",
                "technicalUser": False,
            },
            "roles": [
                {
                    "id": roles["Business Owner"]["id"],
                    "name": "Business Owner",
                    "subscriptionType": "ACCOUNTABLE",
                    "comment": None,
                }
            ],
            "createdAt": "2024-01-15T09:00:00Z",
        }
    ]


def test_create_subscription_emits_subscription_created(emu: Api) -> None:
    app = _app(emu, "Order Management")
    role = _roles(emu)["Application Owner"]
    variables = {
        "fs": app["id"],
        "user": {"email": "Jane.Doe@example.com"},
        "type": "RESPONSIBLE",
        "roleIds": [role["id"]],
    }
    created = emu.data(CREATE, variables)["createSubscription"]
    human = emu.user_id("sandbox-human-user-token")
    assert created["type"] == "RESPONSIBLE"
    assert created["user"] == {"id": human, "email": "jane.doe@example.com", "technicalUser": False}
    assert created["roles"] == [
        {"id": role["id"], "name": "Application Owner", "subscriptionType": "RESPONSIBLE"}
    ]
    assert created["factSheet"] == {"id": app["id"], "rev": app["rev"]}  # rev unchanged
    assert [s["id"] for s in _subs(emu, app["id"])] == [created["id"]]

    [event] = _events(emu, "SUBSCRIPTION_CREATED")
    assert _events(emu) == [event]  # no FACT_SHEET_UPDATED besides it
    technical = emu.user_id()
    assert event["tags"] == ["pathfinder", "SUBSCRIPTION_CREATED"]
    assert event["userId"] == technical and event["type"] == "SubscriptionCreatedEvent"
    payload = event["payload"]
    assert set(payload) == PAYLOAD_KEYS
    assert payload["type"] == "SubscriptionCreatedEvent" and payload["userId"] == technical
    assert isinstance(payload["id"], int) and isinstance(payload["transactionSequenceNumber"], int)
    assert payload["workspaceId"] == emu.admin("GET", "/workspace")["workspace"]["id"]
    assert payload["factSheet"]["id"] == app["id"]
    assert payload["factSheet"]["type"] == "Application"
    assert payload["factSheet"]["rev"] == app["rev"]
    subscription = {
        "id": created["id"],
        "type": "RESPONSIBLE",
        "user": {"id": human, "email": "jane.doe@example.com"},
        "roles": [
            {"id": role["id"], "name": "Application Owner", "subscriptionType": "RESPONSIBLE"}
        ],
    }
    assert payload["subscription"] == subscription
    assert payload["factSheet"]["subscriptions"] == [subscription]


def test_create_subscription_by_id_with_role_comment_and_rev(emu: Api) -> None:
    app = _app(emu, "Order Management")
    role = _roles(emu)["Observer"]
    q = """mutation ($fs: ID!, $rev: Long, $u: UserInput!,
                     $roles: [SubscriptionToSubscriptionRoleLinkInput]) {
      createSubscription(factSheetId: $fs, factSheetRev: $rev, user: $u, type: OBSERVER,
                         roles: $roles) { id roles { id comment } factSheet { rev } } }"""
    variables = {
        "fs": app["id"],
        "rev": app["rev"],
        "u": {"id": emu.user_id()},
        "roles": [{"id": role["id"], "comment": "Inherited"}],
    }
    created = emu.data(q, variables)["createSubscription"]
    assert created["roles"] == [{"id": role["id"], "comment": "Inherited"}]
    stale = emu.gql(q, {**variables, "rev": app["rev"] + 5, "u": {"id": emu.user_id(None)}})
    assert stale["data"]["createSubscription"] is None
    assert _error_type(stale) == "REVISION_CLASH"


def test_duplicate_subscription_is_refused(emu: Api) -> None:
    payroll = _app(emu, "Payroll")
    variables = {
        "fs": payroll["id"],
        "user": {"id": emu.user_id("sandbox-human-user-token")},
        "type": "ACCOUNTABLE",
    }
    body = emu.gql(CREATE, variables)
    assert body["data"]["createSubscription"] is None
    assert "already subscribed" in body["errors"][0]["message"]
    assert _error_type(body) == "CONSTRAINT_VIOLATION"
    assert len(_subs(emu, payroll["id"])) == 1 and _events(emu) == []
    # The same user with another type is a different subscription.
    other = emu.data(CREATE, {**variables, "type": "OBSERVER"})["createSubscription"]
    assert other["type"] == "OBSERVER"


def test_unknown_user_fact_sheet_and_input_are_refused(emu: Api) -> None:
    app = _app(emu, "Order Management")
    cases: list[tuple[JsonDict, str]] = [
        ({"user": {"id": "00000000-0000-4000-8000-000000000000"}}, "NOT_FOUND"),
        ({"user": {"email": "nobody@example.com"}}, "NOT_FOUND"),
        ({"user": {}}, "INVALID_INPUT"),
        ({"fs": "00000000-0000-4000-8000-000000000001"}, "NOT_FOUND"),
        ({"roleIds": ["00000000-0000-4000-8000-000000000002"]}, "NOT_FOUND"),
    ]
    for change, error_type in cases:
        variables = {"fs": app["id"], "user": {"id": emu.user_id()}, "type": "OBSERVER", **change}
        body = emu.gql(CREATE, variables)
        assert body["data"]["createSubscription"] is None, change
        assert _error_type(body) == error_type, (change, body["errors"])
    assert _subs(emu, app["id"]) == [] and _events(emu) == []


def test_role_of_another_type_or_fact_sheet_type_is_refused(emu: Api) -> None:
    app = _app(emu, "Order Management")
    roles = _roles(emu)
    human = {"id": emu.user_id("sandbox-human-user-token")}
    body = emu.gql(
        CREATE,
        {
            "fs": app["id"],
            "user": human,
            "type": "RESPONSIBLE",
            "roleIds": [roles["Observer"]["id"]],
        },
    )
    assert body["data"]["createSubscription"] is None
    assert _error_type(body) == "CONSTRAINT_VIOLATION"
    assert "OBSERVER" in body["errors"][0]["message"]
    technical_owner = roles["Technical Owner"]["id"]
    body = emu.gql(
        CREATE,
        {"fs": app["id"], "user": human, "type": "RESPONSIBLE", "roleIds": [technical_owner]},
    )
    assert _error_type(body) == "CONSTRAINT_VIOLATION"
    assert "ITComponent" in body["errors"][0]["message"]
    component = emu.admin("GET", "/factsheets?type=ITComponent&limit=1")["factSheets"][0]
    ok = emu.data(
        CREATE,
        {"fs": component["id"], "user": human, "type": "RESPONSIBLE", "roleIds": [technical_owner]},
    )
    assert ok["createSubscription"]["roles"][0]["name"] == "Technical Owner"
    assert _subs(emu, app["id"]) == []


def test_validate_only_stores_and_emits_nothing(emu: Api) -> None:
    app = _app(emu, "Order Management")
    variables = {
        "fs": app["id"],
        "user": {"id": emu.user_id()},
        "type": "OBSERVER",
        "validateOnly": True,
    }
    preview = emu.data(CREATE, variables)["createSubscription"]
    assert preview["id"] and preview["type"] == "OBSERVER"
    assert _subs(emu, app["id"]) == [] and _events(emu) == []


def test_delete_subscription_emits_subscription_deleted(emu_human: Api) -> None:
    emu = emu_human
    payroll = _app(emu, "Payroll")
    [seeded] = _subs(emu, payroll["id"])
    deleted = emu.data(DELETE, {"id": seeded["id"]})["deleteSubscription"]
    assert deleted == {
        "id": seeded["id"],
        "type": "ACCOUNTABLE",
        "user": {"id": seeded["user"]["id"]},
    }
    assert _subs(emu, payroll["id"]) == []
    [event] = _events(emu)
    human = emu.user_id()
    assert event["tags"] == ["pathfinder", "SUBSCRIPTION_DELETED"] and event["userId"] == human
    payload = event["payload"]
    assert set(payload) == PAYLOAD_KEYS
    assert payload["type"] == "SubscriptionDeletedEvent" and payload["userId"] == human
    assert payload["factSheet"]["id"] == payroll["id"]
    assert payload["factSheet"]["subscriptions"] == []
    assert payload["subscription"]["id"] == seeded["id"]
    assert payload["subscription"]["user"] == {"id": human, "email": "jane.doe@example.com"}
    assert [r["name"] for r in payload["subscription"]["roles"]] == ["Business Owner"]
    assert emu.data(SUBS, {"id": payroll["id"]})["factSheet"]["rev"] == payroll["rev"]
    again = emu.gql(DELETE, {"id": seeded["id"]})
    assert again["data"]["deleteSubscription"] is None
    assert _error_type(again) == "NOT_FOUND"
    assert len(_events(emu)) == 1


def test_created_fact_sheet_event_names_the_creator(emu_human: Api) -> None:
    q = """mutation { createFactSheet(input: {name: "Subscribed App", type: Application}) {
             factSheet { id rev } } }"""
    fs = emu_human.data(q)["createFactSheet"]["factSheet"]
    human = emu_human.user_id()
    [event] = _events(emu_human, "FACT_SHEET_CREATED")
    assert event["userId"] == human and event["payload"]["userId"] == human
    assert event["payload"]["factSheet"]["id"] == fs["id"]
    assert event["payload"]["factSheet"]["subscriptions"] == []
    assert emu_human.admin("GET", f"/factsheets/{fs['id']}")["createdBy"] == human
    assert _subs(emu_human, fs["id"]) == []


def test_archived_fact_sheet_event_and_graphql_reread(emu_human: Api) -> None:
    emu = emu_human
    app = _app(emu, "Payroll")
    q = """mutation ($id: ID!) { updateFactSheet(id: $id, comment: "gone", patches: [
             {op: add, path: "/status", value: "ARCHIVED"}]) { factSheet { id status } } }"""
    assert emu.data(q, {"id": app["id"]})["updateFactSheet"]["factSheet"]["status"] == "ARCHIVED"
    [event] = _events(emu, "FACT_SHEET_ARCHIVED")
    human = emu.user_id()
    assert event["userId"] == human and event["payload"]["userId"] == human
    assert event["payload"]["type"] == "FactSheetArchivedEvent"
    fs = event["payload"]["factSheet"]
    assert (fs["id"], fs["type"], fs["name"], fs["status"]) == (
        app["id"],
        "Application",
        "Payroll",
        "ARCHIVED",
    )
    reread = emu.data(
        "query ($id: ID!) { factSheet(id: $id) { id status rev subscriptions { totalCount } } }",
        {"id": app["id"]},
    )["factSheet"]
    assert reread["status"] == "ARCHIVED" and reread["rev"] == app["rev"] + 1
    assert reread["subscriptions"]["totalCount"] == 1  # subscribers stay on an archived one
    listed = emu.data("{ allFactSheets(factSheetType: Application) { edges { node { id } } } }")
    assert app["id"] not in {e["node"]["id"] for e in listed["allFactSheets"]["edges"]}


def test_breaking_an_approved_quality_seal_emits_quality_seal_broken_after_the_update(
    emu: Api,
) -> None:
    app = _app(emu, "Payroll")
    q = """mutation ($id: ID!, $state: String!) { updateFactSheet(id: $id, patches: [
             {op: replace, path: "/lxState", value: $state}]) { factSheet { lxState } } }"""
    emu.data(q, {"id": app["id"], "state": "DRAFT"})
    emu.data(q, {"id": app["id"], "state": "BROKEN_QUALITY_SEAL"})  # not approved: no seal
    emu.data(q, {"id": app["id"], "state": "APPROVED"})
    before = len(_events(emu))
    answer = emu.data(q, {"id": app["id"], "state": "BROKEN_QUALITY_SEAL"})
    assert answer["updateFactSheet"]["factSheet"]["lxState"] == "BROKEN_QUALITY_SEAL"
    events = _events(emu)[before:]
    assert [e["tags"] for e in events] == [
        ["pathfinder", "FACT_SHEET_UPDATED"],
        ["pathfinder", "QUALITY_SEAL_BROKEN"],
    ]
    assert len({e["payload"]["transactionSequenceNumber"] for e in events}) == 1
    assert events[1]["payload"]["factSheet"]["id"] == app["id"]
    seals = [e for e in _events(emu) if "QUALITY_SEAL_BROKEN" in e["tags"]]
    assert len(seals) == 1  # DRAFT → BROKEN broke no approved seal


def test_mtm_user_lookup(emu: Api) -> None:
    ws = emu.admin("GET", "/workspace")
    base = f"/services/mtm/v1/workspaces/{ws['workspace']['id']}/users/"
    technical = emu.rest("GET", base + emu.user_id())
    assert technical.status_code == 200
    assert technical.json()["status"] == "OK" and technical.json()["type"] == "User"
    assert technical.json()["data"] == {
        "id": emu.user_id(),
        "userName": "lx-functions-technical-user",
        "email": None,
        "firstName": None,
        "lastName": None,
        "technicalUser": True,
        "status": "ACTIVE",
    }
    human = emu.rest("GET", base + emu.user_id("sandbox-human-user-token")).json()["data"]
    assert human["technicalUser"] is False and human["email"] == "jane.doe@example.com"
    assert (human["firstName"], human["lastName"], human["status"]) == ("Jane", "Doe", "ACTIVE")
    missing = emu.rest("GET", base + "00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["status"] == "ERROR" and missing.json()["data"] is None
    other_ws = "/services/mtm/v1/workspaces/00000000-0000-4000-8000-000000000000/users/"
    assert emu.rest("GET", other_ws + emu.user_id()).status_code == 404
    anonymous = emu.session.get(emu.base_url + base + emu.user_id(), timeout=10)
    assert anonymous.status_code == 401
    stats = emu.admin("GET", "/stats")["requests"]
    assert stats["GET /services/mtm/v1/workspaces/{id}/users/{id}"] == 5


def test_generated_workspaces_seed_subscribers_deterministically(emu: Api) -> None:
    body = {"generated": {"applications": 30, "seed": 7, "archived": 0.5}}
    emu.admin("POST", "/seed", json=body)
    apps = _apps(emu)
    active = [a for a in apps if a["status"] == "ACTIVE"]
    first = [emu.admin("GET", f"/factsheets/{a['id']}")["subscriptions"] for a in active]
    assert [[s["type"] for s in subs] for subs in first[:3]] == [
        ["ACCOUNTABLE"],
        ["RESPONSIBLE"],
        ["RESPONSIBLE", "OBSERVER"],
    ]
    assert first[2][1]["user"]["technicalUser"] is True
    # The others: a generated mix (test_emulator_fields.py), some with no subscriber at all.
    assert any(subs == [] for subs in first[3:]) and any(subs for subs in first[3:])
    archived = [a for a in apps if a["status"] == "ARCHIVED"]
    assert all(emu.admin("GET", f"/factsheets/{a['id']}")["subscriptions"] == [] for a in archived)
    emu.admin("POST", "/seed", json=body)
    again = [emu.admin("GET", f"/factsheets/{a['id']}")["subscriptions"] for a in active]
    assert again == first
    summary = emu.admin("GET", "/workspace")
    assert summary["factSheetCounts"]["Application"] == 30
    assert {r["name"] for r in summary["subscriptionRoles"]} >= {"Business Owner", "Observer"}
