"""``lx processors plan``: processor by processor, key by key, secrets masked."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lx_core.decisions.processor_diff import MAX_VALUE_CHARS, diff, same

DATA = Path(__file__).parent / "data" / "integration"
JsonDict = dict[str, Any]


def desired() -> JsonDict:
    loaded: JsonDict = json.loads((DATA / "ui_export_inbound.json").read_text(encoding="utf-8"))
    return loaded


def projects() -> JsonDict:
    return {
        "connectorType": "p",
        "connectorId": "p",
        "connectorVersion": "1.0.0",
        "processingDirection": "inbound",
        "processors": [
            {
                "processorType": "inboundFactSheet",
                "processorName": "Projects from prj",
                "updates": [{"key": {"expr": "name"}, "values": [{"expr": "${a}"}]}],
            }
        ],
    }


def test_equal_documents_are_unchanged() -> None:
    result = diff(desired(), desired())
    assert (result.action, result.changed, result.lines()) == ("unchanged", False, [])


def test_absent_configuration_is_a_create_listing_processors() -> None:
    result = diff(projects(), None)
    assert (result.action, result.changed) == ("create", True)
    lines = result.lines()
    assert '+ connectorType: "p"' in lines
    assert '+ processors["Projects from prj"]' in lines
    assert not any(line.startswith(("-", "~")) for line in lines)


def test_a_changed_value_is_reported_with_its_path_and_both_values() -> None:
    want = projects()
    want["processors"][0]["updates"][0]["values"][0]["expr"] = "${b}"
    result = diff(want, projects())
    assert result.action == "update"
    assert result.lines() == [
        '~ processors["Projects from prj"].updates[0].values[0].expr: "${a}" -> "${b}"'
    ]


def test_added_removed_and_renamed_processors() -> None:
    have = projects()
    want = projects()
    want["processors"][0]["processorName"] = "X"
    want["processors"].append({"processorType": "inboundTag", "processorName": "Tags"})
    assert diff(want, have).lines() == [
        '+ processors["X"]',
        '+ processors["Tags"]',
        '- processors["Projects from prj"]',
    ]


def test_processors_are_matched_by_name_not_position() -> None:
    have = desired()
    want = desired()
    moved = want["processors"].pop(0)
    moved["run"] = 3
    want["processors"].append(moved)
    lines = diff(want, have).lines()
    assert '~ processors["Apps from hr"].run: 0 -> 3' in lines
    assert any(line.startswith("~ processors (order): ") for line in lines)
    assert len(lines) == 2


def test_unnamed_processors_are_matched_by_index() -> None:
    have = desired()
    want = desired()
    want["processors"][8]["whatever"]["a"][1] = 2  # someFutureProcessor has no name
    assert diff(want, have).lines() == ["~ processors[8].whatever.a[1]: 1 -> 2"]


def test_top_level_keys_added_removed_changed() -> None:
    have = desired()
    want = desired()
    want["deletionScope"]["maximumDeletionRatio"]["factSheets"] = 45
    del want["variables"]["limits"]
    want["variables"]["newOne"] = "v"
    del want["targetLdif"]
    assert diff(want, have).lines() == [
        "~ deletionScope.maximumDeletionRatio.factSheets: 30 -> 45",
        '+ variables.newOne: "v"',
        "- variables.limits: [1, 2]",
        '- targetLdif: {"ldifKeys": ["apps"], "dataConsumer": {"type": "leanixStorage"}}',
    ]


def test_lists_of_different_length() -> None:
    have = projects()
    want = projects()
    want["processors"][0]["updates"].append({"key": {"expr": "description"}, "values": []})
    have["processors"][0]["updates"][0]["values"].append({"expr": "${c}"})
    assert diff(want, have).lines() == [
        '- processors["Projects from prj"].updates[0].values[1]: {"expr": "${c}"}',
        '+ processors["Projects from prj"].updates[1]: {"key": {"expr": "description"}, '
        '"values": []}',
    ]


def test_long_values_are_shortened() -> None:
    have = projects()
    want = projects()
    want["processors"][0]["processorDescription"] = "d" * 500
    [line] = diff(want, have).lines()
    value = line.split(": ", 1)[1]
    assert len(value) == MAX_VALUE_CHARS
    assert value.endswith("…")


def test_credentials_are_never_shown() -> None:
    have = projects()
    have["credentials"] = {"apiToken": "old-secret-token"}
    want = projects()
    want["credentials"] = {"apiToken": "new-secret-token"}
    result = diff(want, have)
    assert result.lines() == ['~ credentials.apiToken: "***" -> "***"']
    added = diff(want, projects()).lines()
    assert added == ['+ credentials: {"apiToken": "***"}']
    created = " ".join(diff(want, None).lines())
    assert "secret" not in created
    want["credentials"] = {"useTechnicalUser": True}
    assert diff(want, have).lines() == [
        "+ credentials.useTechnicalUser: true",
        '- credentials.apiToken: "***"',
    ]


def test_signed_urls_are_masked() -> None:
    have = projects()
    want = projects()
    want["dataProvider"] = {"url": "https://acct.blob.core.windows.net/c/b?sv=1&sig=SECRET"}
    [line] = diff(want, have).lines()
    assert "SECRET" not in line
    assert "https://acct.blob.core.windows.net/c/b?***" in line


def test_true_is_not_one() -> None:
    have = projects()
    want = projects()
    have["processors"][0]["enabled"] = 1
    want["processors"][0]["enabled"] = True
    result = diff(want, have)
    assert result.changed
    assert result.lines() == ['~ processors["Projects from prj"].enabled: 1 -> true']


def test_a_type_change_is_one_line() -> None:
    have = projects()
    want = projects()
    have["variables"] = []
    want["variables"] = {}
    assert diff(want, have).lines() == ["~ variables: [] -> {}"]


def test_empty_processors_list_versus_none() -> None:
    have = projects()
    del have["processors"]
    want = projects()
    want["processors"] = []
    assert diff(want, have).lines() == ["+ processors: []"]
    assert diff(have, want).lines() == ["- processors: []"]


def test_duplicate_names_fall_back_to_index() -> None:
    have = projects()
    have["processors"].append(copy.deepcopy(have["processors"][0]))
    want = copy.deepcopy(have)
    want["processors"][1]["run"] = 1
    assert diff(want, have).lines() == ["+ processors[1].run: 1"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "processorName"]), children, max_size=3)
    ),
    max_leaves=8,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "processors": st.lists(
            st.fixed_dictionaries(
                {}, optional={"processorName": st.sampled_from(["A", "B", "C"]), "x": json_values}
            ),
            max_size=4,
        ),
        "variables": json_values,
        "credentials": st.fixed_dictionaries({}, optional={"apiToken": st.text(max_size=3)}),
    },
)


@settings(max_examples=300, deadline=None)
@given(documents, documents)
def test_changed_exactly_when_documents_differ(a: JsonDict, b: JsonDict) -> None:
    result = diff(a, b)
    assert result.changed == (not same(a, b))
    assert result.changed == bool(result.lines())
    assert (json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)) == (not result.changed)


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ([1, 2], [2, 1], False),
        ([], {}, False),
        ("1", 1, False),
    ],
)
def test_json_equality(a: Any, b: Any, equal: bool) -> None:
    assert same(a, b) is equal
