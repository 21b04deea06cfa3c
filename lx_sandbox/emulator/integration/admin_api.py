"""Admin routes of the Integration API emulation under ``/_sandbox/integration`` (loopback only,
no auth): runs, settings, the emulator's own upload and result URLs."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.http_util import json_body

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator

PREFIX = "/_sandbox/integration"
_BLOCK_ID = re.compile(r"<(?:Latest|Committed|Uncommitted)>([^<]+)</")
#: Headers an Azure Put Blob answer carries (the Azure SDK reads them).
_AZURE_HEADERS = {
    "ETag": '"0x8D000000000000"',
    "Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT",
    "x-ms-request-server-encrypted": "false",
    "x-ms-version": "2021-08-06",
}
_MAX_UPLOAD = 1024 * 1024 * 1024


async def _bounded(request: Request) -> bytes | None:
    """The request body, or None when it passes :data:`_MAX_UPLOAD`."""
    size = 0
    chunks: list[bytes] = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_UPLOAD:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def routes(emu: Emulator) -> list[Route]:
    """The admin routes bound to ``emu``."""
    service = emu.integration

    async def runs(_request: Request) -> Response:
        return JSONResponse({"runs": [service.runs.admin_json(r) for r in service.all_runs()]})

    async def run(request: Request) -> Response:
        found = service.run(request.path_params["id"])
        if found is None:
            return _bad("no such run", 404)
        doc = service.runs.admin_json(found)
        doc["warnings"] = found.warnings()
        doc["results"] = found.results
        return JSONResponse(doc)

    async def config(request: Request) -> Response:
        if request.method == "PUT":
            body, problem = await json_body(request)
            if problem is not None:
                return problem
            try:
                service.settings.apply(body)
            except ValueError as exc:
                return _bad(str(exc))
        return JSONResponse(service.settings.to_json())

    async def configurations(_request: Request) -> Response:
        return JSONResponse({"configurations": list(service.configs.values())})

    async def upload(request: Request) -> Response:
        token = request.path_params["token"]
        uploads = service.uploads
        if request.method == "GET":
            blob = uploads.blobs.get(token)
            if blob is None:
                return _bad("nothing uploaded here", 404)
            return Response(blob, media_type="application/json")
        if token not in uploads.open_tokens:
            return _bad("unknown upload URL (ask GET /storages/azure for one)", 404)
        body = await _bounded(request)
        if body is None:
            return _bad("upload too large", 413)
        comp = request.query_params.get("comp")
        # Like Azure: Put Blob (x-ms-blob-type required), or Put Block + Put Block List, which
        # the Azure SDK uses for large uploads.
        if comp == "block":
            block_id = request.query_params.get("blockid")
            if not block_id:
                return _bad("blockid is required")
            uploads.blocks.setdefault(token, {})[block_id] = body
        elif comp == "blocklist":
            staged = uploads.blocks.pop(token, {})
            ids = _BLOCK_ID.findall(body.decode("utf-8", errors="replace"))
            if any(i not in staged for i in ids):
                return _bad("the block list names a block that was not uploaded")
            uploads.blobs[token] = b"".join(staged[i] for i in ids)
        elif request.headers.get("x-ms-blob-type") != "BlockBlob":
            return _bad("x-ms-blob-type: BlockBlob is required")
        else:
            uploads.blobs[token] = body
        return Response(status_code=201, headers=_AZURE_HEADERS)

    async def results(request: Request) -> Response:
        found = service.run(request.path_params["id"])
        if found is None or request.query_params.get("sig") != found.results_token:
            return _bad("unknown run or signature", 403)
        if found.results is None:
            return Response(status_code=204)
        return Response(json.dumps(found.results).encode(), media_type="application/json")

    return [
        Route(f"{PREFIX}/runs", runs, methods=["GET"]),
        Route(f"{PREFIX}/runs/{{id}}", run, methods=["GET"]),
        Route(f"{PREFIX}/config", config, methods=["GET", "PUT"]),
        Route(f"{PREFIX}/configurations", configurations, methods=["GET"]),
        Route(f"{PREFIX}/uploads/{{token}}", upload, methods=["GET", "PUT"]),
        Route(f"{PREFIX}/results/{{id}}", results, methods=["GET"]),
    ]
