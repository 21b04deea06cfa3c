"""In-memory workspace state: fact sheets, tags, tag groups, users, subscriptions, data model.

Everything here is plain data plus indexes. Only the event-loop thread touches it (all HTTP
handlers are ``async def``), so there are no locks. Fact sheets are indexed by id and kept in
creation order per type, which gives stable, O(page) cursor pagination.
"""

from __future__ import annotations

import bisect
import os
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Value order of the default data model, worst first ([V] §2.4; TIME values [V3] §2.5).
DEFAULT_DATA_MODEL: dict[str, dict[str, list[str]]] = {
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

#: lxState values [V] §2.2.
LX_STATES = ("APPROVED", "BROKEN_QUALITY_SEAL", "DRAFT", "REJECTED")
#: Fact sheet status values [V] §2.2.
STATUSES = ("ACTIVE", "ARCHIVED")


def now_iso() -> str:
    """UTC timestamp in the ISO form LeanIX payloads use (``...Z``)."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


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
    """One fact sheet. ``fields`` holds the data-model (single-select) fields that have values.

    ``external_ids`` (id field name, e.g. ``externalId`` -> value) and ``attributes`` (lifecycle
    and other non-single-select fields) are written by the Integration API engine; set external
    ids through :meth:`Workspace.set_external_id` so the index stays right.
    """

    id: str
    type: str
    name: str
    seq: int
    rev: int = 0
    description: str | None = None
    status: str = "ACTIVE"
    lx_state: str = "DRAFT"
    fields: dict[str, str] = field(default_factory=dict)
    tag_ids: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    external_ids: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    #: The user who created it (None for seeded fact sheets).
    created_by: str | None = None

    @property
    def external_id(self) -> str | None:
        """The value of the standard ``externalId`` field, if set."""
        return self.external_ids.get("externalId")


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
        data_model: dict[str, dict[str, list[str]]] | None = None,
    ) -> None:
        self.id = workspace_id
        self.name = name
        self.account_id = account_id
        self.account_name = account_name
        self.data_model: dict[str, dict[str, list[str]]] = {
            t: {f: list(v) for f, v in fields.items()}
            for t, fields in (data_model or DEFAULT_DATA_MODEL).items()
        }
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
        fields: dict[str, str] | None = None,
        tag_ids: Iterable[str] = (),
        status: str = "ACTIVE",
        lx_state: str = "DRAFT",
        rev: int = 0,
        created_by: str | None = None,
    ) -> FactSheet:
        """Create a fact sheet and index it (appends, so cursors stay stable)."""
        if fs_type not in self.data_model:
            raise ValueError(f"unknown fact sheet type {fs_type!r}")
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
