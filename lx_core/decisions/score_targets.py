"""What a scored survey result should change on its fact sheet. Pure: no I/O.

Every target compares with what the fact sheet holds now and asks for a write only when the
value differs, so a duplicate delivery, a rerun or our own echo writes nothing. The field and
the tag go into one ``updateFactSheet``; the comment is posted only when its text differs from
the newest comment this model wrote; the metric point is left to the day ledger.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lx_core.decisions.survey_scoring import Scored
from lx_core.decisions.time_tags import plan_tags
from lx_core.leanix.graphql import Patch
from lx_core.surveys.model import ScoringModel

#: Scores are written with two decimals; closer than this is the same score.
SCORE_TOLERANCE = 0.005


@dataclass(frozen=True)
class FactSheetNow:
    """The parts of the fact sheet the targets read."""

    id: str
    archived: bool = False
    field_value: object = None
    tag_ids: tuple[str, ...] = ()
    #: The newest comment whose first line is this model's header, if any.
    last_comment: str | None = None


@dataclass(frozen=True)
class TagChoice:
    """The band's tag id and every tag id of its group (all are replaced)."""

    wanted: str | None
    group_tag_ids: frozenset[str]


@dataclass(frozen=True)
class Plan:
    patches: tuple[Patch, ...]
    comment: str | None
    metric: dict[str, float | str] | None

    @property
    def writes(self) -> tuple[str, ...]:
        """The targets this plan writes, for reporting."""
        names = [p.path.lstrip("/") for p in self.patches]
        if self.comment is not None:
            names.append("comment")
        return tuple(names)


def header(model: ScoringModel) -> str:
    """The first line of every explanation comment of ``model``'s survey."""
    survey = model.survey.title or model.survey.poll_id
    return f"Survey score: {survey}"


def explain(model: ScoringModel, scored: Scored) -> str:
    """The explanation: the score and band, which answers gave which points, the version."""
    if scored.score is None:
        verdict = f"Not scorable: {scored.reason}"
    else:
        verdict = f"Score {scored.score:g} of 100, band {scored.band}"
    lines = [header(model), f"{verdict} (scoring model version {scored.model_version})"]
    for line in scored.lines:
        if line.answer is None:
            shown = "not answered" + ("" if line.counted else ", not counted")
        else:
            shown = f"{line.answer!s}"
        lines.append(
            f"- {line.question}: {shown} → {line.points:g} of {line.maximum:g} points"
            f", weight {line.weight:g}"
        )
    return "\n".join(lines)


def _same_score(current: object, wanted: float) -> bool:
    if isinstance(current, bool) or current is None:
        return False
    try:
        number = float(str(current))
    except ValueError:
        return False
    return math.isfinite(number) and abs(number - wanted) < SCORE_TOLERANCE


def plan(
    model: ScoringModel,
    scored: Scored,
    now: FactSheetNow,
    tag: TagChoice | None = None,
) -> Plan:
    """The writes that bring ``now`` in line with ``scored`` under ``model``'s targets."""
    if now.archived:
        return Plan((), None, None)
    targets = model.targets
    patches: list[Patch] = []
    if targets.field is not None and scored.score is not None:
        path = "/" + targets.field.name
        if targets.field.value == "score":
            if not _same_score(now.field_value, scored.score):
                patches.append(Patch(op="replace", path=path, value=f"{scored.score:g}"))
        elif now.field_value != scored.band:
            patches.append(Patch(op="replace", path=path, value=scored.band))
    if targets.tag is not None and tag is not None:
        on_unset = targets.tag.on_unscorable
        new_tags = plan_tags(now.tag_ids, tag.group_tag_ids, tag.wanted, on_unset)
        if new_tags is not None:
            patches.append(Patch.of_json("replace", "/tags", [{"tagId": t} for t in new_tags]))
    comment = None
    if targets.comment is not None and targets.comment.enabled:
        text = explain(model, scored)
        if text != now.last_comment:
            comment = text
    metric: dict[str, float | str] | None = None
    if targets.metric is not None and scored.score is not None and scored.band is not None:
        metric = {"score": scored.score, "factSheetId": now.id, "band": scored.band}
    return Plan(tuple(patches), comment, metric)


def newest_own_comment(model: ScoringModel, messages: Sequence[str]) -> str | None:
    """The newest of ``messages`` (newest first) that this model's explanation wrote."""
    first = header(model)
    return next((m for m in messages if m.split("\n", 1)[0] == first), None)
