"""The sequence guard: events are not ordered, so a handler that acts on an event's contents
drops one whose ``transactionSequenceNumber`` is older than the last it applied for the same
subject: the fact sheet, or what the handler names (``Handler.sequence_subject``). The last
number per subject is a row in the state store."""

from __future__ import annotations

from lx_core.errors import StateConflictError
from lx_core.handlers.idempotency import event_key
from lx_core.state.base import StateStore

_ATTEMPTS = 3


class SequenceGuard:
    def __init__(self, store: StateStore, handler: str) -> None:
        self.store = store
        self.partition = f"handler-seq-{handler}"

    def last(self, subject: str) -> int | None:
        row = self.store.get(self.partition, event_key(subject))
        value = row.data.get("seq") if row is not None else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def is_stale(self, subject: str, sequence: int | None) -> bool:
        """Whether an event numbered ``sequence`` is older than one already applied."""
        if sequence is None:
            return False  # unnumbered events cannot be ordered: they pass
        last = self.last(subject)
        return last is not None and sequence < last

    def applied(self, subject: str, sequence: int | None) -> None:
        """Record ``sequence`` as applied, unless a newer one was recorded meanwhile."""
        if sequence is None:
            return
        key = event_key(subject)
        for _ in range(_ATTEMPTS):
            row = self.store.get(self.partition, key)
            try:
                if row is None:
                    self.store.insert(self.partition, key, {"seq": sequence})
                    return
                current = row.data.get("seq")
                if isinstance(current, int) and current >= sequence:
                    return
                self.store.replace(self.partition, key, {"seq": sequence}, etag=row.etag)
                return
            except StateConflictError:
                continue  # another instance wrote: read again and compare
