"""``updateFactSheet`` / ``createFactSheet`` semantics: validate patches, then commit and emit.

Validation works on a draft (a copy of the changeable values) so ``validateOnly`` and failed
requests never touch the workspace. Errors are :class:`graphql.GraphQLError` with
``extensions.errorType`` like LeanIX's (§2.6, §2.8).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from lx_sandbox.emulator.events import EventStore, fact_sheet_event
from lx_sandbox.emulator.state import (
    LIFECYCLE_PHASES,
    LIFECYCLE_TYPES,
    LX_STATES,
    FactSheet,
    FieldValue,
    Tag,
    Workspace,
    lifecycle_phases,
    new_id,
    now_iso,
    parse_date,
    parse_value,
    value_type,
)

JsonDict = dict[str, Any]


def lx_error(message: str, error_type: str) -> GraphQLError:
    """A GraphQL error carrying LeanIX's ``extensions.errorType``."""
    return GraphQLError(message, extensions={"errorType": error_type})


# ASSUMPTION [U] §2.8: only REVISION_CLASH and CONSTRAINT_VIOLATION are documented error types;
# the names below are this emulator's choice for the other failures.
INVALID_PATCH = "INVALID_PATCH"
NOT_FOUND = "NOT_FOUND"


@dataclass(slots=True)
class Draft:
    """The changeable values of a fact sheet while patches are validated."""

    name: str
    description: str | None
    status: str
    lx_state: str
    fields: dict[str, FieldValue]
    tag_ids: list[str]
    lifecycle: dict[str, str] = field(default_factory=dict)
    new_tag_names: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, fs: FactSheet) -> Draft:
        """Copy the current values of ``fs``."""
        return cls(
            fs.name,
            fs.description,
            fs.status,
            fs.lx_state,
            dict(fs.fields),
            list(fs.tag_ids),
            fs.lifecycle,
        )


def _tag_refs(ws: Workspace, draft: Draft, value: str | None) -> list[str]:
    """Parse the JSON text of a ``/tags`` value into tag ids (or ``new:<name>`` placeholders)."""
    try:
        refs = json.loads(value or "")
    except json.JSONDecodeError as exc:
        raise lx_error(f"Invalid value for /tags: {exc.msg}", INVALID_PATCH) from exc
    if not isinstance(refs, list):
        raise lx_error("Invalid value for /tags: expected a JSON array", INVALID_PATCH)
    ids: list[str] = []
    for ref in refs:
        if isinstance(ref, dict) and isinstance(ref.get("tagId"), str):
            if ref["tagId"] not in ws.tags:
                raise lx_error(f"Tag {ref['tagId']} does not exist", NOT_FOUND)
            ids.append(ref["tagId"])
        elif isinstance(ref, dict) and isinstance(ref.get("tagName"), str) and ref["tagName"]:
            # [V] §2.6: a tagName creates the tag in "Other tags" (no group) if it is missing.
            existing = ws.find_tag(ref["tagName"], None)
            if existing is not None:
                ids.append(existing.id)
            else:
                draft.new_tag_names.append(ref["tagName"])
                ids.append("new:" + ref["tagName"])
        else:
            raise lx_error("Invalid value for /tags: items need tagId or tagName", INVALID_PATCH)
    return list(dict.fromkeys(ids))


def _apply_one(ws: Workspace, fs_type: str, draft: Draft, patch: JsonDict) -> None:
    op, path, value = patch.get("op"), patch.get("path"), patch.get("value")
    if op not in ("add", "replace", "remove") or not isinstance(path, str):
        raise lx_error(f"Invalid patch {patch!r}", INVALID_PATCH)
    key = path[1:] if path.startswith("/") else path
    if key == "tags":
        refs = _tag_refs(ws, draft, value)
        if op == "replace":
            draft.tag_ids = refs
        elif op == "add":
            draft.tag_ids += [r for r in refs if r not in draft.tag_ids]
        else:
            # ASSUMPTION [I] §2.6: remove with a list of tag refs removes exactly those tags.
            draft.tag_ids = [t for t in draft.tag_ids if t not in refs]
    elif key == "name":
        # [V] §2.6 (D-UPDFS): name accepts only replace.
        if op != "replace" or not value:
            raise lx_error("The name can only be replaced by a non-empty value", INVALID_PATCH)
        draft.name = value
    elif key == "description":
        draft.description = None if op == "remove" else value
    elif key == "status":
        if op == "remove" or value not in ("ACTIVE", "ARCHIVED"):
            raise lx_error(f"Invalid status {value!r}", INVALID_PATCH)
        draft.status = value
    elif key == "lxState":
        if op == "remove" or value not in LX_STATES:
            raise lx_error(f"Invalid lxState {value!r}", INVALID_PATCH)
        draft.lx_state = value
    elif key == "lifecycle" and fs_type in LIFECYCLE_TYPES:
        draft.lifecycle = {} if op == "remove" or value is None else _lifecycle(value)
    elif key.startswith("lifecycle/") and fs_type in LIFECYCLE_TYPES:
        phase = key.split("/", 1)[1]
        if phase not in LIFECYCLE_PHASES:
            raise lx_error(
                f"Unknown lifecycle phase {phase!r} (known: {', '.join(LIFECYCLE_PHASES)})",
                INVALID_PATCH,
            )
        if op == "remove" or value is None:
            draft.lifecycle.pop(phase, None)
        else:
            try:
                draft.lifecycle[phase] = parse_date(value)
            except ValueError as exc:
                raise lx_error(f"Invalid value for {path}: {exc}", INVALID_PATCH) from exc
    elif key in ws.data_model.get(fs_type, {}):
        spec = ws.data_model[fs_type][key]
        kind = value_type(spec)
        # ASSUMPTION [I] §2.6: replace/add set a value, remove (or a null value, as S-CSE sends
        # [V3]) clears it; a single-select value outside the data model is an error.
        if op == "remove" or value is None:
            draft.fields.pop(key, None)
        elif kind is not None:
            # [V] §2.6: the value is a String; a DOUBLE/INTEGER field must parse as one (so
            # "72.50" equals a stored 72.5 and is a no-op), a STRING field takes it as is.
            try:
                draft.fields[key] = parse_value(kind, value)
            except ValueError as exc:
                raise lx_error(
                    f"Invalid value {value!r} for {kind} field {key}: {exc}", INVALID_PATCH
                ) from exc
        elif value in spec:
            draft.fields[key] = value
        else:
            raise lx_error(f"Invalid value {value!r} for field {key}", INVALID_PATCH)
    else:
        raise lx_error(f"Unknown or unsupported patch path {path!r} for {fs_type}", INVALID_PATCH)


def _lifecycle(value: str) -> dict[str, str]:
    """The phases of a whole-lifecycle value (§2.6 D-GQLADV: JSON text
    ``{"phases": [{"phase": "plan", "startDate": "2017-03-12"}]}``).

    # ASSUMPTION [I] §2.6: replace (or add) sets exactly the phases given, so a phase left out
    # is cleared; ``{"phases": []}`` clears the lifecycle. The dates' order is not checked.
    """
    try:
        raw = json.loads(value)
    except json.JSONDecodeError as exc:
        raise lx_error(f"Invalid value for /lifecycle: {exc.msg}", INVALID_PATCH) from exc
    if not isinstance(raw, dict) or "phases" not in raw:
        raise lx_error(
            'Invalid value for /lifecycle: expected {"phases": [{"phase", "startDate"}]}',
            INVALID_PATCH,
        )
    try:
        return lifecycle_phases(raw)
    except ValueError as exc:
        raise lx_error(f"Invalid value for /lifecycle: {exc}", INVALID_PATCH) from exc


def _check_tags(ws: Workspace, fs_type: str, draft: Draft) -> None:
    """SINGLE-mode groups hold at most one tag; restricted groups only allowed types (§2.6/2.7)."""
    per_group: dict[str, list[Tag]] = {}
    for tag_id in draft.tag_ids:
        tag = ws.tags.get(tag_id)
        if tag is None or tag.group_id is None:
            continue
        group = ws.tag_groups[tag.group_id]
        # ASSUMPTION [I] §2.7: a tag of a restricted group on another type is also reported as
        # CONSTRAINT_VIOLATION.
        if group.restrict_to and fs_type not in group.restrict_to:
            raise lx_error(
                f"Tag group '{group.name}' is restricted to {', '.join(group.restrict_to)}; "
                f"tag '{tag.name}' cannot be set on a {fs_type}",
                "CONSTRAINT_VIOLATION",
            )
        per_group.setdefault(group.id, []).append(tag)
    for group_id, tags in per_group.items():
        group = ws.tag_groups[group_id]
        if group.mode == "SINGLE" and len(tags) > 1:
            names = ", ".join(t.name for t in tags)
            raise lx_error(
                f"Tag group '{group.name}' allows only one tag per fact sheet (got {names})",
                "CONSTRAINT_VIOLATION",
            )


def validate(ws: Workspace, fs_type: str, base: Draft, patches: list[JsonDict]) -> Draft:
    """Apply ``patches`` to a copy of ``base`` and check the result; raises on any problem."""
    draft = Draft(
        base.name,
        base.description,
        base.status,
        base.lx_state,
        dict(base.fields),
        list(base.tag_ids),
        dict(base.lifecycle),
    )
    for patch in patches:
        if not isinstance(patch, dict):
            raise lx_error("Patch must be an object", INVALID_PATCH)
        _apply_one(ws, fs_type, draft, patch)
    _check_tags(ws, fs_type, draft)
    return draft


def _materialise_tags(ws: Workspace, draft: Draft) -> list[str]:
    ids: list[str] = []
    for ref in draft.tag_ids:
        if ref.startswith("new:"):
            name = ref[4:]
            tag = ws.find_tag(name, None) or ws.add_tag(Tag(id=new_id(), name=name, group_id=None))
            ids.append(tag.id)
        else:
            ids.append(ref)
    return ids


@dataclass(slots=True)
class Mutator:
    """Commits validated drafts and emits the matching events."""

    ws: Workspace
    events: EventStore
    base_url: str
    #: Called for an applied update that changed nothing (counted, never an error).
    on_noop: Callable[[], None] | None = None

    def update(
        self,
        fs_id: str,
        *,
        rev: int | None,
        patches: list[JsonDict],
        validate_only: bool,
        user_id: str,
    ) -> FactSheet:
        """``updateFactSheet``: rev check, validate, then save and emit unless validate-only."""
        fs = self.ws.fact_sheets.get(fs_id)
        if fs is None:
            raise lx_error(f"Fact Sheet {fs_id} does not exist", NOT_FOUND)
        if rev is not None and rev != fs.rev:
            # [V3] §2.6: message and error type as reported by SAP.
            raise lx_error(
                f"DB revision of Fact Sheet has changed: {fs.rev} instead of given {rev}",
                "REVISION_CLASH",
            )
        draft = validate(self.ws, fs.type, Draft.of(fs), patches)
        if validate_only:
            # ASSUMPTION [I] §2.6: a dry run returns the fact sheet as it would be, unsaved
            # (attributes copied: the preview's lifecycle must not reach the stored one).
            preview = dataclasses.replace(fs, attributes=dict(fs.attributes))
            self._assign(preview, draft, [t for t in draft.tag_ids if not t.startswith("new:")])
            return preview
        return self._commit(fs, draft, user_id, created=False)

    def create(
        self,
        *,
        name: str,
        fs_type: str,
        patches: list[JsonDict],
        validate_only: bool,
        user_id: str,
    ) -> FactSheet:
        """``createFactSheet``: a new fact sheet (rev 0 as in §4.6) plus optional patches."""
        if fs_type not in self.ws.data_model:
            raise lx_error(f"Unknown fact sheet type {fs_type}", INVALID_PATCH)
        if not name:
            raise lx_error("A fact sheet needs a name", INVALID_PATCH)
        base = Draft(name, None, "ACTIVE", "DRAFT", {}, [])
        draft = validate(self.ws, fs_type, base, patches)
        if validate_only:
            preview = FactSheet(id=new_id(), type=fs_type, name=name, seq=0)
            self._assign(preview, draft, [t for t in draft.tag_ids if not t.startswith("new:")])
            return preview
        # [V] §4.6: the envelope and the payload carry ``userId``; that it is the acting user
        # (here the creator) is [I] §1.6. The creator is kept for the admin view only:
        # no source shows a GraphQL ``createdBy``.
        fs = self.ws.add_fact_sheet(fs_type=fs_type, name=name, rev=0, created_by=user_id)
        return self._commit(fs, draft, user_id, created=True)

    @staticmethod
    def _assign(fs: FactSheet, draft: Draft, tag_ids: list[str]) -> None:
        fs.name = draft.name
        fs.description = draft.description
        fs.status = draft.status
        fs.lx_state = draft.lx_state
        fs.fields = dict(draft.fields)
        fs.tag_ids = tag_ids
        fs.set_lifecycle(draft.lifecycle)

    def _commit(self, fs: FactSheet, draft: Draft, user_id: str, *, created: bool) -> FactSheet:
        old_tags = list(fs.tag_ids)
        old_status = fs.status
        old_lx_state = fs.lx_state
        unchanged = (
            draft.name == fs.name
            and draft.description == fs.description
            and draft.status == fs.status
            and draft.lx_state == fs.lx_state
            # Numbers compare by value: 72.5 parsed from "72.50" equals a stored 72.5.
            and draft.fields == fs.fields
            and draft.lifecycle == fs.lifecycle
            # ASSUMPTION [I] §2.7: tags are a set; their order is not a change.
            and set(draft.tag_ids) == set(fs.tag_ids)
        )
        if unchanged and not created:
            # ASSUMPTION [I] §2.6: a no-op patch saves nothing: no rev bump, no event.
            if self.on_noop is not None:
                self.on_noop()
            return fs
        tag_ids = _materialise_tags(self.ws, draft)
        self._assign(fs, draft, tag_ids)
        if not created:
            fs.rev += 1
            fs.updated_at = now_iso()
        emit_fact_sheet_events(
            self.events,
            self.ws,
            fs,
            created=created,
            old_status=old_status,
            old_tags=old_tags,
            user_id=user_id,
            base_url=self.base_url,
            old_lx_state=old_lx_state,
        )
        return fs


def emit_fact_sheet_events(
    events: EventStore,
    ws: Workspace,
    fs: FactSheet,
    *,
    created: bool,
    old_status: str,
    old_tags: list[str],
    user_id: str,
    base_url: str,
    old_lx_state: str | None = None,
) -> None:
    """Emit the events of one saved change of ``fs`` (shared by GraphQL writes and the
    Integration API engine): CREATED / ARCHIVED / RECOVERED / UPDATED, then QUALITY_SEAL_BROKEN
    if the change broke an approved seal, then one event per tag added or removed, all under
    one transaction number."""
    tag_ids = fs.tag_ids
    tx = events.next_transaction()
    names: list[tuple[str, Tag | None]] = []
    if created:
        names.append(("FACT_SHEET_CREATED", None))
    elif old_status != fs.status and fs.status == "ARCHIVED":
        names.append(("FACT_SHEET_ARCHIVED", None))
    elif old_status != fs.status:
        # ASSUMPTION [I] §4.5: un-archiving emits FACT_SHEET_RECOVERED.
        names.append(("FACT_SHEET_RECOVERED", None))
    else:
        # ASSUMPTION [I] §3.5: any change (tags included) emits FACT_SHEET_UPDATED.
        names.append(("FACT_SHEET_UPDATED", None))
    # ASSUMPTION [U]: QUALITY_SEAL_BROKEN (a tag set of the public automation client, not in
    # the event list §4.5) is emitted when lxState goes from APPROVED to BROKEN_QUALITY_SEAL,
    # with the fact-sheet payload of the other fact-sheet events.
    if old_lx_state == "APPROVED" and fs.lx_state == "BROKEN_QUALITY_SEAL":
        names.append(("QUALITY_SEAL_BROKEN", None))
    # ASSUMPTION [I] §4.5: one TAG_ADDED / TAG_REMOVED event per tag, after the main event.
    names += [("FACT_SHEET_TAG_ADDED", ws.tags[t]) for t in tag_ids if t not in old_tags]
    names += [
        ("FACT_SHEET_TAG_REMOVED", ws.tags[t])
        for t in old_tags
        if t not in tag_ids and t in ws.tags
    ]
    for name, tag in names:
        envelope = fact_sheet_event(
            events,
            ws,
            event_name=name,
            fs=fs,
            user_id=user_id,
            transaction=tx,
            base_url=base_url,
            tag=tag,
        )
        events.append(envelope)
