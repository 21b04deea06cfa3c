"""Finding the fact sheets a processor writes to: ``identifier`` (external, internal, search),
relation ends and ``inboundTag``'s ``factSheets`` targets ([V] §1 ``identifier``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.integration.expr import as_text, render, truthy
from lx_sandbox.emulator.integration.scope import select
from lx_sandbox.emulator.integration.views import fact_sheet_view
from lx_sandbox.emulator.state import FactSheet, Workspace

JsonDict = dict[str, Any]
DEFAULT_ID_FIELD = "externalId"


class IdentifyError(Exception):
    """The identifier cannot be evaluated or matches ambiguously (a run warning)."""


@dataclass
class Match:
    """What an identifier found: existing fact sheets, or the external id to create with."""

    found: list[FactSheet] = field(default_factory=list)
    #: ``(id field, value)`` a new fact sheet gets when ``found`` is empty (external only).
    create_with: tuple[str, str] | None = None
    #: Matched by internal id: an archived fact sheet is recovered, not replaced ([V] §1).
    internal: bool = False


def _external_parts(spec: Any, ctx: Mapping[str, Any]) -> tuple[str, str]:
    if not isinstance(spec, Mapping):
        raise IdentifyError("identifier.external must be an object")
    # [V] {"id": {"expr"}, "type": {"expr": "externalId"}}; ASSUMPTION [U] §1: the flat form
    # {"id": "${content.id}", "type": "externalId"} ([V3] massDataGenerator) is accepted too.
    value = as_text(render(spec.get("id"), ctx))
    id_field = as_text(render(spec.get("type") or DEFAULT_ID_FIELD, ctx)) or DEFAULT_ID_FIELD
    if value is None:
        raise IdentifyError("identifier.external.id gave no value")
    return id_field, value


def find_external(
    ws: Workspace, fs_type: str | None, id_field: str, value: str
) -> FactSheet | None:
    """The active fact sheet with this external id (of ``fs_type``, or of any type)."""
    types = [fs_type] if fs_type else ws.fact_sheet_types
    for t in types:
        fs = ws.find_external(t, id_field, value)
        if fs is not None and fs.status == "ACTIVE":
            return fs
    return None


def identify(ws: Workspace, identifier: Any, fs_type: str | None, ctx: Mapping[str, Any]) -> Match:
    """Resolve an ``identifier`` without writing anything."""
    if not isinstance(identifier, Mapping) or not identifier:
        raise IdentifyError("identifier must name external, internal or search")
    if "external" in identifier:
        id_field, value = _external_parts(identifier["external"], ctx)
        fs = find_external(ws, fs_type, id_field, value)
        # [V] §1: an archived fact sheet matched by external id is not reused: a new one is made.
        return Match(found=[fs] if fs else [], create_with=(id_field, value))
    if "internal" in identifier:
        fs_id = as_text(render(identifier["internal"], ctx))
        fs = ws.fact_sheets.get(fs_id) if fs_id else None
        if fs is None:
            raise IdentifyError(f"No fact sheet with internal id '{fs_id}'")
        return Match(found=[fs], internal=True)
    if "search" in identifier:
        return Match(found=_search(ws, identifier["search"], fs_type, ctx))
    raise IdentifyError("identifier must name external, internal or search")


def _search(
    ws: Workspace, spec: Any, fs_type: str | None, ctx: Mapping[str, Any]
) -> list[FactSheet]:
    if not isinstance(spec, Mapping):
        raise IdentifyError("identifier.search must be an object")
    candidates = select(ws, spec.get("scope"))
    if fs_type:
        candidates = [fs for fs in candidates if fs.type == fs_type]
    flt = spec.get("filter")
    if flt is not None:
        candidates = [
            fs
            for fs in candidates
            if truthy(flt, {**ctx, "lx": {"factsheet": fact_sheet_view(fs)}})
        ]
    if len(candidates) > 1 and not spec.get("multipleMatchesAllowed", False):
        raise IdentifyError(
            f"Search identifier matched {len(candidates)} fact sheets "
            "and multipleMatchesAllowed is false"
        )
    return candidates


def relation_types(ws: Workspace, rel_type: str) -> tuple[str | None, str | None]:
    """The (from, to) fact sheet types named by ``relApplicationToITComponent`` (None = any)."""
    if not rel_type.startswith("rel"):
        return None, None
    rest = rel_type[3:]
    for t in sorted(ws.fact_sheet_types, key=len, reverse=True):
        if rest.startswith(t + "To"):
            target = rest[len(t) + 2 :]
            return t, target if target in ws.data_model else None
    return None, None


def relation_end(
    ws: Workspace, spec: Any, fs_type: str | None, ctx: Mapping[str, Any]
) -> FactSheet | None:
    """One end of an ``inboundRelation`` (external or internal id), active fact sheets only."""
    if not isinstance(spec, Mapping):
        raise IdentifyError("relation from/to must be an object")
    if "external" in spec:
        id_field, value = _external_parts(spec["external"], ctx)
        return find_external(ws, fs_type, id_field, value)
    if "internal" in spec:
        fs_id = as_text(render(spec["internal"], ctx))
        fs = ws.fact_sheets.get(fs_id) if fs_id else None
        return fs if fs is not None and fs.status == "ACTIVE" else None
    raise IdentifyError("relation from/to must name external or internal")


def _id_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [t for t in (as_text(v) for v in value) if t]
    return [t.strip() for t in (as_text(value) or "").split(",") if t.strip()]


def tag_targets(
    ws: Workspace, spec: Any, ctx: Mapping[str, Any]
) -> tuple[list[FactSheet], list[str]]:
    """``factSheets {external {ids, type}} | {internal {ids}}`` -> (found, ids not found).

    [V] §1: inboundTag targets fact sheets through ``factSheets.external.ids``. ASSUMPTION [I]:
    ``ids`` renders to a list or a comma-separated string; ``internal.ids`` is accepted too.
    """
    if not isinstance(spec, Mapping):
        raise IdentifyError("inboundTag needs factSheets.external.ids")
    found: list[FactSheet] = []
    missing: list[str] = []
    if "external" in spec and isinstance(spec["external"], Mapping):
        ext = spec["external"]
        id_field = as_text(render(ext.get("type") or DEFAULT_ID_FIELD, ctx)) or DEFAULT_ID_FIELD
        for value in _id_list(render(ext.get("ids"), ctx)):
            fs = find_external(ws, None, id_field, value)
            (found.append(fs) if fs else missing.append(value))
    elif "internal" in spec and isinstance(spec["internal"], Mapping):
        for value in _id_list(render(spec["internal"].get("ids"), ctx)):
            fs = ws.fact_sheets.get(value)
            (found.append(fs) if fs and fs.status == "ACTIVE" else missing.append(value))
    else:
        raise IdentifyError("inboundTag needs factSheets.external.ids")
    return found, missing
