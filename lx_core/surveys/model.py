"""A scoring model: how one survey's answers become a 0-100 score, a band and the targets it
is written to. Declared per survey in ``infra/leanix/scoring/*.json`` and validated whole: a
broken file is one ``DocumentError`` naming the file, the JSON path and the rule.

A change to a model is a new ``version``; every score carries the version it was scored under
(``Scored.model_version``), which is what rescoring compares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lx_core.errors import DocumentError
from lx_core.integration.documents import read_json, validate

DEFAULT_DIR = Path("infra/leanix/scoring")
Missing = Literal["renormalise", "zero", "unscorable"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SurveyRef(_Strict):
    """Which survey a model scores: its poll id, or its title (exactly)."""

    poll_id: str | None = Field(None, alias="pollId", min_length=1, max_length=200)
    title: str | None = Field(None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.poll_id is None) == (self.title is None):
            raise ValueError("name the survey by exactly one of 'pollId' or 'title'")
        return self


class Range(_Strict):
    """Numeric answers from ``min`` (inclusive) up to ``max`` (exclusive; none: no bound)."""

    min: float | None = None
    max: float | None = None
    points: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("'min' must be below 'max'")
        return self

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value < self.max)


class Question(_Strict):
    """One question: points per answer value, or per numeric range; and its weight."""

    id: str = Field(min_length=1, max_length=200)
    weight: float = Field(1.0, gt=0, le=1000)
    points: dict[str, Annotated[float, Field(ge=0)]] | None = None
    ranges: tuple[Range, ...] | None = None

    @model_validator(mode="after")
    def _one_mapping(self) -> Self:
        if (self.points is None) == (self.ranges is None):
            raise ValueError("give a question exactly one of 'points' or 'ranges'")
        if self.points is not None and not self.points:
            raise ValueError("'points' needs at least one answer value")
        if self.ranges is not None and not self.ranges:
            raise ValueError("'ranges' needs at least one range")
        if self.maximum == 0:
            raise ValueError("a question needs an answer worth more than 0 points")
        return self

    @property
    def maximum(self) -> float:
        """The most points one answer can give: what a full score on this question is."""
        values = (
            self.points.values()
            if self.points is not None
            else [r.points for r in self.ranges or ()]
        )
        return max(values, default=0.0)


class Band(_Strict):
    name: str = Field(min_length=1, max_length=100)
    #: The lowest score (0-100) in this band.
    min: float = Field(ge=0, le=100)


_FIELD_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,99}$"


class FieldTarget(_Strict):
    """Write the score (a number) or the band (text) into a fact-sheet field."""

    name: str = Field(pattern=_FIELD_NAME)
    value: Literal["score", "band"] = "score"


class TagTarget(_Strict):
    """Tag the fact sheet with one tag of a SINGLE-mode group, chosen by band. ``tags`` maps a
    band to its tag's name (default: the band's name); the group and tags are created if
    missing. An unscorable result keeps the tag it has, or removes the group's tags."""

    group: str = Field(min_length=1, max_length=100)
    tags: dict[str, Annotated[str, Field(min_length=1, max_length=100)]] | None = None
    on_unscorable: Literal["keep", "remove"] = Field("keep", alias="onUnscorable")


class MetricTarget(_Strict):
    """A Metrics v2 point per fact sheet and day (``score``, dimensions ``factSheetId`` and
    ``band``), for a trend; the schema is created if missing."""

    schema_name: str = Field(alias="schema", min_length=1, max_length=100)


class CommentTarget(_Strict):
    """A comment explaining the score, posted only when the explanation changed. The comment
    mutation is an assumption (``assumptions.COMMENT_MUTATION``), so this target is optional."""

    enabled: bool = True


class Targets(_Strict):
    field: FieldTarget | None = None
    tag: TagTarget | None = None
    metric: MetricTarget | None = None
    comment: CommentTarget | None = None

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not (self.field or self.tag or self.metric or self.comment):
            raise ValueError("name at least one target: field, tag, metric or comment")
        return self


class ScoringModel(_Strict):
    schema_: str | None = Field(None, alias="$schema")
    comment: str | None = Field(None, alias="$comment")
    version: int = Field(ge=1)
    survey: SurveyRef
    missing: Missing = "renormalise"
    questions: tuple[Question, ...] = Field(min_length=1)
    #: Highest first; the last one must start at 0 so every score has a band.
    bands: tuple[Band, ...] = Field(min_length=1)
    targets: Targets

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("each question id may appear once")
        mins = [b.min for b in self.bands]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("bands go from the highest 'min' down, each 'min' once")
        if mins[-1] != 0:
            raise ValueError("the last band must start at 0, so every score has a band")
        tag = self.targets.tag
        if tag is not None and tag.tags is not None:
            bands = {b.name for b in self.bands}
            unknown = sorted(set(tag.tags) - bands)
            if unknown:
                raise ValueError(f"targets.tag.tags names bands the model lacks: {unknown}")
            missing = sorted(bands - set(tag.tags))
            if missing:
                raise ValueError(f"targets.tag.tags gives no tag for the bands {missing}")
        return self

    def band_tag(self, band: str) -> str:
        """The tag name a band is written as."""
        tag = self.targets.tag
        return (tag.tags or {}).get(band, band) if tag else band

    @property
    def key(self) -> str:
        """Which survey, as one string (for state keys and logs)."""
        survey = self.survey
        return f"poll:{survey.poll_id}" if survey.poll_id else f"title:{survey.title}"


def load_model(path: Path) -> ScoringModel:
    """One scoring model file, validated whole."""
    return validate(read_json(path), ScoringModel, source=str(path))


def load_models(directory: Path = DEFAULT_DIR) -> tuple[ScoringModel, ...]:
    """Every ``*.json`` model of ``directory``, all validated before any is used; two models
    for one survey are refused (which one would score it?)."""
    models: list[ScoringModel] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
        model = load_model(path)
        if model.key in seen:
            raise DocumentError(
                f"{seen[model.key].name} scores the same survey",
                file=str(path),
                path="$.survey",
                rule="duplicate-survey",
            )
        seen[model.key] = path
        models.append(model)
    return tuple(models)
