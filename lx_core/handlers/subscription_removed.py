"""Record a notice when someone's Responsible or Accountable subscription is removed, for the
fact sheet's remaining accountable people. It acts on the event's contents (which
subscription went), so it runs behind the sequence guard, ordered per fact sheet and person:
two people leaving one fact sheet are two facts, and neither drops the other. Keyed on the
event id."""

from __future__ import annotations

import time
from typing import ClassVar

from lx_core.config import NoticeHandlerSettings
from lx_core.decisions.fact_sheet_notices import subscription_removed_notice
from lx_core.events import LeanIXEvent
from lx_core.handlers.base import Handler, HandlerResult
from lx_core.handlers.notices import NoticeContext
from lx_core.handlers.specs import HandlerSpec, spec_named


class SubscriptionRemovedHandler(Handler):
    spec: ClassVar[HandlerSpec] = spec_named("subscription-removed")

    def __init__(self, context: NoticeContext, settings: NoticeHandlerSettings) -> None:
        self.context = context
        self.settings = settings

    @classmethod
    def build(cls) -> SubscriptionRemovedHandler:
        from lx_core.config import cached

        return cls(NoticeContext.from_runtime(), cached(NoticeHandlerSettings))

    def fact_sheet_types(self) -> frozenset[str] | None:
        types = self.settings.fact_sheet_types
        return frozenset(types) if types is not None else None

    @property
    def ignore_own_events(self) -> bool:
        return False  # our own writes never remove subscriptions; a person's removal counts

    def precheck(self, event: LeanIXEvent) -> str | None:
        kind = event.subscription.type if event.subscription else None
        if kind not in self.settings.removed_types:
            return f"a removed {kind or 'unknown'} subscription is not reported"
        return None

    def sequence_subject(self, event: LeanIXEvent) -> str:
        removed = event.subscription
        user_id = removed.user.id if removed and removed.user else None
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        return f"{fs_id}.{user_id or 'unknown'}"

    def handle(self, event: LeanIXEvent) -> HandlerResult:
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        removed = event.subscription
        ctx = self.context
        user_id = removed.user.id if removed and removed.user else None
        notice = subscription_removed_notice(
            event,
            ctx.client.fact_sheet_subscriptions.fact_sheet(fs_id),
            removed_user=ctx.person(user_id),
            workspace_url=ctx.workspace_url(),
            recipient_types=self.settings.removed_recipients,
        )
        ctx.record(notice, now=time.time())
        return HandlerResult(
            "recorded", fs_id, None, {"notice": notice.id, "recipients": len(notice.recipients)}
        )
