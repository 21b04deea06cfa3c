"""The filters every handler shares, checked before any LeanIX read: the event type, the
fact-sheet type, events caused by this app's own user, and archived fact sheets."""

from __future__ import annotations

from collections.abc import Callable

from lx_core.events import LeanIXEvent
from lx_core.handlers.specs import HandlerSpec


def ignore_reason(
    spec: HandlerSpec,
    event: LeanIXEvent,
    *,
    fact_sheet_types: frozenset[str] | None,
    own_user_id: Callable[[], str | None],
    ignore_own_events: bool,
) -> str | None:
    """Why ``event`` needs no work from this handler, or None if it does. ``own_user_id`` is
    asked last, and only when the event names a user: it may cost a token request."""
    if event.event_type not in spec.event_types:
        return f"event type {event.event_type} is not handled"
    fs = event.fact_sheet
    if fs is None and spec.needs_fact_sheet:
        return "event carries no fact sheet"
    if fs is not None and fact_sheet_types is not None and fs.type not in fact_sheet_types:
        wanted = " or ".join(sorted(fact_sheet_types))
        return f"fact sheet type {fs.type} is not {wanted}"
    if fs is not None and spec.skip_archived and fs.status == "ARCHIVED":
        return "fact sheet is archived"
    if ignore_own_events and event.user_id and event.user_id == own_user_id():
        return "event caused by this app's own write"
    return None
