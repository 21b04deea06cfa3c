"""Routes of the Integration API v1 (§5.1): configurations, synchronization runs, fast runs,
large-input storage and examples. Bearer auth like the other emulator APIs; bodies are bounded
(``maxBodyBytes``, default 64 MiB) and a larger one is answered 413.
"""

from __future__ import annotations

import copy
import json
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.events import EventStore
from lx_sandbox.emulator.http_util import rest_error, unauthorized
from lx_sandbox.emulator.integration.documents import (
    IDENTITY_FIELDS,
    DocumentError,
    Identity,
    check_configuration,
    check_ldif,
    identity_of,
)
from lx_sandbox.emulator.integration.engine import Engine
from lx_sandbox.emulator.integration.examples import example
from lx_sandbox.emulator.integration.runs import Run
from lx_sandbox.emulator.integration.storage import InputError, read_url, storage_target
from lx_sandbox.emulator.integration.writer import Writer
from lx_sandbox.emulator.state import User

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator

JsonDict = dict[str, Any]
PREFIX = "/services/integration-api/v1"
RUNS = f"{PREFIX}/synchronizationRuns"


class _AnswerError(Exception):
    """Carries the response to send instead of going on."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def _bool_param(request: Request, name: str) -> bool:
    value = request.query_params.get(name)
    if value is None:
        return False
    if value.strip().lower() in ("true", "1", "yes"):
        return True
    if value.strip().lower() in ("false", "0", "no", ""):
        return False
    raise _AnswerError(rest_error(400, f"{name} must be true or false"))


def _problem(exc: DocumentError) -> Response:
    # ASSUMPTION [U] §5.1: the Integration API's 400 body is not documented; the emulator uses
    # its REST error envelope with ``errors[].value`` naming the field.
    return rest_error(
        400, f"Invalid input: {exc}", [{"value": exc.field, "messages": [exc.message]}]
    )


def _no_content() -> Response:
    return Response(status_code=204)


def routes(emu: Emulator) -> list[Route]:
    """The Integration API routes bound to ``emu``."""
    service = emu.integration

    def auth(request: Request) -> User:
        user = emu.user_for_bearer(request.headers.get("authorization"))
        if user is None:
            raise _AnswerError(unauthorized())
        return user

    async def body_json(request: Request) -> Any:
        limit = service.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _AnswerError(rest_error(413, f"Request body larger than {limit} bytes"))
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _AnswerError(rest_error(413, f"Request body larger than {limit} bytes"))
                chunks.append(chunk)
        except ClientDisconnect as exc:
            raise _AnswerError(Response(status_code=499)) from exc
        try:
            return json.loads(b"".join(chunks) or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise _AnswerError(rest_error(400, "Request body is not valid JSON")) from exc

    def handler(fn: Any) -> Any:
        async def wrapped(request: Request) -> Response:
            try:
                user = auth(request)
                response: Response = await fn(request, user)
                return response
            except _AnswerError as answer:
                return answer.response

        return wrapped

    def find_run(request: Request) -> Run:
        run = service.run(request.path_params["id"])
        if run is None:
            raise _AnswerError(rest_error(404, "Synchronization run not found"))
        return run

    def query_identity(request: Request) -> Identity:
        params = dict(request.query_params)
        missing = [n for n in IDENTITY_FIELDS[:4] if not params.get(n)]
        if missing:
            raise _AnswerError(
                rest_error(
                    400,
                    f"Missing query parameters: {', '.join(missing)}",
                    [{"value": n, "messages": ["must not be null"]} for n in missing],
                )
            )
        try:
            return identity_of(params)
        except DocumentError as exc:
            raise _AnswerError(_problem(exc)) from exc

    def config_for(identity: Identity) -> JsonDict:
        config = service.find_config(identity)
        if config is None:
            # ASSUMPTION [U] §5.3: the answer when no stored configuration matches the LDIF's
            # five connector fields ([V]: they must match exactly) is not documented: 400.
            names = ", ".join(f"{n}={v}" for n, v in zip(IDENTITY_FIELDS, identity, strict=True))
            raise _AnswerError(
                rest_error(
                    400,
                    f"No processor configuration matches the LDIF ({names})",
                    [{"value": "connectorId", "messages": ["no matching processor configuration"]}],
                )
            )
        return config

    def valid_ldif(doc: Any) -> JsonDict:
        try:
            return check_ldif(doc)
        except DocumentError as exc:
            raise _AnswerError(_problem(exc)) from exc

    def valid_config(doc: Any) -> JsonDict:
        try:
            check_configuration(doc)
        except DocumentError as exc:
            raise _AnswerError(_problem(exc)) from exc
        config: JsonDict = doc
        return config

    def new_run(request: Request, user: User, ldif: JsonDict, config: JsonDict) -> Run:
        start, test = _bool_param(request, "start"), _bool_param(request, "test")
        identity = identity_of(ldif)
        run = service.runs.create(identity, config, ldif, user.id, test=test)
        if start:
            service.runs.start(run)
        return run

    # -- configurations ----------------------------------------------------------------------
    async def get_configurations(request: Request, _user: User) -> Response:
        if not any(request.query_params.get(n) for n in IDENTITY_FIELDS):
            # ASSUMPTION [I] §5.1: unfiltered, the answer is the list of every configuration.
            return JSONResponse(list(service.configs.values()))
        config = service.find_config(query_identity(request))
        if config is None:
            return rest_error(404, "Processor configuration not found")
        return JSONResponse(config)

    async def put_configuration(request: Request, _user: User) -> Response:
        service.put_config(valid_config(await body_json(request)))
        return _no_content()

    async def delete_configuration(request: Request, _user: User) -> Response:
        identity = query_identity(request)
        if service.configs.pop(identity, None) is None:
            return rest_error(404, "Processor configuration not found")
        return _no_content()

    # -- runs --------------------------------------------------------------------------------
    async def list_runs(_request: Request, _user: User) -> Response:
        return JSONResponse([run.status_json() for run in service.all_runs()])

    async def create_run(request: Request, user: User) -> Response:
        ldif = valid_ldif(await body_json(request))
        config = config_for(identity_of(ldif))
        run = new_run(request, user, ldif, config)
        # [V3] §5.1: LeanIX's sample reads json['id'].
        return JSONResponse({"id": run.id})

    async def create_with_config(request: Request, user: User) -> Response:
        body = await body_json(request)
        if not isinstance(body, dict):
            raise _AnswerError(
                rest_error(400, 'expected {"input": LDIF, "processorConfiguration": {}}')
            )
        ldif = valid_ldif(body.get("input"))
        config = valid_config(body.get("processorConfiguration"))
        run = new_run(request, user, ldif, config)
        return JSONResponse({"id": run.id})

    async def create_with_url(request: Request, user: User) -> Response:
        body = await body_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            raise _AnswerError(
                rest_error(
                    400,
                    "Invalid input: url must not be null",
                    [{"value": "url", "messages": ["must not be null"]}],
                )
            )
        if body.get("type") not in (None, "azureStorage"):
            raise _AnswerError(rest_error(400, "type must be azureStorage or null"))
        try:
            doc = await read_url(service.uploads, emu.base_url, body["url"])
        except InputError as exc:
            raise _AnswerError(rest_error(400, str(exc))) from exc
        ldif = valid_ldif(doc)
        config = config_for(identity_of(ldif))
        run = new_run(request, user, ldif, config)
        return JSONResponse({"id": run.id, "processorConfiguration": config})

    async def create_with_group(request: Request, user: User) -> Response:
        group = request.query_params.get("groupName")
        if not group:
            raise _AnswerError(rest_error(400, "groupName is required"))
        ldif = valid_ldif(await body_json(request))
        # ASSUMPTION [U] §5.1: a configuration joins a group through a list of names under
        # ``executionGroups``; the group's processors run together in configuration order.
        members = [c for c in service.configs.values() if group in (c.get("executionGroups") or [])]
        if not members:
            return rest_error(404, f"No processor configuration in execution group '{group}'")
        kinds = {
            (c.get("processingDirection"), c.get("processingMode") or "partial") for c in members
        }
        if len(kinds) > 1:
            return rest_error(400, "The execution group mixes processing directions or modes")
        merged = copy.deepcopy(members[0])
        merged["processors"] = [p for c in members for p in (c.get("processors") or [])]
        run = new_run(request, user, ldif, merged)
        return JSONResponse({"id": run.id, "processorConfiguration": merged})

    async def start_run(request: Request, _user: User) -> Response:
        run = find_run(request)
        test = _bool_param(request, "test")
        if run.status != "CREATED":
            return rest_error(400, f"Synchronization run already started (status {run.status})")
        service.runs.start(run, test=test)
        return Response(status_code=200)

    async def stop_run(request: Request, _user: User) -> Response:
        run = find_run(request)
        if not service.runs.stop(run):
            return rest_error(
                400, f"Only pending or running runs can be stopped (status {run.status})"
            )
        return Response(status_code=200)

    async def status(request: Request, _user: User) -> Response:
        run = find_run(request)
        doc = {k: v for k, v in run.status_json().items() if k in ("id", "status", "description")}
        return JSONResponse(doc)

    async def progress(request: Request, _user: User) -> Response:
        return JSONResponse(find_run(request).progress_json())

    async def results(request: Request, _user: User) -> Response:
        run = find_run(request)
        if run.status != "FINISHED" or run.results is None:
            # [V] §5.1/§1 "Results": 204 = no LDIF to produce, or not ready yet.
            return _no_content()
        return JSONResponse(run.results)

    async def results_url(request: Request, _user: User) -> Response:
        run = find_run(request)
        if run.status != "FINISHED" or run.results is None:
            return JSONResponse({"url": None})
        # ASSUMPTION [I] §5.5: like a SAS URL, this one needs no bearer (the token is in it).
        url = f"{emu.base_url}/_sandbox/integration/results/{run.id}?sig={run.results_token}"
        return JSONResponse({"url": url})

    async def warnings(request: Request, _user: User) -> Response:
        try:
            offset = int(request.query_params.get("offset", "0"))
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            return rest_error(400, "offset and limit must be integers")
        if offset < 0 or not 1 <= limit <= 100:
            # [V] §5.1: offset >= 0, limit 1-100 (ASSUMPTION [I]: outside is a 400, not clamped).
            return rest_error(400, "offset must be >= 0 and limit between 1 and 100")
        run = find_run(request)
        return JSONResponse(run.warnings()[offset : offset + limit])

    # -- fast runs ---------------------------------------------------------------------------
    def fast(request: Request, user: User, ldif: JsonDict, config: JsonDict) -> Response:
        if (
            ldif["processingDirection"] == "outbound"
            or config.get("processingDirection") == "outbound"
        ):
            return rest_error(400, "Fast execution does not support outbound yet")
        test = _bool_param(request, "test")
        ws, events = emu.ws, emu.events
        if test:
            ws, events = copy.deepcopy(ws), EventStore()
        engine = Engine(Writer(ws, events, emu.base_url, user.id), config, ldif)
        began = time.perf_counter()
        engine.run_to_end()
        duration = time.perf_counter() - began
        return JSONResponse(
            {
                "status": "FINISHED",
                "warnings": engine.report.warnings,
                "stats": {
                    "duration": f"PT{duration:.3f}S",
                    "processedContentCount": engine.processed,
                    "processorCount": len(engine.processors),
                },
                "results": engine.results(),
            }
        )

    async def fast_run(request: Request, user: User) -> Response:
        ldif = valid_ldif(await body_json(request))
        if ldif["processingDirection"] == "outbound":
            return rest_error(400, "Fast execution does not support outbound yet")
        return fast(request, user, ldif, config_for(identity_of(ldif)))

    async def fast_with_config(request: Request, user: User) -> Response:
        body = await body_json(request)
        if not isinstance(body, dict):
            raise _AnswerError(
                rest_error(400, 'expected {"input": LDIF, "processorConfiguration": {}}')
            )
        ldif = valid_ldif(body.get("input"))
        config = valid_config(body.get("processorConfiguration"))
        return fast(request, user, ldif, config)

    # -- storage and examples ----------------------------------------------------------------
    async def storage(_request: Request, _user: User) -> Response:
        try:
            url, expire_at = await storage_target(
                service.uploads,
                emu.base_url,
                service.blob_connection_string,
                service.settings.sas_lifetime_seconds,
            )
        except Exception as exc:  # [V] §5.1: this endpoint's only documented error is a 500
            return rest_error(500, f"Storage is not available: {exc}")
        return JSONResponse({"SAS": url, "expireAt": expire_at})

    async def examples(request: Request, _user: User) -> Response:
        doc = example(request.path_params["name"])
        if doc is None:
            return rest_error(404, "Unknown example")
        return JSONResponse(doc)

    def route(path: str, fn: Any, method: str) -> Route:
        return Route(path, handler(fn), methods=[method])

    return [
        route(f"{PREFIX}/configurations", get_configurations, "GET"),
        route(f"{PREFIX}/configurations", put_configuration, "PUT"),
        route(f"{PREFIX}/configurations", delete_configuration, "DELETE"),
        route(RUNS, list_runs, "GET"),
        route(RUNS, create_run, "POST"),
        route(f"{RUNS}/withConfig", create_with_config, "POST"),
        route(f"{RUNS}/withUrlInput", create_with_url, "POST"),
        route(f"{RUNS}/withExecutionGroup", create_with_group, "POST"),
        route(f"{RUNS}/{{id}}/start", start_run, "POST"),
        route(f"{RUNS}/{{id}}/stop", stop_run, "POST"),
        route(f"{RUNS}/{{id}}/status", status, "GET"),
        route(f"{RUNS}/{{id}}/progress", progress, "GET"),
        route(f"{RUNS}/{{id}}/results", results, "GET"),
        route(f"{RUNS}/{{id}}/resultsUrl", results_url, "GET"),
        route(f"{RUNS}/{{id}}/warnings", warnings, "GET"),
        route(f"{PREFIX}/fastSynchronizationRuns", fast_run, "POST"),
        route(f"{PREFIX}/fastSynchronizationRuns/withConfig", fast_with_config, "POST"),
        route(f"{PREFIX}/storages/azure", storage, "GET"),
        route(f"{PREFIX}/examples/{{name}}", examples, "GET"),
    ]
