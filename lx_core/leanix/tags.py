"""TagCatalog: tag groups and their tags by name, cached per process, created when missing.

Writers need tag ids, but configuration names tags; looking them up on every webhook would double
the calls, so groups are cached for ``ttl_seconds`` per (host, token hash, group name). Creation
uses LeanIX's idempotent ``upsertTagGroup`` / ``upsertTag`` (the TIME tutorial's set-up), and the
cache entry is replaced with what the upserts returned.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lx_core import assumptions
from lx_core.errors import GraphQLError
from lx_core.leanix.cache import ProcessCache
from lx_core.leanix.graphql import GraphQLClient

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
_ENUM_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")

_GROUPS_QUERY = """query lxTagGroups {
  allTagGroups { edges { node { id name shortName mode restrictToFactSheetTypes } } }
}"""
_TAGS_QUERY = """query lxTags($group: String!) {
  allTags(filter: {tagGroupName: $group}) { edges { node { id name status tagGroup { id name } } } }
}"""
_UPSERT_GROUP = """mutation lxUpsertTagGroup($name: String!) {
  upsertTagGroup(name: $name, mode: %s%s) { id name shortName mode restrictToFactSheetTypes }
}"""
_UPSERT_TAG = """mutation lxUpsertTag($name: String!, $group: String!, $description: String,
    $color: String) {
  upsertTag(name: $name, tagGroupName: $group, description: $description, color: $color) {
    id name status tagGroup { id name }
  }
}"""


class Tag(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    group_id: str | None = None
    status: str | None = None


class TagGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    short_name: str | None = None
    mode: str | None = None
    restrict_to: tuple[str, ...] = ()
    tags: dict[str, Tag] = Field(default_factory=dict)  #: by tag name


class TagSpec(BaseModel):
    """A tag that should exist in a group."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    color: str | None = None
    description: str | None = None


_cache: ProcessCache[TagGroup | None] = ProcessCache()


def clear_tag_cache() -> None:
    """Forget every cached tag group in this process."""
    _cache.clear()


def _group_from(node: Mapping[str, Any], tags: Mapping[str, Tag]) -> TagGroup:
    restrict = node.get("restrictToFactSheetTypes") or ()
    if isinstance(restrict, str):
        restrict = (restrict,)
    return TagGroup(
        id=str(node["id"]),
        name=str(node["name"]),
        short_name=node.get("shortName"),
        mode=node.get("mode"),
        restrict_to=tuple(str(t) for t in restrict),
        tags=dict(tags),
    )


def _tag_from(node: Mapping[str, Any]) -> Tag:
    group = node.get("tagGroup") or {}
    return Tag(
        id=str(node["id"]),
        name=str(node["name"]),
        group_id=group.get("id"),
        status=node.get("status"),
    )


class TagCatalog:
    """Looks up and creates tag groups by name through one GraphQLClient."""

    def __init__(
        self,
        gql: GraphQLClient,
        *,
        ttl_seconds: float | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._gql = gql
        self._ttl = gql.cache_ttl_seconds if ttl_seconds is None else ttl_seconds
        self._clock = clock

    def _key(self, name: str) -> tuple[str, str, str]:
        return (*self._gql.cache_scope, name)

    def group(self, name: str) -> TagGroup | None:
        """The tag group called ``name`` with its tags, or None; cached for ``ttl_seconds``."""
        return _cache.get_or_load(self._key(name), lambda: self._load(name), self._ttl, self._clock)

    def invalidate(self, name: str) -> None:
        _cache.pop(self._key(name))

    def _store(self, name: str, group: TagGroup | None) -> None:
        _cache.put(self._key(name), group, self._clock() + self._ttl)

    def _load(self, name: str) -> TagGroup | None:
        data = self._gql.execute(_GROUPS_QUERY, operation_name="lxTagGroups")
        edges = (data.get("allTagGroups") or {}).get("edges") or ()
        # Group names are matched case-insensitively (the LeanIX tutorial writes "Time Model",
        # many workspaces "TIME Model"); tags are then read by the group's own spelling.
        wanted = name.casefold()
        node = next(
            (
                e["node"]
                for e in edges
                if e and str((e.get("node") or {}).get("name", "")).casefold() == wanted
            ),
            None,
        )
        if node is None:
            return None
        data = self._gql.execute(_TAGS_QUERY, {"group": node["name"]}, operation_name="lxTags")
        tags: dict[str, Tag] = {}
        for edge in (data.get("allTags") or {}).get("edges") or ():
            tag = _tag_from(edge["node"]) if edge and edge.get("node") else None
            if tag is not None and tag.group_id == node["id"]:
                tags[tag.name] = tag
        return _group_from(node, tags)

    def ensure_group(
        self,
        name: str,
        *,
        mode: str = "SINGLE",
        restrict_to: Sequence[str] = ("Application",),
        tags: Sequence[TagSpec],
    ) -> TagGroup:
        """The group with every tag of ``tags``, creating whatever is missing. An existing
        group's mode and restriction are left alone (they are the workspace owner's choice)."""
        if mode not in assumptions.TAG_GROUP_MODES:
            raise ValueError(f"mode must be one of {sorted(assumptions.TAG_GROUP_MODES)}")
        if any(not _ENUM_NAME.match(t) for t in restrict_to):
            raise ValueError("restrict_to must hold fact sheet type names")
        existing = self.group(name)
        missing = [s for s in tags if existing is None or s.name not in existing.tags]
        if existing is not None and not missing:
            return existing
        if existing is not None and existing.mode and existing.mode != mode:
            logger.warning(
                "tag group mode differs from the configured one; leaving it unchanged",
                extra={"lx_tag_group": name, "lx_mode": existing.mode, "lx_wanted": mode},
            )
        if existing is None:
            restrict = (
                f", restrictToFactSheetTypes: [{', '.join(restrict_to)}]" if restrict_to else ""
            )
            data = self._gql.execute(
                _UPSERT_GROUP % (mode, restrict),
                {"name": name},
                operation_name="lxUpsertTagGroup",
                idempotent=True,
            )
            node = data.get("upsertTagGroup")
            if not isinstance(node, dict) or not node.get("id"):
                raise GraphQLError("upsertTagGroup returned no tag group")
            existing = _group_from(node, {})
        created = dict(existing.tags)
        for spec in missing:
            data = self._gql.execute(
                _UPSERT_TAG,
                {
                    "name": spec.name,
                    "group": name,
                    "description": spec.description,
                    "color": spec.color,
                },
                operation_name="lxUpsertTag",
                idempotent=True,
            )
            node = data.get("upsertTag")
            if not isinstance(node, dict) or not node.get("id"):
                raise GraphQLError(f"upsertTag returned no tag for {spec.name!r}")
            tag = _tag_from(node)
            created[tag.name] = tag.model_copy(update={"group_id": tag.group_id or existing.id})
        result = existing.model_copy(update={"tags": created})
        self.invalidate(name)
        self._store(name, result)
        logger.info(
            "tag group ensured",
            extra={"lx_tag_group": name, "lx_created_tags": [s.name for s in missing]},
        )
        return result
