"""The quality file (``infra/leanix/quality.json``): which checks run on which fact-sheet type,
and who is responsible for a fact sheet's gaps. Validated whole: a broken file is one
``DocumentError`` naming the file, the JSON path and the rule; nothing is half-loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lx_core.integration.documents import read_json, validate

DEFAULT_FILE = Path("infra/leanix/quality.json")
Rule = Literal["required_field", "broken_seal", "no_owner", "end_of_life_past", "stale"]
_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,99}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Checker(_Strict):
    """One check on every active fact sheet of ``type``."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")
    type: str = Field(pattern=_NAME)
    rule: Rule
    #: ``required_field``: the field that must have a value.
    field: str | None = Field(None, pattern=_NAME)
    #: ``stale``: not updated for this many days.
    days: int | None = Field(None, ge=1, le=3650)
    #: What the digest says; default: a sentence per rule.
    message: str | None = Field(None, min_length=1, max_length=300)

    @model_validator(mode="after")
    def _arguments(self) -> Self:
        if self.rule == "required_field" and self.field is None:
            raise ValueError("rule 'required_field' needs 'field'")
        if self.rule == "stale" and self.days is None:
            raise ValueError("rule 'stale' needs 'days'")
        if self.rule not in ("required_field",) and self.field is not None:
            raise ValueError(f"rule {self.rule!r} takes no 'field'")
        if self.rule != "stale" and self.days is not None:
            raise ValueError(f"rule {self.rule!r} takes no 'days'")
        return self


class Owners(_Strict):
    """Who is reminded of a fact sheet's gaps: subscribers of these types, or with one of these
    roles (by name)."""

    subscription_types: tuple[Literal["RESPONSIBLE", "ACCOUNTABLE", "OBSERVER"], ...] = Field(
        ("RESPONSIBLE", "ACCOUNTABLE"), alias="subscriptionTypes"
    )
    roles: tuple[str, ...] = ()


class Organization(_Strict):
    """ "Per organization": the UserGroup related to a fact sheet through ``relation``."""

    relation: str = Field("relApplicationToUserGroup", pattern=r"^rel[A-Za-z0-9]{1,100}$")


class QualityConfig(_Strict):
    schema_: str | None = Field(None, alias="$schema")
    comment: str | None = Field(None, alias="$comment")
    checkers: tuple[Checker, ...] = Field(min_length=1)
    owners: Owners = Owners()
    organization: Organization = Organization()

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = [c.id for c in self.checkers]
        if len(set(ids)) != len(ids):
            raise ValueError("each checker id may appear once")
        return self

    def types(self) -> tuple[str, ...]:
        """The fact-sheet types checked, in file order."""
        return tuple(dict.fromkeys(c.type for c in self.checkers))


def load_quality(path: Path) -> QualityConfig:
    return validate(read_json(path), QualityConfig, source=str(path))
