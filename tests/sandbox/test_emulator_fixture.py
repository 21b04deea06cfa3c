"""The shipped demo fixture and the large-workspace generator."""

from __future__ import annotations

import itertools
import time
from collections import Counter

from lx_sandbox.emulator import generate_workspace, load_fixture
from lx_sandbox.emulator.seed import FUNCTIONAL, TECHNICAL, build_workspace, expected_time


def test_demo_fixture_covers_the_cases() -> None:
    doc = load_fixture()
    ws = build_workspace(doc)
    assert ws.id == "8c0e6a52-3f4b-4d7e-9a1c-5b2d7e8f9a01" and ws.name == "sandbox-demo"
    assert {u.token for u in ws.users_by_id.values()} == {
        "sandbox-technical-user-token",
        "sandbox-human-user-token",
    }
    active = [
        f for f in ws.fact_sheets.values() if f.type == "Application" and f.status == "ACTIVE"
    ]
    assert len(active) == 50
    combos = Counter(
        (f.fields.get("functionalSuitability"), f.fields.get("technicalSuitability"))
        for f in active
    )
    assert set(itertools.product(FUNCTIONAL, TECHNICAL)) <= set(combos)
    assert any(k[0] and not k[1] for k in combos) and any(k[1] and not k[0] for k in combos)
    assert combos[(None, None)] > 0
    group = ws.find_tag_group("TIME Model")
    assert group is not None and group.mode == "SINGLE" and group.restrict_to == ["Application"]
    colours = {ws.tags[t].name: ws.tags[t].color for t in group.tag_ids}
    assert colours == {
        "Tolerate": "#81c1da",
        "Invest": "#00b361",
        "Migrate": "#fedd3a",
        "Eliminate": "#f8333c",
    }
    right = wrong = 0
    for f in active:
        time_tags = [ws.tags[t].name for t in f.tag_ids if t in group.tag_ids]
        if time_tags:
            expected = expected_time(
                f.fields.get("functionalSuitability"), f.fields.get("technicalSuitability")
            )
            right += time_tags == [expected]
            wrong += time_tags != [expected]
    assert right >= 2 and wrong >= 2
    modes = {g.name: g.mode for g in ws.tag_groups.values()}
    assert "SINGLE" in [m for n, m in modes.items() if n != "TIME Model"]
    assert "MULTIPLE" in modes.values()
    assert sum(1 for f in ws.fact_sheets.values() if f.type == "ITComponent") == 15


def test_generator_is_deterministic_and_fast() -> None:
    started = time.monotonic()
    doc = generate_workspace(10_000, seed=3)
    ws = build_workspace(doc)
    assert time.monotonic() - started < 3.0
    assert sum(1 for f in ws.fact_sheets.values() if f.type == "Application") == 10_000
    assert generate_workspace(50, seed=3) == generate_workspace(50, seed=3)
    assert generate_workspace(50, seed=3) != generate_workspace(50, seed=4)
