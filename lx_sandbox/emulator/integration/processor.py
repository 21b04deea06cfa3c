"""A processor of a configuration, compiled once per run: its filter, ``forEach`` and ``run``.

[V] §1 ``filter``: ``exactType`` equals the content type, ``type`` is a regex matched from the
start, ``id`` a regex on the content id, ``advanced`` a JUEL boolean, and all configured filters
must match. ``onRead`` needs the existing fact sheet, so the processor kinds evaluate it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lx_sandbox.emulator.integration.expr import render, truthy

JsonDict = dict[str, Any]
_FILTER_KEYS = frozenset({"exactType", "type", "id", "advanced", "onRead"})


class ProcessorError(Exception):
    """A processor that cannot run at all (e.g. an invalid filter regex)."""


@dataclass
class Processor:
    """One processor with its static filter parts compiled."""

    doc: JsonDict
    index: int
    name: str
    kind: str
    run: int
    exact_type: str | None
    type_re: re.Pattern[str] | None
    id_re: re.Pattern[str] | None
    advanced: Any
    on_read: Any
    mode: str
    #: Filter keys the emulator does not apply (``updatedInDuration`` ...).
    unsupported_filters: tuple[str, ...] = ()

    @property
    def label(self) -> tuple[str, int]:
        """``(processorName, index)`` for warnings."""
        return self.name, self.index

    @classmethod
    def compile(cls, doc: JsonDict, index: int) -> Processor:
        """Compile ``doc`` (raises :class:`ProcessorError`)."""
        flt = doc.get("filter") or {}
        if not isinstance(flt, dict):
            raise ProcessorError("filter must be an object")
        run = doc.get("run", 0)
        return cls(
            doc=doc,
            index=index,
            name=str(doc.get("processorName") or f"processor {index}"),
            kind=str(doc.get("processorType")),
            run=run if isinstance(run, int) and not isinstance(run, bool) else 0,
            exact_type=flt.get("exactType"),
            type_re=_regex(flt.get("type"), "filter.type"),
            id_re=_regex(flt.get("id"), "filter.id"),
            advanced=flt.get("advanced"),
            on_read=flt.get("onRead"),
            mode=str(doc.get("mode") or "createOrUpdate"),
            unsupported_filters=tuple(sorted(set(flt) - _FILTER_KEYS)),
        )

    def matches_static(self, content_type: str, content_id: str) -> bool:
        """The filter parts that need no expression: exactType, type and id."""
        if self.exact_type is not None and content_type != self.exact_type:
            return False
        if self.type_re is not None and self.type_re.match(content_type) is None:
            return False
        # ASSUMPTION [I] §1: ``id`` is matched from the start like ``type`` (re.match).
        return self.id_re is None or self.id_re.match(content_id) is not None

    def matches_advanced(self, ctx: Mapping[str, Any]) -> bool:
        """``filter.advanced`` (true when absent); raises ExprError."""
        return self.advanced is None or truthy(self.advanced, ctx)

    def iterations(self, ctx: Mapping[str, Any]) -> Iterator[JsonDict]:
        """The ``integration`` context of each ``forEach`` pass (one empty pass without it).

        [V] §1: forEach iterates lists and maps (valueOfForEach, keyOfForEach,
        indexOfForEach). ASSUMPTION [I]: the form is ``{"elementOf": expr, "filter": expr?}``;
        a bare expression string is accepted as ``elementOf``.
        """
        spec = self.doc.get("forEach")
        if spec is None:
            yield {}
            return
        if isinstance(spec, dict):
            element_of, flt = spec.get("elementOf"), spec.get("filter")
        else:
            element_of, flt = spec, None
        value = render(element_of, ctx)
        pairs: list[tuple[Any, Any]]
        if value is None:
            pairs = []
        elif isinstance(value, Mapping):
            pairs = list(value.items())
        elif isinstance(value, list | tuple):
            pairs = list(enumerate(value))
        else:
            pairs = [(0, value)]
        for index, (key, item) in enumerate(pairs):
            integration = {"valueOfForEach": item, "keyOfForEach": key, "indexOfForEach": index}
            if flt is not None and not truthy(flt, {**ctx, "integration": integration}):
                continue
            yield integration


def _regex(pattern: Any, name: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise ProcessorError(f"{name} must be a regular expression string")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ProcessorError(f"{name} is not a valid regular expression: {exc}") from exc
