"""Small HTTP helpers shared by the route modules (REST envelope, auth failures, JSON bodies)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

JsonDict = dict[str, Any]


def rest(data: Any, type_name: str, *, status: int = 200, total: int | None = None) -> JSONResponse:
    """The REST envelope of §0.2.

    # ASSUMPTION [I] §0.2: ``type`` names the class of ``data`` (as "PullResult" does);
    # ``total`` is the number of items (1 for a single object).
    """
    if total is None:
        total = len(data) if isinstance(data, list) else (0 if data is None else 1)
    return JSONResponse(
        {
            "status": "OK",
            "type": type_name,
            "message": None,
            "errors": [],
            "total": total,
            "data": data,
        },
        status_code=status,
    )


def rest_error(status: int, message: str, errors: list[JsonDict] | None = None) -> JSONResponse:
    """An error in the REST envelope (``status: "ERROR"``)."""
    return JSONResponse(
        {
            "status": "ERROR",
            "type": None,
            "message": message,
            "errors": errors or [],
            "total": 0,
            "data": None,
        },
        status_code=status,
    )


def unauthorized() -> JSONResponse:
    """401 for a missing, unknown or expired bearer token.

    # ASSUMPTION [I] §2.8: the body of a 401 is not documented; clients must only rely on the code.
    """
    return JSONResponse(
        {"status": "ERROR", "message": "Unauthorized: missing, invalid or expired access token"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def json_body(request: Request) -> tuple[Any, Response | None]:
    """Parse the JSON body, or return a 400 response to send instead."""
    try:
        raw = await request.body()
    except ClientDisconnect:
        # The client gave up (e.g. its read timeout during injected latency): nobody to answer.
        return None, Response(status_code=499)
    try:
        return json.loads(raw or b"null"), None
    except (ValueError, UnicodeDecodeError):
        return None, rest_error(400, "Request body is not valid JSON")
