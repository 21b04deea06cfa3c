"""The write decision: which tag list or field value an Application should get."""

from __future__ import annotations

import pytest

from lx_core.decisions.time_model import TimeClass, TimeScales
from lx_core.decisions.time_tags import (
    ApplicationState,
    FieldTarget,
    Outcome,
    TagTarget,
    decide,
    plan_tags,
)

TAGS = TagTarget(
    tag_ids={
        TimeClass.TOLERATE: "t-tol",
        TimeClass.INVEST: "t-inv",
        TimeClass.MIGRATE: "t-mig",
        TimeClass.ELIMINATE: "t-eli",
    },
    group_tag_ids=frozenset({"t-tol", "t-inv", "t-mig", "t-eli", "t-legacy"}),
)
SCALES = TimeScales.defaults()


def app(
    functional: str | None, technical: str | None, *tags: str, field: str | None = None
) -> ApplicationState:
    return ApplicationState("a1", functional, technical, tuple(tags), field)


def test_replaces_the_group_tag_and_keeps_every_other_tag_in_order() -> None:
    d = decide(app("perfect", "adequate", "x1", "t-eli", "x2"), SCALES, TAGS)
    assert d.outcome is Outcome.CHANGED and d.classification is TimeClass.INVEST
    assert d.new_tag_ids == ("x1", "x2", "t-inv")


def test_already_correct_means_no_write() -> None:
    d = decide(app("perfect", "adequate", "x1", "t-inv"), SCALES, TAGS)
    assert d.outcome is Outcome.UNCHANGED and not d.needs_write


def test_unmapped_tag_of_the_group_is_replaced_too() -> None:
    d = decide(app("insufficient", "adequate", "t-legacy"), SCALES, TAGS)
    assert d.new_tag_ids == ("t-tol",)


def test_two_group_tags_collapse_to_one() -> None:
    d = decide(app("insufficient", "inappropriate", "t-eli", "t-inv"), SCALES, TAGS)
    assert d.new_tag_ids == ("t-eli",)


def test_unset_fit_keeps_the_existing_tag_by_default() -> None:
    d = decide(app(None, "adequate", "x1", "t-inv"), SCALES, TAGS)
    assert d.outcome is Outcome.UNCLASSIFIABLE and not d.needs_write


def test_unset_fit_removes_the_tag_when_configured() -> None:
    d = decide(app(None, "adequate", "x1", "t-inv"), SCALES, TAGS, on_unset="remove")
    assert d.outcome is Outcome.CHANGED and d.new_tag_ids == ("x1",)
    d2 = decide(app(None, "adequate", "x1"), SCALES, TAGS, on_unset="remove")
    assert d2.outcome is Outcome.UNCLASSIFIABLE and not d2.needs_write


def test_field_target_sets_lower_case_value_only_when_different() -> None:
    target = FieldTarget("lxTimeClassification")
    d = decide(app("perfect", "inappropriate", field="invest"), SCALES, target)
    assert d.new_field_value == "migrate" and d.outcome is Outcome.CHANGED
    same = decide(app("perfect", "inappropriate", field="migrate"), SCALES, target)
    assert same.outcome is Outcome.UNCHANGED and not same.needs_write


def test_field_target_clears_on_unset_only_when_configured() -> None:
    target = FieldTarget("lxTimeClassification")
    assert not decide(app(None, None, field="invest"), SCALES, target).needs_write
    d = decide(app(None, None, field="invest"), SCALES, target, on_unset="remove")
    assert d.clear_field and d.outcome is Outcome.CHANGED


@pytest.mark.parametrize(
    ("current", "wanted", "on_unset", "expected"),
    [
        ((), "g1", "keep", ("g1",)),
        (("g1",), "g1", "keep", None),
        (("a", "g1"), "g2", "keep", ("a", "g2")),
        (("a", "g1"), None, "keep", None),
        (("a", "g1"), None, "remove", ("a",)),
        (("a",), None, "remove", None),
    ],
)
def test_plan_tags(
    current: tuple[str, ...], wanted: str | None, on_unset: str, expected: tuple[str, ...] | None
) -> None:
    assert plan_tags(current, {"g1", "g2"}, wanted, on_unset) == expected  # type: ignore[arg-type]
