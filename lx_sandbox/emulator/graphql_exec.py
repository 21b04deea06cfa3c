"""Executes GraphQL requests against the schema, with a parse/validate cache.

Clients send the same few query texts thousands of times, so parsing and validation are done
once per text. The response follows LeanIX's shape: ``{"data": ..., "errors": null}`` on success
([V] §2.8) and errors with ``extensions.errorType`` otherwise.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

from lx_sandbox.emulator.filters import REQUEST_LEVEL_ERRORS
from lx_sandbox.emulator.schema import GqlContext, build
from lx_sandbox.emulator.state import DataModel

JsonDict = dict[str, Any]
_CACHE_SIZE = 256


@dataclass(slots=True)
class Outcome:
    """The response body plus what the statistics need."""

    body: JsonDict
    operation: str | None
    operation_name: str | None
    error_count: int


class Executor:
    """A built schema plus a cache of parsed, validated documents."""

    def __init__(self, data_model: DataModel) -> None:
        self.schema: GraphQLSchema = build(data_model)
        self._cache: OrderedDict[str, DocumentNode | list[GraphQLError]] = OrderedDict()

    def _document(self, query: str) -> DocumentNode | list[GraphQLError]:
        cached = self._cache.get(query)
        if cached is not None:
            self._cache.move_to_end(query)
            return cached
        try:
            doc = parse(query)
        except GraphQLError as exc:
            result: DocumentNode | list[GraphQLError] = [exc]
        else:
            errors = validate(self.schema, doc)
            result = errors if errors else doc
        self._cache[query] = result
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    def run(
        self,
        query: str,
        variables: JsonDict | None,
        operation_name: str | None,
        ctx: GqlContext,
    ) -> Outcome:
        """Execute one request and format the response body."""
        doc = self._document(query)
        if isinstance(doc, list):
            errors = [_format(e) for e in doc]
            return Outcome({"data": None, "errors": errors}, None, operation_name, len(errors))
        op = get_operation_ast(doc, operation_name)
        kind = None
        if op is not None and op.name is not None:
            operation_name = op.name.value
        if op is not None:
            kind = "mutation" if op.operation == OperationType.MUTATION else "query"
            if op.operation == OperationType.SUBSCRIPTION:
                kind = "subscription"
        result = execute_sync(
            self.schema,
            doc,
            context_value=ctx,
            variable_values=variables,
            operation_name=operation_name,
        )
        data = result.data
        if result.errors:
            errors = [_format(e) for e in result.errors]
            if any(
                e.get("extensions", {}).get("errorType") in REQUEST_LEVEL_ERRORS for e in errors
            ):
                data = None
            return Outcome({"data": data, "errors": errors}, kind, operation_name, len(errors))
        return Outcome({"data": data, "errors": None}, kind, operation_name, 0)


def _format(error: GraphQLError) -> JsonDict:
    formatted: JsonDict = dict(error.formatted)
    extensions = formatted.get("extensions") or {}
    # ASSUMPTION [I] §2.8: errors without a LeanIX type (syntax, validation, coercion) are
    # reported with errorType "GRAPHQL_VALIDATION".
    extensions.setdefault("errorType", "GRAPHQL_VALIDATION" if error.path is None else "ERROR")
    formatted["extensions"] = extensions
    return formatted
