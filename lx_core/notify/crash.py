"""Named crash points in the relay's tick, for tests that prove "nothing lost".

The points sit between the steps whose order makes the relay safe: after the PULL, after the
outbox write, after the cursor commit, after the send, after the mark. Armed by a test (or by
``LX_RELAY_CRASH_POINTS`` on a local host that the test then restarts), a point ends the process
the way a killed instance ends: no ``finally`` blocks, no flushes. Unarmed they cost one set
lookup.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import NoReturn

from lx_core.errors import ConfigurationError

log = logging.getLogger(__name__)

POINTS: tuple[str, ...] = (
    "after_pull",
    "after_outbox_write",
    "after_cursor_commit",
    "after_send",
    "after_mark",
)


class SimulatedCrash(BaseException):
    """Raised by an armed point in in-process tests; a BaseException, so no ``except
    Exception`` in the relay can swallow it and carry on as a real crash would not."""


def _exit(point: str) -> NoReturn:
    log.critical("relay crash point %s reached: exiting", point)
    os._exit(137)


class CrashPoints:
    """A set of armed points; each fires once."""

    def __init__(
        self, armed: Iterable[str] = (), *, action: Callable[[str], NoReturn] = _exit
    ) -> None:
        self.armed = set(armed)
        unknown = self.armed - set(POINTS)
        if unknown:
            raise ConfigurationError(
                f"unknown relay crash points {sorted(unknown)}; known: {', '.join(POINTS)}",
                settings=["LX_RELAY_CRASH_POINTS"],
            )
        self._action = action

    @classmethod
    def from_setting(cls, text: str) -> CrashPoints:
        return cls(p.strip() for p in text.split(",") if p.strip())

    def __call__(self, point: str) -> None:
        if point in self.armed:
            self.armed.discard(point)
            self._action(point)


def raise_crash(point: str) -> NoReturn:
    """The in-process action: raise SimulatedCrash."""
    raise SimulatedCrash(point)
