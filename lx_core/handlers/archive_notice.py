"""Record a notice when a fact sheet is archived, for the relay to deliver.

Archived fact sheets are deleted after 90 days, so the notice keeps what was archived: the
event's ids, and name, type and subscribers from a GraphQL re-read while it can still be read.
LeanIX Automations have no archive trigger; this fills that gap. Keyed on the event id.
"""

from __future__ import annotations

import time
from typing import ClassVar

from lx_core.config import NoticeHandlerSettings
from lx_core.decisions.fact_sheet_notices import archive_notice
from lx_core.events import LeanIXEvent
from lx_core.handlers.base import Handler, HandlerResult
from lx_core.handlers.notices import NoticeContext
from lx_core.handlers.specs import HandlerSpec, spec_named


class ArchiveNoticeHandler(Handler):
    spec: ClassVar[HandlerSpec] = spec_named("archive-notice")

    def __init__(self, context: NoticeContext, settings: NoticeHandlerSettings) -> None:
        self.context = context
        self.settings = settings

    @classmethod
    def build(cls) -> ArchiveNoticeHandler:
        from lx_core.config import cached

        return cls(NoticeContext.from_runtime(), cached(NoticeHandlerSettings))

    def fact_sheet_types(self) -> frozenset[str] | None:
        types = self.settings.fact_sheet_types
        return frozenset(types) if types is not None else None

    def handle(self, event: LeanIXEvent) -> HandlerResult:
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        ctx = self.context
        notice = archive_notice(
            event,
            ctx.client.fact_sheet_subscriptions.fact_sheet(fs_id),
            actor=ctx.person(event.user_id),
            workspace_url=ctx.workspace_url(),
            recipient_types=self.settings.archive_recipients,
        )
        ctx.record(notice, now=time.time())
        return HandlerResult(
            "recorded", fs_id, None, {"notice": notice.id, "recipients": len(notice.recipients)}
        )
