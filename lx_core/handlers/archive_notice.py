"""Record a notice when a fact sheet is archived, or its quality seal is broken, for the relay
to deliver to the fact sheet's subscribers.

Archived fact sheets are deleted after 90 days, so the notice keeps what was archived: the
event's ids, and name, type and subscribers from a GraphQL re-read while it can still be read.
LeanIX Automations have no archive trigger; this fills that gap. Both are keyed on the event
id; they differ only in the event, the notice's kind and who is told.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Literal

from lx_core.config import NoticeHandlerSettings
from lx_core.decisions.fact_sheet_notices import change_notice
from lx_core.events import LeanIXEvent
from lx_core.handlers.base import Handler, HandlerResult
from lx_core.handlers.notices import NoticeContext
from lx_core.handlers.specs import HandlerSpec, spec_named


class _ChangeNoticeHandler(Handler):
    kind: ClassVar[Literal["fact_sheet_archived", "quality_seal_broken"]]

    def __init__(self, context: NoticeContext, settings: NoticeHandlerSettings) -> None:
        self.context = context
        self.settings = settings

    @classmethod
    def build(cls) -> _ChangeNoticeHandler:
        from lx_core.config import cached

        return cls(NoticeContext.from_runtime(), cached(NoticeHandlerSettings))

    def fact_sheet_types(self) -> frozenset[str] | None:
        types = self.settings.fact_sheet_types
        return frozenset(types) if types is not None else None

    @abstractmethod
    def recipient_types(self) -> Sequence[str]:
        """Which subscribers of the fact sheet are told."""

    def handle(self, event: LeanIXEvent) -> HandlerResult:
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        ctx = self.context
        notice = change_notice(
            event,
            ctx.client.fact_sheet_subscriptions.fact_sheet(fs_id),
            kind=self.kind,
            actor=ctx.person(event.user_id),
            workspace_url=ctx.workspace_url(),
            recipient_types=self.recipient_types(),
        )
        ctx.record(notice, now=time.time())
        return HandlerResult(
            "recorded", fs_id, None, {"notice": notice.id, "recipients": len(notice.recipients)}
        )


class ArchiveNoticeHandler(_ChangeNoticeHandler):
    spec: ClassVar[HandlerSpec] = spec_named("archive-notice")
    kind = "fact_sheet_archived"

    def recipient_types(self) -> Sequence[str]:
        return self.settings.archive_recipients


class QualitySealNoticeHandler(_ChangeNoticeHandler):
    spec: ClassVar[HandlerSpec] = spec_named("quality-seal-notice")
    kind = "quality_seal_broken"

    @property
    def ignore_own_events(self) -> bool:
        return False  # our writes (TIME tags) can break a seal; that is worth telling, no echo

    def recipient_types(self) -> Sequence[str]:
        return self.settings.seal_recipients
