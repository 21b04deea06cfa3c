"""DataModel: which fields a fact sheet type has, and the value order of its single-selects.

Workspaces can rename, add and reorder single-select values, so decisions must not hard-code
them. The order is read with standard GraphQL introspection (an [I] assumption recorded in
``lx_core.assumptions``) and cached per process for the TTL; callers fall back to defaults when
it answers None.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from lx_core.leanix.cache import ProcessCache
from lx_core.leanix.graphql import GraphQLClient

Clock = Callable[[], float]
#: field name → enum values in schema order; the enum's type name when the nested answer left its
#: values out (asked for on first use); None for a field that is not an enum
FieldMap = dict[str, tuple[str, ...] | str | None]

_TYPE_QUERY = """query lxType($t: String!) {
  __type(name: $t) {
    fields {
      name
      type { kind name enumValues { name } ofType { kind name enumValues { name } } }
    }
  }
}"""
_ENUM_QUERY = """query lxEnum($t: String!) { __type(name: $t) { kind enumValues { name } } }"""

_cache: ProcessCache[object] = ProcessCache()


def clear_datamodel_cache() -> None:
    """Forget every cached type in this process."""
    _cache.clear()


def _names(values: Any) -> tuple[str, ...] | None:
    if not isinstance(values, list):
        return None
    return tuple(str(v["name"]) for v in values if isinstance(v, Mapping) and v.get("name"))


def _enum_ref(type_ref: Any) -> tuple[str, ...] | str | None:
    """Enum values of a field type (one NON_NULL unwrapped), the enum's name if its values are
    missing, or None for a non-enum."""
    if isinstance(type_ref, Mapping) and type_ref.get("kind") == "NON_NULL":
        type_ref = type_ref.get("ofType")
    if not isinstance(type_ref, Mapping) or type_ref.get("kind") != "ENUM":
        return None
    values = _names(type_ref.get("enumValues"))
    if values is not None:
        return values
    name = type_ref.get("name")
    return str(name) if name else None


class DataModel:
    """Reads a fact sheet type's fields from the workspace schema."""

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

    def value_order(self, fact_sheet_type: str, field: str) -> tuple[str, ...] | None:
        """The enum values of ``field`` in schema order (worst first by LeanIX convention), or
        None when the type or field is unknown or the field is not an enum."""
        fields = self._fields(fact_sheet_type)
        ref = None if fields is None else fields.get(field)
        if isinstance(ref, str):
            return self._enum_values(ref)
        return ref

    def has_type(self, fact_sheet_type: str) -> bool:
        """Whether the workspace schema knows the type at all."""
        return self._fields(fact_sheet_type) is not None

    def has_field(self, fact_sheet_type: str, field: str) -> bool:
        fields = self._fields(fact_sheet_type)
        return fields is not None and field in fields

    def _cached(self, name: str, load: Callable[[], object]) -> object:
        return _cache.get_or_load((*self._gql.cache_scope, name), load, self._ttl, self._clock)

    def _fields(self, fact_sheet_type: str) -> FieldMap | None:
        fields = self._cached("type:" + fact_sheet_type, lambda: self._load(fact_sheet_type))
        return fields if isinstance(fields, dict) else None

    def _load(self, fact_sheet_type: str) -> FieldMap | None:
        data = self._gql.execute(_TYPE_QUERY, {"t": fact_sheet_type}, operation_name="lxType")
        type_ = data.get("__type")
        if not isinstance(type_, Mapping):
            return None
        return {
            str(f["name"]): _enum_ref(f.get("type"))
            for f in type_.get("fields") or ()
            if isinstance(f, Mapping) and f.get("name")
        }

    def _enum_values(self, enum_name: str) -> tuple[str, ...] | None:
        def load() -> tuple[str, ...] | None:
            data = self._gql.execute(_ENUM_QUERY, {"t": enum_name}, operation_name="lxEnum")
            return _names((data.get("__type") or {}).get("enumValues"))

        values = self._cached("enum:" + enum_name, load)
        return values if isinstance(values, tuple) else None
