"""Data-quality figures of one fact-sheet type, from one paged read. Pure: no I/O.

The figures a daily snapshot charts: how many fact sheets, their mean completion, how many
have a broken quality seal, how many have neither an accountable nor a responsible subscriber,
how many are past their end of life, and (for Applications) how many per TIME class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

OWNER_TYPES = frozenset({"ACCOUNTABLE", "RESPONSIBLE"})
UNCLASSIFIED = "unclassified"


def completion_of(node: Mapping[str, Any]) -> float | None:
    """The completion (0..1) of a fact sheet read with ``completion { completion }``."""
    value = (node.get("completion") or {}).get("completion")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return min(max(float(value), 0.0), 1.0)


def has_owner(node: Mapping[str, Any]) -> bool:
    edges = (node.get("subscriptions") or {}).get("edges") or ()
    return any(
        isinstance(e, Mapping) and (e.get("node") or {}).get("type") in OWNER_TYPES for e in edges
    )


def end_of_life(node: Mapping[str, Any]) -> date | None:
    """The start of the ``endOfLife`` phase, if the lifecycle has one."""
    phases = (node.get("lifecycle") or {}).get("phases") or ()
    for phase in phases:
        if isinstance(phase, Mapping) and phase.get("phase") == "endOfLife":
            try:
                return date.fromisoformat(str(phase.get("startDate")))
            except ValueError:
                return None
    return None


@dataclass
class TypeFigures:
    fact_sheet_type: str
    count: int = 0
    completion_sum: float = 0.0
    completion_known: int = 0
    broken_seal: int = 0
    without_owner: int = 0
    past_end_of_life: int = 0
    #: TIME class → count (Applications only; ``unclassified`` for none).
    time_classes: dict[str, int] = field(default_factory=dict)

    @property
    def mean_completion(self) -> float:
        """Mean completion in percent (0 with nothing known)."""
        if not self.completion_known:
            return 0.0
        return round(100.0 * self.completion_sum / self.completion_known, 2)

    def point(self) -> dict[str, float | str]:
        return {
            "factSheetType": self.fact_sheet_type,
            "count": self.count,
            "meanCompletion": self.mean_completion,
            "brokenQualitySeal": self.broken_seal,
            "withoutOwner": self.without_owner,
            "pastEndOfLife": self.past_end_of_life,
        }


def add(
    figures: TypeFigures,
    nodes: Iterable[Mapping[str, Any]],
    today: date,
    time_class: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> None:
    """Count ``nodes`` (active ones only) into ``figures``. ``time_class(node)`` gives an
    Application's TIME class, or None."""
    for node in nodes:
        if node.get("status") == "ARCHIVED":
            continue
        figures.count += 1
        completion = completion_of(node)
        if completion is not None:
            figures.completion_sum += completion
            figures.completion_known += 1
        if node.get("lxState") == "BROKEN_QUALITY_SEAL":
            figures.broken_seal += 1
        if not has_owner(node):
            figures.without_owner += 1
        eol = end_of_life(node)
        if eol is not None and eol < today:
            figures.past_end_of_life += 1
        if time_class is not None:
            cls = time_class(node) or UNCLASSIFIED
            figures.time_classes[cls] = figures.time_classes.get(cls, 0) + 1
