"""``allFactSheets`` filtering and cursor pagination.

Candidates come from the per-type index when one type is selected, so a page costs O(page)
plus the skipped non-matching rows; ``totalCount`` is only computed when the query asks for it.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.patches import lx_error
from lx_sandbox.emulator.state import FactSheet, FieldValue, Workspace, single_selects

Predicate = Callable[[FactSheet], bool]

# ASSUMPTION [U] §2.1: the errorType/message of an invalid facet key and of a too-large page are
# not documented; these names are the emulator's.
INVALID_FACET_KEY = "INVALID_FACET_KEY"
INVALID_ARGUMENT = "INVALID_ARGUMENT"
# ASSUMPTION [U] §2.2: LeanIX documents neither how long a cursor stays valid nor the error for a
# stale or garbled one; the emulator answers both with this errorType (HTTP 200, no data).
INVALID_CURSOR = "INVALID_CURSOR"
#: Error types after which the whole response carries ``data: null`` ([V] §2.1 "no data").
REQUEST_LEVEL_ERRORS = frozenset({INVALID_FACET_KEY, INVALID_ARGUMENT, INVALID_CURSOR})
#: ASSUMPTION [I] §2.2: the facet key value that selects fact sheets without a value.
MISSING_KEY = "__missing__"
_CURSOR_PREFIX = "lxsandbox"


def encode_cursor(seq: int, issued_ms: int | None = None) -> str:
    """Opaque cursor for the fact sheet with sequence number ``seq``, stamped with its issue time
    (so a cursor lifetime can be enforced without server-side state)."""
    issued = int(time.time() * 1000) if issued_ms is None else issued_ms
    return base64.b64encode(f"{_CURSOR_PREFIX}:{seq}:{issued}".encode()).decode()


def decode_cursor(cursor: str, ttl_seconds: float | None = None) -> int:
    """Inverse of :func:`encode_cursor`; a garbled or (with a TTL) stale cursor is a request
    error with errorType INVALID_CURSOR, never a server error."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        prefix, seq, issued = text.split(":")
        number, issued_ms = int(seq), int(issued)
        if prefix != _CURSOR_PREFIX or number < 0:
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise lx_error(f"Invalid cursor {cursor!r}", INVALID_CURSOR) from exc
    if ttl_seconds is not None and time.time() * 1000 - issued_ms > ttl_seconds * 1000:
        raise lx_error(
            f"Cursor {cursor!r} has expired (valid for {ttl_seconds:g} s); start again",
            INVALID_CURSOR,
        )
    return number


def _single_valued(
    get: Callable[[FactSheet], FieldValue | None], operator: str, keys: list[str]
) -> Predicate:
    wanted = set(keys)
    if operator == "NOR":
        return lambda fs: (get(fs) or MISSING_KEY) not in wanted
    if operator == "AND" and len(wanted) > 1:
        return lambda fs: False
    return lambda fs: (get(fs) or MISSING_KEY) in wanted


def _tags(operator: str, keys: list[str]) -> Predicate:
    wanted = set(keys)
    if operator == "NOR":
        return lambda fs: wanted.isdisjoint(fs.tag_ids)
    if operator == "AND":
        return lambda fs: wanted <= set(fs.tag_ids)
    return lambda fs: not wanted.isdisjoint(fs.tag_ids)


@dataclass(slots=True)
class Query:
    """A compiled ``allFactSheets`` filter: candidate types plus predicates."""

    types: set[str] | None = None
    predicates: list[Predicate] = field(default_factory=list)
    include_archived: bool = False

    def accepts(self, fs: FactSheet) -> bool:
        """Whether a candidate fact sheet passes every predicate."""
        if fs.status == "ARCHIVED" and not self.include_archived:
            return False
        if self.types is not None and fs.type not in self.types:
            return False
        return all(p(fs) for p in self.predicates)

    @property
    def single_type(self) -> str | None:
        """The type index to scan, when exactly one type is selected."""
        if self.types is not None and len(self.types) == 1:
            return next(iter(self.types))
        return None


def compile_filter(ws: Workspace, fact_sheet_type: str | None, flt: dict[str, Any] | None) -> Query:
    """Turn ``factSheetType`` and ``filter`` arguments into a :class:`Query`."""
    q = Query()
    if fact_sheet_type is not None:
        q.types = {fact_sheet_type}
    flt = flt or {}
    # ASSUMPTION [U] §2.2: only single-select fields are facets; a number or text field as a
    # facet key is an invalid facet key.
    field_keys = {f for t in ws.data_model for f in single_selects(ws.data_model, t)}
    for facet in flt.get("facetFilters") or []:
        if facet is None:
            continue
        key: str = facet["facetKey"]
        operator: str = facet.get("operator") or "OR"
        keys = [k for k in (facet.get("keys") or []) if k is not None]
        if key == "FactSheetTypes":
            if not keys:
                continue
            if operator == "NOR":
                q.types = (q.types or set(ws.data_model)) - set(keys)
            elif operator == "AND" and len(set(keys)) > 1:
                q.types = set()
            else:
                q.types = set(keys) if q.types is None else q.types & set(keys)
        elif key == "lxState":
            q.predicates.append(_single_valued(lambda fs: fs.lx_state, operator, keys))
        elif key == "_TAGS_":
            # [V3] §2.2: the tag facet takes tag ids.
            q.predicates.append(_tags(operator, keys))
        elif key in ws.tag_groups:
            # ASSUMPTION [I] §2.2: a tag group's id is also a facet key taking its tag ids.
            q.predicates.append(_tags(operator, keys))
        elif key == "TrashBin":
            # ASSUMPTION [I] §2.2: archived fact sheets are hidden unless the TrashBin facet asks
            # for them (keys ["archived"]).
            if "archived" in keys:
                q.include_archived = True
                q.predicates.append(lambda fs: fs.status == "ARCHIVED")
        elif key in field_keys:
            if not keys:
                continue
            q.predicates.append(_single_valued(_field_getter(key), operator, keys))
        else:
            # [V] §2.1: since Aug 2023 an invalid facet key is an error with no data.
            raise lx_error(f"Invalid facet key: {key}", INVALID_FACET_KEY)
    ids = flt.get("ids")
    if ids:
        wanted = set(ids)
        q.predicates.append(lambda fs: fs.id in wanted)
    text = flt.get("fullTextSearch")
    if text:
        # ASSUMPTION [I] §2.2: full-text search is approximated by a case-insensitive name match.
        needle = str(text).casefold()
        q.predicates.append(lambda fs: needle in fs.name.casefold())
    return q


def _field_getter(key: str) -> Callable[[FactSheet], FieldValue | None]:
    return lambda fs: fs.fields.get(key)


class Connection:
    """One page of ``allFactSheets`` with lazily computed ``totalCount`` and facets."""

    def __init__(
        self,
        ws: Workspace,
        query: Query,
        *,
        first: int | None,
        after: str | None,
        max_page_size: int,
        cursor_ttl_seconds: float | None = None,
    ) -> None:
        if first is not None and first < 0:
            raise lx_error("Argument 'first' must not be negative", INVALID_ARGUMENT)
        # ASSUMPTION [U] §2.2: LeanIX's maximum ``first`` is unknown; it is configurable here
        # (default 10,000) and exceeding it is an error rather than a silent cap.
        if first is not None and first > max_page_size:
            raise lx_error(
                f"Requested page size {first} exceeds the maximum of {max_page_size}",
                INVALID_ARGUMENT,
            )
        self._ws = ws
        self._query = query
        after_seq = decode_cursor(after, cursor_ttl_seconds) if after else 0
        self._issued_ms = int(time.time() * 1000)  # one stamp for every cursor of the page
        # ASSUMPTION [I] §3.4: without ``first`` all matching fact sheets are returned (the
        # LeanIX TIME batch sample relies on that).
        limit = first if first is not None else len(ws.fact_sheets)
        nodes: list[FactSheet] = []
        self.has_next = False
        if query.types is None or query.types:
            for fs in ws.iter_after(query.single_type, after_seq):
                if not query.accepts(fs):
                    continue
                if len(nodes) >= limit:
                    self.has_next = True
                    break
                nodes.append(fs)
        self.nodes = nodes
        self.has_previous = after is not None
        self._total: int | None = None

    def total_count(self) -> int:
        """Number of all matching fact sheets (O(n); only when selected)."""
        if self._total is None:
            q = self._query
            if q.types is not None and not q.types:
                self._total = 0
            else:
                self._total = sum(
                    1 for fs in self._ws.iter_after(q.single_type, 0) if q.accepts(fs)
                )
        return self._total

    def edges(self) -> list[dict[str, Any]]:
        """Edges with opaque cursors."""
        return [{"node": fs, "cursor": self._cursor(fs)} for fs in self.nodes]

    def _cursor(self, fs: FactSheet) -> str:
        return encode_cursor(fs.seq, self._issued_ms)

    def page_info(self) -> dict[str, Any]:
        """Relay-style page info."""
        return {
            "hasNextPage": self.has_next,
            "hasPreviousPage": self.has_previous,
            "startCursor": self._cursor(self.nodes[0]) if self.nodes else None,
            "endCursor": self._cursor(self.nodes[-1]) if self.nodes else None,
        }

    def filter_options(self) -> dict[str, Any]:
        """Facets with counts over all matches (lets clients discover facet keys, §2.2)."""
        q = self._query
        matching = [fs for fs in self._ws.iter_after(q.single_type, 0) if q.accepts(fs)]
        types = sorted({fs.type for fs in matching})
        facets: list[dict[str, Any]] = [
            _facet(
                "FactSheetTypes",
                [(t, t) for t in self._ws.data_model],
                lambda fs: fs.type,
                matching,
            ),
            _facet(
                "lxState",
                [(s, s) for s in ("APPROVED", "BROKEN_QUALITY_SEAL", "DRAFT", "REJECTED")],
                lambda fs: fs.lx_state,
                matching,
            ),
        ]
        seen: set[str] = set()
        for t in types:
            for key, values in single_selects(self._ws.data_model, t).items():
                if key not in seen:
                    seen.add(key)
                    facets.append(
                        _facet(key, [(v, v) for v in values], _field_getter(key), matching)
                    )
        for group in self._ws.tag_groups.values():
            tags = [(self._ws.tags[t].name, t) for t in group.tag_ids]
            facets.append(
                {
                    "facetKey": group.id,
                    "results": [
                        {
                            "name": name,
                            "key": tid,
                            "count": sum(tid in fs.tag_ids for fs in matching),
                        }
                        for name, tid in tags
                    ],
                }
            )
        return {"facets": facets}


def _facet(
    key: str,
    values: list[tuple[str, str]],
    get: Callable[[FactSheet], FieldValue | None],
    matching: list[FactSheet],
) -> dict[str, Any]:
    counts: dict[FieldValue | None, int] = {}
    for fs in matching:
        v = get(fs)
        counts[v] = counts.get(v, 0) + 1
    return {
        "facetKey": key,
        "results": [{"name": name, "key": k, "count": counts.get(k, 0)} for name, k in values],
    }
