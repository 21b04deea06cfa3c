"""What the timer functions share: a schedule that an app setting may override."""

from __future__ import annotations

import os


def schedule(setting: str, default: str) -> str:
    """``%SETTING%`` (the host resolves it) when the app setting is set, else ``default``: a
    missing setting must not stop the app from indexing."""
    return f"%{setting}%" if os.environ.get(setting) else default
