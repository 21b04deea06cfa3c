"""Load ``local.settings.json`` and ``host.json`` the way the Functions host does locally.

The worker applies ``local.settings.json`` ``Values`` to the process environment *before* it
imports the app, so module-level code and lazily read settings both see them. As with Core
Tools, a variable that is already set in the process environment wins over the file, which lets
a developer or a test override a single setting without editing the file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_ROUTE_PREFIX = "api"


def load_local_settings(
    path: Path, environ: MutableMapping[str, str] | None = None
) -> dict[str, str]:
    """Copy ``Values`` from ``path`` into ``environ`` unless already set; return what was applied.

    A missing file is normal (CI, fresh clones) and yields ``{}``; a malformed one raises
    ``ValueError`` because silently running without settings hides configuration bugs.
    """
    env = os.environ if environ is None else environ
    if not path.is_file():
        log.info("no local settings file at %s", path)
        return {}
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON: {exc}") from exc
    values = data.get("Values", {}) if isinstance(data, dict) else None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: 'Values' must be an object")
    applied: dict[str, str] = {}
    for key, value in values.items():
        if key in env:
            continue  # the process environment wins, as with Core Tools
        text = value if isinstance(value, str) else json.dumps(value)
        env[key] = text
        applied[key] = text
    return applied


def read_route_prefix(host_json: Path) -> str:
    """Return ``extensions.http.routePrefix`` from ``host_json`` (``"api"`` if absent)."""
    if not host_json.is_file():
        return DEFAULT_ROUTE_PREFIX
    data: Any = json.loads(host_json.read_text(encoding="utf-8"))
    prefix: Any = data.get("extensions", {}).get("http", {}).get("routePrefix")
    if prefix is None:
        return DEFAULT_ROUTE_PREFIX
    return str(prefix).strip("/")
