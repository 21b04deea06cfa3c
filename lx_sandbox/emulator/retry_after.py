"""``Retry-After`` values: written as delay-seconds or as an HTTP-date, read in either form.

RFC 9110 §10.2.3 allows both forms; clients that only parse one of them break on the other, so
injected answers can send either, and PUSH redelivery honours either from a target.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

SECONDS = "seconds"
HTTP_DATE = "http-date"
FORMATS = (SECONDS, HTTP_DATE)


def format_retry_after(seconds: float, fmt: str = SECONDS, *, now: float | None = None) -> str:
    """``"2"`` or ``"Tue, 02 Dec 2025 10:00:02 GMT"`` (IMF-fixdate, whole seconds, rounded up)."""
    delay = max(0, math.ceil(seconds))
    if fmt == HTTP_DATE:
        at = datetime.fromtimestamp(math.ceil((time.time() if now is None else now) + delay), UTC)
        return format_datetime(at, usegmt=True)
    return str(delay)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        at = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, at.timestamp() - (time.time() if now is None else now))
