"""What a TIME reconcile reports, and the checkpoint that carries it across invocations.

The summary is what the CLI prints and the timer logs; the checkpoint is the same counts plus the
cursor, stored after every page so that a run that dies or runs out of time resumes where it
stopped. The checkpoint is a pydantic model because it crosses a boundary: it is read back from
the state store, possibly written by an older version of this code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lx_core.decisions.time_tags import Outcome

#: How many unrepaired Applications a summary names (the count is always complete).
MAX_LISTED = 50

RunState = Literal["finished", "paused", "busy", "idle"]


@dataclass(frozen=True)
class PlannedChange:
    """One Application a dry run would change: from its current TIME class to the new one."""

    fact_sheet_id: str
    name: str | None
    before: str | None
    after: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.fact_sheet_id, "name": self.name, "from": self.before, "to": self.after}


@dataclass
class ReconcileSummary:
    """Counts of one reconcile run (all its invocations so far).

    ``failed`` counts the Applications still not repaired; ``failures`` names the first
    ``MAX_LISTED`` of them with the reason. ``state``: finished, paused (out of time: the next
    invocation resumes from the checkpoint), busy (another run holds the lease) or idle
    (asked only to resume, and there was nothing to resume).
    """

    dry_run: bool = False
    total: int | None = None
    examined: int = 0
    changed: int = 0
    unchanged: int = 0
    unclassifiable: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    state: RunState = "finished"
    restarts: int = 0
    invocations: int = 1
    would_change: list[PlannedChange] = field(default_factory=list)
    blocked_by: str | None = None

    def count(self, outcome: Outcome, reason: str | None = None) -> None:
        if outcome is Outcome.CHANGED:
            self.changed += 1
        elif outcome is Outcome.UNCHANGED:
            self.unchanged += 1
        elif outcome is Outcome.UNCLASSIFIABLE:
            self.unclassifiable += 1
        else:
            self.skipped += 1
            key = reason or "not ours to touch"
            self.skipped_reasons[key] = self.skipped_reasons.get(key, 0) + 1

    def restart_walk(self) -> None:
        """Forget what the walk examined (it starts over); keep writes, failures, restarts."""
        self.examined = self.unchanged = self.unclassifiable = self.skipped = 0
        self.skipped_reasons = {}
        self.would_change = []
        self.restarts += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "state": self.state,
            "total": self.total,
            "examined": self.examined,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "unclassifiable": self.unclassifiable,
            "skipped": self.skipped,
            "failed": self.failed,
            "restarts": self.restarts,
            "invocations": self.invocations,
        }

    def report(self) -> dict[str, Any]:
        """Everything, for ``--json`` and the last-run row."""
        return {
            **self.as_dict(),
            "skipped_reasons": dict(self.skipped_reasons),
            "failures": [{"id": i, "reason": r} for i, r in self.failures],
            "would_change": [c.as_dict() for c in self.would_change],
            **({"blocked_by": self.blocked_by} if self.blocked_by else {}),
        }


ProgressCallback = Callable[[ReconcileSummary], None]


class Checkpoint(BaseModel):
    """A run in progress, as stored after every page."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = 1
    fact_sheet_type: str
    cursor: str | None = None
    phase: Literal["walk", "repair"] = "walk"
    started_at: float
    updated_at: float
    total: int | None = None
    examined: int = Field(0, ge=0)
    changed: int = Field(0, ge=0)
    unchanged: int = Field(0, ge=0)
    unclassifiable: int = Field(0, ge=0)
    skipped: int = Field(0, ge=0)
    skipped_reasons: dict[str, int] = Field(default_factory=dict)
    restarts: int = Field(0, ge=0)
    invocations: int = Field(1, ge=1)
    #: Applications whose write failed, with the reason; retried before the run finishes.
    unrepaired: dict[str, str] = Field(default_factory=dict)

    def summary(self) -> ReconcileSummary:
        return ReconcileSummary(**self.model_dump(include=set(_CARRIED)))

    def take_counts(self, summary: ReconcileSummary) -> None:
        values = asdict(summary)
        for name in _CARRIED:
            setattr(self, name, values[name])


#: The summary fields a checkpoint carries from one invocation to the next.
_CARRIED = (
    "total",
    "examined",
    "changed",
    "unchanged",
    "unclassifiable",
    "skipped",
    "skipped_reasons",
    "restarts",
    "invocations",
)
