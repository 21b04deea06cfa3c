"""Load a local.settings.json-style file into the environment, as the Functions worker does."""

from __future__ import annotations

import json
import os
from pathlib import Path


def load_settings_file(path: Path, *, override: bool = False) -> list[str]:
    """Copy the file's ``Values`` into os.environ; existing variables win unless ``override``.

    Returns the names that were set. A missing file is not an error: the CLI also runs from
    a plain environment.
    """
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    values = data.get("Values", {}) if isinstance(data, dict) else {}
    applied = []
    for name, value in values.items():
        if isinstance(value, str) and (override or name not in os.environ):
            os.environ[name] = value
            applied.append(name)
    return applied
