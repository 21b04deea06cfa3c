"""What JUEL expressions see of the workspace: ``lx.factsheet``, ``lx.tags``, ``lx.relations``.

# ASSUMPTION [I] §1 "JUEL context": the exact shapes of ``lx.*`` are not documented. Here
# ``lx.factsheet`` has id, type, name, displayName, description, status, rev, lxState,
# ``externalId`` as ``{"externalId": value}`` (like the GraphQL field), ``lifecycle`` as
# ``{phase: "yyyy-mm-dd"}``, each single-select field and each stored attribute by its key.
# ``fields`` (outbound) limits the data-model fields and attributes to the ones named.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lx_sandbox.emulator.state import FactSheet, Workspace

JsonDict = dict[str, Any]
_ALWAYS = ("id", "type", "name", "displayName", "status", "rev")


def fact_sheet_view(fs: FactSheet, fields: Iterable[str] | None = None) -> JsonDict:
    """``lx.factsheet`` of ``fs`` (every field, or only ``fields`` plus the identity keys)."""
    full: JsonDict = {
        "id": fs.id,
        "type": fs.type,
        "name": fs.name,
        "displayName": fs.name,
        "status": fs.status,
        "rev": fs.rev,
        "description": fs.description,
        "lxState": fs.lx_state,
        "externalId": ({"externalId": fs.external_id} if fs.external_id is not None else None),
    }
    for key, value in fs.external_ids.items():
        if key != "externalId":
            full[key] = {"externalId": value}
    full.update(fs.fields)
    full.update(fs.attributes)
    if fields is None:
        return full
    wanted = set(fields)
    return {k: v for k, v in full.items() if k in _ALWAYS or k in wanted}


def tags_view(ws: Workspace, fs: FactSheet, groups: Iterable[str] | None = None) -> list[JsonDict]:
    """``lx.tags``: the tags of ``fs`` with their group (optionally only of named groups)."""
    wanted = set(groups) if groups is not None else None
    out: list[JsonDict] = []
    for tag_id in fs.tag_ids:
        tag = ws.tags.get(tag_id)
        if tag is None:
            continue
        group = ws.tag_groups.get(tag.group_id) if tag.group_id else None
        group_name = group.name if group else None
        if wanted is not None and group_name not in wanted:
            continue
        out.append(
            {
                "id": tag.id,
                "name": tag.name,
                "description": tag.description,
                "color": tag.color,
                "group": {"id": group.id, "name": group.name, "shortName": group.short_name}
                if group
                else None,
            }
        )
    return out


def relations_view(
    ws: Workspace, fs: FactSheet, types: Iterable[str] | None = None
) -> list[JsonDict]:
    """``lx.relations``: relations starting at ``fs`` (optionally only of named types)."""
    wanted = set(types) if types is not None else None
    out: list[JsonDict] = []
    for rel in ws.relations_of(fs.id):
        if rel.from_id != fs.id or rel.status != "ACTIVE":
            continue
        if wanted is not None and rel.type not in wanted:
            continue
        target = ws.fact_sheets.get(rel.to_id)
        if target is None:
            continue
        out.append(
            {
                "id": rel.id,
                "type": rel.type,
                "target": fact_sheet_view(target),
                **rel.attributes,
            }
        )
    return out
