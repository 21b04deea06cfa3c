"""Gartner TIME classification of an Application from its two fits. Pure: no I/O.

An Application is classified from its functional fit (``functionalSuitability``) and its technical
fit (``technicalSuitability``). Each field has its own value order, worst first, read from the
workspace (the two default orders share the word ``unreasonable`` at different levels, so a value
only means something together with its field). A value is "high" when it sits in the upper half of
its field's order, or at/above a configured threshold value.

    functional \\ technical   low          high
    high                     Migrate      Invest
    low                      Eliminate    Tolerate
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lx_core.errors import ConfigurationError

DEFAULT_FUNCTIONAL_ORDER: tuple[str, ...] = (
    "unreasonable",
    "insufficient",
    "appropriate",
    "perfect",
)
DEFAULT_TECHNICAL_ORDER: tuple[str, ...] = (
    "inappropriate",
    "unreasonable",
    "adequate",
    "fullyAppropriate",
)


class TimeClass(StrEnum):
    """The four TIME outcomes. Values are the lower-case keys LeanIX's TIME field uses."""

    TOLERATE = "tolerate"
    INVEST = "invest"
    MIGRATE = "migrate"
    ELIMINATE = "eliminate"


@dataclass(frozen=True)
class FitScale:
    """One fit field's value order (worst first) and where "high" begins."""

    field: str
    order: tuple[str, ...]
    high_from: str | None = None

    def __post_init__(self) -> None:
        if len(self.order) < 2:
            raise ConfigurationError(
                f"{self.field} needs at least two values in its order", settings=()
            )
        if len(set(self.order)) != len(self.order):
            raise ConfigurationError(f"{self.field} order has duplicate values")
        if self.high_from is not None and self.high_from not in self.order:
            raise ConfigurationError(
                f"high threshold for {self.field} is not one of its values {list(self.order)}"
            )

    @property
    def high_index(self) -> int:
        """Index of the first value counted as high."""
        if self.high_from is not None:
            return self.order.index(self.high_from)
        return (len(self.order) + 1) // 2

    def is_high(self, value: str) -> bool:
        """True for values at or above the threshold. Unknown values raise ValueError."""
        try:
            return self.order.index(value) >= self.high_index
        except ValueError:
            raise ValueError(f"{value!r} is not a value of {self.field}") from None


@dataclass(frozen=True)
class TimeScales:
    """The scales of both fits, as read from one workspace."""

    functional: FitScale
    technical: FitScale

    @classmethod
    def defaults(
        cls, functional_high_from: str | None = None, technical_high_from: str | None = None
    ) -> TimeScales:
        return cls(
            FitScale("functionalSuitability", DEFAULT_FUNCTIONAL_ORDER, functional_high_from),
            FitScale("technicalSuitability", DEFAULT_TECHNICAL_ORDER, technical_high_from),
        )


def classify(functional: str | None, technical: str | None, scales: TimeScales) -> TimeClass | None:
    """The TIME class, or None when either fit is unset or not a value of its field."""
    if not functional or not technical:
        return None
    try:
        f_high = scales.functional.is_high(functional)
        t_high = scales.technical.is_high(technical)
    except ValueError:
        return None
    if f_high and t_high:
        return TimeClass.INVEST
    if f_high:
        return TimeClass.MIGRATE
    if t_high:
        return TimeClass.TOLERATE
    return TimeClass.ELIMINATE
