"""``lx processors lint``: LeanIX's Integration API best practices as rules. Pure: no I/O.

The lint reads the raw document (the JSON as in git), so it also speaks about files the models
would refuse, and every finding names the file, the JSON path, the rule and its severity.
Rules (integration-api-best-practices.txt, leanix-api.md §5.3/§5.4):

- ``version-format`` (error): ``connectorVersion`` is not ``x.y.z``.
- ``catch-all-mapping`` (warning): a value-mapping list does not end with a catch-all, in both
  forms: ``valueMappings[{outputExpression, regexMatch}]`` (the best-practice page), and the
  ``values[]`` of an update or output rule when any value has a ``regexMatch`` (the last value
  must match ``.*`` or have no ``regexMatch``).
- ``deletion-scope-mode`` (error): a ``deletionScope`` without ``processingMode: full``.
- ``unbounded-deletion`` (error): in full mode, a ``deletionScope`` entry of ``factSheets``,
  ``relations`` or ``tags`` with no limit: no ``ids``, no ``advanced`` filter, and no facet
  filter beyond ``FactSheetTypes`` (a type alone puts every fact sheet of the type in scope).
- ``deletion-ratio-reason`` (error): a ``maximumDeletionRatio`` above 50 with no
  ``deletionRatioReason`` in the connector file.
- ``relation-run-order`` (error): an ``inboundRelation`` whose ``run`` is not greater than the
  ``run`` of every processor that may create its targets. Creators are the enabled
  ``inboundFactSheet`` processors with an ``external`` identifier (they create missing fact
  sheets) and no ``mode: delete``. When the relation type reads ``rel<From>To<To>``, a creator
  whose ``type`` is a plain name counts only if it is one of the two; templated types, self
  relations (``relToParent``) and templated relation types count every creator. A relation whose
  ``from`` and ``to`` both use ``internal``/``search`` identifiers creates nothing and is skipped.
- ``outbound-test-scope`` (warning): an outbound scope with no ``ids`` and no facet filter
  beyond ``FactSheetTypes`` (the whole workspace, or whole types), while the connector declares
  no ``testScope``: test runs on large workspaces should be scoped.
- ``secret-in-file`` (error): ``credentials.apiToken`` in the file (it would sit in git).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lx_core.integration.documents import json_path

Severity = Literal["error", "warning"]
_Loc = tuple[str | int, ...]
#: How each rule reports: location, rule id, severity, message.
_Add = Callable[[_Loc, str, Severity, str], None]

#: connectorVersion must be number.number.number [V] best practices.
VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")
#: regexMatch values treated as "matches anything".
CATCH_ALL_PATTERNS = frozenset({".*", "^.*", ".*$", "^.*$", "(.*)", "^(.*)$", "[\\s\\S]*"})
#: Above this maximumDeletionRatio (percent) the connector file must say why [V] default 50.
DELETION_RATIO_LIMIT = 50
_SCOPED_DELETIONS = ("factSheets", "relations", "tags")
_TYPE_FACET = "FactSheetTypes"


@dataclass(frozen=True)
class Finding:
    """One broken practice, with where it is and how bad."""

    file: str
    path: str
    rule: str
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message} ({self.severity}, rule: {self.rule})"


@dataclass(frozen=True)
class LintContext:
    """What the connector file says about this configuration (None: no connector file)."""

    deletion_ratio_reason: str | None = None
    test_scope: Mapping[str, Any] | None = None


def lint(doc: Mapping[str, Any], *, file: str, context: LintContext | None = None) -> list[Finding]:
    """Every finding for one processor configuration, in document order per rule."""
    ctx = context or LintContext()
    findings: list[Finding] = []

    def add(path: _Loc, rule: str, severity: Severity, message: str) -> None:
        findings.append(Finding(file, json_path(path), rule, severity, message))

    _version(doc, add)
    _catch_all(doc, add)
    _deletion(doc, ctx, add)
    _relation_order(doc, add)
    _outbound_scope(doc, ctx, add)
    _secrets(doc, add)
    return findings


def _version(doc: Mapping[str, Any], add: _Add) -> None:
    version = doc.get("connectorVersion")
    if not isinstance(version, str) or not VERSION_PATTERN.match(version):
        add(
            ("connectorVersion",),
            "version-format",
            "error",
            "must be a version number.number.number such as 1.0.0",
        )


def _walk(node: Any, path: _Loc) -> Iterator[tuple[Mapping[str, Any], _Loc]]:
    """Every object in the document with its path, in document order."""
    if isinstance(node, Mapping):
        yield node, path
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _mappings(value: Any) -> list[Mapping[str, Any]] | None:
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return value
    return None


def _is_catch_all(entry: Mapping[str, Any]) -> bool:
    match = entry.get("regexMatch")
    return match is None or (isinstance(match, str) and match in CATCH_ALL_PATTERNS)


def _needs_catch_all(entries: list[Mapping[str, Any]] | None) -> bool:
    """A list that maps by regexMatch but whose last entry is no catch-all."""
    if not entries or not any("regexMatch" in e for e in entries):
        return False
    return not _is_catch_all(entries[-1])


def _catch_all(doc: Mapping[str, Any], add: _Add) -> None:
    for node, path in _walk(doc, ()):
        if _needs_catch_all(_mappings(node.get("valueMappings"))):
            add(
                (*path, "valueMappings"),
                "catch-all-mapping",
                "warning",
                'the last value mapping should be a catch-all (regexMatch ".*"), so an '
                "unmatched value does not cause a warning in every run",
            )
        if "key" in node and _needs_catch_all(_mappings(node.get("values"))):
            add(
                (*path, "values"),
                "catch-all-mapping",
                "warning",
                'the last value should be a catch-all (regexMatch ".*" or none), so an '
                "unmatched value does not cause a warning in every run",
            )


def _limiting_facet(facet: Any) -> bool:
    """A facet filter that narrows the scope below whole fact-sheet types."""
    if not isinstance(facet, Mapping) or facet.get("facetKey") == _TYPE_FACET:
        return False
    if facet.get("keys"):
        return True
    return any(v for k, v in facet.items() if k not in ("facetKey", "keys", "operator"))


def _bounded_scope(scope: Any) -> bool:
    if not isinstance(scope, Mapping):
        return False
    if scope.get("ids"):
        return True
    facets = scope.get("facetFilters")
    return isinstance(facets, list) and any(_limiting_facet(f) for f in facets)


def _bounded_entry(entry: Any) -> bool:
    if not isinstance(entry, Mapping):
        return False
    advanced = entry.get("advanced")
    if isinstance(advanced, str) and advanced.strip():
        return True
    return _bounded_scope(entry.get("scope")) or bool(entry.get("ids"))


def _deletion(doc: Mapping[str, Any], ctx: LintContext, add: _Add) -> None:
    scope = doc.get("deletionScope")
    if scope is None:
        return
    full = doc.get("processingMode") == "full"
    if not full:
        add(
            ("deletionScope",),
            "deletion-scope-mode",
            "error",
            "deletionScope takes effect only with processingMode full; set it or remove this",
        )
    if not isinstance(scope, Mapping):
        return
    if full:
        for kind in _SCOPED_DELETIONS:
            entries = scope.get(kind)
            if not isinstance(entries, list):
                continue
            for index, entry in enumerate(entries):
                if not _bounded_entry(entry):
                    add(
                        ("deletionScope", kind, index),
                        "unbounded-deletion",
                        "error",
                        "no limit: every item of the type the run does not touch would be "
                        "archived; narrow it with ids, a facet filter (e.g. a tag) or advanced",
                    )
    ratios = scope.get("maximumDeletionRatio")
    if isinstance(ratios, Mapping) and ctx.deletion_ratio_reason is None:
        for key, value in ratios.items():
            if _number(value) and value > DELETION_RATIO_LIMIT:
                add(
                    ("deletionScope", "maximumDeletionRatio", str(key)),
                    "deletion-ratio-reason",
                    "error",
                    f"is above {DELETION_RATIO_LIMIT}: say why in the connector file "
                    "(deletionRatioReason)",
                )


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def _run(processor: Mapping[str, Any]) -> int | None:
    run = processor.get("run", 0)
    return run if type(run) is int else None


def _enabled(processor: Mapping[str, Any]) -> bool:
    return processor.get("enabled") is not False


def _label(processor: Mapping[str, Any], index: int) -> str:
    name = processor.get("processorName")
    return repr(name) if isinstance(name, str) and name else f"processors[{index}]"


def _creates_targets(identifier: Any) -> bool:
    return isinstance(identifier, Mapping) and "external" in identifier


def _relation_endpoints(relation_type: Any) -> str | None:
    """``ApplicationToITComponent`` of ``relApplicationToITComponent``; None when the type
    says nothing about fact-sheet types (templated, self relation, not ``rel...``)."""
    if not isinstance(relation_type, str) or "${" in relation_type:
        return None
    if not relation_type.startswith("rel") or relation_type[3:].startswith("To"):
        return None
    body = relation_type[3:]
    return body if "To" in body else None


def _may_create_for(creator_type: Any, endpoints: str | None) -> bool:
    if endpoints is None or not isinstance(creator_type, str) or "${" in creator_type:
        return True
    return endpoints.startswith(creator_type + "To") or endpoints.endswith("To" + creator_type)


def _relation_order(doc: Mapping[str, Any], add: _Add) -> None:
    processors = doc.get("processors")
    if not isinstance(processors, list):
        return
    creators: list[tuple[int, Mapping[str, Any], int]] = []
    for index, proc in enumerate(processors):
        if not isinstance(proc, Mapping) or proc.get("processorType") != "inboundFactSheet":
            continue
        run = _run(proc)
        if (
            run is not None
            and _enabled(proc)
            and proc.get("mode") != "delete"
            and _creates_targets(proc.get("identifier"))
        ):
            creators.append((index, proc, run))
    for index, proc in enumerate(processors):
        if not isinstance(proc, Mapping) or proc.get("processorType") != "inboundRelation":
            continue
        run = _run(proc)
        if run is None or not _enabled(proc):
            continue
        if not (_creates_targets(proc.get("from")) or _creates_targets(proc.get("to"))):
            continue
        endpoints = _relation_endpoints(proc.get("type"))
        late = [
            (c_index, c_proc, c_run)
            for c_index, c_proc, c_run in creators
            if c_run >= run and _may_create_for(c_proc.get("type"), endpoints)
        ]
        if late:
            c_index, c_proc, c_run = max(late, key=lambda c: c[2])
            add(
                ("processors", index, "run"),
                "relation-run-order",
                "error",
                f"runs at {run}, but {_label(c_proc, c_index)} (run {c_run}) may create its "
                f"targets: give it a run greater than {c_run}",
            )


def _outbound_scope(doc: Mapping[str, Any], ctx: LintContext, add: _Add) -> None:
    if doc.get("processingDirection") != "outbound" or ctx.test_scope is not None:
        return
    scope = doc.get("scope")
    if _bounded_scope(scope):
        return
    add(
        ("scope",),
        "outbound-test-scope",
        "warning",
        "covers whole fact-sheet types (no ids, no narrowing facet filter): declare a "
        "testScope in the connector file so test runs stay small",
    )


def _secrets(doc: Mapping[str, Any], add: _Add) -> None:
    credentials = doc.get("credentials")
    if isinstance(credentials, Mapping) and credentials.get("apiToken"):
        add(
            ("credentials", "apiToken"),
            "secret-in-file",
            "error",
            "an API token does not belong in a versioned file; use useTechnicalUser",
        )


def errors(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that fail a lint (``--strict`` fails on all of them)."""
    return [f for f in findings if f.severity == "error"]
