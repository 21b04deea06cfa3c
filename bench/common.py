"""Shared plumbing: a hermetic environment, an emulator in its own process, clients, snapshots.

The emulator runs in a child process for the reconcile and memory benchmarks so that its CPU
(graphql-core) does not share our GIL and its allocations (event store, responses) never show up
in our tracemalloc peak: only the client side is measured, as it would be against real LeanIX.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests
from pydantic import SecretStr

from lx_core import runtime
from lx_core.config import LeanIXSettings, TimeSettings
from lx_core.leanix.client import LeanIXClient

ROOT = Path(__file__).resolve().parent.parent
TECHNICAL_TOKEN = "sandbox-technical-user-token"  # noqa: S105 - public sandbox token
MAX_PACE = 1800  # requests/min: LeanIX's documented per-user limit, the client's maximum
_ENV_PREFIXES = ("LEANIX_", "TIME_", "LX_WEBHOOK_", "LX_STATE_")


@contextmanager
def hermetic_env() -> Iterator[None]:
    """Hide the developer's LEANIX_/TIME_/LX_WEBHOOK_/LX_STATE_ settings, then restore them."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES)}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        for name in [k for k in os.environ if k.startswith(_ENV_PREFIXES)]:
            del os.environ[name]
        os.environ.update(saved)


def require(condition: object, message: object) -> None:
    """A benchmark's own sanity check: stop with ``message`` rather than report nonsense."""
    if not condition:
        raise RuntimeError(str(message))


def clear_process_caches() -> None:
    """Cold caches (bearer, pacer, tag groups, data model), so every run pays its own set-up."""
    runtime.reset_process_state()


def leanix_settings(url: str, *, requests_per_minute: int = MAX_PACE) -> LeanIXSettings:
    """Technical-user settings against the emulator, every field explicit."""
    return LeanIXSettings(
        api_token=SecretStr(TECHNICAL_TOKEN),
        host=url,
        connect_timeout=5.0,
        read_timeout=60.0,
        max_retries=3,
        retry_budget_seconds=60.0,
        backoff_initial_seconds=0.5,
        backoff_max_seconds=5.0,
        requests_per_minute=requests_per_minute,
        token_refresh_margin_seconds=60,
        page_size=100,
        cache_ttl_seconds=3600,
    )


def time_settings() -> TimeSettings:
    """The documented TIME defaults (tag target, batch size 25)."""
    return TimeSettings(target="tag", batch_size=25)


def make_client(url: str) -> LeanIXClient:
    return LeanIXClient(leanix_settings(url))


class EmulatorProcess:
    """``python -m lx_sandbox.emulator`` in a child process on 127.0.0.1; always stopped."""

    def __init__(self, seed: str, *, latency_ms: int = 0, start_timeout: float = 60.0) -> None:
        self._argv = [
            sys.executable,
            "-m",
            "lx_sandbox.emulator",
            "--port",
            "0",
            "--seed",
            seed,
            "--latency-ms",
            str(latency_ms),
        ]
        self._timeout = start_timeout
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> Self:
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            self._argv,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._proc.stdout
        if stdout is None:
            raise RuntimeError("the emulator process has no stdout pipe")
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=self._timeout).strip()
        except queue.Empty:
            self.stop()
            raise TimeoutError("the emulator did not start in time") from None
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"unexpected emulator output: {line!r}")
        self.url = line
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call to the emulator's ``/_sandbox`` admin API."""
        response = requests.request(method, f"{self.url}/_sandbox{path}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def reseed(self, applications: int, *, latency_ms: int = 0) -> None:
        """A freshly generated workspace (same RNG seed: same ids), zeroed stats, set latency."""
        self.admin("POST", "/seed", json={"generated": {"applications": applications, "seed": 42}})
        self.admin("PUT", "/faults", json={"latencyMs": latency_ms})
        self.admin("DELETE", "/stats")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "/stats")
        return result

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
