"""The quality file, the pure gap and owner checks, the digest notice and its e-mail."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lx_core.config import QualitySettings
from lx_core.decisions.quality_checks import gaps, owners, related_groups
from lx_core.errors import DocumentError
from lx_core.jobs.quality_reminders import Finding, QualityReminders, aggregate, iso_week
from lx_core.notify.render import email_message, render
from lx_core.quality.model import DEFAULT_FILE, QualityConfig, load_quality

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 3)


def _node(**extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "fs-1",
        "name": "E-Shop",
        "status": "ACTIVE",
        "lxState": "APPROVED",
        "description": "Sells things",
        "updatedAt": "2026-11-30T10:00:00Z",
        "subscriptions": {
            "edges": [
                {"node": {"type": "RESPONSIBLE", "user": {"id": "u1", "email": "Ann@x.org"}}},
                {"node": {"type": "OBSERVER", "user": {"id": "u2", "email": "obs@x.org"},
                          "roles": [{"name": "Data Steward"}]}},
                {"node": {"type": "ACCOUNTABLE",
                          "user": {"id": "t", "email": "bot@x.org", "technicalUser": True}}},
            ]
        },
    }  # fmt: skip
    node.update(extra)
    return node


CONFIG = QualityConfig.model_validate(
    {
        "checkers": [
            {"id": "desc", "type": "Application", "rule": "required_field", "field": "description"},
            {"id": "seal", "type": "Application", "rule": "broken_seal"},
            {"id": "owner", "type": "Application", "rule": "no_owner"},
            {"id": "eol", "type": "Application", "rule": "end_of_life_past"},
            {"id": "stale", "type": "Application", "rule": "stale", "days": 30},
        ],
        "owners": {"roles": ["Data Steward"]},
    }
)


def test_the_shipped_quality_file_loads() -> None:
    assert load_quality(ROOT / DEFAULT_FILE).types() == ("Application", "ITComponent")


def test_a_clean_fact_sheet_has_no_gap_and_each_rule_finds_its_own() -> None:
    assert gaps(CONFIG.checkers, _node(), TODAY) == []
    eol = {"phases": [{"phase": "active", "startDate": "2020-01-01"},
                      {"phase": "endOfLife", "startDate": "2026-01-01"}]}  # fmt: skip
    bad = _node(
        description="",
        lxState="BROKEN_QUALITY_SEAL",
        subscriptions={"edges": []},
        lifecycle=eol,
        updatedAt="2026-01-01T00:00:00Z",
    )
    found = gaps(CONFIG.checkers, bad, TODAY)
    assert [g.checker for g in found] == ["desc", "seal", "owner", "eol", "stale"]
    assert found[0].text == "description is empty"
    assert gaps(CONFIG.checkers, {**bad, "status": "ARCHIVED"}, TODAY) == []


def test_owners_are_people_by_type_or_role_never_technical_users() -> None:
    people = owners(_node(), CONFIG.owners)
    assert [p.email for p in people] == ["Ann@x.org", "obs@x.org"]
    rel = {"relApplicationToUserGroup": {"edges": [{"node": {"factSheet": {"name": "Sales"}}}]}}
    assert related_groups(rel, "relApplicationToUserGroup") == ["Sales"]


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"checkers": []}, "$.checkers"),
        ({"checkers": [{"id": "a", "type": "Application", "rule": "required_field"}]},
         "needs 'field'"),
        ({"checkers": [{"id": "a", "type": "Application", "rule": "stale"}]}, "needs 'days'"),
        ({"checkers": [{"id": "a", "type": "Application", "rule": "nope"}]}, "$.checkers[0].rule"),
        ({"checkers": [{"id": "a", "type": "Application", "rule": "broken_seal", "x": 1}]},
         "$.checkers[0].x"),
        ({"checkers": [{"id": "a", "type": "Application", "rule": "broken_seal"}] * 2},
         "once"),
    ],
)  # fmt: skip
def test_a_bad_quality_file_names_file_and_field(
    tmp_path: Path, doc: dict[str, Any], where: str
) -> None:
    path = tmp_path / "quality.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DocumentError) as caught:
        load_quality(path)
    assert "quality.json" in str(caught.value) and where in str(caught.value)


def test_the_digest_lists_each_fact_sheet_with_its_gaps_and_a_link() -> None:
    settings = QualitySettings(max_items=1)
    reminders = QualityReminders(
        None,  # type: ignore[arg-type]  # no LeanIX call is made here
        None,
        CONFIG,
        settings,
        workspace_url="https://acme.leanix.net/ws",
    )
    empty = tuple(gaps(CONFIG.checkers, _node(description=""), TODAY))
    broken = tuple(gaps(CONFIG.checkers, _node(lxState="BROKEN_QUALITY_SEAL"), TODAY))
    findings = [
        Finding("fs-2", "Zeta", "Application", empty, (), ()),
        Finding("fs-1", "Alpha", "Application", broken, (), ()),
    ]
    notice = reminders.digest("ann@x.org", findings, iso_week(TODAY))
    assert notice.week == "2026-W49" and notice.recipients == ("ann@x.org",)
    assert notice.id == reminders.digest("ANN@x.org", findings, "2026-W49").id
    rendered = render(notice)
    assert rendered.headline.endswith("week 2026-W49: 2 fact sheets to fix")
    assert rendered.facts[0][0] == "Alpha" and "quality seal is broken" in rendered.facts[0][1]
    assert "https://acme.leanix.net/ws/factsheet/Application/fs-1" in rendered.facts[0][1]
    assert rendered.facts[-1] == ("And", "1 more fact sheets")
    assert "Alpha" in (email_message([rendered]).text or "")
    dry = QualityReminders(None, None, CONFIG, QualitySettings(dry_run_to="trial@x.org"))  # type: ignore[arg-type]
    assert dry.digest("ann@x.org", findings, "2026-W49").recipients == ("trial@x.org",)


def test_the_report_aggregates_per_owner_and_organization() -> None:
    from lx_core.decisions.quality_checks import Gap, Person

    ann = Person("u1", "ann@x.org")
    rows = aggregate(
        [
            Finding(
                "1", "A", "Application", (Gap("desc", ""), Gap("seal", "")), (ann,), ("Sales",)
            ),
            Finding("2", "B", "Application", (Gap("desc", ""),), (), ()),
        ],
        "owner",
    )
    assert rows == [
        {"who": "(no owner)", "factSheets": 1, "gaps": {"desc": 1}},
        {"who": "ann@x.org", "factSheets": 1, "gaps": {"desc": 1, "seal": 1}},
    ]
    by_org = aggregate(
        [Finding("1", "A", "Application", (Gap("desc", ""),), (), ("Sales",))], "organization"
    )
    assert by_org[0]["who"] == "Sales"
