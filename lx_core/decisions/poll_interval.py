"""How long to wait before the next status poll of an Integration API run.

About a tenth of the time the run has taken so far: a run that has taken 5 s is checked again in
about a second, one that has taken an hour once a minute. The calls per run grow with the
logarithm of its length (linearly once the maximum is reached), and its end is still noticed
within about 10% of its length plus the minimum.
"""

from __future__ import annotations

import math

#: The share of the elapsed time to wait.
FRACTION = 0.1


def next_poll_delay(elapsed: float, *, minimum: float, maximum: float) -> float:
    """``clamp(FRACTION * elapsed, minimum, maximum)``; a negative or NaN ``elapsed`` (a clock
    behind the recorded start) gives the minimum."""
    if not minimum > 0:
        raise ValueError("minimum must be positive")
    if maximum < minimum:
        raise ValueError("maximum must not be below minimum")
    if math.isnan(elapsed):
        return minimum
    return min(maximum, max(minimum, FRACTION * elapsed))
