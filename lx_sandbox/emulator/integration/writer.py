"""Every workspace write of the engine: bumps ``rev``/``updatedAt`` and emits the same events
as a GraphQL write (through :func:`patches.emit_fact_sheet_events`), once per saved change."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from lx_sandbox.emulator.events import EventStore
from lx_sandbox.emulator.patches import emit_fact_sheet_events
from lx_sandbox.emulator.state import (
    FactSheet,
    FieldValue,
    Relation,
    Tag,
    Workspace,
    new_id,
    now_iso,
)

JsonDict = dict[str, Any]


@dataclass(slots=True)
class Snapshot:
    """The values of a fact sheet before a processor changes them."""

    name: str
    description: str | None
    status: str
    fields: dict[str, FieldValue]
    attributes: dict[str, Any]
    tag_ids: list[str]
    external_ids: dict[str, str]

    @classmethod
    def of(cls, fs: FactSheet) -> Snapshot:
        """Copy what a processor may change."""
        return cls(
            fs.name,
            fs.description,
            fs.status,
            dict(fs.fields),
            copy.deepcopy(fs.attributes),
            list(fs.tag_ids),
            dict(fs.external_ids),
        )

    def differs(self, fs: FactSheet) -> bool:
        """Whether ``fs`` now holds other values (tags compared as a set)."""
        return (
            self.name != fs.name
            or self.description != fs.description
            or self.status != fs.status
            or self.fields != fs.fields
            or self.attributes != fs.attributes
            or set(self.tag_ids) != set(fs.tag_ids)
            or self.external_ids != fs.external_ids
        )


@dataclass
class Writer:
    """Applies changes to one workspace on behalf of the run's user."""

    ws: Workspace
    events: EventStore
    base_url: str
    user_id: str
    writes: int = 0

    def create(self, fs_type: str, name: str) -> FactSheet:
        """A new, not yet announced fact sheet; call :meth:`created` after setting its values."""
        return self.ws.add_fact_sheet(fs_type=fs_type, name=name, created_by=self.user_id)

    def created(self, fs: FactSheet) -> None:
        """Announce a fact sheet made by :meth:`create` (FACT_SHEET_CREATED, tag events)."""
        self.writes += 1
        emit_fact_sheet_events(
            self.events,
            self.ws,
            fs,
            created=True,
            old_status=fs.status,
            old_tags=[],
            user_id=self.user_id,
            base_url=self.base_url,
        )

    def saved(self, fs: FactSheet, before: Snapshot) -> bool:
        """Save the changes made since ``before``: rev, updatedAt and events; False = no-op."""
        if not before.differs(fs):
            return False
        fs.rev += 1
        fs.updated_at = now_iso()
        self.writes += 1
        emit_fact_sheet_events(
            self.events,
            self.ws,
            fs,
            created=False,
            old_status=before.status,
            old_tags=before.tag_ids,
            user_id=self.user_id,
            base_url=self.base_url,
        )
        return True

    def archive(self, fs: FactSheet) -> bool:
        """Archive ``fs`` ([V] §1: delete mode and full-mode deletion archive)."""
        if fs.status == "ARCHIVED":
            return False
        before = Snapshot.of(fs)
        fs.status = "ARCHIVED"
        return self.saved(fs, before)

    def touch_relation_end(self, fs: FactSheet) -> None:
        """A relation of ``fs`` changed.

        [V] §4.5: FACT_SHEET_UPDATED is also sent on relation updates (no RELATION_* events
        are emitted: their payloads are undocumented).
        """
        fs.rev += 1
        fs.updated_at = now_iso()
        self.writes += 1
        emit_fact_sheet_events(
            self.events,
            self.ws,
            fs,
            created=False,
            old_status=fs.status,
            old_tags=list(fs.tag_ids),
            user_id=self.user_id,
            base_url=self.base_url,
        )

    def upsert_relation(
        self, rel_type: str, source: FactSheet, target: FactSheet, attributes: JsonDict
    ) -> Relation:
        """Create the relation or update its attributes; announces a change on ``source``."""
        rel = self.ws.relation(rel_type, source.id, target.id)
        if rel is None:
            rel = self.ws.add_relation(
                Relation(id=new_id(), type=rel_type, from_id=source.id, to_id=target.id)
            )
            rel.attributes.update(attributes)
        elif rel.attributes == {**rel.attributes, **attributes} and rel.status == "ACTIVE":
            return rel
        else:
            rel.attributes.update(attributes)
            rel.status = "ACTIVE"
            rel.rev += 1
        self.touch_relation_end(source)
        return rel

    def remove_relation(self, rel: Relation) -> None:
        """Delete mode of ``inboundRelation``: the relation goes away."""
        self.ws.remove_relation(rel)
        source = self.ws.fact_sheets.get(rel.from_id)
        if source is not None:
            self.touch_relation_end(source)

    def new_tag(
        self, name: str, group_id: str | None, description: str | None, color: str | None
    ) -> Tag:
        """Create a tag ([V] §1: inboundTag creates tags, never groups)."""
        self.writes += 1
        return self.ws.add_tag(
            Tag(id=new_id(), name=name, group_id=group_id, description=description, color=color)
        )
