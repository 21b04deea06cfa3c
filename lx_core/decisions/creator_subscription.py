"""Whether to subscribe a new fact sheet's creator. Pure: the handler reads, this decides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lx_core.leanix.fact_sheet_subscriptions import Subscriber
from lx_core.leanix.users import WorkspaceUser


@dataclass(frozen=True)
class CreatorVerdict:
    action: Literal["subscribe", "unchanged", "skip"]
    reason: str | None = None


def already_subscribed(
    creator_id: str, subscribers: Sequence[Subscriber], subscription_type: str
) -> bool:
    return any(s.user_id == creator_id and s.type == subscription_type for s in subscribers)


def decide_creator(
    creator_id: str | None,
    *,
    status: str | None,
    subscribers: Sequence[Subscriber],
    subscription_type: str,
    user: WorkspaceUser | None,
) -> CreatorVerdict:
    """Subscribe the creator unless there is none, it is not a person of this workspace, it is a
    technical user, the fact sheet is archived, or the subscription exists already."""
    if not creator_id:
        return CreatorVerdict("skip", "the event names no creator")
    if status == "ARCHIVED":
        return CreatorVerdict("skip", "the fact sheet is archived")
    if already_subscribed(creator_id, subscribers, subscription_type):
        return CreatorVerdict("unchanged", f"the creator is {subscription_type} already")
    if user is None:
        return CreatorVerdict("skip", "not a user: the creator is not a user of this workspace")
    if user.technical:
        return CreatorVerdict("skip", "the creator is a technical user")
    if user.status not in (None, "ACTIVE"):
        return CreatorVerdict("skip", f"the creator's account is {user.status}")
    return CreatorVerdict("subscribe")
