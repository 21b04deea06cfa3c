"""Shape checks of the two documents the Integration API receives: the LDIF and the processor
configuration (§5.3, §5.4). A problem is a :class:`DocumentError` naming the field, so the
route can answer 400 with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]

#: The five fields that bind an LDIF to a processor configuration ([V] §5.3).
IDENTITY_FIELDS = (
    "connectorType",
    "connectorId",
    "connectorVersion",
    "processingDirection",
    "processingMode",
)
_REQUIRED_LDIF = ("connectorType", "connectorId", "connectorVersion", "lxVersion")
_DIRECTIONS = ("inbound", "outbound")
_MODES = ("partial", "full")
#: [V] §5.3: LDIF strings are at most 500 characters.
MAX_STRING = 500

Identity = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class DocumentError(Exception):
    """One invalid field: ``field`` is a JSON-path-like name (``content[3].data``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _string(doc: JsonDict, name: str, *, required: bool) -> str | None:
    value = doc.get(name)
    if value is None:
        if required:
            raise DocumentError(name, "must not be null")
        return None
    if not isinstance(value, str):
        raise DocumentError(name, "must be a string")
    if len(value) > MAX_STRING:
        raise DocumentError(name, f"size must be between 0 and {MAX_STRING}")
    return value


def _direction_and_mode(doc: JsonDict) -> tuple[str, str]:
    direction = doc.get("processingDirection")
    if direction not in _DIRECTIONS:
        raise DocumentError("processingDirection", "must be one of inbound, outbound")
    mode = doc.get("processingMode")
    if mode is None:
        mode = "partial"  # [V] §5.3: partial is the default
    if mode not in _MODES:
        raise DocumentError("processingMode", "must be one of partial, full")
    return str(direction), str(mode)


def identity_of(doc: JsonDict) -> Identity:
    """The five connector fields of an LDIF or configuration (mode defaulted to partial)."""
    for name in IDENTITY_FIELDS[:3]:
        _string(doc, name, required=True)
    direction, mode = _direction_and_mode(doc)
    return (doc["connectorType"], doc["connectorId"], doc["connectorVersion"], direction, mode)


def identity_json(identity: Identity) -> JsonDict:
    """The identity as its five named fields."""
    return dict(zip(IDENTITY_FIELDS, identity, strict=True))


def check_ldif(doc: Any) -> JsonDict:
    """Validate an LDIF ([V] §5.3); returns it with ``processingMode`` and ``content`` filled."""
    if not isinstance(doc, dict):
        raise DocumentError("body", "expected an LDIF object")
    for name in _REQUIRED_LDIF:
        _string(doc, name, required=True)
    for name in ("lxWorkspace", "description"):
        _string(doc, name, required=False)
    _direction_and_mode(doc)
    custom = doc.get("customFields")
    if custom is not None and not isinstance(custom, dict):
        raise DocumentError("customFields", "must be an object")
    content = doc.get("content")
    if content is None:
        content = []
    if not isinstance(content, list):
        raise DocumentError("content", "must be a list")
    for i, item in enumerate(content):
        if not isinstance(item, dict):
            raise DocumentError(f"content[{i}]", "must be an object")
        for key in ("type", "id"):
            value = item.get(key)
            if not isinstance(value, str) or not value:
                raise DocumentError(f"content[{i}].{key}", "must be a non-empty string")
        if not isinstance(item.get("data"), dict):
            raise DocumentError(f"content[{i}].data", "must be an object")
    out = dict(doc)
    out.setdefault("processingMode", "partial")
    if out["processingMode"] is None:
        out["processingMode"] = "partial"
    out["content"] = content
    return out


def check_configuration(doc: Any) -> Identity:
    """Validate a processor configuration ([V] §5.4) enough to store and run it."""
    if not isinstance(doc, dict):
        raise DocumentError("body", "expected a processor configuration object")
    identity = identity_of(doc)
    processors = doc.get("processors")
    if processors is not None:
        if not isinstance(processors, list):
            raise DocumentError("processors", "must be a list")
        for i, proc in enumerate(processors):
            if not isinstance(proc, dict):
                raise DocumentError(f"processors[{i}]", "must be an object")
            if not isinstance(proc.get("processorType"), str):
                raise DocumentError(f"processors[{i}].processorType", "must not be null")
            run = proc.get("run", 0)
            if isinstance(run, bool) or not isinstance(run, int) or run < 0:
                raise DocumentError(f"processors[{i}].run", "must be an integer >= 0")
    if identity[3] == "outbound" and not isinstance(doc.get("scope"), dict):
        # [V] §5.4: an outbound configuration requires a scope (it may be empty).
        raise DocumentError("scope", "must not be null")
    return identity
