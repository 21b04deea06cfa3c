"""An ambient deadline: how long the caller can still wait, visible to every layer below it.

A webhook must answer before LeanIX's delivery gives up, so every wait under it (connect and read
timeouts, back-off sleeps, the pacer, the token exchange) is capped by the time left. Passing a
deadline argument through every signature would touch the whole client; a context variable
carries it instead, the way Go's ``context`` or gRPC deadlines do. Nested deadlines keep the
earlier expiry. Code with no deadline in scope behaves exactly as before.
"""

from __future__ import annotations

import contextvars
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Clock = Callable[[], float]

#: Below this many seconds left, starting another request is pointless: it could not finish.
MIN_USEFUL_SECONDS = 0.05


class Deadline:
    """A moment on ``clock`` (monotonic seconds) after which the caller stops waiting."""

    __slots__ = ("clock", "expires_at")

    def __init__(self, seconds: float, *, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.expires_at = clock() + max(0.0, seconds)

    def remaining(self) -> float:
        """Seconds left (0 when passed)."""
        return max(0.0, self.expires_at - self.clock())

    @property
    def expired(self) -> bool:
        return self.remaining() < MIN_USEFUL_SECONDS

    def cap(self, seconds: float) -> float:
        """``seconds``, or the time left if that is shorter."""
        return min(seconds, self.remaining())

    def __repr__(self) -> str:
        return f"Deadline(remaining={self.remaining():.3f}s)"


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "lx_deadline", default=None
)


def current() -> Deadline | None:
    """The innermost deadline in scope, or None."""
    return _current.get()


def remaining() -> float:
    """Seconds left before the deadline in scope; infinity without one."""
    found = _current.get()
    return math.inf if found is None else found.remaining()


@contextmanager
def within(seconds: float, *, clock: Clock = time.monotonic) -> Iterator[Deadline]:
    """Run the block under a deadline of ``seconds`` (or the enclosing one, if sooner)."""
    new = Deadline(seconds, clock=clock)
    outer = _current.get()
    if outer is not None and outer.remaining() < new.remaining():
        new = outer
    token = _current.set(new)
    try:
        yield new
    finally:
        _current.reset(token)
