"""Routes of Metrics v2 (§7.2): schemas and their points, plus ``GET /_sandbox/metrics``.

Answers are bare JSON, not the REST envelope: LeanIX's public script reads
``response.json()["uuid"]`` from a created schema. Errors use the REST error shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.http_util import json_body, rest_error, unauthorized
from lx_sandbox.emulator.metrics import MetricsError, Schema, parse_instant

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator

JsonDict = dict[str, Any]
PREFIX = "/services/metrics/v2"
SCHEMAS = f"{PREFIX}/schemas"
Handler = Callable[[Request], Awaitable[Response]]


def _optional_instant(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    return None if value is None else parse_instant(value, name)


def routes(emu: Emulator) -> list[Route]:
    """The Metrics v2 routes bound to ``emu``."""

    def guarded(fn: Handler) -> Handler:
        """Bearer auth first; a MetricsError becomes its status with the REST error shape."""

        async def wrapped(request: Request) -> Response:
            if emu.user_for_bearer(request.headers.get("authorization")) is None:
                return unauthorized()
            try:
                return await fn(request)
            except MetricsError as exc:
                return rest_error(exc.status, str(exc))

        return wrapped

    def schema_of(request: Request) -> Schema:
        return emu.metrics.get(request.path_params["uuid"])

    async def list_schemas(_request: Request) -> Response:
        # ASSUMPTION [U] §7.2: the list endpoints answer bare JSON arrays, like the schema.
        return JSONResponse([s.to_json() for s in emu.metrics.schemas.values()])

    async def find_schemas(request: Request) -> Response:
        # ASSUMPTION [U] §7.2: ``GET /schemas/find`` takes the exact name as ``?name=``.
        name = request.query_params.get("name")
        if not name:
            raise MetricsError("query parameter name is required")
        return JSONResponse([s.to_json() for s in emu.metrics.schemas.values() if s.name == name])

    async def create_schema(request: Request) -> Response:
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        return JSONResponse(emu.metrics.create(body).to_json(), status_code=201)

    async def get_schema(request: Request) -> Response:
        return JSONResponse(schema_of(request).to_json())

    async def delete_schema(request: Request) -> Response:
        del emu.metrics.schemas[schema_of(request).uuid]
        return Response(status_code=204)

    async def add_point(request: Request) -> Response:
        schema = schema_of(request)
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        return JSONResponse(emu.metrics.add_point(schema, body).to_json(), status_code=201)

    async def list_points(request: Request) -> Response:
        # ASSUMPTION [U] §7.2: a range is ``?start=`` (inclusive) and ``?end=`` (exclusive).
        schema = schema_of(request)
        start, end = _optional_instant(request, "start"), _optional_instant(request, "end")
        return JSONResponse([p.to_json() for p in emu.metrics.points(schema, start, end)])

    async def points_at(request: Request) -> Response:
        schema = schema_of(request)
        at = parse_instant(request.path_params["timestamp"])
        return JSONResponse([p.to_json() for p in emu.metrics.points_at(schema, at)])

    async def delete_at(request: Request) -> Response:
        # ASSUMPTION [U] §7.2: deleting an instant without points is a 204 too (idempotent).
        schema = schema_of(request)
        emu.metrics.delete_at(schema, parse_instant(request.path_params["timestamp"]))
        return Response(status_code=204)

    one = f"{SCHEMAS}/{{uuid}}"
    return [
        Route(SCHEMAS, guarded(list_schemas), methods=["GET"]),
        Route(SCHEMAS, guarded(create_schema), methods=["POST"]),
        Route(f"{SCHEMAS}/find", guarded(find_schemas), methods=["GET"]),
        Route(one, guarded(get_schema), methods=["GET"]),
        Route(one, guarded(delete_schema), methods=["DELETE"]),
        Route(f"{one}/points", guarded(list_points), methods=["GET"]),
        Route(f"{one}/points", guarded(add_point), methods=["POST"]),
        Route(f"{one}/points/{{timestamp}}", guarded(points_at), methods=["GET"]),
        Route(f"{one}/points/{{timestamp}}", guarded(delete_at), methods=["DELETE"]),
    ]


def admin_routes(emu: Emulator) -> list[Route]:
    """``GET /_sandbox/metrics``: every schema with all of its points (loopback, no auth)."""

    async def overview(_request: Request) -> Response:
        return JSONResponse(
            {
                "schemas": [
                    {**s.to_json(), "points": [p.to_json() for p in s.points]}
                    for s in emu.metrics.schemas.values()
                ]
            }
        )

    return [Route("/_sandbox/metrics", overview, methods=["GET"])]
