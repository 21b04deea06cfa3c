"""Route: ``POST /services/pathfinder/v1/graphql`` (§2.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.http_util import json_body, rest_error, unauthorized
from lx_sandbox.emulator.schema import GqlContext

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator


def routes(emu: Emulator) -> list[Route]:
    """The Pathfinder GraphQL route bound to ``emu``."""

    async def graphql(request: Request) -> Response:
        user = emu.user_for_bearer(request.headers.get("authorization"))
        if user is None:
            return unauthorized()
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return rest_error(400, "Expected a JSON object with a 'query' string")
        variables = body.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return rest_error(400, "'variables' must be an object")
        op_name = body.get("operationName")
        ctx = GqlContext(
            ws=emu.ws,
            events=emu.events,
            user=user,
            base_url=emu.base_url,
            max_page_size=emu.max_page_size,
            cursor_ttl_seconds=emu.cursor_ttl_seconds,
        )
        outcome = emu.executor.run(
            body["query"], variables, op_name if isinstance(op_name, str) else None, ctx
        )
        g = emu.stats.graphql
        g["requests"] += 1
        if outcome.operation == "mutation":
            g["mutations"] += 1
        elif outcome.operation == "query":
            g["queries"] += 1
        g["updateFactSheet"] += ctx.update_count
        g["errors"] += outcome.error_count
        per_user = emu.stats.user(user.id, user.username)
        per_user.update_fact_sheet += ctx.update_count
        per_user.noop_writes += ctx.noop_count
        emu.stats.noop_writes += ctx.noop_count
        emu.stats.operations[outcome.operation_name or "<anonymous>"] += 1
        return JSONResponse(outcome.body)

    return [Route("/services/pathfinder/v1/graphql", graphql, methods=["POST"])]
