"""Admin routes of the survey model under ``/_sandbox/surveys`` (loopback, no auth): create
polls and runs, answer results as a respondent would, finish runs, read everything back.

Answering and finishing is done as the demo human user (``jane.doe@example.com``) when the
workspace has it, else as the technical user: a webhook handler then sees a human's change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.http_util import json_body
from lx_sandbox.emulator.json_checks import object_of
from lx_sandbox.emulator.survey_checks import answers_of, questions_of, title_of
from lx_sandbox.emulator.survey_events import emit_finished, emit_result_updated
from lx_sandbox.emulator.surveys import (
    DONE,
    PENDING,
    SurveyError,
    admin_actor,
    result_json,
    run_json,
)

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator

JsonDict = dict[str, Any]
PREFIX = "/_sandbox/surveys"
_POLL_KEYS = frozenset({"title", "questions"})
_RUN_KEYS = frozenset({"pollId", "factSheetIds"})
_RESULT_KEYS = frozenset({"pollRunId", "factSheetId", "answers", "status", "emitEvent"})
_FINISH_KEYS = frozenset({"emitEvent"})
Handler = Callable[[Request], Awaitable[Response]]


class _AnswerError(Exception):
    """Carries a ready response (a body that is not JSON at all)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _id_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SurveyError(f"{name} must be a list of ids")
    return value


def _required(doc: JsonDict, name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise SurveyError(f"{name} is required (an id)")
    return value


def _flag(doc: JsonDict, name: str) -> bool:
    value = doc.get(name, True)
    if not isinstance(value, bool):
        raise SurveyError(f"{name} must be true or false")
    return value


def routes(emu: Emulator) -> list[Route]:
    """The survey admin routes bound to ``emu``."""

    async def document(request: Request, name: str, keys: frozenset[str]) -> JsonDict:
        body, problem = await json_body(request)
        if problem is not None:
            raise _AnswerError(problem)
        try:
            return object_of({} if body is None else body, name, keys)
        except ValueError as exc:
            raise SurveyError(str(exc)) from None

    def guarded(fn: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                return await fn(request)
            except SurveyError as exc:
                return _bad(str(exc), exc.status)
            except _AnswerError as problem:
                return problem.response

        return wrapped

    def actor_id() -> str | None:
        user = admin_actor(emu.ws)
        return user.id if user else None

    async def overview(_request: Request) -> Response:
        store = emu.surveys
        return JSONResponse(
            {
                "polls": [p.to_json() for p in store.polls.values()],
                "runs": [run_json(store, r) for r in store.runs.values()],
                "results": [result_json(emu.ws, r) for r in store.results.values()],
            }
        )

    async def create_poll(request: Request) -> Response:
        doc = await document(request, "poll", _POLL_KEYS)
        title = title_of(doc.get("title"))
        poll = emu.surveys.add_poll(title, questions_of(doc.get("questions"), strict=True))
        return JSONResponse(poll.to_json())

    async def create_run(request: Request) -> Response:
        doc = await document(request, "run", _RUN_KEYS)
        poll_id = _required(doc, "pollId")
        ids = _id_list(doc.get("factSheetIds"), "factSheetIds")
        unknown = [i for i in ids if i not in emu.ws.fact_sheets]
        if unknown:
            raise SurveyError(f"unknown fact sheet ids {unknown}")
        poll = emu.surveys.poll(poll_id)
        targets = [emu.ws.fact_sheets[i] for i in ids]
        run = emu.surveys.start_run(poll, targets, actor_id(), "NEW")
        return JSONResponse(run_json(emu.surveys, run))

    async def submit(request: Request) -> Response:
        doc = await document(request, "result", _RESULT_KEYS)
        run = emu.surveys.run(_required(doc, "pollRunId"))
        fs_id = _required(doc, "factSheetId")
        fs = emu.ws.fact_sheets.get(fs_id)
        if fs is None:
            raise SurveyError(f"unknown factSheetId {fs_id!r}")
        status = doc.get("status", DONE)
        if status not in (DONE, PENDING):
            raise SurveyError("status must be DONE or PENDING")
        answers = answers_of(emu.surveys.poll(run.poll_id), doc.get("answers", []))
        if status == PENDING and answers:
            raise SurveyError("a PENDING result has no answers")
        emit = _flag(doc, "emitEvent")
        user_id = actor_id()
        result = emu.surveys.submit(run, fs, answers, status, user_id)
        if emit:
            emit_result_updated(
                emu.events, emu.ws, emu.base_url, result=result, run=run, user_id=user_id
            )
        return JSONResponse(result_json(emu.ws, result))

    async def finish(request: Request) -> Response:
        run = emu.surveys.run(request.path_params["id"])
        doc = await document(request, "finish", _FINISH_KEYS)
        emit = _flag(doc, "emitEvent")
        if not emu.surveys.finish(run):
            raise SurveyError(f"Poll run {run.id} is FINISHED already")
        if emit:
            emit_finished(emu.events, emu.ws, emu.base_url, run=run, user_id=actor_id())
        return JSONResponse(run_json(emu.surveys, run))

    return [
        Route(PREFIX, guarded(overview), methods=["GET"]),
        Route(f"{PREFIX}/polls", guarded(create_poll), methods=["POST"]),
        Route(f"{PREFIX}/runs", guarded(create_run), methods=["POST"]),
        Route(f"{PREFIX}/results", guarded(submit), methods=["POST"]),
        Route(f"{PREFIX}/runs/{{id}}/finish", guarded(finish), methods=["POST"]),
    ]
