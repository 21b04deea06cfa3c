"""The one place that decides whether a run's end is a failure."""

from __future__ import annotations

import pytest

from lx_core.decisions.run_policy import FailurePolicy, judge


@pytest.mark.parametrize(
    ("status", "errors", "warnings", "failed"),
    [
        ("FINISHED", 0, 0, False),
        ("FINISHED", None, None, False),
        ("FINISHED", 1, 0, True),
        ("FAILED", 0, 0, True),
        ("STOPPED", 0, 0, True),
        ("FINISHED", 0, 10_000, False),
    ],
)
def test_default_policy(
    status: str, errors: int | None, warnings: int | None, failed: bool
) -> None:
    verdict = judge(FailurePolicy(), status=status, errors=errors, warnings=warnings)
    assert verdict.failed is failed
    assert bool(verdict.reasons) is failed


def test_every_reason_is_named() -> None:
    policy = FailurePolicy.model_validate(
        {"failOn": ["FAILED"], "errorsAbove": 2, "warningsAbove": 5}
    )
    verdict = judge(policy, status="FAILED", errors=3, warnings=6)
    assert verdict.reasons == (
        "status FAILED",
        "3 errors (more than 2)",
        "6 warnings (more than 5)",
    )


def test_stopped_can_be_accepted_and_errors_ignored() -> None:
    policy = FailurePolicy.model_validate({"failOn": ["FAILED"], "errorsAbove": None})
    assert not judge(policy, status="STOPPED", errors=99, warnings=0).failed


def test_unknown_keys_and_statuses_are_refused() -> None:
    with pytest.raises(ValueError, match="failOn"):
        FailurePolicy.model_validate({"failOn": ["BROKEN"]})
    with pytest.raises(ValueError, match="extra"):
        FailurePolicy.model_validate({"errorsOver": 1})
