"""The TIME job over an in-memory workspace: one Application, and the batched reconcile."""

from __future__ import annotations

import pytest

from lx_core import runtime
from lx_core.config import TimeSettings
from lx_core.decisions.time_model import TimeClass
from lx_core.decisions.time_tags import Outcome
from lx_core.errors import ConfigurationError
from lx_core.jobs.time_tagging import TimeTagger
from tests.unit.fake_leanix import FakeLeanIX


def tagger(**settings: object) -> TimeTagger:
    return TimeTagger(runtime.leanix_client(), TimeSettings(**settings))  # type: ignore[arg-type]


def test_tag_one_sets_the_tag_and_keeps_other_tags(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_group("Domain", ["Finance"])
    other = fake_leanix.tag("Finance", "Domain")
    fake_leanix.add_app("a1", "perfect", "inappropriate", other, fake_leanix.tag("Invest"))
    result = tagger().tag_one("a1")
    assert result.outcome is Outcome.CHANGED and result.written
    assert result.classification is TimeClass.MIGRATE
    assert fake_leanix.apps["a1"].tags == [other, fake_leanix.tag("Migrate")]


def test_already_right_costs_one_read_and_no_write(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate", fake_leanix.tag("Invest"))
    t = tagger()
    t.tag_one("a1")  # warms the data model and tag caches
    fake_leanix.ops.clear()
    result = t.tag_one("a1")
    assert result.outcome is Outcome.UNCHANGED and not result.written
    assert fake_leanix.ops == ["lxFactSheet"]


def test_unset_fit_keeps_or_removes(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", None, "adequate", fake_leanix.tag("Invest"))
    assert tagger().tag_one("a1").outcome is Outcome.UNCLASSIFIABLE
    assert fake_leanix.apps["a1"].tags == [fake_leanix.tag("Invest")]
    assert tagger(on_unset="remove").tag_one("a1").outcome is Outcome.CHANGED
    assert fake_leanix.apps["a1"].tags == []


def test_revision_clash_is_reread_and_retried_once(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "insufficient", "adequate")
    fake_leanix.clash_next_write = True
    result = tagger().tag_one("a1")
    assert result.written and fake_leanix.apps["a1"].tags == [fake_leanix.tag("Tolerate")]
    assert fake_leanix.count("lxFactSheet") == 2
    assert fake_leanix.count("lxUpdateFactSheet") == 2


def test_missing_tag_group_is_created_when_allowed(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.groups.clear()
    fake_leanix.add_app("a1", "unreasonable", "inappropriate")
    assert tagger().tag_one("a1").classification is TimeClass.ELIMINATE
    assert fake_leanix.apps["a1"].tags == [fake_leanix.tag("Eliminate")]
    assert fake_leanix.count("lxUpsertTag") == 4


def test_missing_tags_without_permission_to_create_is_a_configuration_error(
    fake_leanix: FakeLeanIX,
) -> None:
    fake_leanix.groups.clear()
    fake_leanix.add_app("a1", "perfect", "adequate")
    with pytest.raises(ConfigurationError, match="TIME_CREATE_MISSING_TAGS"):
        tagger(create_missing_tags=False).tag_one("a1")
    assert fake_leanix.count("lxUpdateFactSheet") == 0


def test_field_target_writes_the_lower_case_value(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate")
    result = tagger(target="field").tag_one("a1")
    assert result.written and fake_leanix.apps["a1"].time_field == "invest"
    assert fake_leanix.apps["a1"].tags == []


def test_archived_and_foreign_types_are_skipped(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate").status = "ARCHIVED"
    assert tagger().tag_one("a1").outcome is Outcome.SKIPPED
    assert fake_leanix.count("lxUpdateFactSheet") == 0


def _seed_many(fake: FakeLeanIX, n: int) -> None:
    fits = [("perfect", "adequate"), ("insufficient", "inappropriate"), (None, "adequate")]
    for i in range(n):
        f, t = fits[i % 3]
        fake.add_app(f"a{i:03}", f, t)
    fake.apps["a000"].tags = [fake.tag("Invest")]  # already right


def test_reconcile_pages_batches_and_counts(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEANIX_PAGE_SIZE", "10")
    runtime.reset_process_state()
    _seed_many(fake_leanix, 30)
    seen: list[int] = []
    summary = tagger(batch_size=4).reconcile(on_progress=lambda s: seen.append(s.examined))
    assert summary.as_dict() == {
        "dry_run": False,
        "total": 30,
        "examined": 30,
        "changed": 19,
        "unchanged": 1,
        "unclassifiable": 10,
        "skipped": 0,
        "failed": 0,
        "state": "finished",
        "restarts": 0,
        "invocations": 1,
    }
    assert fake_leanix.count("lxFactSheetPage") == 3
    # Each page's writes are flushed before its cursor is stored: per page ceil(changes / 4).
    assert fake_leanix.count("lxUpdateFactSheets") == 6
    assert seen[-1] == 30 and seen == sorted(seen)
    assert fake_leanix.apps["a001"].tags == [fake_leanix.tag("Eliminate")]
    # Running again changes nothing.
    fake_leanix.ops.clear()
    again = tagger(batch_size=4).reconcile()
    assert again.changed == 0 and fake_leanix.count("lxUpdateFactSheets") == 0


def test_reconcile_dry_run_writes_nothing(fake_leanix: FakeLeanIX) -> None:
    _seed_many(fake_leanix, 9)
    summary = tagger().reconcile(dry_run=True)
    assert summary.changed == 5 and summary.dry_run
    assert fake_leanix.count("lxUpdateFactSheets") == 0
    assert all(not a.tags for a in fake_leanix.apps.values() if a.id != "a000")


def test_reconcile_clash_in_batch_falls_back_to_a_fresh_read(fake_leanix: FakeLeanIX) -> None:
    _seed_many(fake_leanix, 3)
    fake_leanix.clash_next_write = True
    summary = tagger().reconcile()
    assert summary.failed == 0 and summary.changed == 1
    assert fake_leanix.apps["a001"].tags == [fake_leanix.tag("Eliminate")]
    assert fake_leanix.count("lxFactSheet") == 1


def test_reconcile_records_failures_and_goes_on(fake_leanix: FakeLeanIX) -> None:
    _seed_many(fake_leanix, 6)
    original = fake_leanix._op_update_fact_sheets

    def a001_refused(v: dict[str, object], q: str) -> tuple[object, object]:
        if v.get("id0") == "a001" or v.get("id") == "a001":
            return None, [{"message": "nope", "path": ["u0"], "extensions": {"errorType": "VAL"}}]
        return original(v, q)

    fake_leanix._op_update_fact_sheets = a001_refused  # type: ignore[method-assign]
    fake_leanix._op_update_fact_sheet = a001_refused  # type: ignore[method-assign]
    summary = tagger(batch_size=1).reconcile()
    # a001's write failed in its batch, again one by one, and again at the end of the walk.
    assert summary.failed == 1 and summary.changed == 2
    assert summary.failures[0][0] == "a001" and "VAL" in summary.failures[0][1]


def test_reconcile_repairs_a_failed_item_at_the_end_of_the_walk(fake_leanix: FakeLeanIX) -> None:
    _seed_many(fake_leanix, 6)
    original = fake_leanix._op_update_fact_sheets

    def broken(v: dict[str, object], q: str) -> tuple[object, object]:
        fake_leanix._op_update_fact_sheets = original  # type: ignore[method-assign]
        return None, [{"message": "nope", "path": ["u0"], "extensions": {"errorType": "X"}}]

    fake_leanix._op_update_fact_sheets = broken  # type: ignore[method-assign]
    summary = tagger().reconcile()
    assert (summary.failed, summary.failures) == (0, [])
    assert fake_leanix.apps["a001"].tags == [fake_leanix.tag("Eliminate")]
