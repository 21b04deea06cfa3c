"""What an Application's TIME tag or TIME field should become. Pure: no I/O.

Both targets follow the same rule: compute the wanted state from the current one and return
``None`` when nothing changes, so callers write only what changes and never loop on their own
writes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from lx_core.decisions.time_model import TimeClass, TimeScales, classify

OnUnset = Literal["keep", "remove"]


class Outcome(StrEnum):
    """How one Application fared."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    UNCLASSIFIABLE = "unclassifiable"
    SKIPPED = "skipped"
    """Not ours to touch: archived, or not of the configured type."""


@dataclass(frozen=True)
class ApplicationState:
    """The parts of an Application the TIME decision reads."""

    id: str
    functional: str | None
    technical: str | None
    tag_ids: tuple[str, ...] = ()
    time_field: str | None = None


@dataclass(frozen=True)
class TagTarget:
    """Write the class as one tag of a SINGLE-mode tag group."""

    tag_ids: Mapping[TimeClass, str]
    """The tag id per class."""
    group_tag_ids: frozenset[str]
    """Every tag id of the group, including tags not mapped to a class: all are replaced."""


@dataclass(frozen=True)
class FieldTarget:
    """Write the class into the workspace's single-select TIME field."""

    field: str


@dataclass(frozen=True)
class TimeDecision:
    """The verdict for one Application: its class, and the new tag list or field value to write.

    ``new_tag_ids`` is the full tag list to send with ``replace /tags``; ``new_field_value`` is
    the value to set, with ``clear_field`` meaning remove it. All empty means: write nothing.
    """

    classification: TimeClass | None
    outcome: Outcome
    new_tag_ids: tuple[str, ...] | None = None
    new_field_value: str | None = None
    clear_field: bool = False

    @property
    def needs_write(self) -> bool:
        return self.new_tag_ids is not None or self.new_field_value is not None or self.clear_field


def plan_tags(
    current: Sequence[str], group_tag_ids: Collection[str], wanted: str | None, on_unset: OnUnset
) -> tuple[str, ...] | None:
    """The full tag list after setting ``wanted`` as the group's only tag, or None if unchanged.

    Tags of other groups keep their order; the group's tag goes last. With ``wanted=None`` the
    group's tags are removed only when ``on_unset == "remove"``.
    """
    others = tuple(t for t in current if t not in group_tag_ids)
    if wanted is None:
        if on_unset == "keep" or len(others) == len(current):
            return None
        return others
    new = (*others, wanted)
    if len(current) == len(new) and set(current) == set(new):
        return None
    return new


def decide(
    app: ApplicationState,
    scales: TimeScales,
    target: TagTarget | FieldTarget,
    on_unset: OnUnset = "keep",
) -> TimeDecision:
    """Classify ``app`` and work out the write, if any, that brings it in line."""
    cls = classify(app.functional, app.technical, scales)
    if isinstance(target, TagTarget):
        wanted = None if cls is None else target.tag_ids[cls]
        new_tags = plan_tags(app.tag_ids, target.group_tag_ids, wanted, on_unset)
        changed = new_tags is not None
        decision = TimeDecision(cls, Outcome.CHANGED, new_tag_ids=new_tags)
    else:
        if cls is not None:
            changed = app.time_field != cls.value
            decision = TimeDecision(
                cls, Outcome.CHANGED, new_field_value=cls.value if changed else None
            )
        else:
            changed = on_unset == "remove" and app.time_field is not None
            decision = TimeDecision(cls, Outcome.CHANGED, clear_field=changed)
    if changed:
        return decision
    return TimeDecision(cls, Outcome.UNCLASSIFIABLE if cls is None else Outcome.UNCHANGED)
