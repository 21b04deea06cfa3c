"""Shape checks for admin JSON documents: an object, with only the keys it may have.

Admin documents are written by hand in tests; a misspelt key (``retry_after``) must be a 400
naming the known keys, not a silent "no such setting". Read-only keys of the answers (``id``,
``fired`` ...) are accepted and ignored, so a GET answer can be sent back as it is.
"""

from __future__ import annotations

from typing import Any

JsonDict = dict[str, Any]


def object_of(
    value: Any, name: str, keys: frozenset[str], read_only: frozenset[str] = frozenset()
) -> JsonDict:
    """``value`` as a dict, or ValueError if it is not an object or has an unknown key."""
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object")
    unknown = sorted(set(value) - keys - read_only)
    if unknown:
        raise ValueError(f"unknown {name} keys {unknown} (known: {sorted(keys)})")
    return value


def list_of_objects(value: Any, name: str) -> list[JsonDict]:
    """``value`` as a list of dicts (None = empty), or ValueError."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{name} must be a list of JSON objects")
    return value


def positive_number(value: Any, name: str) -> float:
    """A JSON number > 0 (not a bool, not a numeric string), or ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number > 0")
    return float(value)
