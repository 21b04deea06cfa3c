"""The operation kind (``query`` / ``mutation``) of a GraphQL request body, for fault targeting.

Parsed with graphql-core and cached per query text, because clients send the same few texts
thousands of times. Only reads the body: the request reaches the app unchanged.
"""

from __future__ import annotations

import json
from collections import OrderedDict

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

_CACHE_SIZE = 512
_KINDS = {
    OperationType.QUERY: "query",
    OperationType.MUTATION: "mutation",
    OperationType.SUBSCRIPTION: "subscription",
}

#: query text -> {operation name (None = the only/anonymous one): kind}
_Ops = dict[str | None, str]


class OperationClassifier:
    """``kind(body)`` -> ``"query"``, ``"mutation"``, ``"subscription"`` or None."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, _Ops] = OrderedDict()

    def _operations(self, query: str) -> _Ops:
        cached = self._cache.get(query)
        if cached is not None:
            self._cache.move_to_end(query)
            return cached
        ops: _Ops = {}
        try:
            doc = parse(query)
        except GraphQLError:
            doc = None
        if doc is not None:
            defs = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
            for d in defs:
                ops[d.name.value if d.name else None] = _KINDS[d.operation]
            if len(defs) == 1:
                ops[None] = _KINDS[defs[0].operation]
        self._cache[query] = ops
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return ops

    def kind(self, body: bytes) -> str | None:
        """The kind of the operation a GraphQL request body would execute."""
        try:
            doc = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("query"), str):
            return None
        name = doc.get("operationName")
        return self._operations(doc["query"]).get(name if isinstance(name, str) else None)
