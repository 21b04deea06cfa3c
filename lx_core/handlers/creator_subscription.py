"""Subscribe a new fact sheet's creator, unless they are subscribed already.

LeanIX Automations can do this natively (ADD_SUBSCRIPTION with FACT_SHEET_CREATOR); this one
is configured as code, tested, and idempotent by re-reading: a second delivery sees the
subscription and changes nothing.
"""

from __future__ import annotations

from typing import ClassVar

from lx_core.config import CreatorSubscriptionSettings
from lx_core.decisions.creator_subscription import already_subscribed, decide_creator
from lx_core.errors import ConfigurationError, GraphQLError
from lx_core.events import LeanIXEvent
from lx_core.handlers.base import Handler, HandlerResult
from lx_core.handlers.specs import HandlerSpec, spec_named
from lx_core.leanix.client import LeanIXClient


class CreatorSubscriptionHandler(Handler):
    spec: ClassVar[HandlerSpec] = spec_named("creator-subscription")

    def __init__(self, client: LeanIXClient, settings: CreatorSubscriptionSettings) -> None:
        self.client = client
        self.settings = settings

    @classmethod
    def build(cls) -> CreatorSubscriptionHandler:
        from lx_core import runtime
        from lx_core.config import cached

        return cls(runtime.leanix_client(), cached(CreatorSubscriptionSettings))

    def fact_sheet_types(self) -> frozenset[str]:
        return frozenset(self.settings.fact_sheet_types)

    def _role_ids(self) -> tuple[str, ...]:
        wanted = self.settings.role
        if not wanted:
            return ()
        for role in self.client.fact_sheet_subscriptions.roles():
            if role.name.casefold() == wanted.casefold():
                if role.subscription_type not in (None, self.settings.subscription_type):
                    continue  # the same name may exist for another subscription type
                return (role.id,)
        raise ConfigurationError(
            f"no {self.settings.subscription_type} subscription role named {wanted!r}",
            settings=["LX_CREATOR_SUBSCRIPTION_ROLE", "LX_CREATOR_SUBSCRIPTION_SUBSCRIPTION_TYPE"],
        )

    def handle(self, event: LeanIXEvent) -> HandlerResult:
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        kind = self.settings.subscription_type
        fact_sheet = self.client.fact_sheet_subscriptions.fact_sheet(fs_id)
        if fact_sheet is None:
            return HandlerResult("ignored", fs_id, "fact sheet no longer exists")
        creator = event.user_id
        needs_user = bool(creator) and not already_subscribed(
            creator or "", fact_sheet.subscribers, kind
        )
        user = self.client.users.workspace_user(creator or "") if needs_user else None
        verdict = decide_creator(
            creator,
            status=fact_sheet.status,
            subscribers=fact_sheet.subscribers,
            subscription_type=kind,
            user=user,
        )
        if verdict.action == "skip":
            return HandlerResult("skipped", fs_id, verdict.reason)
        if verdict.action == "unchanged" or creator is None:
            return HandlerResult("unchanged", fs_id, verdict.reason)
        try:
            self.client.fact_sheet_subscriptions.subscribe(fs_id, creator, kind, self._role_ids())
        except GraphQLError:
            # Refused: perhaps a concurrent delivery subscribed them first. Re-read rather
            # than trust the error's wording.
            again = self.client.fact_sheet_subscriptions.fact_sheet(fs_id)
            if again is not None and already_subscribed(creator, again.subscribers, kind):
                return HandlerResult("unchanged", fs_id, f"the creator is {kind} already")
            raise
        return HandlerResult("changed", fs_id, None, {"subscribed": creator, "type": kind})
