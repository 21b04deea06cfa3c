"""Processor configuration models and strict JSON documents: every rule named, exact round trips."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lx_core.errors import ConfigurationError, DocumentError
from lx_core.integration.documents import json_path, parse_json, read_json, validate
from lx_core.integration.identity import ConnectorIdentity
from lx_core.integration.ldif import LdifHeader
from lx_core.integration.processors import (
    InboundConfiguration,
    InboundFactSheet,
    InboundRelation,
    InboundTag,
    OtherProcessor,
    OutboundConfiguration,
    OutboundFactSheet,
    VariableProcessor,
    WriteToLdif,
    parse_configuration,
)

DATA = Path(__file__).parent / "data" / "integration"
JsonDict = dict[str, Any]

#: LeanIX's documented importProjectsExample body plus the §5.4 connector fields.
IMPORT_PROJECTS: JsonDict = {
    "connectorType": "importProjectsExample",
    "connectorId": "importProjectsExample",
    "connectorVersion": "1.0.0",
    "processingDirection": "inbound",
    "processingMode": "partial",
    **json.loads((DATA / "import-projects-example.processors.json").read_text()),
}


def doc() -> JsonDict:
    return copy.deepcopy(IMPORT_PROJECTS)


def fixture(name: str) -> JsonDict:
    loaded: JsonDict = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def error_of(document: Any, source: str = "infra/leanix/processors/x.json") -> DocumentError:
    with pytest.raises(DocumentError) as info:
        parse_configuration(document, source=source)
    return info.value


# --- valid documents ----------------------------------------------------------------------------


def test_the_documented_example_parses_with_its_identity() -> None:
    config = parse_configuration(doc(), source="x.json")
    assert isinstance(config, InboundConfiguration)
    assert config.identity == ConnectorIdentity(
        connector_type="importProjectsExample",
        connector_id="importProjectsExample",
        connector_version="1.0.0",
        processing_direction="inbound",
        processing_mode="partial",
    )
    [proc] = config.processors
    assert isinstance(proc, InboundFactSheet)
    assert proc.processor_name == "Projects from prj"
    assert proc.identifier.external is not None
    assert [u.key.expr for u in proc.updates] == ["name", "description", "lifecycle.active"]
    assert config.to_document() == IMPORT_PROJECTS


def test_ui_export_with_unknown_keys_and_types_round_trips_exactly() -> None:
    original = fixture("ui_export_inbound.json")
    config = parse_configuration(copy.deepcopy(original), source="ui.json")
    assert isinstance(config, InboundConfiguration)
    kinds = [type(p) for p in config.processors]
    assert kinds[:4] == [InboundFactSheet, InboundRelation, InboundTag, VariableProcessor]
    assert kinds[4:] == [OtherProcessor] * 5
    out = config.to_document()
    assert out == original
    # Same keys in the same order, so a file written back from the model diffs clean in git.
    assert json.dumps(out) == json.dumps(original)
    assert config.identity.processing_mode == "full"


def test_outbound_configuration_round_trips_and_models_its_processor() -> None:
    original = fixture("outbound_apps.json")
    config = parse_configuration(copy.deepcopy(original), source="out.json")
    assert isinstance(config, OutboundConfiguration)
    assert config.scope.facet_filters is not None
    [proc] = config.processors
    assert isinstance(proc, OutboundFactSheet)
    assert [r.key.expr for r in proc.output] == ["content.id", "content.type", "Description"]
    assert json.dumps(config.to_document()) == json.dumps(original)


def test_to_document_adds_no_defaults_and_mode_defaults_to_partial() -> None:
    d = doc()
    del d["processingMode"]
    config = parse_configuration(d, source="x.json")
    assert config.identity.processing_mode == "partial"
    assert "processingMode" not in config.to_document()
    assert config.to_document() == d


def test_to_document_is_a_copy() -> None:
    config = parse_configuration(doc(), source="x.json")
    config.to_document()["processors"][0]["run"] = 7
    assert config.to_document()["processors"][0]["run"] == 0


def test_versions_are_plain_strings_here() -> None:
    d = doc()
    d["connectorVersion"] = "v2"
    assert parse_configuration(d, source="x.json").identity.connector_version == "v2"


def test_flat_external_identifier_and_internal_identifier_are_accepted() -> None:
    d = doc()
    d["processors"][0]["identifier"] = {"external": {"type": "externalId", "id": "${content.id}"}}
    d["processors"].append(
        {"processorType": "inboundFactSheet", "identifier": {"internal": "${data.fsId}"}}
    )
    config = parse_configuration(d, source="x.json")
    assert config.to_document() == d


def test_write_to_ldif_and_delete_mode() -> None:
    d = doc()
    d["processors"].append(
        {
            "processorType": "writeToLdif",
            "processorName": "Echo",
            "run": 1,
            "updates": [{"key": {"expr": "content.id"}, "values": [{"expr": "${content.id}"}]}],
        }
    )
    d["processors"][0]["mode"] = "delete"
    config = parse_configuration(d, source="x.json")
    assert isinstance(config.processors[1], WriteToLdif)
    assert config.to_document() == d


def test_full_mode_with_deletion_scope_is_valid() -> None:
    d = doc()
    d["processingMode"] = "full"
    d["deletionScope"] = {"factSheets": [{"scope": {"ids": ["a"]}}]}
    config = parse_configuration(d, source="x.json")
    assert isinstance(config, InboundConfiguration)
    assert config.deletion_scope is not None
    assert config.to_document() == d


def test_identity_matches_an_ldif_header_identity() -> None:
    config = parse_configuration(doc(), source="x.json")
    header = LdifHeader.model_validate(
        {k: IMPORT_PROJECTS[k] for k in ("connectorType", "connectorId", "connectorVersion")}
        | {"lxVersion": "1.0.0", "processingDirection": "inbound"}
    )
    assert header.identity == config.identity


# --- invalid documents: one error naming file, path and rule -------------------------------------

P0 = "$.processors[0]"


def _set(path: tuple[Any, ...], value: Any) -> Callable[[JsonDict], None]:
    def mutate(d: JsonDict) -> None:
        node: Any = d
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return mutate


def _drop(path: tuple[Any, ...]) -> Callable[[JsonDict], None]:
    def mutate(d: JsonDict) -> None:
        node: Any = d
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return mutate


def _full_with_scope(d: JsonDict) -> None:
    d["processingMode"] = "full"
    d["deletionScope"] = {"maximumDeletionRatio": {"factSheets": -1}}


def _relation_without_to(d: JsonDict) -> None:
    d["processors"].append(
        {
            "processorType": "inboundRelation",
            "type": "relApplicationToITComponent",
            "from": {"internal": "${content.id}"},
        }
    )


CASES: list[tuple[str, Callable[[JsonDict], None], str, str]] = [
    ("run negative", _set(("processors", 0, "run"), -1), f"{P0}.run", "type"),
    ("run a string", _set(("processors", 0, "run"), "1"), f"{P0}.run", "type"),
    ("run a bool", _set(("processors", 0, "run"), True), f"{P0}.run", "type"),
    (
        "two identifiers",
        _set(("processors", 0, "identifier", "internal"), "x"),
        f"{P0}.identifier",
        "one-of-identifier",
    ),
    (
        "no identifier kind",
        _set(("processors", 0, "identifier"), {}),
        f"{P0}.identifier",
        "one-of-identifier",
    ),
    ("identifier missing", _drop(("processors", 0, "identifier")), f"{P0}.identifier", "required"),
    (
        "deletionScope on a processor",
        _set(("processors", 0, "deletionScope"), {}),
        f"{P0}.deletionScope",
        "deletion-scope-on-processor",
    ),
    (
        "deletionScope in partial mode",
        _set(("deletionScope",), {"factSheets": []}),
        "$.deletionScope",
        "deletion-scope-mode",
    ),
    (
        "negative deletion ratio",
        _full_with_scope,
        "$.deletionScope.maximumDeletionRatio.factSheets",
        "type",
    ),
    ("connectorType missing", _drop(("connectorType",)), "$.connectorType", "required"),
    ("connectorId empty", _set(("connectorId",), ""), "$.connectorId", "length"),
    (
        "connectorVersion too long",
        _set(("connectorVersion",), "1" * 501),
        "$.connectorVersion",
        "length",
    ),
    ("direction missing", _drop(("processingDirection",)), "$.processingDirection", "required"),
    (
        "direction unknown",
        _set(("processingDirection",), "sideways"),
        "$.processingDirection",
        "enum",
    ),
    ("mode unknown", _set(("processingMode",), "incremental"), "$.processingMode", "enum"),
    ("processor mode unknown", _set(("processors", 0, "mode"), "upsert"), f"{P0}.mode", "enum"),
    ("logLevel unknown", _set(("processors", 0, "logLevel"), "info"), f"{P0}.logLevel", "enum"),
    ("enabled a string", _set(("processors", 0, "enabled"), "true"), f"{P0}.enabled", "type"),
    (
        "processorType missing",
        _drop(("processors", 0, "processorType")),
        f"{P0}.processorType",
        "required",
    ),
    (
        "processorType not a string",
        _set(("processors", 0, "processorType"), 3),
        f"{P0}.processorType",
        "type",
    ),
    (
        "update key without expr",
        _set(("processors", 0, "updates", 1, "key"), {}),
        f"{P0}.updates[1].key.expr",
        "required",
    ),
    (
        "value expr not a string",
        _set(("processors", 0, "updates", 0, "values", 0, "expr"), 5),
        f"{P0}.updates[0].values[0].expr",
        "type",
    ),
    ("filter not an object", _set(("processors", 0, "filter"), "prj"), f"{P0}.filter", "type"),
    ("processors not a list", _set(("processors",), {}), "$.processors", "type"),
    (
        "internal identifier not an expression",
        _set(("processors", 0, "identifier"), {"internal": 5}),
        f"{P0}.identifier.internal",
        "type",
    ),
    ("relation without to", _relation_without_to, "$.processors[1].to", "required"),
]


@pytest.mark.parametrize(
    ("mutate", "path", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_rule_gives_one_error_naming_file_path_and_rule(
    mutate: Callable[[JsonDict], None], path: str, rule: str
) -> None:
    d = doc()
    mutate(d)
    err = error_of(d)
    assert (err.file, err.path, err.rule) == ("infra/leanix/processors/x.json", path, rule)
    assert str(err) == f"infra/leanix/processors/x.json: {path}: {err.message} (rule: {rule})"
    assert isinstance(err, ConfigurationError)


def test_the_run_message_reads_as_documented() -> None:
    d = doc()
    d["processors"][0]["run"] = -2
    assert str(error_of(d)) == (
        "infra/leanix/processors/x.json: $.processors[0].run: must be an integer ≥ 0 (rule: type)"
    )


def test_outbound_needs_a_scope() -> None:
    d = fixture("outbound_apps.json")
    del d["scope"]
    err = error_of(d)
    assert (err.path, err.rule) == ("$.scope", "required")


def test_a_document_that_is_not_an_object() -> None:
    err = error_of([doc()])
    assert (err.path, err.rule) == ("$", "type")


def test_deletion_scope_on_an_unmodelled_processor_is_still_refused() -> None:
    d = doc()
    d["processors"].append({"processorType": "inboundDocument", "deletionScope": {}})
    err = error_of(d)
    assert (err.path, err.rule) == ("$.processors[1].deletionScope", "deletion-scope-on-processor")


def test_unknown_processor_type_is_not_an_error() -> None:
    d = doc()
    d["processors"].append({"processorType": "inboundQuantumLink", "run": -5, "x": {"y": 1}})
    config = parse_configuration(d, source="x.json")
    assert isinstance(config.processors[1], OtherProcessor)
    assert config.to_document() == d


def test_messages_never_echo_secret_values() -> None:
    d = doc()
    d["credentials"] = {"apiToken": 987654321}
    err = error_of(d)
    assert err.path == "$.credentials.apiToken"
    assert "987654321" not in str(err)
    d["credentials"] = {"useTechnicalUser": "tok-SECRET-value"}
    assert "SECRET" not in str(error_of(d))


# --- documents: strict JSON ---------------------------------------------------------------------


def test_json_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text('{\n  "a": 1,\n  "b" 2\n}\n', encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        read_json(f)
    err = info.value
    assert (err.file, err.path, err.rule) == (str(f), "$", "json-syntax")
    assert "3:7" in err.message


def test_duplicate_keys_are_refused_with_their_path() -> None:
    text = '{"processors": [{"run": 0}, {"processorType": "x", "run": 0, "run": 1}]}'
    with pytest.raises(DocumentError) as info:
        parse_json(text, source="dup.json")
    assert (info.value.path, info.value.rule) == ("$.processors[1].run", "duplicate-key")
    with pytest.raises(DocumentError) as top:
        parse_json('{"a": 1, "a": 1}', source="dup.json")
    assert top.value.path == "$.a"


def test_read_json_tolerates_a_bom_and_refuses_other_encodings(tmp_path: Path) -> None:
    f = tmp_path / "bom.json"
    f.write_bytes(b'\xef\xbb\xbf{"a": [1, "\xc3\xa4"]}')
    assert read_json(f) == {"a": [1, "ä"]}
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"a": "\xe4"}')
    with pytest.raises(DocumentError) as info:
        read_json(bad)
    assert info.value.rule == "encoding"


def test_missing_file_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as info:
        read_json(tmp_path / "absent.json")
    assert info.value.rule == "unreadable"


def test_validate_names_the_first_broken_rule_of_any_model() -> None:
    with pytest.raises(DocumentError) as info:
        validate({"connectorType": "t"}, LdifHeader, source="ldif.json")
    assert (info.value.path, info.value.rule) == ("$.connectorId", "required")


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((), "$"),
        (("processors", 2, "identifier"), "$.processors[2].identifier"),
        (("data", "display name", 0), '$.data["display name"][0]'),
    ],
)
def test_json_path(parts: tuple[str | int, ...], expected: str) -> None:
    assert json_path(parts) == expected
