"""Test doubles for code built on lx_core.leanix: a fake clock and unsigned LeanIX-shaped JWTs.

Shipped with the library (no test-framework imports) so unit, contract and bench code can drive
the client deterministically: pass ``clock=FakeClock()`` and ``sleep=clock.sleep`` and every
back-off, refresh margin and pacing wait happens instantly and is recorded.
"""

from __future__ import annotations

import base64
import json
from typing import Any

DEFAULT_START = 1_700_000_000.0


class FakeClock:
    """A clock whose ``sleep`` advances time and records each requested wait."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def unsigned_jwt(
    *,
    instance_url: str | None = "https://acme.leanix.net",
    exp: float | None = DEFAULT_START + 3600,
    workspace_id: str = "ws-1",
    workspace_name: str = "acme",
    principal_id: str = "tu-1",
    nonce: str = "n",
) -> str:
    """A JWT shaped like a LeanIX access token, with a dummy signature (never verified)."""
    payload: dict[str, Any] = {
        "sub": "technical-user",
        "jti": nonce,
        "principal": {
            "id": principal_id,
            "permission": {"workspaceId": workspace_id, "workspaceName": workspace_name},
        },
    }
    if instance_url is not None:
        payload["instanceUrl"] = instance_url
    if exp is not None:
        payload["exp"] = exp
    return f"{_segment({'alg': 'RS256'})}.{_segment(payload)}.c2lnbmF0dXJl"
