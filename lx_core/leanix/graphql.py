"""GraphQLClient: Pathfinder GraphQL with errors raised, cursors as variables, batched writes.

LeanIX reports business and validation errors with HTTP 200 and an ``errors`` array, so every
answer is checked; a 200 whose body is not a JSON object is a MalformedResponseError. Queries are
idempotent and retried on 5xx and on unusable bodies; a mutation is retried there only when the
caller says replaying is harmless. ``update_fact_sheet(s)`` say so when every item
carries ``rev``: a replayed rev-guarded write fails as REVISION_CLASH instead of applying twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lx_core import assumptions
from lx_core.errors import GraphQLError, RevisionClashError
from lx_core.leanix._mapping import json_of
from lx_core.leanix.transport import HttpTransport

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_IGNORED = " \t\r\n,\ufeff"


def operation_type(document: str) -> Literal["query", "mutation", "subscription", "unknown"]:
    """The first operation keyword, found lexically (whitespace, commas and comments skipped).
    ``{`` is the query shorthand. Anything else (e.g. a leading fragment) is "unknown", which
    callers must treat as not idempotent."""
    i, n = 0, len(document)
    while i < n:
        if document[i] in _IGNORED:
            i += 1
        elif document[i] == "#":
            newline = document.find("\n", i)
            i = n if newline < 0 else newline + 1
        else:
            break
    if i >= n:
        return "unknown"
    if document[i] == "{":
        return "query"
    match = _NAME.match(document, i)
    word = match.group(0) if match else ""
    if word == "query":
        return "query"
    if word == "mutation":
        return "mutation"
    if word == "subscription":
        return "subscription"
    return "unknown"


def error_type_of(error: Mapping[str, Any]) -> str | None:
    """LeanIX's error type, from ``extensions.errorType`` or ``errorType`` (both are seen)."""
    for path in assumptions.ERROR_TYPE_PATHS:
        node: Any = error
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, str) and node:
            return node
    return None


def graphql_error(
    errors: Sequence[Mapping[str, Any]], data: Mapping[str, Any] | None = None
) -> GraphQLError:
    """One GraphQLError (RevisionClashError if any entry is a clash) for an ``errors`` array."""
    types = [t for t in (error_type_of(e) for e in errors) if t]
    messages = [str(e.get("message")) for e in errors if e.get("message")]
    clash = assumptions.REVISION_CLASH_ERROR_TYPE in types
    cls = RevisionClashError if clash else GraphQLError
    return cls(
        "LeanIX GraphQL answered with errors",
        errors=errors,
        data=data,
        method="POST",
        path=assumptions.GRAPHQL_PATH,
        leanix_message="; ".join(messages) or None,
        error_type=assumptions.REVISION_CLASH_ERROR_TYPE
        if clash
        else (types[0] if types else None),
    )


class Patch(BaseModel):
    """One JSON-patch-like operation of ``updateFactSheet``; ``value`` is a String, so complex
    values (tags, lifecycle) are JSON text."""

    model_config = ConfigDict(frozen=True)

    op: Literal["add", "replace", "remove"]
    path: str = Field(pattern=r"^/")
    value: str | None = None

    @classmethod
    def of_json(cls, op: Literal["add", "replace", "remove"], path: str, value: Any) -> Patch:
        """A patch whose value is ``value`` serialised as compact JSON text."""
        return cls(op=op, path=path, value=json.dumps(value, separators=(",", ":")))

    def to_variable(self) -> dict[str, str]:
        return self.model_dump(exclude_none=True)


class FactSheetUpdate(BaseModel):
    """One item of a batched update."""

    model_config = ConfigDict(frozen=True)

    id: str
    rev: int | None
    patches: tuple[Patch, ...]
    comment: str | None = None


@dataclass(frozen=True)
class UpdateOutcome:
    """Per-item result of ``update_fact_sheets``: the written fact sheet, or the error."""

    id: str
    fact_sheet: dict[str, Any] | None
    error: GraphQLError | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class FactSheetPage:
    """One page of ``allFactSheets``, for callers that show progress."""

    nodes: list[dict[str, Any]]
    total_count: int | None
    end_cursor: str | None
    has_next_page: bool


_PAGE_QUERY = """query lxFactSheetPage($first: Int!, $after: String, $filter: %(filter_type)s) {
  allFactSheets(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { %(selection)s } }
  }
}"""

_GET_QUERY = """query lxFactSheet($id: ID!) {
  factSheet(id: $id) { %s }
}"""

_UPDATE_ARGS = "id: $id{i}, rev: $rev{i}, comment: $comment{i}, patches: $patches{i}"
_UPDATE_DECLS = "$id{i}: ID!, $rev{i}: {rev}, $comment{i}: String, $patches{i}: [{patch}]!"


class GraphQLClient:
    """Pathfinder GraphQL over an HttpTransport."""

    def __init__(self, transport: HttpTransport, *, page_size: int | None = None) -> None:
        self.transport = transport
        self.page_size = page_size or transport.settings.page_size

    @property
    def cache_scope(self) -> tuple[str, str]:
        """(configured host, token hash): the key of per-process caches built on this client."""
        return self.transport.cache_scope

    @property
    def cache_ttl_seconds(self) -> float:
        return float(self.transport.settings.cache_ttl_seconds)

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        """Run one document and return its ``data``; raises GraphQLError on an ``errors`` array.
        ``idempotent`` defaults to True for queries and False for everything else."""
        data, errors = self._execute_raw(query, variables, operation_name, idempotent)
        if errors:
            raise graphql_error(errors, data)
        return data

    def _execute_raw(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        idempotent: bool | None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if idempotent is None:
            idempotent = operation_type(query) == "query"
        payload: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        if operation_name:
            payload["operationName"] = operation_name
        response = self.transport.request(
            "POST",
            assumptions.GRAPHQL_PATH,
            json=payload,
            idempotent=idempotent,
            expect_json=True,
        )
        body = json_of(response)
        raw_errors = body.get("errors")
        errors = [e for e in raw_errors if isinstance(e, dict)] if raw_errors else []
        if raw_errors and not errors:  # an errors array of non-objects is still an error
            errors = [{"message": str(e)} for e in raw_errors]
        data = body.get("data")
        return (data if isinstance(data, dict) else {}), errors

    # --- reading -------------------------------------------------------------------------------

    def iter_fact_sheet_pages(
        self,
        selection: str,
        *,
        fact_sheet_type: str | None = None,
        facet_filters: Sequence[Mapping[str, Any]] | None = None,
        page_size: int | None = None,
        after: str | None = None,
    ) -> Iterator[FactSheetPage]:
        """Pages of ``allFactSheets``, following ``pageInfo.endCursor`` as a variable, starting
        after the cursor ``after`` if given (a resumed walk). Stops with a GraphQLError if LeanIX
        claims more pages without a new cursor (never loops forever)."""
        facets: list[dict[str, Any]] = []
        if fact_sheet_type:
            facets.append(
                {
                    "facetKey": assumptions.FACT_SHEET_TYPES_FACET_KEY,
                    "operator": "OR",
                    "keys": [fact_sheet_type],
                }
            )
        facets.extend(dict(f) for f in facet_filters or ())
        query = _PAGE_QUERY % {
            "filter_type": assumptions.FILTER_INPUT_TYPE,
            "selection": selection,
        }
        variables: dict[str, Any] = {
            "first": page_size or self.page_size,
            "after": after,
            "filter": {"facetFilters": facets} if facets else None,
        }
        seen: set[str] = set()
        while True:
            connection = (
                self.execute(query, variables, operation_name="lxFactSheetPage").get(
                    "allFactSheets"
                )
                or {}
            )
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor")
            has_next = bool(info.get("hasNextPage"))
            nodes = [e["node"] for e in connection.get("edges") or () if e and e.get("node")]
            yield FactSheetPage(nodes, connection.get("totalCount"), cursor, has_next)
            if not has_next:
                return
            if not cursor or cursor in seen:
                raise GraphQLError(
                    "LeanIX reported another page without a new cursor",
                    method="POST",
                    path=assumptions.GRAPHQL_PATH,
                )
            seen.add(cursor)
            variables["after"] = cursor

    def iter_fact_sheets(
        self,
        selection: str,
        *,
        fact_sheet_type: str | None = None,
        facet_filters: Sequence[Mapping[str, Any]] | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching fact sheet (``edges[].node``), page by page."""
        for page in self.iter_fact_sheet_pages(
            selection,
            fact_sheet_type=fact_sheet_type,
            facet_filters=facet_filters,
            page_size=page_size,
        ):
            yield from page.nodes

    def get_fact_sheet(self, id: str, selection: str) -> dict[str, Any] | None:
        """One fact sheet, or None when LeanIX answers ``factSheet: null``."""
        data = self.execute(_GET_QUERY % selection, {"id": id}, operation_name="lxFactSheet")
        node = data.get("factSheet")
        return node if isinstance(node, dict) else None

    # --- writing -------------------------------------------------------------------------------

    def update_fact_sheet(
        self,
        id: str,
        patches: Sequence[Patch],
        *,
        rev: int | None,
        comment: str | None = None,
        validate_only: bool = False,
        selection: str = "id rev",
    ) -> dict[str, Any]:
        """Apply ``patches``; returns the fact sheet as ``selection`` describes it afterwards."""
        query = (
            f"mutation lxUpdateFactSheet($id: ID!, $rev: {assumptions.REV_SCALAR_TYPE}, "
            f"$comment: String, $patches: [{assumptions.PATCH_INPUT_TYPE}]!, "
            "$validateOnly: Boolean) {\n"
            "  updateFactSheet(id: $id, rev: $rev, comment: $comment, patches: $patches, "
            "validateOnly: $validateOnly) {\n"
            f"    factSheet {{ {selection} }}\n  }}\n}}"
        )
        variables = {
            "id": id,
            "rev": rev,
            "comment": comment,
            "patches": [p.to_variable() for p in patches],
            "validateOnly": validate_only,
        }
        data = self.execute(
            query, variables, operation_name="lxUpdateFactSheet", idempotent=rev is not None
        )
        fact_sheet = (data.get("updateFactSheet") or {}).get("factSheet")
        if not isinstance(fact_sheet, dict):
            raise GraphQLError(
                "updateFactSheet returned no fact sheet",
                method="POST",
                path=assumptions.GRAPHQL_PATH,
            )
        return fact_sheet

    def update_fact_sheets(
        self, updates: Sequence[FactSheetUpdate], *, selection: str = "id rev"
    ) -> list[UpdateOutcome]:
        """Several updates as aliased mutations (u0..uN) in one request. A failed item gets
        ``UpdateOutcome.error``; the others still succeed. An error not tied to an alias (a
        malformed document, say) fails the whole batch."""
        if not updates:
            return []
        decls, fields, variables = [], [], {}
        for i, update in enumerate(updates):
            decls.append(
                _UPDATE_DECLS.format(
                    i=i, rev=assumptions.REV_SCALAR_TYPE, patch=assumptions.PATCH_INPUT_TYPE
                )
            )
            fields.append(
                f"  u{i}: updateFactSheet({_UPDATE_ARGS.format(i=i)}) "
                f"{{ factSheet {{ {selection} }} }}"
            )
            variables.update(
                {
                    f"id{i}": update.id,
                    f"rev{i}": update.rev,
                    f"comment{i}": update.comment,
                    f"patches{i}": [p.to_variable() for p in update.patches],
                }
            )
        query = f"mutation lxUpdateFactSheets({', '.join(decls)}) {{\n" + "\n".join(fields) + "\n}"
        idempotent = all(u.rev is not None for u in updates)
        data, errors = self._execute_raw(query, variables, "lxUpdateFactSheets", idempotent)

        by_alias: dict[str, list[dict[str, Any]]] = {}
        for err in errors:
            path = err.get("path")
            alias = path[0] if isinstance(path, list) and path else None
            if not isinstance(alias, str) or not re.fullmatch(r"u\d+", alias):
                raise graphql_error(errors, data)
            by_alias.setdefault(alias, []).append(err)

        outcomes: list[UpdateOutcome] = []
        for i, update in enumerate(updates):
            alias = f"u{i}"
            fact_sheet = (data.get(alias) or {}).get("factSheet")
            if alias in by_alias:
                outcomes.append(UpdateOutcome(update.id, None, graphql_error(by_alias[alias])))
            elif isinstance(fact_sheet, dict):
                outcomes.append(UpdateOutcome(update.id, fact_sheet, None))
            else:
                missing = GraphQLError(
                    "updateFactSheet returned no fact sheet",
                    method="POST",
                    path=assumptions.GRAPHQL_PATH,
                )
                outcomes.append(UpdateOutcome(update.id, None, missing))
        return outcomes
