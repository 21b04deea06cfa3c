"""``outboundFactSheet``: one result item per fact sheet in scope, built by ``output`` rules.

[V] §5.4: processors name the fields they read (``fields``), the relations (``relations``)
and tag groups (``tags.groups``); ``output[] {key{expr}, values[{expr}], mode: selectFirst?,
optional?}``. ASSUMPTION [I] §5.5: a result item is ``{"id": fsId, "type": fsType, "data"}``;
several processors matching one fact sheet add keys to the same item; ``onRead`` is ignored
([V] §1: outbound processors ignore it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.integration.expr import ExprError, render
from lx_sandbox.emulator.integration.processor import Processor
from lx_sandbox.emulator.integration.report import Report
from lx_sandbox.emulator.integration.updates import update_key
from lx_sandbox.emulator.integration.views import fact_sheet_view, relations_view, tags_view
from lx_sandbox.emulator.state import FactSheet, Workspace

JsonDict = dict[str, Any]


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | dict) and not value)


def _output_value(rule: Mapping[str, Any], ctx: Mapping[str, Any]) -> Any:
    """``selectFirst`` = the first non-empty value; otherwise one value spec gives its value
    and several give the list of their non-empty values (ASSUMPTION [I] §5.4)."""
    raw = rule.get("values")
    specs: list[Any] = raw if isinstance(raw, list) else []
    if rule.get("mode") == "selectFirst":
        for spec in specs:
            value = render(spec, ctx)
            if not _empty(value):
                return value
        return None
    values = [render(spec, ctx) for spec in specs]
    if len(values) == 1:
        return None if _empty(values[0]) else values[0]
    kept = [v for v in values if not _empty(v)]
    return kept or None


@dataclass
class Outbound:
    """Result items of one outbound run, keyed by fact sheet id (in scope order)."""

    ws: Workspace
    report: Report
    header: JsonDict
    items: dict[str, JsonDict] = field(default_factory=dict)
    _warned: set[int] = field(default_factory=set)

    def context(self, proc: Processor, fs: FactSheet) -> JsonDict:
        """``lx.factsheet`` (the processor's ``fields``), ``lx.tags``, ``lx.relations``."""
        fields = proc.doc.get("fields")
        rels = proc.doc.get("relations") if isinstance(proc.doc.get("relations"), dict) else None
        tags = proc.doc.get("tags") if isinstance(proc.doc.get("tags"), dict) else None
        lx: JsonDict = {
            "factsheet": fact_sheet_view(fs, fields if isinstance(fields, list) else None)
        }
        if tags is not None:
            lx["tags"] = tags_view(self.ws, fs, tags.get("groups") or None)
        if rels is not None:
            lx["relations"] = relations_view(self.ws, fs, rels.get("filter") or None)
        return {
            "header": self.header,
            "customFields": self.header.get("customFields") or {},
            "lx": lx,
            "integration": {},
            "variables": {},
            "content": {"id": fs.id, "type": fs.type},
        }

    def process(self, proc: Processor, fs: FactSheet) -> None:
        """Apply one processor to one fact sheet in scope."""
        if proc.kind != "outboundFactSheet":
            if proc.index not in self._warned:
                self._warned.add(proc.index)
                self.report.add(
                    f"Processor type '{proc.kind}' is not emulated in outbound runs; skipped",
                    processor=proc.label,
                    category="NOT_EMULATED",
                )
            return
        if not proc.matches_static(fs.type, fs.id):
            return
        ctx = self.context(proc, fs)
        try:
            if not proc.matches_advanced(ctx):
                return
            data: JsonDict = {}
            for rule in proc.doc.get("output") or []:
                if not isinstance(rule, Mapping):
                    continue
                key = update_key(rule, ctx)
                if key is None:
                    continue
                value = _output_value(rule, ctx)
                if value is None:
                    if not rule.get("optional", False):
                        self.report.add(
                            f"No value for output key '{key}'",
                            processor=proc.label,
                            content=fs.id,
                            category="OUTPUT",
                        )
                    continue
                data[key] = value
        except ExprError as exc:
            self.report.add(str(exc), processor=proc.label, content=fs.id, category="JUEL")
            return
        item = self.items.setdefault(fs.id, {"id": fs.id, "type": fs.type, "data": {}})
        item["data"].update(data)
