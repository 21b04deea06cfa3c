"""next_poll_delay: a tenth of the elapsed time, clamped to [minimum, maximum]."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lx_core.decisions.poll_interval import next_poll_delay


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [(0.0, 1.0), (5.0, 1.0), (10.0, 1.0), (25.0, 2.5), (300.0, 30.0), (600.0, 60.0), (1e6, 60.0)],
)
def test_a_tenth_of_the_elapsed_time_within_the_bounds(elapsed: float, expected: float) -> None:
    assert next_poll_delay(elapsed, minimum=1.0, maximum=60.0) == pytest.approx(expected)


@pytest.mark.parametrize("elapsed", [-50.0, math.nan])
def test_a_clock_behind_the_start_gives_the_minimum(elapsed: float) -> None:
    assert next_poll_delay(elapsed, minimum=2.0, maximum=60.0) == 2.0


def test_infinite_elapsed_gives_the_maximum() -> None:
    assert next_poll_delay(math.inf, minimum=1.0, maximum=60.0) == 60.0


@pytest.mark.parametrize(("minimum", "maximum"), [(0.0, 1.0), (-1.0, 1.0), (5.0, 4.0)])
def test_bad_bounds_are_refused(minimum: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="minimum"):
        next_poll_delay(10.0, minimum=minimum, maximum=maximum)


@given(
    a=st.floats(min_value=0, max_value=1e7),
    b=st.floats(min_value=0, max_value=1e7),
    minimum=st.floats(min_value=0.01, max_value=10),
    span=st.floats(min_value=0, max_value=1000),
)
def test_bounded_and_never_shorter_for_an_older_run(
    a: float, b: float, minimum: float, span: float
) -> None:
    maximum = minimum + span
    lo, hi = sorted((a, b))
    first = next_poll_delay(lo, minimum=minimum, maximum=maximum)
    second = next_poll_delay(hi, minimum=minimum, maximum=maximum)
    assert minimum <= first <= second <= maximum
