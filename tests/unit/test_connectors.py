"""Connector files: every rule names the file, the JSON path and the rule; a bad file is left
out whole while the others load; and every connector file in the repository is valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lx_core.integration.connectors import load_registry
from lx_core.jobs.processors_apply import lint_registry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "infra" / "leanix" / "examples" / "connectors"
DEPLOYED = ROOT / "infra" / "leanix" / "connectors"


def _copy_examples(tmp_path: Path) -> Path:
    connectors = tmp_path / "connectors"
    processors = tmp_path / "processors"
    connectors.mkdir()
    processors.mkdir()
    for file in EXAMPLES.glob("*.json"):
        (connectors / file.name).write_text(file.read_text())
    for file in (EXAMPLES.parent / "processors").glob("*.json"):
        (processors / file.name).write_text(file.read_text())
    return connectors


def _edit(path: Path, **changes: Any) -> None:
    doc = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("folder", [EXAMPLES, DEPLOYED], ids=["examples", "deployed"])
def test_every_connector_file_in_the_repository_is_valid_and_lint_clean(folder: Path) -> None:
    registry = load_registry(folder)
    assert registry.errors == ()
    assert len(registry.connectors) == len(list(folder.glob("*.json")))
    errors = [f for f in lint_registry(registry) if f.severity == "error"]
    assert errors == []


def test_the_examples_load(tmp_path: Path) -> None:
    registry = load_registry(_copy_examples(tmp_path))
    assert sorted(registry.connectors) == ["applications-export", "applications-import"]
    imp = registry.connectors["applications-import"]
    assert imp.identity.processing_direction == "inbound"
    assert imp.spec.result_target is None
    exp = registry.connectors["applications-export"]
    assert exp.spec.result_target is not None


@pytest.mark.parametrize(
    ("changes", "path", "rule_or_text"),
    [
        ({"schedule": "every night"}, "$.schedule", "NCRONTAB"),
        ({"name": "Apps Import!"}, "$.name", "pattern"),
        ({"source": None}, "$", "needs a source"),
        ({"deadlineSeconds": 5}, "$.deadlineSeconds", "greater than or equal"),
        ({"surprise": True}, "$.surprise", "extra"),
        ({"processors": "/etc/passwd.json"}, "$.processors", "relative"),
        ({"processors": "../processors/missing.json"}, "$.processors", "missing-reference"),
        ({"processors": "../../../../x.json"}, "$.processors", "outside-deployment"),
        ({"target": {"path": "{connector}/fixed.json"}}, "$.target.path", "run_id"),
        ({"target": {"path": "../{run_id}.json"}}, "$.target.path", ".."),
        ({"notify": {"failOn": ["EXPLODED"]}}, "$.notify.failOn", ""),
        (
            {
                "source": {
                    "kind": "https",
                    "url": "http://example.com/x",
                    "mapping": {"items": "a", "id": "b", "type": "c"},
                }
            },
            "$.source",
            "https",
        ),
        ({"testScope": {"ids": []}}, "$", "outbound"),
    ],
)
def test_a_broken_connector_file_is_refused_with_file_path_and_rule(
    tmp_path: Path, changes: dict[str, Any], path: str, rule_or_text: str
) -> None:
    connectors = _copy_examples(tmp_path)
    broken = connectors / "applications-import.json"
    _edit(broken, **changes)
    registry = load_registry(connectors)
    assert sorted(registry.connectors) == ["applications-export"], "the other file still loads"
    [error] = registry.errors
    assert error.file == str(broken)
    assert error.path.startswith(path)
    assert rule_or_text in str(error)


def test_invalid_json_names_the_file_and_position(tmp_path: Path) -> None:
    connectors = _copy_examples(tmp_path)
    (connectors / "applications-import.json").write_text('{"name": "x",,}')
    registry = load_registry(connectors)
    [error] = registry.errors
    assert error.file.endswith("applications-import.json")
    assert error.rule == "json-syntax" and "1:14" in str(error)


def test_a_processor_file_with_another_identity_is_refused(tmp_path: Path) -> None:
    connectors = _copy_examples(tmp_path)
    processors = tmp_path / "processors" / "applications-import.json"
    _edit(processors, connectorVersion="2.0.0")
    registry = load_registry(connectors)
    [error] = registry.errors
    assert error.rule == "identity-mismatch" and error.path == "$.connector"


def test_a_broken_processor_file_leaves_its_connector_out(tmp_path: Path) -> None:
    connectors = _copy_examples(tmp_path)
    processors = tmp_path / "processors" / "applications-import.json"
    doc = json.loads(processors.read_text())
    doc["processors"][0]["run"] = "first"
    processors.write_text(json.dumps(doc))
    registry = load_registry(connectors)
    assert "applications-import" not in registry.connectors
    [error] = registry.errors
    assert error.file == str(processors.resolve())
    assert error.path == "$.processors[0].run"


@pytest.mark.parametrize(
    ("field", "rule"), [("name", "unique-name"), ("connector", "unique-identity")]
)
def test_duplicate_names_or_identities_refuse_every_file_involved(
    tmp_path: Path, field: str, rule: str
) -> None:
    connectors = _copy_examples(tmp_path)
    original = json.loads((connectors / "applications-import.json").read_text())
    twin = dict(original)
    if field == "name":
        twin["connector"] = {**original["connector"], "connectorId": "other"}
        procs = json.loads((tmp_path / "processors" / "applications-import.json").read_text())
        procs["connectorId"] = "other"
        (tmp_path / "processors" / "other.json").write_text(json.dumps(procs))
        twin["processors"] = "../processors/other.json"
    else:
        twin["name"] = "another-name"
    (connectors / "zz-twin.json").write_text(json.dumps(twin))
    registry = load_registry(connectors)
    assert sorted(registry.connectors) == ["applications-export"]
    assert sorted(e.rule for e in registry.errors) == [rule, rule]


def test_an_absent_folder_is_an_empty_registry(tmp_path: Path) -> None:
    registry = load_registry(tmp_path / "nothing-here")
    assert registry.connectors == {} and registry.errors == ()
