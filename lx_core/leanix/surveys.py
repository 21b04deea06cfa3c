"""SurveysClient: polls, runs and results through Survey API v1, or Poll API v2 where a
workspace has only the legacy API (§6).

Which API a workspace has is probed once per workspace and process (``api()``): a 404 on the v1
listing means "no v1", and v2 is tried. After that, a 404 on one result means that result is
gone (``result()`` returns None), never that the API is missing. Poll definitions are cached
for the client's cache TTL: every result of a survey needs its questions' options, and they
rarely change. Every call is a read: this client never writes to a survey.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lx_core import assumptions
from lx_core.errors import ConfigurationError, MalformedResponseError, NotFoundError
from lx_core.leanix._mapping import json_of, path_only
from lx_core.leanix.cache import ProcessCache
from lx_core.leanix.transport import HttpTransport

log = logging.getLogger(__name__)

Clock = Callable[[], float]
_M = TypeVar("_M", bound=BaseModel)
#: How long a probed API choice is kept: a workspace does not lose Survey API v1 by the hour.
API_CACHE_SECONDS = 6 * 3600.0


class SurveyApi(StrEnum):
    V1 = "v1"
    V2 = "v2"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class PollOption(_Lenient):
    id: str
    label: str = ""


class PollQuestion(_Lenient):
    id: str
    type: str | None = None
    label: str = ""
    options: tuple[PollOption, ...] = ()


class Poll(_Lenient):
    """A survey definition: its title and questions (assumptions.POLL_QUESTION_PATHS)."""

    id: str
    title: str = ""
    questions: tuple[PollQuestion, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _questions(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        for path in assumptions.POLL_QUESTION_PATHS:
            node: Any = data
            for key in path:
                node = node.get(key) if isinstance(node, Mapping) else None
            if isinstance(node, list):
                return {**data, "questions": node}
        return {k: v for k, v in data.items() if k != "questions"}

    def options(self) -> dict[str, dict[str, str]]:
        """question id → option id → label, for the answer adapter."""
        return {q.id: {o.id: o.label for o in q.options} for q in self.questions if q.options}


class PollRun(_Lenient):
    id: str
    poll_id: str | None = Field(None, alias="pollId")
    poll: Poll | None = None
    status: str | None = None
    start_time: str | None = Field(None, alias="startTime")
    end_time: str | None = Field(None, alias="endTime")

    @property
    def survey_id(self) -> str | None:
        return self.poll_id or (self.poll.id if self.poll else None)

    @property
    def open(self) -> bool:
        return (self.status or "") in assumptions.POLL_RUN_OPEN_STATUSES


class ResultFactSheet(_Lenient):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")
    type: str | None = None
    name: str | None = None


class PollResult(_Lenient):
    """One result (§6.3): one fact sheet's answers in one run. ``answers`` stay raw: only the
    answer adapter interprets them."""

    id: str
    poll_run_id: str | None = Field(None, alias="pollRunId")
    status: str | None = None
    answers: list[Any] = Field(default_factory=list)
    fact_sheet: ResultFactSheet | None = Field(None, alias="factSheet")

    @property
    def done(self) -> bool:
        return self.status == assumptions.POLL_RESULT_DONE


_api_cache: ProcessCache[SurveyApi] = ProcessCache()
_poll_cache: ProcessCache[Poll | None] = ProcessCache()


def clear_survey_caches() -> None:
    """Forget probed APIs and cached poll definitions in this process."""
    _api_cache.clear()
    _poll_cache.clear()


class SurveysClient:
    def __init__(
        self,
        transport: HttpTransport,
        *,
        ttl_seconds: float | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.transport = transport
        self._ttl = (
            float(transport.settings.cache_ttl_seconds) if ttl_seconds is None else ttl_seconds
        )
        self._clock = clock

    # --- plumbing ------------------------------------------------------------------------------

    def _scope(self) -> tuple[str, str, str]:
        host, token = self.transport.cache_scope
        return host, token, self.transport.claims.workspace_id or ""

    def api(self) -> SurveyApi:
        """The API this workspace offers: v1 if it answers, else v2; probed once."""
        return _api_cache.get_or_load(self._scope(), self._probe, API_CACHE_SECONDS, self._clock)

    def _probe(self) -> SurveyApi:
        for api, base in (
            (SurveyApi.V1, assumptions.SURVEY_V1_PATH),
            (SurveyApi.V2, assumptions.POLL_V2_PATH),
        ):
            try:
                self._get(base + assumptions.SURVEY_API_PROBE, api=api)
            except NotFoundError:
                continue
            return api
        raise ConfigurationError(
            "this workspace answers neither Survey API v1 nor Poll API v2 (404 on both)"
        )

    def _base(self, api: SurveyApi) -> str:
        return assumptions.SURVEY_V1_PATH if api is SurveyApi.V1 else assumptions.POLL_V2_PATH

    def _get(self, path: str, *, api: SurveyApi, params: Mapping[str, Any] | None = None) -> Any:
        query = dict(params or {})
        if api is SurveyApi.V2:  # §6.1: v2 still names the workspace; v1 takes it from the token
            query.setdefault("workspaceId", self.transport.claims.workspace_id or "")
        response = self.transport.request(
            "GET", path, params=query or None, idempotent=True, expect_json=True
        )
        body = json_of(response)
        return body.get("data") if isinstance(body, dict) else None

    def _items(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        api = self.api()
        data = self._get(self._base(api) + path, api=api, params=params)
        if data is None:
            return []
        if not isinstance(data, list):
            raise self._malformed(path, "a list")
        return data

    @staticmethod
    def _malformed(path: str, what: str) -> MalformedResponseError:
        return MalformedResponseError(
            f"LeanIX answered but its data is not {what}", method="GET", path=path_only(path)
        )

    def _parse(self, model: type[_M], raw: Any, path: str) -> _M:
        try:
            return model.model_validate(raw)
        except ValidationError:
            raise self._malformed(path, f"a {model.__name__}") from None

    # --- reading -------------------------------------------------------------------------------

    def polls(self, q: str | None = None) -> list[Poll]:
        return [
            self._parse(Poll, raw, "/polls")
            for raw in self._items("/polls", {"q": q} if q else None)
        ]

    def poll(self, poll_id: str) -> Poll | None:
        """One survey definition (cached for the TTL); None if it does not exist."""
        key = (*self._scope(), poll_id)
        return _poll_cache.get_or_load(
            key, lambda: self._load_poll(poll_id), self._ttl, self._clock
        )

    def _load_poll(self, poll_id: str) -> Poll | None:
        api = self.api()
        path = f"/polls/{_seg(poll_id)}"
        try:
            raw = self._get(self._base(api) + path, api=api)
        except NotFoundError:
            return None
        return self._parse(Poll, raw, path)

    def runs(self, poll_id: str) -> list[PollRun]:
        """The runs of one survey, open and finished."""
        if self.api() is SurveyApi.V1:
            raw = self._items("/pollRuns", {"pollId": poll_id})
        else:
            raw = self._items(f"/polls/{_seg(poll_id)}/pollRuns")
        runs = [self._parse(PollRun, r, "/pollRuns") for r in raw]
        # A v1 server that ignores the filter must not hand us another survey's runs.
        return [r for r in runs if r.survey_id in (None, poll_id)]

    def run(self, run_id: str) -> PollRun:
        """One run; NotFoundError if it does not exist."""
        api = self.api()
        path = f"/pollRuns/{_seg(run_id)}"
        return self._parse(PollRun, self._get(self._base(api) + path, api=api), path)

    def results(self, run_id: str) -> list[PollResult]:
        """Every result of a run (one per fact sheet)."""
        path = f"/pollRuns/{_seg(run_id)}/{assumptions.POLL_RESULTS_SEGMENT}"
        results: list[PollResult] = []
        for raw in self._items(path):
            try:
                results.append(PollResult.model_validate(raw))
            except ValidationError:  # one odd result must not hide the run's others
                log.warning("a survey result is not in the expected shape; skipped")
        return results

    def result(self, result_id: str, *, run_id: str | None = None) -> PollResult | None:
        """One result; None if it is gone. Poll API v2 has no single-result read, so there the
        run's results are listed (``run_id`` is then required)."""
        api = self.api()
        if api is SurveyApi.V1:
            path = f"/{assumptions.POLL_RESULTS_SEGMENT}/{_seg(result_id)}"
            try:
                raw = self._get(self._base(api) + path, api=api)
            except NotFoundError:
                return None
            return None if raw is None else self._parse(PollResult, raw, path)
        if run_id is None:
            raise ConfigurationError(
                "this workspace has only Poll API v2, which reads results per run: the event "
                "names no run (the survey timer still scores the result)"
            )
        try:
            found = [r for r in self.results(run_id) if r.id == result_id]
        except NotFoundError:
            return None
        return found[0] if found else None


def _seg(value: str) -> str:
    if not value:
        raise ValueError("an id must not be empty")
    return quote(value, safe="")
