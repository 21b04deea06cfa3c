"""Routes: ``POST /services/mtm/v1/oauth2/token`` (§1.1-1.2) and the workspace user lookup."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.http_util import rest, rest_error, unauthorized
from lx_sandbox.emulator.mtm import api_token_from_request
from lx_sandbox.emulator.state import User

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator


USER_PATH = "/services/mtm/v1/workspaces/{workspaceId}/users/{userId}"


def mtm_user_json(user: User) -> dict[str, object]:
    """A workspace member as the user lookup answers it.

    # ASSUMPTION [U] §1.6: the route and this shape (``id``, ``userName``, ``email``,
    # ``firstName``, ``lastName``, ``technicalUser``, ``status`` ACTIVE | ARCHIVED) are not in
    # the reference; the MTM spec is only known to manage users.
    """
    return {
        "id": user.id,
        "userName": user.username,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "technicalUser": user.technical,
        "status": user.status,
    }


def routes(emu: Emulator) -> list[Route]:
    """The MTM routes bound to ``emu``."""

    async def token(request: Request) -> Response:
        # Parsed by hand: Starlette's form parser needs python-multipart, not a dependency here.
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        # [V3] §1.1: grant_type may also come in the query string with an empty body.
        grant_type = form.get("grant_type") or request.query_params.get("grant_type")
        api_token, problem = api_token_from_request(request.headers.get("authorization"), form)
        if api_token is None:
            # ASSUMPTION [I] §1.1: OAuth2-style error bodies; only the status codes are known.
            return JSONResponse({"error": "invalid_client", "error_description": problem}, 401)
        if grant_type != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "use client_credentials"},
                400,
            )
        user = emu.user_for_token(api_token)
        if user is None:
            # [V3] §1.1: an invalid API token is answered with 401.
            return JSONResponse({"error": "invalid_client", "error_description": "bad token"}, 401)
        emu.tokens.lifetime = emu.token_lifetime
        emu.stats.tokens_issued += 1
        emu.stats.user(user.id, user.username).token_exchanges += 1
        return JSONResponse(emu.tokens.issue(user, emu.ws, emu.base_url))

    async def workspace_user(request: Request) -> Response:
        if emu.user_for_bearer(request.headers.get("authorization")) is None:
            return unauthorized()
        user = emu.ws.users_by_id.get(request.path_params["userId"])
        if request.path_params["workspaceId"] != emu.ws.id or user is None:
            # ASSUMPTION [U]: another workspace, or a user who is not a member, is a 404.
            return rest_error(404, "User not found in this workspace")
        return rest(mtm_user_json(user), "User")

    return [
        Route("/services/mtm/v1/oauth2/token", token, methods=["POST"]),
        Route(USER_PATH, workspace_user, methods=["GET"]),
    ]
