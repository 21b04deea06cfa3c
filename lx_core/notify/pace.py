"""Pace per channel: sliding windows of (seconds, most sends), as Teams documents its limits
and as Slack's "one message per second" reads.

The history is wall-clock send times, small enough to keep in the channel's state row, so the
next tick (maybe on another instance) continues the same windows instead of bursting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class WindowPacer:
    """How long to wait before the next send keeps every window under its limit."""

    def __init__(self, windows: Sequence[tuple[float, int]], history: Iterable[float] = ()) -> None:
        if not windows:
            raise ValueError("a pacer needs at least one window")
        self.windows = tuple(sorted(windows))
        self._longest = max(w for w, _ in self.windows)
        self._keep = max(n for _, n in self.windows)
        self._sends = sorted(history)[-self._keep :]

    def wait(self, now: float) -> float:
        """Seconds until a send at ``now`` or later stays within every window."""
        needed = 0.0
        for seconds, limit in self.windows:
            recent = [t for t in self._sends if t > now - seconds]
            if len(recent) >= limit:
                # The send that must leave the window first is the limit-th most recent.
                needed = max(needed, recent[-limit] + seconds - now)
        return needed

    def record(self, when: float) -> None:
        """A send happened at ``when`` (failed sends count too: the channel counted them)."""
        self._sends.append(when)
        cutoff = when - self._longest
        self._sends = [t for t in self._sends if t > cutoff][-self._keep :]

    def history(self) -> list[float]:
        """Send times to store with the channel's state."""
        return list(self._sends)
