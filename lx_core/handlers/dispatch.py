"""One event through a handler: the shared filters, the claim by event id, the sequence guard,
then the handler itself. Only the handler talks to LeanIX; everything before it is cheap."""

from __future__ import annotations

import logging
from collections.abc import Callable

from lx_core.events import LeanIXEvent
from lx_core.handlers import filters
from lx_core.handlers.base import Handler, HandlerResult
from lx_core.handlers.idempotency import EventClaims
from lx_core.handlers.sequence import SequenceGuard
from lx_core.state.base import Row, StateStore, store_required

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        handler: Handler,
        *,
        store: StateStore | None,
        own_user_id: Callable[[], str | None],
    ) -> None:
        self.handler = handler
        self.spec = handler.spec
        self.store = store
        self._own_user_id = own_user_id

    def _store(self) -> StateStore:
        if self.store is None:
            raise store_required(f"handler {self.spec.name} keeps event ids and sequence numbers")
        return self.store

    def dispatch(self, event: LeanIXEvent) -> HandlerResult:
        spec, handler = self.spec, self.handler
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        reason = filters.ignore_reason(
            spec,
            event,
            fact_sheet_types=handler.fact_sheet_types(),
            own_user_id=self._own_user_id,
            ignore_own_events=handler.ignore_own_events,
        ) or handler.precheck(event)
        if reason is not None:
            return HandlerResult("ignored", fs_id, reason)
        claims: EventClaims | None = None
        claim: Row | None = None
        if spec.idempotency == "event_id":
            if event.event_id:
                claims = EventClaims(self._store(), spec.name)
                state, claim = claims.claim(event.event_id)
                if state == "duplicate":
                    return HandlerResult("duplicate", fs_id, "this event was handled already")
            else:
                log.warning("%s: event without an id: handled without de-duplication", spec.name)
        guard = SequenceGuard(self._store(), spec.name) if spec.acts_on_contents else None
        subject = handler.sequence_subject(event)
        sequence = event.transaction_sequence_number
        try:
            if guard is not None and guard.is_stale(subject, sequence):
                result = HandlerResult(
                    "stale", fs_id, "an event newer than this one was applied already"
                )
            else:
                result = handler.handle(event)
                if guard is not None and result.acted:  # an ignored event orders nothing
                    guard.applied(subject, sequence)
        except BaseException:
            if claims is not None and claim is not None:
                claims.give_back(claim)
            raise
        if claims is not None and claim is not None:
            claims.done(claim)
        return result
