"""``lx processors lint``: every rule, positive and negative, both value-mapping forms."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from lx_core.decisions.processor_lint import Finding, LintContext, errors, lint

DATA = Path(__file__).parent / "data" / "integration"
FILE = "infra/leanix/processors/apps.json"
JsonDict = dict[str, Any]

EXTERNAL = {"external": {"id": {"expr": "${content.id}"}, "type": {"expr": "externalId"}}}


def base() -> JsonDict:
    """A clean inbound configuration: no finding at all."""
    return {
        "connectorType": "apps",
        "connectorId": "apps",
        "connectorVersion": "1.0.0",
        "processingDirection": "inbound",
        "processingMode": "partial",
        "processors": [
            {
                "processorType": "inboundFactSheet",
                "processorName": "Apps",
                "type": "Application",
                "identifier": copy.deepcopy(EXTERNAL),
                "run": 0,
                "updates": [{"key": {"expr": "name"}, "values": [{"expr": "${data.name}"}]}],
            }
        ],
    }


def rules(doc: JsonDict, context: LintContext | None = None) -> list[tuple[str, str, str]]:
    return [(f.rule, f.path, f.severity) for f in lint(doc, file=FILE, context=context)]


def test_a_clean_configuration_has_no_findings() -> None:
    assert lint(base(), file=FILE) == []


def test_finding_names_file_path_rule_and_severity() -> None:
    doc = base()
    doc["connectorVersion"] = "1.0"
    [finding] = lint(doc, file=FILE)
    assert finding == Finding(
        FILE, "$.connectorVersion", "version-format", "error", finding.message
    )
    assert str(finding).startswith(f"{FILE}: $.connectorVersion: ")
    assert str(finding).endswith("(error, rule: version-format)")
    assert errors([finding]) == [finding]


# --- version-format -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "1.0.0-beta", "1.0.0.0", "", 1, None])
def test_version_not_x_y_z_is_an_error(version: Any) -> None:
    doc = base()
    doc["connectorVersion"] = version
    assert rules(doc) == [("version-format", "$.connectorVersion", "error")]


@pytest.mark.parametrize("version", ["0.0.1", "1.2.3", "10.20.300"])
def test_x_y_z_versions_pass(version: str) -> None:
    doc = base()
    doc["connectorVersion"] = version
    assert rules(doc) == []


# --- catch-all-mapping: updates[].values[] form -------------------------------------------------


def _with_values(values: list[JsonDict]) -> JsonDict:
    doc = base()
    doc["processors"][0]["updates"].append({"key": {"expr": "criticality"}, "values": values})
    return doc


VALUES_PATH = "$.processors[0].updates[1].values"


def test_values_with_regex_match_but_no_catch_all_warn() -> None:
    doc = _with_values(
        [{"expr": "missionCritical", "regexMatch": "^A$"}, {"expr": "x", "regexMatch": "^B$"}]
    )
    assert rules(doc) == [("catch-all-mapping", VALUES_PATH, "warning")]
    assert errors(lint(doc, file=FILE)) == []


@pytest.mark.parametrize(
    "last",
    [{"expr": "other", "regexMatch": ".*"}, {"expr": "other"}, {"expr": "o", "regexMatch": "^.*$"}],
)
def test_values_ending_with_a_catch_all_pass(last: JsonDict) -> None:
    doc = _with_values([{"expr": "missionCritical", "regexMatch": "^A$"}, last])
    assert rules(doc) == []


def test_values_with_only_regex_replace_need_no_catch_all() -> None:
    doc = _with_values([{"expr": "${data.d}", "regexReplace": {"match": "T.*", "replace": ""}}])
    assert rules(doc) == []


def test_a_catch_all_in_the_middle_does_not_count() -> None:
    doc = _with_values([{"expr": "x", "regexMatch": ".*"}, {"expr": "y", "regexMatch": "^B$"}])
    assert rules(doc) == [("catch-all-mapping", VALUES_PATH, "warning")]


def test_outbound_output_values_are_checked_too() -> None:
    doc = json.loads((DATA / "outbound_apps.json").read_text(encoding="utf-8"))
    doc["processors"][0]["output"][2]["values"] = [{"expr": "a", "regexMatch": "^x"}]
    found = rules(doc, LintContext(test_scope={"ids": ["1"]}))
    assert found == [("catch-all-mapping", "$.processors[0].output[2].values", "warning")]


# --- catch-all-mapping: valueMappings form (best-practice page) ---------------------------------


def _value_mappings(mappings: list[JsonDict]) -> JsonDict:
    doc = base()
    doc["processors"][0]["fields"] = [
        {"leanixFieldName": "group", "inboundPropertyPath": "Freq", "valueMappings": []},
        {
            "leanixFieldName": "name",
            "inboundPropertyPath": '${["meta-processfrequency"]}',
            "valueMappings": mappings,
        },
    ]
    return doc


HIGH = {"outputExpression": "High", "regexMatch": "ci1560953961659160925663"}
LOW = {"outputExpression": "Low", "regexMatch": "ci1560953961659682886651"}


def test_value_mappings_without_catch_all_warn() -> None:
    assert rules(_value_mappings([HIGH, LOW])) == [
        ("catch-all-mapping", "$.processors[0].fields[1].valueMappings", "warning")
    ]


def test_value_mappings_with_the_documented_catch_all_pass() -> None:
    other = {"outputExpression": "Other value", "regexMatch": ".*"}
    assert rules(_value_mappings([HIGH, LOW, other])) == []


def test_value_mappings_are_found_anywhere_in_the_document() -> None:
    doc = base()
    doc["custom"] = {"deep": [{"valueMappings": [HIGH]}]}
    assert rules(doc) == [("catch-all-mapping", "$.custom.deep[0].valueMappings", "warning")]


# --- deletion-scope-mode and unbounded-deletion -------------------------------------------------


def _full(scope: JsonDict) -> JsonDict:
    doc = base()
    doc["processingMode"] = "full"
    doc["deletionScope"] = scope
    return doc


TYPE_ONLY = {"facetFilters": [{"facetKey": "FactSheetTypes", "operator": "OR", "keys": ["App"]}]}
BY_TAG = {
    "facetFilters": [
        {"facetKey": "FactSheetTypes", "operator": "OR", "keys": ["Application"]},
        {"facetKey": "tag-group-id", "operator": "OR", "keys": ["tag-id"]},
    ]
}


def test_deletion_scope_in_partial_mode_is_an_error() -> None:
    doc = base()
    doc["deletionScope"] = {"factSheets": [{"scope": {"ids": ["1"]}}]}
    assert rules(doc) == [("deletion-scope-mode", "$.deletionScope", "error")]
    del doc["processingMode"]  # partial by default
    assert rules(doc) == [("deletion-scope-mode", "$.deletionScope", "error")]


@pytest.mark.parametrize(
    "entry",
    [
        {},
        {"scope": {}},
        {"scope": TYPE_ONLY},
        {"scope": {"ids": [], "facetFilters": []}},
        {"scope": {"facetFilters": [{"facetKey": "lifecycle", "keys": []}]}},
        {"advanced": " "},
    ],
)
def test_unbounded_fact_sheet_deletion_is_an_error(entry: JsonDict) -> None:
    doc = _full({"factSheets": [{"scope": {"ids": ["x"]}}, entry]})
    assert rules(doc) == [("unbounded-deletion", "$.deletionScope.factSheets[1]", "error")]


@pytest.mark.parametrize(
    "entry",
    [
        {"scope": BY_TAG},
        {"scope": {"ids": ["a", "b"]}},
        {"advanced": "${lx.factsheet.x}"},
        {"scope": {"facetFilters": [{"facetKey": "lifecycle", "dateFilter": {"type": "TODAY"}}]}},
    ],
)
def test_bounded_fact_sheet_deletion_passes(entry: JsonDict) -> None:
    assert rules(_full({"factSheets": [entry]})) == []


def test_relations_and_tags_scopes_need_a_limit_too() -> None:
    doc = _full(
        {
            "relations": [{"relationTypes": ["relApplicationToITComponent"], "scope": TYPE_ONLY}],
            "tags": [{"tagScopes": [{"group": "Department"}]}],
        }
    )
    assert rules(doc) == [
        ("unbounded-deletion", "$.deletionScope.relations[0]", "error"),
        ("unbounded-deletion", "$.deletionScope.tags[0]", "error"),
    ]
    doc["deletionScope"]["relations"][0]["scope"] = BY_TAG
    doc["deletionScope"]["tags"][0]["advanced"] = "${true}"
    assert rules(doc) == []


def test_deletion_scope_without_entries_deletes_nothing() -> None:
    assert rules(_full({"maximumDeletionRatio": {"factSheets": 10}})) == []


# --- deletion-ratio-reason ----------------------------------------------------------------------


def test_ratio_above_50_without_reason_is_an_error() -> None:
    doc = _full({"maximumDeletionRatio": {"factSheets": 80, "relations": 50, "tags": 101}})
    assert rules(doc) == [
        ("deletion-ratio-reason", "$.deletionScope.maximumDeletionRatio.factSheets", "error"),
        ("deletion-ratio-reason", "$.deletionScope.maximumDeletionRatio.tags", "error"),
    ]
    assert rules(doc, LintContext(deletion_ratio_reason=None)) == rules(doc)


def test_ratio_above_50_with_a_reason_passes() -> None:
    doc = _full({"maximumDeletionRatio": {"factSheets": 80}})
    reason = LintContext(deletion_ratio_reason="HR rebuilds every department each quarter")
    assert rules(doc, reason) == []


def test_ratio_at_or_below_50_needs_no_reason() -> None:
    assert rules(_full({"maximumDeletionRatio": {"factSheets": 50, "relations": 0.5}})) == []


# --- relation-run-order -------------------------------------------------------------------------


def _relation(run: int | None, rel_type: str = "relApplicationToITComponent") -> JsonDict:
    doc = base()
    doc["processors"].append(
        {
            "processorType": "inboundFactSheet",
            "processorName": "Components",
            "type": "ITComponent",
            "identifier": copy.deepcopy(EXTERNAL),
            "run": 1,
        }
    )
    relation: JsonDict = {
        "processorType": "inboundRelation",
        "processorName": "App uses component",
        "type": rel_type,
        "from": copy.deepcopy(EXTERNAL),
        "to": copy.deepcopy(EXTERNAL),
    }
    if run is not None:
        relation["run"] = run
    doc["processors"].append(relation)
    return doc


@pytest.mark.parametrize("run", [None, 0, 1])
def test_relation_not_after_its_creators_is_an_error(run: int | None) -> None:
    findings = lint(_relation(run), file=FILE)
    assert [(f.rule, f.path, f.severity) for f in findings] == [
        ("relation-run-order", "$.processors[2].run", "error")
    ]
    assert "'Components' (run 1)" in findings[0].message


def test_relation_after_its_creators_passes() -> None:
    assert rules(_relation(2)) == []


def test_creators_of_other_types_do_not_count() -> None:
    doc = _relation(1, rel_type="relApplicationToProvider")
    assert rules(doc) == []  # Components (ITComponent, run 1) cannot be its target; Apps is run 0
    doc["processors"][2]["run"] = 0
    assert rules(doc) == [("relation-run-order", "$.processors[2].run", "error")]  # Apps, run 0


def test_templated_or_self_relation_types_count_every_creator() -> None:
    assert rules(_relation(1, rel_type="relToParent")) != []
    assert rules(_relation(1, rel_type="${data.relType}")) != []


def test_processors_that_create_nothing_do_not_count() -> None:
    doc = _relation(1)
    components = doc["processors"][1]
    components["identifier"] = {"internal": "${data.fsId}"}  # only updates existing ones
    assert rules(doc) == []
    components["identifier"] = copy.deepcopy(EXTERNAL)
    components["enabled"] = False
    assert rules(doc) == []
    components["enabled"] = True
    components["mode"] = "delete"
    assert rules(doc) == []


def test_relation_between_existing_fact_sheets_is_not_ordered() -> None:
    doc = _relation(0)
    doc["processors"][2]["from"] = {"internal": "${data.a}"}
    doc["processors"][2]["to"] = {"search": {"scope": {"ids": []}}}
    assert rules(doc) == []


# --- outbound-test-scope ------------------------------------------------------------------------


def _outbound(scope: Any) -> JsonDict:
    doc: JsonDict = json.loads((DATA / "outbound_apps.json").read_text(encoding="utf-8"))
    if scope is None:
        del doc["scope"]
    else:
        doc["scope"] = scope
    return doc


@pytest.mark.parametrize("scope", [None, {}, TYPE_ONLY, {"ids": [], "facetFilters": []}])
def test_large_outbound_scope_without_test_scope_warns(scope: Any) -> None:
    assert rules(_outbound(scope)) == [("outbound-test-scope", "$.scope", "warning")]


def test_a_declared_test_scope_silences_it() -> None:
    assert rules(_outbound(TYPE_ONLY), LintContext(test_scope={"ids": ["fs-1"]})) == []


@pytest.mark.parametrize("scope", [BY_TAG, {"ids": ["fs-1"]}])
def test_narrow_outbound_scope_passes(scope: JsonDict) -> None:
    assert rules(_outbound(scope)) == []


def test_inbound_configurations_have_no_outbound_scope_rule() -> None:
    assert "outbound-test-scope" not in {r for r, _, _ in rules(base())}


# --- secret-in-file ------------------------------------------------------------------------------


def test_an_api_token_in_the_file_is_an_error_and_not_echoed() -> None:
    doc = base()
    doc["credentials"] = {"apiToken": "tok-very-secret"}
    findings = lint(doc, file=FILE)
    assert [(f.rule, f.path) for f in findings] == [("secret-in-file", "$.credentials.apiToken")]
    assert "very-secret" not in str(findings[0])
    doc["credentials"] = {"useTechnicalUser": True}
    assert lint(doc, file=FILE) == []


def test_the_ui_export_fixture_lints_to_known_findings() -> None:
    doc = json.loads((DATA / "ui_export_inbound.json").read_text(encoding="utf-8"))
    # Full mode, scope limited by a tag, ratios ≤ 50, relation at run 1 after Apps at run 0;
    # the criticality values end with an unconditional value.
    assert rules(doc) == []
