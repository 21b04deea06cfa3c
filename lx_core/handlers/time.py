"""TIME tagging on the handler contract: idempotent by re-reading the Application."""

from __future__ import annotations

from typing import ClassVar

from lx_core.errors import NotFoundError
from lx_core.events import LeanIXEvent
from lx_core.handlers.base import Handler, HandlerResult
from lx_core.handlers.specs import HandlerSpec, spec_named
from lx_core.jobs.time_tagging import TimeTagger


class TimeHandler(Handler):
    spec: ClassVar[HandlerSpec] = spec_named("time")

    def __init__(self, tagger: TimeTagger) -> None:
        self.tagger = tagger

    @classmethod
    def build(cls) -> TimeHandler:
        from lx_core import runtime

        return cls(runtime.time_tagger())

    def fact_sheet_types(self) -> frozenset[str]:
        return frozenset({self.tagger.settings.fact_sheet_type})

    @property
    def ignore_own_events(self) -> bool:
        return self.tagger.settings.ignore_own_events

    def handle(self, event: LeanIXEvent) -> HandlerResult:
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        try:
            result = self.tagger.tag_one(fs_id)
        except NotFoundError:
            return HandlerResult("ignored", fs_id, "fact sheet no longer exists")
        extra = {"classification": result.classification.value} if result.classification else {}
        return HandlerResult(result.status, fs_id, result.reason, extra)
