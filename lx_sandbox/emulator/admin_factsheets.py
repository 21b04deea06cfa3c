"""Admin writes and views of fact-sheet values GraphQL cannot set (``/_sandbox/factsheets``).

LeanIX computes a fact sheet's completion itself; the emulator stores it, so tests and the demo
set it here (``PATCH /_sandbox/factsheets/{id}``) instead of through ``updateFactSheet``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.comments import comment_json
from lx_sandbox.emulator.http_util import json_body
from lx_sandbox.emulator.json_checks import object_of

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator
    from lx_sandbox.emulator.state import FactSheet

JsonDict = dict[str, Any]
PREFIX = "/_sandbox"
_PATCH_KEYS = frozenset({"completion"})


def comments_view(emu: Emulator, fs: FactSheet) -> list[JsonDict]:
    """The fact sheet's comments, newest first (``GET /_sandbox/factsheets/{id}``)."""
    return [comment_json(emu.ws, c) for c in emu.ws.comments_of(fs.id)]


def _completion(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError("completion must be a number in [0, 1]")
    return float(value)


def routes(emu: Emulator) -> list[Route]:
    """``PATCH /_sandbox/factsheets/{id}`` bound to ``emu``."""

    async def patch_fact_sheet(request: Request) -> Response:
        """Set stored values: ``{"completion": 0..1}``.

        # ASSUMPTION [U]: no ``rev`` bump and no event (LeanIX recomputes completion without a
        # fact-sheet change of its own).
        """
        fs = emu.ws.fact_sheets.get(request.path_params["id"])
        if fs is None:
            return JSONResponse({"error": "no such fact sheet"}, status_code=404)
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        try:
            doc = object_of(body, "fact sheet patch", _PATCH_KEYS)
            completion = _completion(doc["completion"]) if "completion" in doc else None
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if completion is not None:
            fs.completion = completion
        return JSONResponse(
            {
                "id": fs.id,
                "completion": {
                    "completion": fs.completion,
                    "percentage": round(fs.completion * 100),
                },
            }
        )

    return [Route(f"{PREFIX}/factsheets/{{id}}", patch_fact_sheet, methods=["PATCH"])]
