"""The handler interface: given a parsed event that passed the shared filters, do the work
through the client and say what happened."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lx_core.events import LeanIXEvent
from lx_core.handlers.specs import HandlerSpec

#: ``changed``, ``unchanged``, ``skipped``, ``recorded`` (work was done or judged unneeded);
#: ``ignored``, ``duplicate``, ``stale`` (no work); a handler may add its own (TIME's
#: ``unclassifiable``).
Status = str


@dataclass(frozen=True)
class HandlerResult:
    """The answer to one event. ``ignored``, ``duplicate`` and ``stale`` mean no work was done;
    ``skipped`` that the handler looked and chose not to act (``reason`` says why)."""

    status: Status
    fact_sheet_id: str = ""
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def acted(self) -> bool:
        return self.status in ("changed", "unchanged", "skipped", "recorded")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "factSheetId": self.fact_sheet_id}
        if self.reason:
            body["reason"] = self.reason
        body.update(self.extra)
        return body


class Handler(ABC):
    """One reaction to LeanIX events."""

    spec: ClassVar[HandlerSpec]

    @abstractmethod
    def fact_sheet_types(self) -> frozenset[str] | None:
        """The fact-sheet types it handles (from its settings); None: every type."""

    @property
    def ignore_own_events(self) -> bool:
        """Drop events caused by this app's own technical user (its writes echo back)."""
        return True

    def precheck(self, event: LeanIXEvent) -> str | None:
        """Why the event needs no work, judged from the payload alone (no LeanIX read, no
        state), before any claim is taken; None: go on."""
        return None

    def sequence_subject(self, event: LeanIXEvent) -> str:
        """What the sequence guard orders events by: the fact sheet, unless two events about
        one fact sheet can carry independent facts (then they must not drop each other)."""
        return event.fact_sheet.id if event.fact_sheet else ""

    @abstractmethod
    def handle(self, event: LeanIXEvent) -> HandlerResult:
        """Do the work for an event that passed the shared filters."""
