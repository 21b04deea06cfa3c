"""MTM OAuth2: API token -> bearer access token (JWT), and bearer validation (§1).

The JWT is shaped like LeanIX's (RS256 header, the claims clients read, §1.3) but signed with
random bytes: clients must decode it without verifying, as LeanIX's own clients do.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lx_sandbox.emulator.state import User, Workspace


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(slots=True)
class IssuedToken:
    """Bookkeeping for one access token."""

    user_id: str
    expires_at: float


#: ``on_revoke(kind, rounds, tokens)``: ``kind`` is "periodic" or "manual".
RevocationListener = Callable[[str, int, int], None]


class TokenIssuer:
    """Issues and validates access tokens; survives workspace resets (users are re-checked).

    Periodic revocation (a fault) is evaluated lazily: every look at the token table first
    applies the revocation rounds that have passed, so no background task is needed.
    """

    def __init__(
        self,
        lifetime_seconds: float,
        *,
        on_revoke: RevocationListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lifetime = lifetime_seconds
        self._tokens: dict[str, IssuedToken] = {}
        self._on_revoke = on_revoke
        self._clock = clock
        self._revoke_every: float | None = None
        self._revoke_since = 0.0
        self._rounds = 0

    def revoke_every(self, seconds: float | None) -> None:
        """Invalidate every issued token each ``seconds``, counted from now (None = never)."""
        self._revoke_every = seconds
        self._revoke_since = self._clock()
        self._rounds = 0

    def revocation_json(self) -> dict[str, Any]:
        """``{everySeconds, rounds, nextInSeconds}`` of the periodic revocation (admin form)."""
        self.tick()
        every = self._revoke_every
        next_in = None
        if every is not None:
            next_in = round(self._revoke_since + (self._rounds + 1) * every - self._clock(), 3)
        return {"everySeconds": every, "rounds": self._rounds, "nextInSeconds": next_in}

    def tick(self) -> None:
        """Apply the periodic revocations that are due."""
        every = self._revoke_every
        if every is None:
            return
        rounds = int((self._clock() - self._revoke_since) // every)
        if rounds > self._rounds:
            invalidated = len(self._tokens)
            self._tokens.clear()
            if self._on_revoke is not None:
                self._on_revoke("periodic", rounds - self._rounds, invalidated)
            self._rounds = rounds

    def issue(self, user: User, ws: Workspace, instance_url: str) -> dict[str, Any]:
        """Mint a token for ``user`` and return the documented response body (§1.2)."""
        self.tick()
        now = time.time()
        lifetime = max(self.lifetime, 1.0)
        claims = {
            "exp": int(now + lifetime),
            "iat": int(now),
            # ASSUMPTION [I] §1.3: ``iss`` and ``instanceUrl`` are scheme://host[:port], no path.
            "iss": instance_url,
            "jti": str(uuid.uuid4()),
            # ASSUMPTION [I] §1.3: ``sub`` carries the principal's username.
            "sub": user.username,
            "instanceUrl": instance_url,
            "principal": {
                "id": user.id,
                "username": user.username,
                # ASSUMPTION [I] §1.3: account-level role/status values.
                "role": "ACCOUNTUSER",
                "status": "ACTIVE",
                "account": {"id": ws.account_id, "name": ws.account_name},
                "permission": {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{user.id}/{ws.id}")),
                    "workspaceId": ws.id,
                    "workspaceName": ws.name,
                    "role": user.role,
                    "status": "ACTIVE",
                    "customerRoles": [],
                },
            },
        }
        header = {"alg": "RS256", "typ": "JWT"}
        token = ".".join(
            (
                _b64url(json.dumps(header, separators=(",", ":")).encode()),
                _b64url(json.dumps(claims, separators=(",", ":")).encode()),
                _b64url(os.urandom(256)),
            )
        )
        self._tokens[token] = IssuedToken(user.id, now + lifetime)
        return {
            "scope": "",
            "expired": False,
            "access_token": token,
            "token_type": "bearer",
            "expires_in": max(int(lifetime) - 1, 0),
        }

    def revoke_all(self) -> None:
        """Invalidate every issued access token (tests of the client's 401 handling)."""
        invalidated = len(self._tokens)
        self._tokens.clear()
        if self._on_revoke is not None:
            self._on_revoke("manual", 1, invalidated)

    def validate(self, authorization: str | None) -> str | None:
        """User id behind a valid, unexpired ``Bearer`` header, else None."""
        if not authorization:
            return None
        self.tick()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        issued = self._tokens.get(token.strip())
        if issued is None:
            return None
        if issued.expires_at <= time.time():
            del self._tokens[token.strip()]
            return None
        return issued.user_id


def api_token_from_request(
    authorization: str | None, form: dict[str, str]
) -> tuple[str | None, str | None]:
    """Extract ``(api_token, problem)`` from Basic auth or the form forms of §1.1."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, "malformed Basic credentials"
        username, sep, password = decoded.partition(":")
        if not sep or username != "apitoken":
            return None, "the Basic user name must be 'apitoken'"
        return password, None
    # [V3] §1.1: client_id=apitoken&client_secret=<token> in the form body.
    if form.get("client_id") == "apitoken" and form.get("client_secret"):
        return form["client_secret"], None
    return None, "missing credentials"
