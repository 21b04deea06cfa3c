"""``updates[]``: pick each key's value, then write it to a fact sheet field.

[V] §1: each entry is ``{key {expr, regexReplace?}, values [{expr, regexMatch?, regexReplace?}],
optional}``; the match regex runs before the replace regex; ``optional`` suppresses "no value"
warnings; lifecycle uses dotted paths with ``yyyy-mm-dd`` dates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from lx_sandbox.emulator.integration.expr import as_text, render
from lx_sandbox.emulator.state import (
    LIFECYCLE_PHASES,
    FactSheet,
    Workspace,
    parse_value,
    single_selects,
    value_type,
)

JsonDict = dict[str, Any]
#: ASSUMPTION [I]: free fields of LeanIX's default data model the emulator stores as attributes
#: (anything else that is neither a single-select field nor below is an unknown field).
ATTRIBUTE_FIELDS = frozenset(
    {
        "alias",
        "release",
        "category",
        "orderedAt",
        "businessCriticalityDescription",
        "functionalSuitabilityDescription",
        "technicalSuitabilityDescription",
        "budgetOpEx",
        "budgetCapEx",
        "location",
        "projectStatus",
    }
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_JAVA_GROUP = re.compile(r"\$(\d+)|\$\{(\w+)\}")


class UpdateError(Exception):
    """A value that cannot be written; ``error`` = the write failed (not just skipped)."""

    def __init__(self, message: str, *, error: bool) -> None:
        super().__init__(message)
        self.error = error


def java_replacement(replace: str) -> str:
    """Java's ``$1`` / ``${name}`` replacement syntax in Python's ``\\g<1>`` form."""
    escaped = replace.replace("\\", "\\\\")
    return _JAVA_GROUP.sub(lambda m: f"\\g<{m.group(1) or m.group(2)}>", escaped)


def _replace(value: str, spec: Any) -> str:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("match"), str):
        return value
    return re.sub(spec["match"], java_replacement(str(spec.get("replace") or "")), value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | dict) and not value)


def pick_value(values: Any, ctx: Mapping[str, Any]) -> Any:
    """The first value that yields something non-empty (None if none does); ExprError."""
    for spec in values if isinstance(values, list) else []:
        raw = render(spec, ctx)
        if _empty(raw):
            continue
        if isinstance(spec, Mapping) and ("regexMatch" in spec or "regexReplace" in spec):
            text = as_text(raw) or ""
            match = spec.get("regexMatch")
            # ASSUMPTION [I] §1: regexMatch must match the whole value (Java's matches()).
            if isinstance(match, str) and re.fullmatch(match, text, re.DOTALL) is None:
                continue
            raw = _replace(text, spec.get("regexReplace"))
            if raw == "":
                continue
        return raw
    return None


def update_key(update: Mapping[str, Any], ctx: Mapping[str, Any]) -> str | None:
    """The rendered ``key`` of an update (its own ``regexReplace`` applied)."""
    spec = update.get("key")
    key = as_text(render(spec, ctx))
    if key is not None and isinstance(spec, Mapping) and "regexReplace" in spec:
        key = _replace(key, spec["regexReplace"]) or None
    return key


def set_field(ws: Workspace, fs: FactSheet, key: str, value: Any) -> None:
    """Write one value; raises :class:`UpdateError` (unknown field, bad value)."""
    if key == "name":
        text = as_text(value)
        if text is None:
            raise UpdateError("name cannot be empty", error=True)
        fs.name = text
    elif key == "description":
        fs.description = as_text(value)
    elif key.startswith("lifecycle."):
        phase = key.split(".", 1)[1]
        if phase not in LIFECYCLE_PHASES:
            raise UpdateError(f"Unknown lifecycle phase '{phase}'", error=False)
        text = as_text(value) or ""
        if _DATE.fullmatch(text) is None or not _valid_date(text):
            raise UpdateError(f"Invalid date '{text}' for {key} (expected yyyy-mm-dd)", error=True)
        # The same store as GraphQL's lifecycle (FactSheet.lifecycle), kept in phase order.
        fs.set_lifecycle({**fs.lifecycle, phase: text})
    elif kind := value_type(ws.data_model.get(fs.type, {}).get(key)):
        # ASSUMPTION [I]: a number or text field takes the value as a GraphQL patch does.
        try:
            fs.fields[key] = parse_value(kind, as_text(value))
        except ValueError as exc:
            raise UpdateError(
                f"Invalid value '{value}' for field {key}: {exc}", error=True
            ) from exc
    elif (allowed := single_selects(ws.data_model, fs.type).get(key)) is not None:
        text = as_text(value)
        if text is None or text not in allowed:
            raise UpdateError(
                f"Invalid value '{text}' for field {key} (allowed: {', '.join(allowed)})",
                error=True,
            )
        fs.fields[key] = text
    elif key == "externalId":
        text = as_text(value)
        if text is not None:
            ws.set_external_id(fs, "externalId", text)
    elif key in ATTRIBUTE_FIELDS:
        fs.attributes[key] = value
    else:
        raise UpdateError(f"Field '{key}' does not exist on {fs.type}", error=False)


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
