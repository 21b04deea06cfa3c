"""TIME classification: every fit combination, unset fits, custom orders and thresholds."""

from __future__ import annotations

import itertools

import pytest

from lx_core.decisions.time_model import (
    DEFAULT_FUNCTIONAL_ORDER,
    DEFAULT_TECHNICAL_ORDER,
    FitScale,
    TimeClass,
    TimeScales,
    classify,
)
from lx_core.errors import ConfigurationError

# The tutorial's matrix (reference §3.3): functional ≥ appropriate is high, technical ≥ adequate.
EXPECTED = {
    (f, t): {
        (True, True): TimeClass.INVEST,
        (False, True): TimeClass.TOLERATE,
        (True, False): TimeClass.MIGRATE,
        (False, False): TimeClass.ELIMINATE,
    }[(f in ("appropriate", "perfect"), t in ("adequate", "fullyAppropriate"))]
    for f, t in itertools.product(DEFAULT_FUNCTIONAL_ORDER, DEFAULT_TECHNICAL_ORDER)
}


@pytest.mark.parametrize(("functional", "technical"), sorted(EXPECTED))
def test_all_sixteen_default_combinations(functional: str, technical: str) -> None:
    assert (
        classify(functional, technical, TimeScales.defaults()) is EXPECTED[(functional, technical)]
    )


def test_matrix_covers_sixteen_cases_and_all_four_classes() -> None:
    assert len(EXPECTED) == 16
    assert set(EXPECTED.values()) == set(TimeClass)


def test_unreasonable_means_different_levels_per_field() -> None:
    # Lowest functional value, second-lowest technical value: both low.
    assert classify("unreasonable", "unreasonable", TimeScales.defaults()) is TimeClass.ELIMINATE
    assert classify("perfect", "unreasonable", TimeScales.defaults()) is TimeClass.MIGRATE


@pytest.mark.parametrize(
    ("functional", "technical"),
    [(None, "adequate"), ("perfect", None), (None, None), ("", "adequate"), ("perfect", "")],
)
def test_unset_fit_gives_no_classification(functional: str | None, technical: str | None) -> None:
    assert classify(functional, technical, TimeScales.defaults()) is None


def test_unknown_value_gives_no_classification() -> None:
    assert classify("stellar", "adequate", TimeScales.defaults()) is None


def test_non_default_value_order_from_the_workspace() -> None:
    scales = TimeScales(
        FitScale("functionalSuitability", ("poor", "fair", "good", "great", "superb")),
        FitScale("technicalSuitability", ("legacy", "modern")),
    )
    # Five values: the upper half starts at index 3 ("great").
    assert classify("good", "modern", scales) is TimeClass.TOLERATE
    assert classify("great", "modern", scales) is TimeClass.INVEST
    assert classify("superb", "legacy", scales) is TimeClass.MIGRATE
    assert classify("poor", "legacy", scales) is TimeClass.ELIMINATE


def test_configured_threshold_moves_the_boundary() -> None:
    scales = TimeScales.defaults(functional_high_from="perfect", technical_high_from="unreasonable")
    assert classify("appropriate", "unreasonable", scales) is TimeClass.TOLERATE
    assert classify("perfect", "inappropriate", scales) is TimeClass.MIGRATE


def test_threshold_must_be_a_value_of_the_field() -> None:
    with pytest.raises(ConfigurationError, match="functionalSuitability"):
        TimeScales.defaults(functional_high_from="adequate")


def test_degenerate_orders_are_rejected() -> None:
    with pytest.raises(ConfigurationError):
        FitScale("technicalSuitability", ("only",))
    with pytest.raises(ConfigurationError):
        FitScale("technicalSuitability", ("a", "a"))
