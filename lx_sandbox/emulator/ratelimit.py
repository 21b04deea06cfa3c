"""LeanIX's per-user request limit: 1,800 requests per minute per user ([V] §0.3).

# ASSUMPTION [I] §0.3: the window is sliding (not fixed minutes) and rejected requests do not
# count against it; LeanIX documents only the limit, the 429 and its message.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

#: [V] §0.3: requests per minute per user.
LEANIX_LIMIT = 1800
LEANIX_WINDOW_SECONDS = 60.0
#: [V] §0.3: the message of a rate-limited answer.
LIMIT_MESSAGE = "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED"


@dataclass(slots=True)
class RateLimitSettings:
    """``enabled``, ``limit`` requests per ``window_s`` seconds per user; ``retry_after``: whether
    the 429 says when to come back ([V] §0.3: it "might contain" Retry-After, so clients must
    cope without one)."""

    enabled: bool = True
    limit: int = LEANIX_LIMIT
    window_s: float = LEANIX_WINDOW_SECONDS
    retry_after: bool = True

    def validate(self) -> None:
        """Raise ValueError on settings that cannot be enforced."""
        if self.limit < 1:
            raise ValueError("rateLimit.limit must be >= 1")
        if not self.window_s > 0:
            raise ValueError("rateLimit.windowSeconds must be > 0")

    def to_json(self) -> dict[str, object]:
        """The admin JSON form."""
        return {
            "enabled": self.enabled,
            "limit": self.limit,
            "windowSeconds": self.window_s,
            "retryAfter": self.retry_after,
        }


@dataclass
class SlidingWindowLimiter:
    """Admitted-request timestamps per user; a request is admitted while the window has room."""

    settings: RateLimitSettings = field(default_factory=RateLimitSettings)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._admitted: dict[str, deque[float]] = {}

    def reset(self, settings: RateLimitSettings | None = None) -> None:
        """Forget every counter (and optionally take new settings)."""
        if settings is not None:
            settings.validate()
            self.settings = settings
        self._admitted.clear()

    def admit(self, user_id: str) -> int | None:
        """None if admitted (and counted), else whole seconds until a request would be."""
        s = self.settings
        if not s.enabled:
            return None
        now = self.clock()
        stamps = self._admitted.setdefault(user_id, deque())
        horizon = now - s.window_s
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        if len(stamps) < s.limit:
            stamps.append(now)
            return None
        # The oldest admitted request leaves the window first; excess old stamps (after the
        # limit was lowered) leave before it.
        oldest = stamps[len(stamps) - s.limit]
        return max(1, math.ceil(oldest + s.window_s - now))
