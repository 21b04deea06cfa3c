"""A small in-memory LeanIX behind `responses`, for unit tests of the TIME job and function.

It answers the client's named GraphQL operations (by ``operationName``) with LeanIX-shaped data,
applies ``/tags`` and field patches with rev checks, and records every operation so tests can
count reads and writes. Full protocol fidelity is the emulator's job (tests/contract); this fake
keeps unit tests fast and hermetic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import responses
from requests import PreparedRequest

from lx_core.leanix.testing import unsigned_jwt

TOKEN_HOST = "https://app.leanix.net"
INSTANCE = "https://acme.leanix.net"
GRAPHQL_URL = INSTANCE + "/services/pathfinder/v1/graphql"
PRINCIPAL_ID = "tu-time"
FUNCTIONAL = ["unreasonable", "insufficient", "appropriate", "perfect"]
TECHNICAL = ["inappropriate", "unreasonable", "adequate", "fullyAppropriate"]
TIME_VALUES = ["tolerate", "invest", "migrate", "eliminate"]

Response = tuple[int, dict[str, str], str]


@dataclass
class FakeApp:
    id: str
    functional: str | None
    technical: str | None
    tags: list[str] = field(default_factory=list)
    rev: int = 1
    type: str = "Application"
    status: str = "ACTIVE"
    time_field: str | None = None

    def node(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rev": self.rev,
            "name": self.id,
            "type": self.type,
            "status": self.status,
            "functionalSuitability": self.functional,
            "technicalSuitability": self.technical,
            "lxTimeClassification": self.time_field,
            "tags": [{"id": t} for t in self.tags],
        }


class FakeLeanIX:
    """Register with ``FakeLeanIX(rsps)``; inspect ``ops`` (operation names, in order)."""

    def __init__(self, rsps: responses.RequestsMock, *, with_time_group: bool = True) -> None:
        self.rsps = rsps
        self.apps: dict[str, FakeApp] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.ops: list[str] = []
        self.clash_next_write = False
        self.fail_graphql_status: int | None = None
        self.fail_graphql_headers: dict[str, str] = {}
        #: operation name → HTTP status to answer for just that operation
        self.fail_ops: dict[str, int] = {}
        if with_time_group:
            self.add_group("TIME Model", ["Tolerate", "Invest", "Migrate", "Eliminate"])
        rsps.add(
            responses.POST,
            TOKEN_HOST + "/services/mtm/v1/oauth2/token",
            json={
                "access_token": unsigned_jwt(
                    instance_url=INSTANCE, exp=4_000_000_000, principal_id=PRINCIPAL_ID
                ),
                "token_type": "bearer",
                "expires_in": 3599,
            },
        )
        rsps.add_callback(responses.POST, GRAPHQL_URL, callback=self._graphql)

    # -- set-up helpers ----------------------------------------------------------------------

    def add_group(self, name: str, tags: list[str]) -> None:
        gid = "g-" + name.lower().replace(" ", "-")
        self.groups[name] = {
            "id": gid,
            "mode": "SINGLE",
            "tags": {t: f"{gid}-{t.lower()}" for t in tags},
        }

    def tag(self, name: str, group: str = "TIME Model") -> str:
        return str(self.groups[group]["tags"][name])

    def add_app(
        self, app_id: str, functional: str | None, technical: str | None, *tags: str
    ) -> FakeApp:
        app = FakeApp(app_id, functional, technical, list(tags))
        self.apps[app_id] = app
        return app

    def count(self, op: str) -> int:
        return self.ops.count(op)

    # -- GraphQL -----------------------------------------------------------------------------

    def _graphql(self, request: PreparedRequest) -> Response:
        body = json.loads(request.body or b"{}")
        op = body.get("operationName") or ""
        self.ops.append(op)
        status = self.fail_ops.get(op) or self.fail_graphql_status
        if status:
            return (
                status,
                dict(self.fail_graphql_headers),
                json.dumps({"status": "ERROR"}),
            )
        variables = body.get("variables") or {}
        handler = {
            "lxType": self._op_type_info,
            "lxTagGroups": self._op_tag_groups,
            "lxTags": self._op_tags,
            "lxUpsertTagGroup": self._op_upsert_tag_group,
            "lxUpsertTag": self._op_upsert_tag,
            "lxFactSheet": self._op_fact_sheet,
            "lxFactSheetPage": self._op_fact_sheet_page,
            "lxUpdateFactSheet": self._op_update_fact_sheet,
            "lxUpdateFactSheets": self._op_update_fact_sheets,
        }.get(op)
        if handler is None:
            return 200, {}, json.dumps({"data": None, "errors": [{"message": f"unknown op {op}"}]})
        data, errors = handler(variables, body.get("query", ""))
        return 200, {}, json.dumps({"data": data, "errors": errors or None})

    def _op_type_info(self, v: dict[str, Any], q: str) -> tuple[Any, Any]:
        def enum(values: list[str]) -> dict[str, Any]:
            return {"kind": "ENUM", "name": "E", "enumValues": [{"name": x} for x in values]}

        fields = [
            {"name": "functionalSuitability", "type": enum(FUNCTIONAL)},
            {"name": "technicalSuitability", "type": enum(TECHNICAL)},
            {"name": "lxTimeClassification", "type": enum(TIME_VALUES)},
            {"name": "name", "type": {"kind": "SCALAR", "name": "String", "enumValues": None}},
        ]
        return {"__type": {"fields": fields}}, None

    def _op_tag_groups(self, v: dict[str, Any], q: str) -> tuple[Any, Any]:
        edges = [
            {
                "node": {
                    "id": g["id"],
                    "name": n,
                    "shortName": None,
                    "mode": g["mode"],
                    "restrictToFactSheetTypes": ["Application"],
                }
            }
            for n, g in self.groups.items()
        ]
        return {"allTagGroups": {"edges": edges}}, None

    def _op_tags(self, v: dict[str, Any], q: str) -> tuple[Any, Any]:
        g = self.groups.get(v.get("group", ""))
        edges = (
            []
            if g is None
            else [
                {
                    "node": {
                        "id": tid,
                        "name": name,
                        "status": "ACTIVE",
                        "tagGroup": {"id": g["id"], "name": v["group"]},
                    }
                }
                for name, tid in g["tags"].items()
            ]
        )
        return {"allTags": {"edges": edges}}, None

    def _op_upsert_tag_group(self, v: dict[str, Any], q: str) -> tuple[Any, Any]:
        name = v["name"]
        if name not in self.groups:
            self.add_group(name, [])
        g = self.groups[name]
        return {
            "upsertTagGroup": {
                "id": g["id"],
                "name": name,
                "mode": g["mode"],
                "restrictToFactSheetTypes": ["Application"],
            }
        }, None

    def _op_upsert_tag(self, v: dict[str, Any], q: str) -> tuple[Any, Any]:
        g = self.groups[v["group"]]
        tid = g["tags"].setdefault(v["name"], f"{g['id']}-{v['name'].lower()}")
        return {
            "upsertTag": {
                "id": tid,
                "name": v["name"],
                "status": "ACTIVE",
                "tagGroup": {"id": g["id"], "name": v["group"]},
            }
        }, None

    def _op_fact_sheet(self, v: dict[str, Any], q: str) -> tuple[Any, Any]:
        app = self.apps.get(v["id"])
        return {"factSheet": app.node() if app else None}, None

    def _op_fact_sheet_page(self, v: dict[str, Any], q: str) -> tuple[Any, Any]:
        ordered = sorted(self.apps.values(), key=lambda a: a.id)
        start = int(v.get("after") or 0)
        page = ordered[start : start + int(v["first"])]
        end = start + len(page)
        return {
            "allFactSheets": {
                "totalCount": len(ordered),
                "pageInfo": {"hasNextPage": end < len(ordered), "endCursor": str(end)},
                "edges": [{"node": a.node()} for a in page],
            }
        }, None

    def _apply(
        self, app_id: str, rev: int | None, patches: list[dict[str, Any]], alias: str | None
    ) -> tuple[Any, Any]:
        app = self.apps[app_id]
        if self.clash_next_write:
            self.clash_next_write = False
            app.rev += 1  # someone else edited it in between
        if rev is not None and rev != app.rev:
            err = {
                "message": "DB revision of Fact Sheet has changed: "
                f"{app.rev} instead of given {rev}",
                "extensions": {"errorType": "REVISION_CLASH"},
                "path": [alias or "updateFactSheet"],
            }
            return None, [err]
        for patch in patches:
            if patch["path"] == "/tags":
                app.tags = [t["tagId"] for t in json.loads(patch["value"])]
            elif patch["path"] == "/lxTimeClassification":
                app.time_field = None if patch["op"] == "remove" else patch["value"]
        app.rev += 1
        return {"factSheet": {"id": app.id, "rev": app.rev}}, None

    def _op_update_fact_sheet(self, v: dict[str, Any], q: str) -> tuple[Any, Any]:
        result, errors = self._apply(v["id"], v.get("rev"), v["patches"], None)
        return {"updateFactSheet": result}, errors

    def _op_update_fact_sheets(self, v: dict[str, Any], q: str) -> tuple[Any, Any]:
        data: dict[str, Any] = {}
        errors: list[Any] = []
        i = 0
        while f"id{i}" in v:
            result, errs = self._apply(v[f"id{i}"], v.get(f"rev{i}"), v[f"patches{i}"], f"u{i}")
            data[f"u{i}"] = result
            errors.extend(errs or [])
            i += 1
        return data, errors
