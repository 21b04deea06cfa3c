"""Whether a finished Integration API run counts as a failure: the one place that decides it.

Each connector file declares its policy (``notify``). The outcome log stores this verdict, and
the notification relay routes by it without judging again, so "what is a failure" cannot drift
between the log, the CLI's exit code and the alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TerminalStatus = Literal["FINISHED", "FAILED", "STOPPED"]


class FailurePolicy(BaseModel):
    """What counts as failure. Defaults: FAILED or STOPPED, or any error."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    fail_on: tuple[TerminalStatus, ...] = Field(("FAILED", "STOPPED"), alias="failOn")
    errors_above: int | None = Field(
        0, ge=0, alias="errorsAbove", description="Fail when errors exceed this; null = never."
    )
    warnings_above: int | None = Field(
        None, ge=0, alias="warningsAbove", description="Fail when warnings exceed this."
    )


@dataclass(frozen=True)
class Verdict:
    """The judgement of one outcome, with the reasons in words for logs and alerts."""

    failed: bool
    reasons: tuple[str, ...]


def judge(
    policy: FailurePolicy, *, status: str, errors: int | None, warnings: int | None
) -> Verdict:
    """Judge one run's end. Missing counts are not held against the run."""
    reasons: list[str] = []
    if status in policy.fail_on:
        reasons.append(f"status {status}")
    if policy.errors_above is not None and (errors or 0) > policy.errors_above:
        reasons.append(f"{errors} errors (more than {policy.errors_above})")
    if policy.warnings_above is not None and (warnings or 0) > policy.warnings_above:
        reasons.append(f"{warnings} warnings (more than {policy.warnings_above})")
    return Verdict(failed=bool(reasons), reasons=tuple(reasons))
