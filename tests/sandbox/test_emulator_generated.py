"""Generated workspaces with archived Applications and custom fit orders; ``expected_time``."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

from lx_sandbox.emulator import generate_workspace
from lx_sandbox.emulator.seed import (
    FUNCTIONAL,
    TECHNICAL,
    build_workspace,
    expected_time,
    expected_time_of,
)
from tests.sandbox.conftest import Api

JsonDict = dict[str, Any]
F5 = ["fBad", "fPoor", "fMid", "fGood", "fTop"]
T5 = ["tBad", "tPoor", "tMid", "tGood", "tTop"]
MODEL = {"Application": {"functionalSuitability": F5, "technicalSuitability": T5}}


def _apps(doc: JsonDict) -> list[JsonDict]:
    return [f for f in doc["factSheets"] if f["type"] == "Application"]


def test_expected_time_default_scales() -> None:
    table = {
        ("appropriate", "adequate"): "Invest",
        ("perfect", "fullyAppropriate"): "Invest",
        ("perfect", "unreasonable"): "Migrate",
        ("appropriate", "inappropriate"): "Migrate",
        ("insufficient", "adequate"): "Tolerate",
        ("unreasonable", "fullyAppropriate"): "Tolerate",
        ("insufficient", "unreasonable"): "Eliminate",
        ("unreasonable", "inappropriate"): "Eliminate",
    }
    for (f, t), want in table.items():
        assert expected_time(f, t) == want, (f, t)
    assert {expected_time(f, t) for f, t in itertools.product(FUNCTIONAL, TECHNICAL)} == {
        "Invest",
        "Migrate",
        "Tolerate",
        "Eliminate",
    }
    assert expected_time(None, "adequate") is None and expected_time("perfect", None) is None


def test_expected_time_custom_orders_use_the_upper_half() -> None:
    # Five values: high from index (5+1)//2 = 3, so the middle value is low.
    assert expected_time("fGood", "tGood", MODEL) == "Invest"
    assert expected_time("fMid", "tTop", MODEL) == "Tolerate"
    assert expected_time("fTop", "tMid", MODEL) == "Migrate"
    assert expected_time("fMid", "tMid", MODEL) == "Eliminate"
    three = {"Application": {"functionalSuitability": ["a", "b", "c"]}}
    assert expected_time("b", "adequate", three) == "Tolerate"  # index 1 < (3+1)//2
    assert expected_time("c", "adequate", three) == "Invest"  # technical falls back to default
    with pytest.raises(ValueError, match="is not in list"):
        expected_time("perfect", "tGood", MODEL)


def test_archived_fraction_is_exact_and_leaves_fits_alone() -> None:
    plain = generate_workspace(200, 5)
    archived = generate_workspace(200, 5, archived=0.05)
    statuses = Counter(a.get("status", "ACTIVE") for a in _apps(archived))
    assert statuses == {"ACTIVE": 190, "ARCHIVED": 10}
    assert [a["fields"] for a in _apps(archived)] == [a["fields"] for a in _apps(plain)]
    assert generate_workspace(200, 5, archived=0.05) == archived
    assert (
        Counter(a.get("status", "ACTIVE") for a in _apps(generate_workspace(7, 1, archived=1)))[
            "ARCHIVED"
        ]
        == 7
    )
    with pytest.raises(ValueError, match="archived"):
        generate_workspace(10, 1, archived=1.5)


def test_custom_fit_orders_are_drawn_and_tags_judged_with_them() -> None:
    doc = generate_workspace(600, 9, data_model=MODEL)
    apps = _apps(doc)
    functional = Counter(a["fields"].get("functionalSuitability") for a in apps)
    technical = Counter(a["fields"].get("technicalSuitability") for a in apps)
    assert set(functional) - {None} == set(F5) and set(technical) - {None} == set(T5)
    ws = build_workspace(doc)
    assert ws.data_model["Application"]["functionalSuitability"] == F5
    group = ws.find_tag_group("TIME Model")
    assert group is not None
    right = wrong = 0
    for a in apps:
        tags = [ws.tags[t].name for t in a["tags"] if t in group.tag_ids]
        if tags:
            want = expected_time(
                a["fields"].get("functionalSuitability"),
                a["fields"].get("technicalSuitability"),
                MODEL,
            )
            right += tags == [want]
            wrong += tags != [want]
    assert right > wrong > 0


def test_admin_seed_accepts_the_options(emu: Api) -> None:
    body = {"generated": {"applications": 100, "seed": 3, "archived": 0.1, "dataModel": MODEL}}
    summary = emu.admin("POST", "/seed", json=body)
    assert summary["factSheetCounts"]["Application"] == 100
    assert emu.admin("GET", "/datamodel")["Application"]["technicalSuitability"] == T5
    every = emu.admin("GET", "/factsheets?type=Application&limit=1000")["factSheets"]
    assert sum(1 for f in every if f["status"] == "ARCHIVED") == 10
    count = emu.data("{ allFactSheets(factSheetType: Application) { totalCount } }")
    assert count["allFactSheets"]["totalCount"] == 90  # archived ones are hidden
    enum = emu.data(
        '{ __type(name: "Application") { fields { name type { enumValues { name } } } } }'
    )["__type"]["fields"]
    fit = next(f for f in enum if f["name"] == "functionalSuitability")
    assert [v["name"] for v in fit["type"]["enumValues"]] == F5
    bad = {"generated": {"applications": 5, "dataModel": {"Application": {"x": ["not valid"]}}}}
    assert emu.admin_raw("POST", "/seed", json=bad).status_code == 400


def test_thresholds_move_where_high_begins() -> None:
    assert expected_time("insufficient", "adequate") == "Tolerate"
    assert expected_time("insufficient", "adequate", functional_high_from="insufficient") == (
        "Invest"
    )
    assert expected_time("perfect", "adequate", technical_high_from="fullyAppropriate") == (
        "Migrate"
    )
    with pytest.raises(ValueError, match="is not in list"):
        expected_time("perfect", "adequate", technical_high_from="nope")


def test_expected_time_of_reads_admin_seed_and_graphql_shapes(emu: Api) -> None:
    """Judge every Application the emulator holds with the model it serves, over HTTP."""
    emu.admin(
        "POST", "/seed", json={"generated": {"applications": 300, "seed": 4, "dataModel": MODEL}}
    )
    model = emu.admin("GET", "/datamodel")
    group = next(
        g for g in emu.admin("GET", "/workspace")["tagGroups"] if g["name"] == "TIME Model"
    )
    names = {t["id"]: t["name"] for t in group["tags"]}
    apps = emu.admin("GET", "/factsheets?type=Application&limit=1000")["factSheets"]
    right = wrong = unset = 0
    for app in apps:
        want = expected_time_of(app, model)
        unset += want is None
        tagged = [names[t] for t in app["tagIds"] if t in names]
        if tagged:
            right += tagged == [want]
            wrong += tagged != [want]
    assert right > wrong > 0 and 0 < unset < len(apps)
    node = {"functionalSuitability": "fTop", "technicalSuitability": "tGood"}
    assert expected_time_of(node, model) == "Invest"  # a GraphQL node
    assert expected_time_of({"fields": node}, MODEL) == "Invest"  # a seed document entry
    assert expected_time_of({"values": {}}, model) is None
    assert expected_time_of(node, model, technical_high_from="tTop") == "Migrate"
