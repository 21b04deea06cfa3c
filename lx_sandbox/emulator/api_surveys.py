"""Routes of Survey API v1 (``/services/survey/v1``) and Poll API v2 (``/services/poll/v2``)
over one survey model (§6). Bearer auth and the REST envelope (§0.2) like the other APIs.

An API missing from ``surveyApis`` answers 404 on every path, before auth: a workspace that has
only the legacy API, so a client's v1-then-v2 detection can be tested.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lx_sandbox.emulator.http_util import json_body, rest, rest_error, unauthorized
from lx_sandbox.emulator.survey_checks import questionnaire_of, title_of
from lx_sandbox.emulator.survey_events import emit_finished
from lx_sandbox.emulator.surveys import (
    FINISHED,
    STARTED,
    PollRun,
    SurveyError,
    result_json,
    run_json,
    user_json,
)

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator
    from lx_sandbox.emulator.state import FactSheet, User

JsonDict = dict[str, Any]
V1 = "/services/survey/v1"
V2 = "/services/poll/v2"
SURVEY_APIS = ("v1", "v2")
Handler = Callable[[Request], Awaitable[Response]]
UserHandler = Callable[[Request, "User"], Awaitable[Response]]


class _AnswerError(Exception):
    """Carries the response to send instead of going on."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def not_found() -> JSONResponse:
    """The answer of a path the workspace does not serve."""
    return JSONResponse({"status": "ERROR", "message": "Not Found"}, status_code=404)


async def _object_body(request: Request) -> JsonDict:
    body, problem = await json_body(request)
    if problem is not None:
        raise _AnswerError(problem)
    if not isinstance(body, dict):
        raise SurveyError("expected a JSON object")
    return body


def routes(emu: Emulator) -> list[Route]:
    """Both survey APIs bound to ``emu``."""

    def guarded(api: str, fn: UserHandler) -> Handler:
        async def wrapped(request: Request) -> Response:
            if api not in emu.survey_apis:
                # ASSUMPTION [I] §6.1: a workspace without this API answers 404 on all of it.
                return not_found()
            user = emu.user_for_bearer(request.headers.get("authorization"))
            if user is None:
                return unauthorized()
            workspace = request.query_params.get("workspaceId")
            if api == "v2" and workspace and workspace != emu.ws.id:
                # ASSUMPTION [I] §6.1: v2's workspaceId must be the token's workspace.
                return rest_error(403, "Not permitted for this workspace")
            try:
                return await fn(request, user)
            except SurveyError as exc:
                return rest_error(exc.status, str(exc))
            except _AnswerError as answer:
                return answer.response

        return wrapped

    def path_run(request: Request) -> PollRun:
        return emu.surveys.run(request.path_params["id"])

    def run_answer(run: PollRun) -> Response:
        return rest(run_json(emu.surveys, run), "PollRun")

    def fact_sheets(raw: Any) -> list[FactSheet]:
        if raw is None:
            # ASSUMPTION [U] §6.1: a run created without factSheetIds covers no fact sheet.
            return []
        if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
            raise SurveyError("factSheetIds must be a list of fact sheet ids")
        unknown = [i for i in raw if i not in emu.ws.fact_sheets]
        if unknown:
            raise SurveyError(f"unknown fact sheet ids {unknown}")
        return [emu.ws.fact_sheets[i] for i in raw]

    # -- polls ---------------------------------------------------------------------------------
    async def list_polls(request: Request, _user: User) -> Response:
        # ASSUMPTION [U] §6.2: ``q`` matches a substring of the title, ignoring case.
        q = (request.query_params.get("q") or "").casefold()
        polls = [p.to_json() for p in emu.surveys.polls.values() if q in p.title.casefold()]
        return rest(polls, "Poll")

    async def create_poll(request: Request, _user: User) -> Response:
        body = await _object_body(request)
        title = title_of(body.get("title"))
        poll = emu.surveys.add_poll(title, questionnaire_of(body.get("questionnaire")))
        return rest(poll.to_json(), "Poll")

    async def get_poll(request: Request, _user: User) -> Response:
        return rest(emu.surveys.poll(request.path_params["id"]).to_json(), "Poll")

    async def update_poll(request: Request, _user: User) -> Response:
        poll = emu.surveys.poll(request.path_params["id"])
        body = await _object_body(request)
        # ASSUMPTION [U] §6.1: PUT changes the keys it names (title, questionnaire).
        title = title_of(body["title"]) if "title" in body else poll.title
        questions = poll.questions
        if "questionnaire" in body:
            questions = questionnaire_of(body["questionnaire"])
        poll.title, poll.questions = title, questions
        return rest(poll.to_json(), "Poll")

    async def delete_poll(request: Request, _user: User) -> Response:
        emu.surveys.delete_poll(emu.surveys.poll(request.path_params["id"]))
        return Response(status_code=204)  # [V] §6.1: v1 DELETE answers 204

    async def poll_runs(request: Request, _user: User) -> Response:
        poll = emu.surveys.poll(request.path_params["id"])
        return rest([run_json(emu.surveys, r) for r in emu.surveys.runs_of(poll.id)], "PollRun")

    # -- runs ----------------------------------------------------------------------------------
    async def list_runs(request: Request, _user: User) -> Response:
        poll_id = request.query_params.get("pollId")
        status = request.query_params.get("status")
        runs = [
            run_json(emu.surveys, r)
            for r in emu.surveys.runs.values()
            if (poll_id is None or r.poll_id == poll_id) and (status is None or r.status == status)
        ]
        return rest(runs, "PollRun")

    async def create_run(request: Request, user: User) -> Response:
        body = await _object_body(request)
        poll_id = body.get("pollId")
        if not isinstance(poll_id, str) or not poll_id:
            raise SurveyError("pollId is required")
        # ASSUMPTION [U] §6.1: an unknown pollId is a 404, like an unknown id in the path.
        poll = emu.surveys.poll(poll_id)
        result_view = body.get("resultView", "NEW")
        if not isinstance(result_view, str):
            raise SurveyError("resultView must be a string")
        targets = fact_sheets(body.get("factSheetIds"))
        return run_answer(emu.surveys.start_run(poll, targets, user.id, result_view))

    async def get_run(request: Request, _user: User) -> Response:
        return run_answer(path_run(request))

    async def update_run(request: Request, user: User) -> Response:
        run = path_run(request)
        body = await _object_body(request)
        status = body.get("status", run.status)
        if status not in (STARTED, FINISHED):
            raise SurveyError("status must be STARTED or FINISHED")
        if status == STARTED and run.status == FINISHED:
            # ASSUMPTION [U] §6.2: a finished run cannot be started again.
            raise SurveyError(f"Poll run {run.id} is FINISHED and cannot be restarted")
        if status == FINISHED and emu.surveys.finish(run):
            # ASSUMPTION [U] §6.5: ending a run by API emits POLL_FINISHED like the admin finish.
            emit_finished(emu.events, emu.ws, emu.base_url, run=run, user_id=user.id)
        return run_answer(run)

    async def delete_run_v1(request: Request, _user: User) -> Response:
        emu.surveys.delete_run(path_run(request))
        return Response(status_code=204)  # [V] §6.1: v1 DELETE answers 204

    async def delete_run_v2(request: Request, _user: User) -> Response:
        run = path_run(request)
        answer = run_answer(run)  # [V] §6.1: v2 DELETE answered 200 (with the deleted run)
        emu.surveys.delete_run(run)
        return answer

    # -- results -------------------------------------------------------------------------------
    async def run_results(request: Request, _user: User) -> Response:
        # ASSUMPTION [I] §6.2: every result of the run in one answer, no paging.
        run = path_run(request)
        results = [result_json(emu.ws, r) for r in emu.surveys.results_of(run.id)]
        return rest(results, "PollResult")

    async def list_results(request: Request, _user: User) -> Response:
        run_id = request.query_params.get("pollRunId")
        results = [
            result_json(emu.ws, r)
            for r in emu.surveys.results.values()
            if run_id is None or r.run_id == run_id
        ]
        return rest(results, "PollResult")

    async def get_result(request: Request, user: User) -> Response:
        result = emu.surveys.result(request.path_params["id"])
        doc = result_json(emu.ws, result)
        doc["requestingUser"] = user_json(emu.ws, user.id)  # [V] §6.3
        return rest(doc, "PollResult")

    async def no_route(_request: Request, _user: User) -> Response:
        return not_found()  # [V] §6.2: only v1 reads one result by id

    v1: list[tuple[str, str, UserHandler]] = [
        ("/polls", "GET", list_polls),
        ("/polls", "POST", create_poll),
        ("/polls/{id}", "GET", get_poll),
        ("/polls/{id}", "PUT", update_poll),
        ("/polls/{id}", "DELETE", delete_poll),
        ("/pollRuns", "GET", list_runs),
        ("/pollRuns", "POST", create_run),
        ("/pollRuns/{id}", "GET", get_run),
        ("/pollRuns/{id}", "PUT", update_run),
        ("/pollRuns/{id}", "DELETE", delete_run_v1),
        ("/pollRuns/{id}/pollResults", "GET", run_results),
        # §6.1 [I]: the migration guide also writes ``poll_results``.
        ("/pollRuns/{id}/poll_results", "GET", run_results),
        ("/pollResults", "GET", list_results),
        ("/pollResults/{id}", "GET", get_result),
    ]
    v2: list[tuple[str, str, UserHandler]] = [
        ("/polls", "GET", list_polls),
        ("/polls/{id}", "GET", get_poll),
        ("/polls/{id}/pollRuns", "GET", poll_runs),
        ("/pollRuns/{id}", "GET", get_run),
        ("/pollRuns/{id}", "PUT", update_run),
        ("/pollRuns/{id}", "DELETE", delete_run_v2),
        ("/pollRuns/{id}/pollResults", "GET", run_results),
        ("/pollResults/{id}", "GET", no_route),
    ]
    return [
        Route(base + path, guarded(api, fn), methods=[method])
        for api, base, table in (("v1", V1, v1), ("v2", V2, v2))
        for path, method, fn in table
    ]
