"""Admin, inspection and seeding routes under ``/_sandbox`` (no LeanIX auth; loopback only).

Tests and the demo use these instead of reaching into the server's memory, so the emulator can
just as well run in another process (``python -m lx_sandbox.emulator``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator import admin_factsheets, admin_surveys, api_metrics
from lx_sandbox.emulator.admin_config import apply_config, config_json
from lx_sandbox.emulator.core import resolve_seed
from lx_sandbox.emulator.events import fact_sheet_json, subscription_json
from lx_sandbox.emulator.http_util import json_body
from lx_sandbox.emulator.integration import admin_api as integration_admin
from lx_sandbox.emulator.json_checks import object_of, positive_number
from lx_sandbox.emulator.seed import generate_workspace, load_fixture

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator
    from lx_sandbox.emulator.state import FactSheet

JsonDict = dict[str, Any]
PREFIX = "/_sandbox"
_REVOCATION_STATE = frozenset({"rounds", "nextInSeconds"})


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _integration_view(emu: Emulator, fs: FactSheet) -> JsonDict:
    """External ids, attributes (lifecycle ...) and relations written by the Integration API."""
    return {
        "externalId": fs.external_id,
        "externalIds": dict(fs.external_ids),
        "attributes": fs.attributes,
        "relations": [
            {
                "id": r.id,
                "type": r.type,
                "fromId": r.from_id,
                "toId": r.to_id,
                "status": r.status,
                "attributes": r.attributes,
            }
            for r in emu.ws.relations_of(fs.id)
        ],
    }


def _subscriptions_view(emu: Emulator, fs: FactSheet) -> list[JsonDict]:
    """The fact sheet's subscriptions: the payload shape plus ``createdAt``, the user's
    ``userName`` and ``technicalUser``, and each role's ``comment``."""
    items: list[JsonDict] = []
    for sub in emu.ws.subscriptions_of(fs.id):
        doc = subscription_json(emu.ws, sub)
        user = emu.ws.users_by_id.get(sub.user_id)
        doc["user"]["userName"] = user.username if user else None
        doc["user"]["technicalUser"] = user.technical if user else None
        for role in doc["roles"]:
            role["comment"] = sub.role_ids.get(role["id"])
        doc["createdAt"] = sub.created_at
        items.append(doc)
    return items


def routes(emu: Emulator) -> list[Route]:
    """The admin routes bound to ``emu``."""

    def summary() -> JsonDict:
        ws = emu.ws
        counts: dict[str, int] = {}
        for fs in ws.fact_sheets.values():
            counts[fs.type] = counts.get(fs.type, 0) + 1
        return {
            "url": emu.base_url,
            "workspace": {"id": ws.id, "name": ws.name},
            "account": {"id": ws.account_id, "name": ws.account_name},
            "users": [
                {
                    "id": u.id,
                    "username": u.username,
                    "token": u.token,
                    "technical": u.technical,
                    "email": u.email,
                }
                for u in ws.users_by_id.values()
            ],
            "subscriptionRoles": [
                {
                    "id": r.id,
                    "name": r.name,
                    "subscriptionType": r.subscription_type,
                    "restrictToFactSheetTypes": list(r.restrict_to),
                }
                for r in ws.subscription_roles.values()
            ],
            "tagGroups": [
                {
                    "id": g.id,
                    "name": g.name,
                    "shortName": g.short_name,
                    "mode": g.mode,
                    "restrictToFactSheetTypes": g.restrict_to,
                    "tags": [
                        {"id": t, "name": ws.tags[t].name, "color": ws.tags[t].color}
                        for t in g.tag_ids
                    ],
                }
                for g in ws.tag_groups.values()
            ],
            "factSheetCounts": counts,
            "dataModel": ws.data_model,
        }

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "url": emu.base_url})

    async def workspace(_request: Request) -> Response:
        return JSONResponse(summary())

    async def reset(_request: Request) -> Response:
        emu.reset()
        return JSONResponse(summary())

    async def seed(request: Request) -> Response:
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        if not isinstance(body, dict):
            return _bad("expected a JSON object")
        try:
            if "document" in body:
                doc = body["document"]
            elif "generated" in body:
                gen = body["generated"] or {}
                doc = generate_workspace(
                    int(gen.get("applications", 100)),
                    int(gen.get("seed", 42)),
                    archived=float(gen.get("archived") or 0.0),
                    data_model=gen.get("dataModel"),
                )
            elif "fixture" in body:
                name = str(body["fixture"])
                doc = load_fixture(name) if name.endswith(".json") else resolve_seed(name)
            else:
                doc = resolve_seed(emu.config.seed, emu.config.generated_seed)
            emu.load(doc, body.get("dataModel"))
        except (ValueError, KeyError, TypeError) as exc:
            return _bad(f"invalid seed: {exc}")
        return JSONResponse(summary())

    async def data_model(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(emu.ws.data_model)
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        if not isinstance(body, dict):
            return _bad("expected {type: {field: [values...] | null}}")
        try:
            emu.override_data_model(body)
        except ValueError as exc:
            return _bad(str(exc))
        return JSONResponse(emu.ws.data_model)

    async def fact_sheet(request: Request) -> Response:
        fs = emu.ws.fact_sheets.get(request.path_params["id"])
        if fs is None:
            return _bad("no such fact sheet", 404)
        doc = fact_sheet_json(emu.ws, fs)
        doc["values"] = dict(fs.fields)
        doc["tagIds"] = list(fs.tag_ids)
        doc["subscriptions"] = _subscriptions_view(emu, fs)
        doc["createdBy"] = fs.created_by
        doc["comments"] = admin_factsheets.comments_view(emu, fs)
        doc.update(_integration_view(emu, fs))
        return JSONResponse(doc)

    async def fact_sheets(request: Request) -> Response:
        fs_type = request.query_params.get("type")
        offset = int(request.query_params.get("offset", "0"))
        limit = int(request.query_params.get("limit", "100"))
        items = [
            fs for fs in emu.ws.iter_after(fs_type, 0) if fs_type is None or fs.type == fs_type
        ]
        page = items[offset : offset + limit]
        return JSONResponse(
            {
                "total": len(items),
                "factSheets": [
                    {
                        "id": fs.id,
                        "type": fs.type,
                        "name": fs.name,
                        "rev": fs.rev,
                        "status": fs.status,
                        "values": dict(fs.fields),
                        "tagIds": list(fs.tag_ids),
                        "description": fs.description,
                        **_integration_view(emu, fs),
                    }
                    for fs in page
                ],
            }
        )

    async def events(request: Request) -> Response:
        since = int(request.query_params.get("since", "0"))
        limit = int(request.query_params.get("limit", "1000"))
        tag = request.query_params.get("tag")
        selected = [
            {"offset": e.offset, "event": e.envelope}
            for e in emu.events.events[since:]
            if tag is None or tag in e.tags
        ][:limit]
        return JSONResponse(
            {"events": selected, "total": len(selected), "endOffset": emu.events.end_offset}
        )

    async def deliveries(request: Request) -> Response:
        sub_id = request.query_params.get("subscriptionId")
        items = [d for d in emu.dispatcher.log if sub_id is None or d["subscriptionId"] == sub_id]
        return JSONResponse(
            {"deliveries": items, "total": len(items), "pending": emu.dispatcher.pending}
        )

    async def wait_deliveries(request: Request) -> Response:
        timeout = float(request.query_params.get("timeout", "10"))
        idle = await emu.dispatcher.wait_idle(timeout)
        return JSONResponse({"idle": idle, "pending": emu.dispatcher.pending})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            emu.clear_faults()
            return JSONResponse(emu.faults.to_json())
        if request.method == "PUT":
            body, problem = await json_body(request)
            if problem is not None:
                return problem
            try:
                emu.set_faults(body)
            except (ValueError, TypeError) as exc:
                return _bad(str(exc))
        return JSONResponse(emu.faults.to_json())

    async def fault_rules(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"rules": emu.faults.rules_json()})
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        try:
            rule = emu.faults.add_rule(body)
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return JSONResponse(rule.to_json())

    async def fault_rule(request: Request) -> Response:
        try:
            rule_id = int(request.path_params["id"])
        except ValueError:
            return _bad("rule ids are integers")
        rule = emu.faults.remove_rule(rule_id)
        if rule is None:
            return _bad(f"no fault rule {rule_id}", 404)
        return JSONResponse(rule.to_json())

    async def config(request: Request) -> Response:
        if request.method == "PUT":
            body, problem = await json_body(request)
            if problem is not None:
                return problem
            if not isinstance(body, dict):
                return _bad("expected a JSON object")
            try:
                apply_config(emu, body)
            except (ValueError, TypeError) as exc:
                return _bad(str(exc))
        return JSONResponse(config_json(emu))

    async def stats(request: Request) -> Response:
        emu.tokens.tick()  # periodic revocations that are due are counted before reading
        if request.method == "DELETE":
            emu.stats.reset()
        return JSONResponse(emu.stats.to_json())

    async def expire_tokens(_request: Request) -> Response:
        emu.tokens.revoke_all()
        return JSONResponse({"revoked": True})

    async def revocation(request: Request) -> Response:
        if request.method == "PUT":
            body, problem = await json_body(request)
            if problem is not None:
                return problem
            try:
                doc = object_of(body, "revocation", frozenset({"everySeconds"}), _REVOCATION_STATE)
                every = doc.get("everySeconds")
                emu.set_token_revocation(
                    None if every is None else positive_number(every, "everySeconds")
                )
            except ValueError as exc:
                return _bad(str(exc))
        return JSONResponse(emu.tokens.revocation_json())

    return [
        Route(f"{PREFIX}/health", health, methods=["GET"]),
        Route(f"{PREFIX}/workspace", workspace, methods=["GET"]),
        Route(f"{PREFIX}/reset", reset, methods=["POST"]),
        Route(f"{PREFIX}/seed", seed, methods=["POST"]),
        Route(f"{PREFIX}/datamodel", data_model, methods=["GET", "PUT"]),
        Route(f"{PREFIX}/factsheets", fact_sheets, methods=["GET"]),
        Route(f"{PREFIX}/factsheets/{{id}}", fact_sheet, methods=["GET"]),
        *admin_factsheets.routes(emu),
        Route(f"{PREFIX}/events", events, methods=["GET"]),
        Route(f"{PREFIX}/deliveries", deliveries, methods=["GET"]),
        Route(f"{PREFIX}/deliveries/wait", wait_deliveries, methods=["POST"]),
        Route(f"{PREFIX}/faults", faults, methods=["GET", "PUT", "DELETE"]),
        Route(f"{PREFIX}/faults/rules", fault_rules, methods=["GET", "POST"]),
        Route(f"{PREFIX}/faults/rules/{{id}}", fault_rule, methods=["DELETE"]),
        Route(f"{PREFIX}/config", config, methods=["GET", "PUT"]),
        Route(f"{PREFIX}/stats", stats, methods=["GET", "DELETE"]),
        Route(f"{PREFIX}/tokens/expire", expire_tokens, methods=["POST"]),
        Route(f"{PREFIX}/tokens/revocation", revocation, methods=["GET", "PUT"]),
        *integration_admin.routes(emu),
        *admin_surveys.routes(emu),
        *api_metrics.admin_routes(emu),
    ]
