"""``scope {facetFilters, ids}`` of outbound configurations, search identifiers and deletion
scopes, evaluated with the same facet logic as GraphQL's ``allFactSheets`` filter."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from lx_sandbox.emulator.filters import compile_filter
from lx_sandbox.emulator.state import FactSheet, Workspace


class ScopeError(Exception):
    """A scope the emulator cannot evaluate (an unknown facet key, a malformed document)."""


def select(ws: Workspace, scope: Any) -> list[FactSheet]:
    """Active fact sheets in ``scope`` in creation order; an empty scope selects all of them.

    [V] outbound processors page: "while the scope section needs to exist, it can be left
    completely empty ... this means that it will look at all Fact Sheets".
    """
    if scope is None:
        scope = {}
    if not isinstance(scope, dict):
        raise ScopeError("scope must be an object with facetFilters and ids")
    facets = scope.get("facetFilters") or []
    ids = scope.get("ids") or []
    if not isinstance(facets, list) or not all(isinstance(f, dict) for f in facets):
        raise ScopeError("scope.facetFilters must be a list of objects")
    if not isinstance(ids, list):
        raise ScopeError("scope.ids must be a list of fact sheet ids")
    try:
        query = compile_filter(ws, None, {"facetFilters": facets, "ids": ids})
    except (GraphQLError, KeyError, TypeError) as exc:
        raise ScopeError(f"scope cannot be evaluated: {exc}") from exc
    if ids and not facets:
        # Fast path: a scope of ids only needs no scan.
        found = (ws.fact_sheets.get(i) for i in dict.fromkeys(str(i) for i in ids))
        return sorted((fs for fs in found if fs and query.accepts(fs)), key=lambda f: f.seq)
    return [fs for fs in ws.iter_after(query.single_type, 0) if query.accepts(fs)]
