"""Helpers shared by the funchost tests (plain functions, so no conftest is needed)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from lx_sandbox.funchost import FunctionsHost

APP_MODULE = "tests.sandbox.funchost_app.function_app"
FUNCTION_KEY = "test-function-key"
MASTER_KEY = "test-master-key"
RARE_SCHEDULE = "0 0 0 1 1 *"  # once a year: never fires during a test

T = TypeVar("T")


@contextmanager
def restored_environ() -> Iterator[None]:
    """Undo every environment change (the host writes settings into ``os.environ``)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def write_settings(path: Path, values: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"IsEncrypted": False, "Values": values}), encoding="utf-8")
    return path


@contextmanager
def running_host(settings_file: Path, **kwargs: Any) -> Iterator[FunctionsHost]:
    """A started host on a free port with known keys and timers off unless asked for."""
    kwargs.setdefault("run_timers", False)
    kwargs.setdefault("function_key", FUNCTION_KEY)
    kwargs.setdefault("master_key", MASTER_KEY)
    with FunctionsHost(APP_MODULE, settings_file=settings_file, **kwargs) as host:
        yield host


def wait_for(probe: Callable[[], T | None], timeout: float = 5.0) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s")
