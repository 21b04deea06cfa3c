"""The notices the archive, quality-seal and subscription-removed handlers record, built from
what the event says (ids only) and what LeanIX returned on the re-read. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from lx_core.events import LeanIXEvent
from lx_core.leanix.fact_sheet_subscriptions import SubscribedFactSheet, Subscriber
from lx_core.notify.notices import FactSheetNotice, notice_id


def _emails(
    subscribers: Iterable[Subscriber], types: Sequence[str], *, not_user: str | None = None
) -> tuple[str, ...]:
    found = [
        s.email
        for s in subscribers
        if s.email and s.type in types and not s.technical and s.user_id != not_user
    ]
    return tuple(dict.fromkeys(found))


def _identity(event: LeanIXEvent, fact_sheet: SubscribedFactSheet | None) -> dict[str, str | None]:
    """Id, name and type: the re-read wins (LeanIX's current state), the event fills gaps."""
    ref = event.fact_sheet
    return {
        "fact_sheet_id": (fact_sheet.id if fact_sheet else None) or (ref.id if ref else None),
        "fact_sheet_name": (fact_sheet.name if fact_sheet else None) or (ref.name if ref else None),
        "fact_sheet_type": (fact_sheet.type if fact_sheet else None) or (ref.type if ref else None),
    }


def _event_key(event: LeanIXEvent) -> str:
    fs = event.fact_sheet.id if event.fact_sheet else "none"
    return event.event_id or f"{fs}.{event.created_at or 'unknown'}"


#: Notice id prefixes of the fact-sheet changes a notice is recorded for.
_CHANGE_PREFIX = {"fact_sheet_archived": "archived", "quality_seal_broken": "seal-broken"}


def change_notice(
    event: LeanIXEvent,
    fact_sheet: SubscribedFactSheet | None,
    *,
    kind: Literal["fact_sheet_archived", "quality_seal_broken"],
    actor: str | None,
    workspace_url: str | None,
    recipient_types: Sequence[str],
) -> FactSheetNotice:
    """What happened to which fact sheet (archived, its quality seal broken), by whom and
    when, for its subscribers of ``recipient_types``. The re-read wins over the event for names
    (it is LeanIX's current state); the event fills what the re-read lacks."""
    return FactSheetNotice(
        id=notice_id(_CHANGE_PREFIX[kind], _event_key(event)),
        kind=kind,
        severity="info" if kind == "fact_sheet_archived" else "warning",
        occurred_at=event.created_at,
        workspace_url=workspace_url,
        **_identity(event, fact_sheet),
        actor=actor,
        recipients=_emails(fact_sheet.subscribers, recipient_types) if fact_sheet else (),
    )


def subscription_removed_notice(
    event: LeanIXEvent,
    fact_sheet: SubscribedFactSheet | None,
    *,
    removed_user: str | None,
    workspace_url: str | None,
    recipient_types: Sequence[str],
) -> FactSheetNotice:
    """Who left which role on which fact sheet, for the fact sheet's remaining accountable
    people (the removed user excluded, should a re-read still show them)."""
    removed = event.subscription
    removed_id = removed.user.id if removed and removed.user else None
    return FactSheetNotice(
        id=notice_id("unsubscribed", _event_key(event)),
        kind="subscription_removed",
        severity="warning",
        occurred_at=event.created_at,
        workspace_url=workspace_url,
        **_identity(event, fact_sheet),
        actor=removed_user or removed_id,
        role=removed.type if removed else None,
        recipients=_emails(fact_sheet.subscribers, recipient_types, not_user=removed_id)
        if fact_sheet
        else (),
    )
