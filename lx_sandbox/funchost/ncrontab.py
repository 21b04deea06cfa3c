"""NCRONTAB schedules (Azure timer triggers) on top of croniter.

Azure uses six fields, ``sec min hour day month day-of-week``, seconds *first*. croniter's
six-field form puts seconds *last*, so expressions are reordered here rather than relying on a
croniter flag whose meaning has changed between major versions. Times are UTC, like the
Functions host without ``WEBSITE_TIME_ZONE``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from croniter import CroniterError, croniter

_SETTING_REF = re.compile(r"%([^%]+)%")


class ScheduleError(ValueError):
    """A timer schedule cannot be used (bad expression or missing app setting)."""


def resolve_settings(expression: str, environ: Mapping[str, str]) -> str:
    """Replace ``%NAME%`` app-setting references, as the host does for binding expressions."""

    def _sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ScheduleError(
                f"schedule {expression!r} refers to app setting {name!r}, which is not set "
                "(add it to local.settings.json 'Values' or the environment)"
            )
        return environ[name]

    return _SETTING_REF.sub(_sub, expression).strip()


def to_croniter(expression: str) -> str:
    """Convert a six-field NCRONTAB expression to croniter's order (seconds last)."""
    fields = expression.split()
    if len(fields) != 6:
        hint = " (TimeSpan schedules are not supported)" if ":" in expression else ""
        raise ScheduleError(
            f"NCRONTAB {expression!r} must have 6 fields "
            f"'sec min hour day month day-of-week', got {len(fields)}{hint}"
        )
    second, *rest = fields
    converted = " ".join([*rest, second])
    if not croniter.is_valid(converted):
        raise ScheduleError(f"invalid NCRONTAB expression {expression!r}")
    return converted


@dataclass(frozen=True)
class Schedule:
    """A parsed timer schedule; ``expression`` is the resolved NCRONTAB text."""

    expression: str
    cron: str

    @classmethod
    def parse(cls, raw: str, environ: Mapping[str, str]) -> Schedule:
        """Resolve ``%SETTING%`` references in ``raw`` and validate the result."""
        expression = resolve_settings(raw, environ)
        return cls(expression=expression, cron=to_croniter(expression))

    def next_after(self, after: datetime) -> datetime:
        """First occurrence strictly after ``after`` (keeps ``after``'s timezone)."""
        try:
            nxt: datetime = croniter(self.cron, after).get_next(datetime)
        except CroniterError as exc:  # pragma: no cover - is_valid() guards this
            raise ScheduleError(str(exc)) from exc
        return nxt
