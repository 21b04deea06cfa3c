"""Survey scoring on the handler contract: idempotent by re-reading. The event only says which
result (or run) to look at; the result, the survey and the fact sheet are fetched, and only
what changed is written, so a duplicate delivery writes nothing new."""

from __future__ import annotations

from typing import ClassVar

from lx_core.events import LeanIXEvent
from lx_core.handlers.base import Handler, HandlerResult
from lx_core.handlers.specs import HandlerSpec, spec_named
from lx_core.jobs.survey_scoring import SurveyScorer
from lx_core.leanix.surveys import SurveyApi


class SurveyHandler(Handler):
    spec: ClassVar[HandlerSpec] = spec_named("survey")

    def __init__(self, scorer: SurveyScorer) -> None:
        self.scorer = scorer

    @classmethod
    def build(cls) -> SurveyHandler:
        from lx_core import runtime

        scorer = runtime.survey_scorer()
        scorer.rewrite_metrics = False  # a day's rewrite is the leased timer's job
        return cls(scorer)

    def fact_sheet_types(self) -> None:
        return None

    @property
    def ignore_own_events(self) -> bool:
        # A result is submitted by a person; this app never submits one, so nothing echoes.
        return False

    def precheck(self, event: LeanIXEvent) -> str | None:
        if not self.scorer.models:
            return "no scoring model is declared"
        if event.event_type == "POLL_FINISHED" and not event.poll_run_id:
            return "the event names no survey run"
        if event.event_type == "POLL_RESULT_UPDATED" and not event.poll_result_id:
            return "the event names no survey result"
        return None

    def handle(self, event: LeanIXEvent) -> HandlerResult:
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        if event.event_type == "POLL_FINISHED" and event.poll_run_id:
            summary = self.scorer.score_run(event.poll_run_id)
            status = "changed" if summary.count("changed") else "unchanged"
            return HandlerResult(status, fs_id, extra={"survey": summary.to_json()})
        if event.poll_run_id is None and self.scorer.client.surveys.api() is SurveyApi.V2:
            # Poll API v2 reads results per run only; the timer scores this one.
            return HandlerResult(
                "ignored", fs_id, "Poll API v2 and no run named: left to the timer"
            )
        outcome = self.scorer.score_result_id(event.poll_result_id or "", run_id=event.poll_run_id)
        status = {"gone": "ignored", "unscorable": "skipped", "failed": "skipped"}.get(
            outcome.status, outcome.status
        )
        return HandlerResult(
            status, outcome.fact_sheet_id or fs_id, outcome.reason, {"survey": outcome.to_json()}
        )
