"""Survey state shared by Survey API v1 and Poll API v2 (§6): polls, their runs, and one result
per fact sheet and run.

Both APIs read and write this one model, so a test can create a survey through one API (or the
admin API) and read it through the other. Results are created PENDING when a run starts and
answered later (``POST /_sandbox/surveys/results``), as respondents would in LeanIX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.state import FactSheet, User, Workspace, new_id, now_iso

JsonDict = dict[str, Any]
# ASSUMPTION [U] §6.3: the poll definition's shape and these question type names.
QUESTION_TYPES = ("TEXT", "SINGLE_CHOICE", "MULTIPLE_CHOICE", "NUMBER")
CHOICE_TYPES = frozenset({"SINGLE_CHOICE", "MULTIPLE_CHOICE"})
#: §6.4 [V3]: run statuses.
STARTED, FINISHED = "STARTED", "FINISHED"
#: §6.3: ``DONE`` is [V].
# ASSUMPTION [U] §6.3: an unanswered result is ``PENDING``.
DONE, PENDING = "DONE", "PENDING"
#: Who answers and finishes through the admin API: the demo seed's human user, if present.
ADMIN_ACTOR = "jane.doe@example.com"


class SurveyError(ValueError):
    """A request the survey APIs refuse; ``status`` is the HTTP code to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class Poll:
    """A survey definition; ``questions`` are normalised ``{id, type, label, options}``."""

    id: str
    title: str
    questions: list[JsonDict]
    created_at: str = field(default_factory=now_iso)
    status: str = "ACTIVE"

    def question(self, question_id: str) -> JsonDict | None:
        """The question with this id, or None."""
        return next((q for q in self.questions if q["id"] == question_id), None)

    def to_json(self) -> JsonDict:
        """The Poll object of both APIs."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "questionnaire": {
                "questions": [
                    {**q, "options": [dict(o) for o in q["options"]]} for q in self.questions
                ]
            },
            "createdAt": self.created_at,
        }


@dataclass(slots=True)
class PollRun:
    """One run of a poll over some fact sheets; ``sender_id`` started it."""

    id: str
    poll_id: str
    sender_id: str | None
    fact_sheet_ids: list[str]
    result_view: str = "NEW"
    status: str = STARTED
    start_time: str = field(default_factory=now_iso)
    end_time: str | None = None


@dataclass(slots=True)
class PollResult:
    """The answers for one fact sheet in one run; ``fact_sheet`` is its reference snapshot."""

    id: str
    run_id: str
    fact_sheet: JsonDict
    sender_id: str | None
    status: str = PENDING
    answers: list[JsonDict] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)


def fact_sheet_ref(fs: FactSheet) -> JsonDict:
    """The ``factSheet`` of a result (§6.3)."""
    return {"id": fs.id, "name": fs.name, "displayName": fs.name, "type": fs.type}


def user_json(ws: Workspace, user_id: str | None) -> JsonDict | None:
    """``{id, firstName, lastName, email}`` of a user (§6.3), None without a user."""
    if user_id is None:
        return None
    user = ws.users_by_id.get(user_id)
    return {
        "id": user_id,
        "firstName": user.first_name if user else None,
        "lastName": user.last_name if user else None,
        "email": user.email if user else None,
    }


def admin_actor(ws: Workspace) -> User | None:
    """The user the admin API answers and finishes as: the demo human user, else the first
    technical user, else nobody."""
    users = list(ws.users_by_id.values())
    for user in users:
        if ADMIN_ACTOR in (user.username, user.email):
            return user
    return next((u for u in users if u.technical), None)


class SurveyStore:
    """Polls, runs and results by id (insertion order is the listing order)."""

    def __init__(self) -> None:
        self.polls: dict[str, Poll] = {}
        self.runs: dict[str, PollRun] = {}
        self.results: dict[str, PollResult] = {}

    # -- lookups -------------------------------------------------------------------------------
    def poll(self, poll_id: str) -> Poll:
        """The poll, or a 404 SurveyError."""
        poll = self.polls.get(poll_id)
        if poll is None:
            raise SurveyError(f"Poll {poll_id} not found", 404)
        return poll

    def run(self, run_id: str) -> PollRun:
        """The run, or a 404 SurveyError."""
        run = self.runs.get(run_id)
        if run is None:
            raise SurveyError(f"Poll run {run_id} not found", 404)
        return run

    def result(self, result_id: str) -> PollResult:
        """The result, or a 404 SurveyError."""
        result = self.results.get(result_id)
        if result is None:
            raise SurveyError(f"Poll result {result_id} not found", 404)
        return result

    def runs_of(self, poll_id: str) -> list[PollRun]:
        """Every run of a poll."""
        return [r for r in self.runs.values() if r.poll_id == poll_id]

    def results_of(self, run_id: str) -> list[PollResult]:
        """Every result of a run."""
        return [r for r in self.results.values() if r.run_id == run_id]

    # -- writes --------------------------------------------------------------------------------
    def add_poll(self, title: str, questions: list[JsonDict]) -> Poll:
        """A new ACTIVE poll."""
        poll = Poll(new_id(), title, questions)
        self.polls[poll.id] = poll
        return poll

    def delete_poll(self, poll: Poll) -> None:
        """Remove a poll with its runs and their results.

        # ASSUMPTION [U] §6.1: deleting a poll deletes its runs and results too.
        """
        for run in self.runs_of(poll.id):
            self.delete_run(run)
        del self.polls[poll.id]

    def start_run(
        self, poll: Poll, fact_sheets: list[FactSheet], sender_id: str | None, result_view: str
    ) -> PollRun:
        """A STARTED run with one PENDING result per fact sheet (duplicates count once)."""
        unique = list({fs.id: fs for fs in fact_sheets}.values())
        run = PollRun(new_id(), poll.id, sender_id, [fs.id for fs in unique], result_view)
        self.runs[run.id] = run
        for fs in unique:
            self._add_result(run, fs)
        return run

    def _add_result(self, run: PollRun, fs: FactSheet) -> PollResult:
        result = PollResult(new_id(), run.id, fact_sheet_ref(fs), run.sender_id)
        self.results[result.id] = result
        return result

    @staticmethod
    def finish(run: PollRun) -> bool:
        """End a run now; False if it had ended already."""
        if run.status == FINISHED:
            return False
        run.status, run.end_time = FINISHED, now_iso()
        return True

    def delete_run(self, run: PollRun) -> None:
        """Remove a run and its results."""
        for result in self.results_of(run.id):
            del self.results[result.id]
        del self.runs[run.id]

    def submit(
        self,
        run: PollRun,
        fs: FactSheet,
        answers: list[JsonDict],
        status: str,
        user_id: str | None,
    ) -> PollResult:
        """Set the answers of the fact sheet's result in the run (created if it has none)."""
        if run.status != STARTED:
            raise SurveyError(f"Poll run {run.id} is {run.status}: it takes no more answers")
        result = next((r for r in self.results_of(run.id) if r.fact_sheet["id"] == fs.id), None)
        if result is None:
            run.fact_sheet_ids.append(fs.id)
            result = self._add_result(run, fs)
        result.status, result.answers = status, answers
        result.fact_sheet = fact_sheet_ref(fs)
        # ASSUMPTION [U] §6.3: ``users`` are the respondents (none while PENDING).
        result.user_ids = [user_id] if user_id is not None and status == DONE else []
        return result


def run_json(store: SurveyStore, run: PollRun) -> JsonDict:
    """The PollRun object of both APIs."""
    poll = store.polls.get(run.poll_id)
    return {
        "id": run.id,
        "pollId": run.poll_id,
        "poll": {"id": run.poll_id, "title": poll.title if poll else None},
        "status": run.status,
        "startTime": run.start_time,
        "endTime": run.end_time,
        "resultView": run.result_view,
        "factSheetIds": list(run.fact_sheet_ids),
    }


def result_json(ws: Workspace, result: PollResult) -> JsonDict:
    """The PollResult object (§6.3); names follow the fact sheet's current name."""
    ref = dict(result.fact_sheet)
    fs = ws.fact_sheets.get(ref["id"])
    if fs is not None:
        ref = fact_sheet_ref(fs)
    return {
        "id": result.id,
        "pollRunId": result.run_id,
        "status": result.status,
        # ASSUMPTION [U] §6.3: a PENDING result has no answers.
        "answers": [dict(a) for a in result.answers] if result.status == DONE else [],
        "users": [user_json(ws, u) for u in result.user_ids],
        "sender": user_json(ws, result.sender_id),
        "factSheet": ref,
    }


def survey_apis_of(value: Any) -> list[str]:
    """A ``surveyApis`` setting: a list of distinct ``"v1"`` / ``"v2"``, or ValueError."""
    if (
        not isinstance(value, list)
        or not all(v in ("v1", "v2") for v in value)
        or len(set(value)) != len(value)
    ):
        raise ValueError('surveyApis must be a list of distinct "v1" and "v2" (or empty)')
    return list(value)
