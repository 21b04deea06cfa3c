"""JSON documents under ``infra/leanix/``: read them strictly, validate them into models, and
turn the first broken rule into one ``DocumentError`` naming the file, the JSON path and the rule.

Strict means: a syntax error names its line and column, and a key given twice in one object is
an error (``duplicate-key``), because ``json`` would silently keep the last value and hide the
mistake. Messages describe the rule and never echo the offending value: a processor file may
hold credentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from lx_core.errors import DocumentError

__all__ = [
    "TAG_PREFIX",
    "DocumentError",
    "error_from_validation",
    "json_path",
    "parse_json",
    "read_json",
    "validate",
    "validate_with",
]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

#: Tags of our discriminated unions start with this, so they can be dropped from error paths
#: (pydantic puts the chosen union member into ``loc``; the document has no such key).
TAG_PREFIX = "~"

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")

# pydantic error types -> our rule ids (anything else keeps pydantic's type as its rule).
_RULES: dict[str, str] = {
    "missing": "required",
    "literal_error": "enum",
    "enum": "enum",
    "extra_forbidden": "unknown-key",
    "string_too_short": "length",
    "string_too_long": "length",
    "too_short": "length",
    "too_long": "length",
    "greater_than": "range",
    "greater_than_equal": "range",
    "less_than": "range",
    "less_than_equal": "range",
    "string_pattern_mismatch": "pattern",
    "value_error": "invalid",
    "assertion_error": "invalid",
    "union_tag_invalid": "type",
    "union_tag_not_found": "required",
}


def json_path(parts: Iterable[str | int]) -> str:
    """``$.processors[2].identifier`` from ``("processors", 2, "identifier")``; keys that are
    not identifiers are quoted: ``$.data["display name"]``."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


class _DuplicateKeyError(Exception):
    """Raised inside the object hook; the caller re-parses to find where."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


class _Marked(dict[str, Any]):
    """A parsed object that remembers the first key it saw twice (used only on the error path)."""

    duplicate: str | None = None


def _mark_duplicates(pairs: list[tuple[str, Any]]) -> _Marked:
    result = _Marked()
    for key, value in pairs:
        if key in result and result.duplicate is None:
            result.duplicate = key
        result[key] = value
    return result


def _find_duplicate(node: Any, parts: list[str | int]) -> list[str | int] | None:
    """The path of the first duplicated key, walking the document in order."""
    if isinstance(node, _Marked):
        if node.duplicate is not None:
            return [*parts, node.duplicate]
        for key, value in node.items():
            found = _find_duplicate(value, [*parts, key])
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _find_duplicate(value, [*parts, index])
            if found is not None:
                return found
    return None


def parse_json(text: str, *, source: str) -> Any:
    """Parse ``text`` strictly; ``DocumentError`` (``json-syntax`` or ``duplicate-key``)."""
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"not valid JSON at {exc.lineno}:{exc.colno}: {exc.msg}",
            file=source,
            path="$",
            rule="json-syntax",
        ) from None
    except _DuplicateKeyError:
        marked = json.loads(text, object_pairs_hook=_mark_duplicates)
        where = _find_duplicate(marked, []) or []
        raise DocumentError(
            "this key appears more than once in its object (JSON would keep only the last)",
            file=source,
            path=json_path(where),
            rule="duplicate-key",
        ) from None


def read_json(path: Path | str) -> Any:
    """The parsed JSON of a UTF-8 file (a BOM is tolerated); ``DocumentError`` otherwise."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"not UTF-8 text (byte {exc.start})", file=source, rule="encoding"
        ) from None
    except OSError as exc:
        raise DocumentError(
            f"cannot read the file ({exc.strerror or type(exc).__name__})",
            file=source,
            rule="unreadable",
        ) from None
    return parse_json(text, source=source)


_MESSAGES: dict[str, str] = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be an array",
}
_SHOULD = re.compile(r"^(Input|String|List|Value|Dictionary|Tuple|Set) should ")


def _message(error: ErrorDetails) -> str:
    """pydantic's message in the voice of the file's rules ("must be ..."), never the value."""
    kind = error["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    text = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = _SHOULD.sub("must ", text)
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _document_path(loc: Sequence[str | int]) -> str:
    return json_path(p for p in loc if not (isinstance(p, str) and p.startswith(TAG_PREFIX)))


def error_from_validation(exc: ValidationError, *, source: str) -> DocumentError:
    """The first error of a pydantic ``ValidationError`` as one ``DocumentError``."""
    first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    kind = first["type"]
    rule = _RULES.get(kind)
    if rule is None:
        rule = "type" if kind.endswith(("_type", "_parsing")) else kind
    return DocumentError(_message(first), file=source, path=_document_path(first["loc"]), rule=rule)


def validate(doc: Any, model: type[M], *, source: str) -> M:
    """``doc`` as ``model``, or the first broken rule as a ``DocumentError``."""
    if isinstance(doc, Mapping) and not isinstance(doc, dict):
        doc = dict(doc)
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise error_from_validation(exc, source=source) from None


def validate_with(doc: Any, adapter: TypeAdapter[T], *, source: str) -> T:
    """Like ``validate`` for a ``TypeAdapter`` (a discriminated union of models)."""
    if isinstance(doc, Mapping) and not isinstance(doc, dict):
        doc = dict(doc)
    try:
        return adapter.validate_python(doc)
    except ValidationError as exc:
        raise error_from_validation(exc, source=source) from None
