"""In-memory workspace state: fact sheets, tags, tag groups, users, subscriptions, data model.

Everything here is plain data plus indexes. Only the event-loop thread touches it (all HTTP
handlers are ``async def``), so there are no locks. Fact sheets are indexed by id and kept in
creation order per type, which gives stable, O(page) cursor pagination.
"""

from __future__ import annotations

import bisect
import math
import os
import random
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeAlias

#: A data-model field: a single-select's value order (worst first), or ``{"type": T}`` with T
#: one of :data:`VALUE_TYPES` (a number or text field).
FieldSpec: TypeAlias = list[str] | dict[str, str]
#: ``{fact sheet type: {field: spec}}``, the JSON form ``GET /_sandbox/datamodel`` answers.
DataModel: TypeAlias = dict[str, dict[str, FieldSpec]]
#: A stored field value: a single-select value or text (str), a DOUBLE (float), an INTEGER (int).
FieldValue: TypeAlias = str | int | float

#: Types of number and text fields. ASSUMPTION [I]: LeanIX's data model names its field types
#: DOUBLE, INTEGER and STRING (besides SINGLE_SELECT); GraphQL serves them as Float, Int, String.
VALUE_TYPES = ("DOUBLE", "INTEGER", "STRING")

#: Value order of the default data model, worst first ([V] §2.4; TIME values [V3] §2.5).
DEFAULT_DATA_MODEL: DataModel = {
    "Application": {
        "functionalSuitability": ["unreasonable", "insufficient", "appropriate", "perfect"],
        "technicalSuitability": ["inappropriate", "unreasonable", "adequate", "fullyAppropriate"],
        "lxTimeClassification": ["tolerate", "invest", "migrate", "eliminate"],
        # Listed as in the reference (§2.4); no "worst first" meaning for criticality.
        "businessCriticality": [
            "missionCritical",
            "businessCritical",
            "businessOperational",
            "administrativeService",
        ],
    },
    "ITComponent": {},
    "BusinessCapability": {},
    "DataObject": {},
    "Interface": {},
    "Provider": {},
    "UserGroup": {},
    "Process": {},
    "Project": {},
    "TechnicalStack": {},
}

#: Lifecycle phases in their order. ASSUMPTION [V3]: LeanIX's default phases (D-GQLADV shows
#: ``plan`` and ``phaseIn``, the Integration API docs the rest).
LIFECYCLE_PHASES = ("plan", "phaseIn", "active", "phaseOut", "endOfLife")
_PHASE_SET = frozenset(LIFECYCLE_PHASES)
#: Fact sheet types with a lifecycle. ASSUMPTION [V3]: Application and ITComponent carry one in
#: LeanIX's default data model (other types may too; the emulator models these two).
LIFECYCLE_TYPES = frozenset({"Application", "ITComponent"})
#: Relations GraphQL exposes, as (from, to) type pairs: ``rel<From>To<To>`` on From and
#: ``rel<To>To<From>`` on To both list the relations stored between the two. ASSUMPTION [V3]:
#: LeanIX's ``rel<From>To<To>`` naming and these pairs of its default data model.
RELATION_PAIRS = (
    ("Application", "ITComponent"),
    ("Application", "UserGroup"),
    ("Application", "BusinessCapability"),
    ("Application", "DataObject"),
    ("Application", "Process"),
    ("Application", "Project"),
    ("ITComponent", "Provider"),
    ("ITComponent", "UserGroup"),
)
#: Comment states. ASSUMPTION [U]: LeanIX's comment status enum is not in the reference.
COMMENT_STATUSES = ("ACTIVE", "CLOSED")
#: lxState values [V] §2.2.
LX_STATES = ("APPROVED", "BROKEN_QUALITY_SEAL", "DRAFT", "REJECTED")
#: Fact sheet status values [V] §2.2.
STATUSES = ("ACTIVE", "ARCHIVED")


def now_iso() -> str:
    """UTC timestamp in the ISO form LeanIX payloads use (``...Z``)."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def single_selects(model: DataModel, fs_type: str) -> dict[str, list[str]]:
    """The single-select fields of ``fs_type`` with their value orders (no number/text fields)."""
    return {k: v for k, v in model.get(fs_type, {}).items() if isinstance(v, list)}


def value_type(spec: FieldSpec | None) -> str | None:
    """``DOUBLE`` / ``INTEGER`` / ``STRING`` for a number or text field, None otherwise."""
    return spec.get("type") if isinstance(spec, dict) else None


_INTEGER = re.compile(r"[+-]?\d+")
_DOUBLE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT_RANGE = (-(2**31), 2**31 - 1)


def parse_value(kind: str, raw: Any) -> FieldValue:
    """A number or text field's value from a patch string (or a seed's JSON value).

    Raises ValueError with the reason.

    # ASSUMPTION [I] §2.6: numbers are decimal text as Java parses them (``72.5``, ``-3``,
    # ``1e3``; no NaN/Infinity); INTEGER is a 32-bit integer (GraphQL Int).
    """
    if kind == "STRING":
        if not isinstance(raw, str):
            raise ValueError("expected text")
        return raw
    if isinstance(raw, bool):
        raise ValueError("expected a number")
    text = raw.strip() if isinstance(raw, str) else raw
    if kind == "INTEGER":
        if isinstance(text, float) and text.is_integer():
            text = int(text)
        if isinstance(text, str) and _INTEGER.fullmatch(text):
            text = int(text)
        if not isinstance(text, int) or not _INT_RANGE[0] <= text <= _INT_RANGE[1]:
            raise ValueError("expected a 32-bit integer")
        return text
    if isinstance(text, str) and _DOUBLE.fullmatch(text):
        text = float(text)
    if not isinstance(text, int | float) or not math.isfinite(float(text)):
        raise ValueError("expected a finite number")
    return float(text)


def copy_data_model(model: Mapping[str, Mapping[str, FieldSpec]]) -> DataModel:
    """A deep copy (lists and field dicts copied)."""
    return {
        t: {f: list(v) if isinstance(v, list) else dict(v) for f, v in fields.items()}
        for t, fields in model.items()
    }


def value_fits(spec: FieldSpec | None, value: FieldValue) -> bool:
    """Whether a stored value is valid under a field spec (None = the field does not exist)."""
    if isinstance(spec, list):
        return isinstance(value, str) and value in spec
    kind = value_type(spec)
    if kind == "STRING":
        return isinstance(value, str)
    if kind == "INTEGER":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "DOUBLE":
        return isinstance(value, float)
    return False


def parse_date(text: Any) -> str:
    """A ``YYYY-MM-DD`` date, checked (a real calendar day); raises ValueError."""
    if not isinstance(text, str) or len(text) != 10:
        raise ValueError(f"invalid date {text!r} (expected YYYY-MM-DD)")
    try:
        date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"invalid date {text!r} (expected YYYY-MM-DD)") from exc
    return text


def lifecycle_phases(raw: Any) -> dict[str, str]:
    """``{phase: startDate}`` in phase order from ``{"phases": [{"phase", "startDate"}]}`` (a
    /lifecycle patch's JSON or a seed's value) or from ``{phase: startDate}``; raises ValueError
    naming the problem."""
    if not isinstance(raw, dict):
        raise ValueError('lifecycle must be {"phases": [{"phase", "startDate"}]}')
    if "phases" in raw:
        items = raw["phases"]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValueError("lifecycle phases must be a list of {phase, startDate}")
        pairs: list[tuple[Any, Any]] = [(i.get("phase"), i.get("startDate")) for i in items]
    else:
        pairs = list(raw.items())
    phases: dict[str, str] = {}
    for phase, start in pairs:
        if phase not in _PHASE_SET:
            raise ValueError(
                f"unknown lifecycle phase {phase!r} (known: {', '.join(LIFECYCLE_PHASES)})"
            )
        if phase in phases:
            raise ValueError(f"lifecycle phase {phase} given twice")
        phases[phase] = parse_date(start)
    return {p: phases[p] for p in LIFECYCLE_PHASES if p in phases}


def current_phase(phases: Mapping[str, str], today: date | None = None) -> str | None:
    """The phase current on ``today`` (UTC today by default): the one with the latest start
    date on or before it (the later phase on a tie); None if none has started.

    # ASSUMPTION [V3]: LeanIX's ``lifecycle.asString`` is the current phase's name.
    """
    day = (today or datetime.now(UTC).date()).isoformat()
    best: tuple[str, int] | None = None
    for index, phase in enumerate(LIFECYCLE_PHASES):
        start = phases.get(phase)
        if start is not None and start <= day and (best is None or start >= best[0]):
            best = (start, index)
    return None if best is None else LIFECYCLE_PHASES[best[1]]


#: Ids need to be unique, not secret: a PRNG seeded from the OS is ten times faster than
#: ``uuid4`` (an ``os.urandom`` call each), which matters when a run creates 10,000 fact sheets.
_ID_RNG = random.Random(int.from_bytes(os.urandom(16), "big"))


def new_id() -> str:
    """A fresh UUID (version 4 format) string, the id format of every LeanIX entity."""
    return str(uuid.UUID(int=_ID_RNG.getrandbits(128), version=4))


@dataclass(slots=True)
class User:
    """A workspace user; ``token`` is its API token (technical user or personal)."""

    id: str
    username: str
    token: str
    technical: bool = True
    role: str = "ADMIN"
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    #: ``ACTIVE`` | ``ARCHIVED`` (the MTM user status).
    status: str = "ACTIVE"

    @property
    def display_name(self) -> str:
        """``First Last`` when both names are known, else the username."""
        names = [n for n in (self.first_name, self.last_name) if n]
        return " ".join(names) if names else self.username


@dataclass(slots=True)
class TagGroup:
    """A tag group; ``tag_ids`` keeps the tags in creation order."""

    id: str
    name: str
    short_name: str | None = None
    description: str | None = None
    mode: str = "MULTIPLE"
    mandatory: bool = False
    restrict_to: list[str] = field(default_factory=list)
    tag_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Tag:
    """A tag; ``group_id`` None means the group-less "Other tags"."""

    id: str
    name: str
    group_id: str | None
    description: str | None = None
    color: str | None = None
    status: str = "ACTIVE"


@dataclass(slots=True)
class FactSheet:
    """One fact sheet. ``fields`` holds the data-model fields that have values: single-selects
    and texts as str, DOUBLE fields as float, INTEGER fields as int.

    ``external_ids`` (id field name, e.g. ``externalId`` -> value) and ``attributes`` (free
    fields the Integration API engine writes) are set by the engine; set external ids through
    :meth:`Workspace.set_external_id` so the index stays right. The lifecycle lives in
    ``attributes["lifecycle"]`` as ``{phase: "YYYY-MM-DD"}`` in phase order (one place for
    GraphQL patches, seeds and the engine; see :attr:`lifecycle`).
    """

    id: str
    type: str
    name: str
    seq: int
    rev: int = 0
    description: str | None = None
    status: str = "ACTIVE"
    lx_state: str = "DRAFT"
    fields: dict[str, FieldValue] = field(default_factory=dict)
    tag_ids: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    external_ids: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    #: The user who created it (None for seeded fact sheets).
    created_by: str | None = None
    #: Completion 0..1. ASSUMPTION [I]: LeanIX computes it from section weights the emulator
    #: does not model, so it is stored as given (seed, ``PATCH /_sandbox/factsheets/{id}``).
    completion: float = 0.0

    @property
    def external_id(self) -> str | None:
        """The value of the standard ``externalId`` field, if set."""
        return self.external_ids.get("externalId")

    @property
    def lifecycle(self) -> dict[str, str]:
        """``{phase: startDate}`` (empty without a lifecycle); a copy, write with
        :meth:`set_lifecycle`."""
        stored = self.attributes.get("lifecycle")
        return dict(stored) if isinstance(stored, dict) else {}

    def set_lifecycle(self, phases: Mapping[str, str]) -> None:
        """Store the lifecycle in phase order (no phases removes it)."""
        ordered = {p: phases[p] for p in LIFECYCLE_PHASES if p in phases}
        if ordered:
            self.attributes["lifecycle"] = ordered
        else:
            self.attributes.pop("lifecycle", None)


@dataclass(slots=True)
class Comment:
    """A comment on a fact sheet.

    # ASSUMPTION [U]: LeanIX's comments are not in the reference.
    """

    id: str
    fact_sheet_id: str
    message: str
    author_id: str
    status: str = "ACTIVE"
    created_at: str = field(default_factory=now_iso)


@dataclass(slots=True)
class Relation:
    """A relation between two fact sheets (``type`` like ``relApplicationToITComponent``)."""

    id: str
    type: str
    from_id: str
    to_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "ACTIVE"
    rev: int = 0


#: Subscription types of a fact-sheet subscription [V3] (SAP docs copy of createSubscription).
SUBSCRIPTION_TYPES = ("ACCOUNTABLE", "RESPONSIBLE", "OBSERVER")


@dataclass(slots=True)
class SubscriptionRole:
    """A workspace's subscription role (``allSubscriptionRoles``), bound to one type."""

    id: str
    name: str
    subscription_type: str
    description: str | None = None
    restrict_to: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FactSheetSubscription:
    """A user subscribed to a fact sheet; ``role_ids`` map to the comment given with each."""

    id: str
    fact_sheet_id: str
    user_id: str
    type: str
    role_ids: dict[str, str | None] = field(default_factory=dict)
    created_at: str = field(default_factory=now_iso)


class Workspace:
    """The single emulated workspace with its indexes."""

    def __init__(
        self,
        *,
        workspace_id: str,
        name: str,
        account_id: str,
        account_name: str,
        data_model: DataModel | None = None,
    ) -> None:
        self.id = workspace_id
        self.name = name
        self.account_id = account_id
        self.account_name = account_name
        self.data_model: DataModel = copy_data_model(data_model or DEFAULT_DATA_MODEL)
        self.users_by_token: dict[str, User] = {}
        self.users_by_id: dict[str, User] = {}
        self.tag_groups: dict[str, TagGroup] = {}
        self.tags: dict[str, Tag] = {}
        self.fact_sheets: dict[str, FactSheet] = {}
        self._order: list[FactSheet] = []
        self._seqs: list[int] = []
        self._by_type: dict[str, list[FactSheet]] = {}
        self._by_type_seqs: dict[str, list[int]] = {}
        self._next_seq = 1
        #: (fact sheet type, id field, value) -> the newest fact sheet carrying that external id.
        self._by_external: dict[tuple[str, str, str], FactSheet] = {}
        self.relations: dict[str, Relation] = {}
        self._relation_index: dict[tuple[str, str, str], Relation] = {}
        self._relations_of: dict[str, list[Relation]] = {}
        self.subscription_roles: dict[str, SubscriptionRole] = {}
        self.fs_subscriptions: dict[str, FactSheetSubscription] = {}
        self._subscriptions_of: dict[str, list[FactSheetSubscription]] = {}
        self._comments_of: dict[str, list[Comment]] = {}

    # -- data model --------------------------------------------------------------------------
    def set_data_model(self, model: DataModel) -> None:
        """Switch to ``model``, dropping stored values it no longer allows (a removed field, a
        single-select value outside its new order, a field whose kind changed)."""
        for fs in self.fact_sheets.values():
            allowed = model.get(fs.type, {})
            for key, value in list(fs.fields.items()):
                if not value_fits(allowed.get(key), value):
                    del fs.fields[key]
        self.data_model = copy_data_model(model)

    # -- comments ----------------------------------------------------------------------------
    def add_comment(self, comment: Comment) -> Comment:
        """Register a comment on its fact sheet."""
        self._comments_of.setdefault(comment.fact_sheet_id, []).append(comment)
        return comment

    def comments_of(self, fs_id: str) -> list[Comment]:
        """The comments of one fact sheet, newest first."""
        return list(reversed(self._comments_of.get(fs_id, ())))

    # -- users -------------------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        """Register a user and its API token."""
        self.users_by_token[user.token] = user
        self.users_by_id[user.id] = user

    def find_user_by_email(self, email: str) -> User | None:
        """The workspace user with this e-mail address.

        # ASSUMPTION [U]: e-mail addresses are compared case-insensitively.
        """
        wanted = email.casefold()
        for user in self.users_by_id.values():
            if user.email is not None and user.email.casefold() == wanted:
                return user
        return None

    # -- fact-sheet subscriptions ------------------------------------------------------------
    def add_subscription_role(self, role: SubscriptionRole) -> SubscriptionRole:
        """Register a subscription role."""
        self.subscription_roles[role.id] = role
        return role

    def add_subscription(self, sub: FactSheetSubscription) -> FactSheetSubscription:
        """Register a fact-sheet subscription and index it by fact sheet."""
        self.fs_subscriptions[sub.id] = sub
        self._subscriptions_of.setdefault(sub.fact_sheet_id, []).append(sub)
        return sub

    def remove_subscription(self, sub: FactSheetSubscription) -> None:
        """Forget a fact-sheet subscription."""
        self.fs_subscriptions.pop(sub.id, None)
        items = self._subscriptions_of.get(sub.fact_sheet_id)
        if items is not None and sub in items:
            items.remove(sub)

    def subscriptions_of(self, fs_id: str) -> list[FactSheetSubscription]:
        """The subscriptions of one fact sheet, oldest first."""
        return list(self._subscriptions_of.get(fs_id, ()))

    # -- fact sheets -------------------------------------------------------------------------
    @property
    def fact_sheet_types(self) -> list[str]:
        """Fact sheet types of the data model, in data-model order."""
        return list(self.data_model)

    def add_fact_sheet(
        self,
        *,
        fs_type: str,
        name: str,
        fs_id: str | None = None,
        description: str | None = None,
        fields: Mapping[str, FieldValue] | None = None,
        tag_ids: Iterable[str] = (),
        status: str = "ACTIVE",
        lx_state: str = "DRAFT",
        rev: int = 0,
        created_by: str | None = None,
        completion: float = 0.0,
        created_at: str | None = None,
    ) -> FactSheet:
        """Create a fact sheet and index it (appends, so cursors stay stable); ``created_at``
        (also its ``updatedAt``) defaults to now (a seed passes one stamp for all)."""
        if fs_type not in self.data_model:
            raise ValueError(f"unknown fact sheet type {fs_type!r}")
        stamp = created_at or now_iso()
        fs = FactSheet(
            id=fs_id or new_id(),
            type=fs_type,
            name=name,
            seq=self._next_seq,
            rev=rev,
            description=description,
            status=status,
            lx_state=lx_state,
            fields=dict(fields or {}),
            tag_ids=list(tag_ids),
            created_by=created_by,
            completion=completion,
            created_at=stamp,
            updated_at=stamp,
        )
        if fs.id in self.fact_sheets:
            raise ValueError(f"duplicate fact sheet id {fs.id}")
        self._next_seq += 1
        self.fact_sheets[fs.id] = fs
        self._order.append(fs)
        self._seqs.append(fs.seq)
        self._by_type.setdefault(fs_type, []).append(fs)
        self._by_type_seqs.setdefault(fs_type, []).append(fs.seq)
        return fs

    def set_external_id(self, fs: FactSheet, id_field: str, value: str) -> None:
        """Set an external id of ``fs`` and index it (the newest holder wins the index)."""
        old = fs.external_ids.get(id_field)
        if old is not None and self._by_external.get((fs.type, id_field, old)) is fs:
            del self._by_external[(fs.type, id_field, old)]
        fs.external_ids[id_field] = value
        self._by_external[(fs.type, id_field, value)] = fs

    def find_external(self, fs_type: str, id_field: str, value: str) -> FactSheet | None:
        """The fact sheet of ``fs_type`` whose ``id_field`` is ``value`` (archived ones too)."""
        return self._by_external.get((fs_type, id_field, value))

    def relation(self, rel_type: str, from_id: str, to_id: str) -> Relation | None:
        """The relation of ``rel_type`` between two fact sheets, if any."""
        return self._relation_index.get((rel_type, from_id, to_id))

    def add_relation(self, rel: Relation) -> Relation:
        """Register a relation and index it by its ends."""
        self.relations[rel.id] = rel
        self._relation_index[(rel.type, rel.from_id, rel.to_id)] = rel
        self._relations_of.setdefault(rel.from_id, []).append(rel)
        if rel.to_id != rel.from_id:
            self._relations_of.setdefault(rel.to_id, []).append(rel)
        return rel

    def remove_relation(self, rel: Relation) -> None:
        """Forget a relation (both index entries)."""
        self.relations.pop(rel.id, None)
        self._relation_index.pop((rel.type, rel.from_id, rel.to_id), None)
        for end in {rel.from_id, rel.to_id}:
            items = self._relations_of.get(end)
            if items is not None and rel in items:
                items.remove(rel)

    def relations_of(self, fs_id: str) -> list[Relation]:
        """Relations that start or end at ``fs_id``."""
        return list(self._relations_of.get(fs_id, ()))

    def related(self, fs: FactSheet, other_type: str) -> list[tuple[Relation, FactSheet]]:
        """Active relations between ``fs`` and active fact sheets of ``other_type``, stored as
        ``rel<fs.type>To<other_type>`` from ``fs`` or ``rel<other_type>To<fs.type>`` to it,
        each with the fact sheet at the other end (oldest relation first).

        # ASSUMPTION [I]: LeanIX lists one relation on both ends (``relApplicationToUserGroup``
        # on the Application, ``relUserGroupToApplication`` on the UserGroup); relations to
        # archived fact sheets are hidden, as LeanIX archives them with the fact sheet.
        """
        forward, backward = f"rel{fs.type}To{other_type}", f"rel{other_type}To{fs.type}"
        found: list[tuple[Relation, FactSheet]] = []
        for rel in self._relations_of.get(fs.id, ()):
            if rel.status != "ACTIVE":
                continue
            if rel.type == forward and rel.from_id == fs.id:
                other = self.fact_sheets.get(rel.to_id)
            elif rel.type == backward and rel.to_id == fs.id:
                other = self.fact_sheets.get(rel.from_id)
            else:
                continue
            if other is not None and other.type == other_type and other.status == "ACTIVE":
                found.append((rel, other))
        return found

    def iter_after(self, fs_type: str | None, after_seq: int) -> Iterator[FactSheet]:
        """Fact sheets (of one type or all) with ``seq > after_seq``, in stable order."""
        if fs_type is None:
            items, seqs = self._order, self._seqs
        else:
            items = self._by_type.get(fs_type, [])
            seqs = self._by_type_seqs.get(fs_type, [])
        start = bisect.bisect_right(seqs, after_seq)
        for i in range(start, len(items)):
            yield items[i]

    # -- tags --------------------------------------------------------------------------------
    def add_tag_group(self, group: TagGroup) -> TagGroup:
        """Register a tag group (its tags are added with :meth:`add_tag`)."""
        self.tag_groups[group.id] = group
        return group

    def add_tag(self, tag: Tag) -> Tag:
        """Register a tag and link it to its group."""
        self.tags[tag.id] = tag
        if tag.group_id is not None:
            self.tag_groups[tag.group_id].tag_ids.append(tag.id)
        return tag

    def find_tag_group(self, name: str) -> TagGroup | None:
        """Look a tag group up by name.

        # ASSUMPTION [U] §2.7: tag group names are compared case-insensitively, so
        # "Time Model" (the LeanIX tutorial's spelling) and "TIME Model" name one group.
        """
        wanted = name.casefold()
        for group in self.tag_groups.values():
            if group.name.casefold() == wanted:
                return group
        return None

    def find_tag(self, name: str, group_id: str | None) -> Tag | None:
        """Look a tag up by name within a group (None = "Other tags").

        # ASSUMPTION [U] §2.7: tag names are unique per group, compared case-insensitively.
        """
        wanted = name.casefold()
        candidates: Iterable[str] = (
            self.tag_groups[group_id].tag_ids if group_id is not None else self.tags
        )
        for tag_id in candidates:
            tag = self.tags[tag_id]
            if tag.group_id == group_id and tag.name.casefold() == wanted:
                return tag
        return None
