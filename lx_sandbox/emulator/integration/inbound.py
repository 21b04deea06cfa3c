"""The inbound processor kinds applied to one content item ([V] §1 unless marked).

Every problem with one item (a JUEL error, a missing target, an invalid value) becomes a run
warning for that item and processor; nothing here raises out of :meth:`Inbound.process`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.integration.expr import ExprError, as_text, render, truthy
from lx_sandbox.emulator.integration.identify import (
    IdentifyError,
    identify,
    relation_end,
    relation_types,
    tag_targets,
)
from lx_sandbox.emulator.integration.processor import Processor
from lx_sandbox.emulator.integration.report import Report
from lx_sandbox.emulator.integration.scope import ScopeError
from lx_sandbox.emulator.integration.updates import (
    UpdateError,
    pick_value,
    set_field,
    update_key,
)
from lx_sandbox.emulator.integration.views import fact_sheet_view, relations_view, tags_view
from lx_sandbox.emulator.integration.writer import Snapshot, Writer
from lx_sandbox.emulator.state import FactSheet

JsonDict = dict[str, Any]
#: ASSUMPTION [I]: processor kinds the emulator accepts but does not apply (one warning each).
NOT_EMULATED = frozenset(
    {"inboundDocument", "inboundSubscription", "inboundMetrics", "inboundImpact"}
)
KINDS = frozenset(
    {"inboundFactSheet", "inboundRelation", "inboundTag", "variableProcessor", "writeToLdif"}
)


@dataclass
class Inbound:
    """State shared by all items of one inbound run."""

    writer: Writer
    report: Report
    header: JsonDict
    #: Variables written at earlier run levels ([V] §1: "!! Not in the same Run").
    visible: dict[str, list[Any]] = field(default_factory=dict)
    #: Variables written at the current level, visible from the next one.
    pending: dict[str, list[Any]] = field(default_factory=dict)
    #: Fact sheets an inboundFactSheet processor matched or created (full-mode deletion).
    touched: set[str] = field(default_factory=set)
    #: writeToLdif output.
    results: list[JsonDict] = field(default_factory=list)
    _warned: set[int] = field(default_factory=set)

    def context(self, item: Mapping[str, Any]) -> JsonDict:
        """The JUEL context of one content item."""
        return {
            "content": {"id": item["id"], "type": item["type"]},
            "data": item.get("data") or {},
            "header": self.header,
            "customFields": self.header.get("customFields") or {},
            "variables": self.visible,
            "integration": {},
            "lx": {},
        }

    def end_level(self) -> None:
        """Publish the variables of the level just finished."""
        for key, values in self.pending.items():
            self.visible.setdefault(key, []).extend(values)
        self.pending = {}

    def warn(
        self,
        proc: Processor,
        item: Mapping[str, Any],
        message: str,
        *,
        error: bool = False,
        category: str = "PROCESSOR",
        detail: str | None = None,
    ) -> None:
        """One warning about ``item`` from ``proc``."""
        self.report.add(
            message,
            processor=proc.label,
            content=str(item.get("id")),
            category=category,
            error=error,
            detail=detail,
        )

    def process(self, proc: Processor, item: Mapping[str, Any], ctx: JsonDict) -> None:
        """Apply ``proc`` to one item if its filter matches."""
        if proc.kind in NOT_EMULATED or proc.kind not in KINDS:
            if proc.index not in self._warned:
                self._warned.add(proc.index)
                what = "not emulated" if proc.kind in NOT_EMULATED else "unknown"
                self.report.add(
                    f"Processor type '{proc.kind}' is {what} by the sandbox; it was skipped",
                    processor=proc.label,
                    category="NOT_EMULATED",
                )
            return
        if not proc.matches_static(item["type"], item["id"]):
            return
        try:
            if not proc.matches_advanced(ctx):
                return
            for integration in proc.iterations(ctx):
                step = {**ctx, "integration": integration} if integration else ctx
                self._one(proc, item, step)
        except ExprError as exc:
            self.warn(proc, item, str(exc), category="JUEL")
        except (IdentifyError, ScopeError) as exc:
            self.warn(proc, item, str(exc), category="IDENTIFIER")

    def _one(self, proc: Processor, item: Mapping[str, Any], ctx: JsonDict) -> None:
        kind = proc.kind
        if kind == "inboundFactSheet":
            self._fact_sheet(proc, item, ctx)
        elif kind == "inboundRelation":
            self._relation(proc, item, ctx)
        elif kind == "inboundTag":
            self._tag(proc, item, ctx)
        elif kind == "writeToLdif":
            self._write_to_ldif(proc, item, ctx)
        self._variables(proc, ctx)

    # -- variables -------------------------------------------------------------------------
    def _variables(self, proc: Processor, ctx: JsonDict) -> None:
        """``variables[]`` of any processor: ``{key, value}`` expressions.

        ASSUMPTION [I] §1: a variable collects every value written to it during the run (a
        list, as ``${variables.x.distinct()}`` suggests).
        """
        for spec in proc.doc.get("variables") or []:
            if not isinstance(spec, Mapping):
                continue
            key = as_text(render(spec.get("key"), ctx))
            if key is None:
                continue
            self.pending.setdefault(key, []).append(render(spec.get("value"), ctx))

    # -- inboundFactSheet ------------------------------------------------------------------
    def _values(
        self, proc: Processor, item: Mapping[str, Any], ctx: JsonDict
    ) -> list[tuple[str, Any]]:
        pairs: list[tuple[str, Any]] = []
        for update in proc.doc.get("updates") or []:
            if not isinstance(update, Mapping):
                continue
            try:
                key = update_key(update, ctx)
                if key is None:
                    self.warn(proc, item, "An update has no key", category="UPDATE")
                    continue
                value = pick_value(update.get("values"), ctx)
            except ExprError as exc:
                # One broken update is skipped; the item's other updates still apply.
                self.warn(proc, item, str(exc), category="JUEL")
                continue
            if value is None:
                if not update.get("optional", False):
                    self.warn(proc, item, f"No value for key '{key}'", category="UPDATE")
                continue
            pairs.append((key, value))
        return pairs

    def _on_read(self, proc: Processor, fs: FactSheet, ctx: JsonDict) -> bool:
        if proc.on_read is None:
            return True
        return truthy(proc.on_read, {**ctx, "lx": {"factsheet": fact_sheet_view(fs)}})

    def _fact_sheet(self, proc: Processor, item: Mapping[str, Any], ctx: JsonDict) -> None:
        ws = self.writer.ws
        fs_type = as_text(render(proc.doc.get("type"), ctx))
        if fs_type is None or fs_type not in ws.data_model:
            self.warn(proc, item, f"Unknown fact sheet type '{fs_type}'", error=True)
            return
        match = identify(ws, proc.doc.get("identifier"), fs_type, ctx)
        targets = match.found
        if proc.on_read is not None:
            # [V] §1: onRead runs on the existing fact sheet; without one the processor is skipped.
            targets = [fs for fs in targets if self._on_read(proc, fs, ctx)]
            if not targets:
                return
        if proc.mode == "delete":
            for fs in targets:
                self.writer.archive(fs)
            return
        pairs = self._values(proc, item, ctx)
        if not targets:
            if match.create_with is None:
                return
            self._create(proc, item, fs_type, match.create_with, pairs)
            return
        for fs in targets:
            before = Snapshot.of(fs)
            if match.internal and fs.status == "ARCHIVED":
                fs.status = "ACTIVE"  # [V] §1: matched by internal id, it is reactivated
            self._apply(proc, item, fs, pairs)
            self.touched.add(fs.id)
            self.writer.saved(fs, before)

    def _create(
        self,
        proc: Processor,
        item: Mapping[str, Any],
        fs_type: str,
        external: tuple[str, str],
        pairs: list[tuple[str, Any]],
    ) -> None:
        name = next((as_text(v) for k, v in pairs if k == "name"), None)
        if name is None:
            self.warn(
                proc,
                item,
                f"A new {fs_type} needs a name; the fact sheet was not created",
                error=True,
            )
            return
        fs = self.writer.create(fs_type, name)
        self.writer.ws.set_external_id(fs, *external)
        self._apply(proc, item, fs, [(k, v) for k, v in pairs if k != "name"])
        self.touched.add(fs.id)
        self.writer.created(fs)

    def _apply(
        self, proc: Processor, item: Mapping[str, Any], fs: FactSheet, pairs: list[tuple[str, Any]]
    ) -> None:
        for key, value in pairs:
            try:
                set_field(self.writer.ws, fs, key, value)
            except UpdateError as exc:
                self.warn(proc, item, str(exc), error=exc.error, category="UPDATE")

    # -- inboundRelation -------------------------------------------------------------------
    def _relation(self, proc: Processor, item: Mapping[str, Any], ctx: JsonDict) -> None:
        ws = self.writer.ws
        rel_type = as_text(render(proc.doc.get("type"), ctx))
        if rel_type is None or not rel_type.startswith("rel"):
            self.warn(proc, item, f"Invalid relation type '{rel_type}'", error=True)
            return
        from_type, to_type = relation_types(ws, rel_type)
        source = relation_end(ws, proc.doc.get("from"), from_type, ctx)
        target = relation_end(ws, proc.doc.get("to"), to_type, ctx)
        if source is None or target is None:
            end = "from" if source is None else "to"
            self.warn(
                proc,
                item,
                f"Relation {rel_type}: the '{end}' fact sheet was not found",
                category="RELATION",
            )
            return
        if proc.mode == "delete":
            rel = ws.relation(rel_type, source.id, target.id)
            if rel is not None:
                self.writer.remove_relation(rel)
            return
        # ASSUMPTION [I] §1: relation updates (activeFrom, activeUntil, description, ...) are
        # stored as relation attributes without checking the key.
        attributes = dict(self._values(proc, item, ctx))
        self.writer.upsert_relation(rel_type, source, target, attributes)

    # -- inboundTag ------------------------------------------------------------------------
    def _tag(self, proc: Processor, item: Mapping[str, Any], ctx: JsonDict) -> None:
        ws = self.writer.ws
        values = dict(self._values(proc, item, ctx))
        name = as_text(values.get("name"))
        if name is None:
            self.warn(proc, item, "inboundTag needs a value for 'name'", category="TAG")
            return
        group_name = as_text(values.get("group.name", values.get("group")))
        group_id: str | None = None
        if group_name is not None:
            group = ws.find_tag_group(group_name)
            if group is None:
                # [V] §1: inboundTag creates missing tags but never tag groups.
                self.warn(
                    proc,
                    item,
                    f"Tag group '{group_name}' does not exist (tag groups are never created)",
                    category="TAG",
                )
                return
            group_id = group.id
        tag = ws.find_tag(name, group_id)
        if tag is None:
            if proc.doc.get("tagsReadOnly", False):
                # [V] §1: tagsReadOnly only assigns existing tags.
                self.warn(proc, item, f"Tag '{name}' does not exist (tagsReadOnly)", category="TAG")
                return
            # [V] §1: a tag without a group lands in "Other tags" (group None).
            tag = self.writer.new_tag(
                name, group_id, as_text(values.get("description")), as_text(values.get("color"))
            )
        found, missing = tag_targets(ws, proc.doc.get("factSheets"), ctx)
        for value in missing:
            self.warn(proc, item, f"Tag target '{value}' was not found", category="TAG")
        for fs in found:
            before = Snapshot.of(fs)
            if proc.mode == "delete":
                fs.tag_ids = [t for t in fs.tag_ids if t != tag.id]
            elif tag.id not in fs.tag_ids:
                if group_id is not None and ws.tag_groups[group_id].mode == "SINGLE":
                    # ASSUMPTION [I] §2.7: a SINGLE group's new tag replaces the old one.
                    fs.tag_ids = [t for t in fs.tag_ids if ws.tags[t].group_id != group_id]
                fs.tag_ids.append(tag.id)
            self.writer.saved(fs, before)

    # -- writeToLdif -----------------------------------------------------------------------
    def _write_to_ldif(self, proc: Processor, item: Mapping[str, Any], ctx: JsonDict) -> None:
        """ASSUMPTION [U] §5.4: ``updates`` keys ``content.id`` / ``content.type`` set the output
        item's id and type (default: the input item's); every other key becomes a ``data`` key.
        An optional ``identifier`` exposes the existing fact sheet as ``lx.factsheet``."""
        identifier = proc.doc.get("identifier")
        if identifier is not None:
            match = identify(self.writer.ws, identifier, None, ctx)
            if match.found:
                fs = match.found[0]
                ctx = {
                    **ctx,
                    "lx": {
                        "factsheet": fact_sheet_view(fs),
                        "tags": tags_view(self.writer.ws, fs),
                        "relations": relations_view(self.writer.ws, fs),
                    },
                }
                if not self._on_read(proc, fs, ctx):
                    return
            elif proc.on_read is not None:
                return
        out: JsonDict = {"type": item["type"], "id": item["id"], "data": {}}
        for key, value in self._values(proc, item, ctx):
            if key in ("content.id", "content.type"):
                out[key.split(".", 1)[1]] = as_text(value) or out[key.split(".", 1)[1]]
            else:
                out["data"][key] = value
        self.results.append(out)
