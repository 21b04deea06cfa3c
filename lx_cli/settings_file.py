"""Load a local.settings.json-style file into the environment, as the Functions worker does."""

from __future__ import annotations

import json
import os
from pathlib import Path


class SettingsFileError(ValueError):
    """The settings file exists but cannot be used; the message names the file and the fault."""


def load_settings_file(path: Path, *, override: bool = False) -> list[str]:
    """Copy the file's ``Values`` into os.environ; existing variables win unless ``override``.

    Returns the names that were set. A missing file is not an error: the CLI also runs from
    a plain environment. A malformed one is, and nothing from it is applied.
    """
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SettingsFileError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SettingsFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise SettingsFileError(f"{path}: expected a JSON object with a Values object")
    values = data.get("Values", {})
    if not isinstance(values, dict):
        raise SettingsFileError(f"{path}: Values must be an object of strings")
    wrong = sorted(name for name, value in values.items() if not isinstance(value, str))
    if wrong:
        raise SettingsFileError(f"{path}: Values.{wrong[0]} must be a string")
    applied = []
    for name, value in values.items():
        if override or name not in os.environ:
            os.environ[name] = value
            applied.append(name)
    return applied
