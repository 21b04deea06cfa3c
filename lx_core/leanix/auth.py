"""API token → bearer token (MTM OAuth2 client_credentials), its claims, and a per-process cache.

LeanIX asks clients to reuse a bearer for its lifetime, and a warm Functions worker serves many
invocations, so bearers live in a process-wide cache shared by every client. The cache is keyed by
(configured host, SHA-256 of the API token): two workspaces can be served side by side and no
secret is ever a dict key. One lock per key makes concurrent callers share one exchange.

The JWT payload is decoded without verifying the signature: it is used only to route calls
(``instanceUrl``) and to know when to refresh, never to make a trust decision.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, SecretStr

from lx_core import assumptions
from lx_core import deadline as deadline_module
from lx_core.config import LeanIXSettings
from lx_core.errors import AuthenticationError, DeadlineExceededError, LxError
from lx_core.leanix._mapping import error_from_response, leanix_message

logger = logging.getLogger(__name__)

TOKEN_PATH = "/services/mtm/v1/oauth2/token"  # noqa: S105 (a path, not a secret)

Clock = Callable[[], float]
#: Sends one unauthenticated request with pacing, timeouts and retries; returns the last answer.
Send = Callable[..., requests.Response]


def token_hash(settings: LeanIXSettings) -> str:
    """SHA-256 of the API token: safe to use as a cache key or to compare, never reversible."""
    return hashlib.sha256(settings.api_token.get_secret_value().encode()).hexdigest()


def cache_scope(settings: LeanIXSettings) -> tuple[str, str]:
    """The key of every per-process cache: (configured host, token hash)."""
    return (settings.base_url, token_hash(settings))


def decode_jwt_payload(token: str) -> dict[str, Any] | None:
    """The JSON payload of a JWT (base64url, padding restored), or None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        payload = json.loads(base64.urlsafe_b64decode(segment))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _dig(payload: dict[str, Any], path: tuple[str, ...]) -> str | None:
    node: Any = payload
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return str(node) if isinstance(node, str | int) and not isinstance(node, bool) else None


def _instance_url(raw: Any, configured: str) -> str:
    """The claim as ``scheme://host[:port]``; refuses anything that would leak the bearer."""
    if raw is None:
        return configured
    parts = urlsplit(str(raw).strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AuthenticationError(
            f"the access token's {assumptions.INSTANCE_URL_CLAIM} claim is not an http(s) URL"
        )
    if (
        assumptions.INSTANCE_URL_MUST_KEEP_HTTPS
        and parts.scheme == "http"
        and configured.startswith("https://")
    ):
        raise AuthenticationError(
            f"the access token's {assumptions.INSTANCE_URL_CLAIM} claim downgrades https to http"
        )
    return f"{parts.scheme}://{parts.netloc}"


class TokenClaims(BaseModel):
    """Routing facts from the access token: where to send calls, and who we are."""

    model_config = ConfigDict(frozen=True)

    instance_url: str
    workspace_id: str | None = None
    workspace_name: str | None = None
    principal_id: str | None = None
    principal_name: str | None = None
    workspace_role: str | None = None
    expires_at: float  #: epoch seconds (the JWT ``exp``, else derived from ``expires_in``)

    @classmethod
    def from_payload(
        cls, payload: dict[str, Any], *, configured_host: str, fallback_expiry: float
    ) -> TokenClaims:
        exp = payload.get("exp")
        return cls(
            instance_url=_instance_url(
                payload.get(assumptions.INSTANCE_URL_CLAIM), configured_host
            ),
            workspace_id=_dig(payload, assumptions.WORKSPACE_ID_CLAIM_PATH),
            workspace_name=_dig(payload, assumptions.WORKSPACE_NAME_CLAIM_PATH),
            principal_id=_dig(payload, assumptions.PRINCIPAL_ID_CLAIM_PATH),
            principal_name=_dig(payload, assumptions.PRINCIPAL_NAME_CLAIM_PATH),
            workspace_role=_dig(payload, assumptions.WORKSPACE_ROLE_CLAIM_PATH),
            expires_at=float(exp)
            if isinstance(exp, int | float) and not isinstance(exp, bool)
            else fallback_expiry,
        )


class BearerToken(BaseModel):
    """An access token with the moment it stops being usable and its decoded claims."""

    model_config = ConfigDict(frozen=True)

    access_token: SecretStr
    expires_at: float  #: epoch seconds: min(JWT exp, issue time + expires_in)
    claims: TokenClaims
    issued_at: float = 0.0  #: epoch seconds when the exchange was sent

    def authorization(self) -> str:
        """The ``Authorization`` header value. Never log it."""
        return f"Bearer {self.access_token.get_secret_value()}"


@dataclass
class _Slot:
    """One cached bearer and the exchange in flight for it, if any. ``lock`` guards both
    fields and is only ever held for a few assignments: never across I/O or a sleep."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    token: BearerToken | None = None
    inflight: Future[BearerToken] | None = None


_slots_lock = threading.Lock()
_slots: dict[tuple[str, str], _Slot] = {}

#: Followers retry as leader at most this often when a leader's exchange failed transiently.
_MAX_FOLLOW_ROUNDS = 3
#: A follower with no deadline waits at most this long for the leader (the leader's own retry
#: budget bounds it anyway; this only guards against a bug).
_MAX_FOLLOW_WAIT_SECONDS = 600.0


def _slot(key: tuple[str, str]) -> _Slot:
    with _slots_lock:
        return _slots.setdefault(key, _Slot())


def clear_token_cache() -> None:
    """Forget every cached bearer in this process (tests; after rotating a token)."""
    with _slots_lock:
        _slots.clear()


def refresh_margin(settings: LeanIXSettings, token: BearerToken) -> float:
    """How long before expiry to refresh: the configured margin, but never more than
    ``assumptions.MAX_REFRESH_MARGIN_FRACTION`` of the token's real lifetime, so a short-lived
    token is still used for most of its life instead of being exchanged on every call."""
    lifetime = max(0.0, token.expires_at - token.issued_at)
    return min(
        float(settings.token_refresh_margin_seconds),
        lifetime * assumptions.MAX_REFRESH_MARGIN_FRACTION,
    )


class TokenProvider:
    """Hands out a fresh bearer for one (host, API token), exchanging only when needed.

    Concurrent callers share one exchange (single flight): the first becomes the leader and
    exchanges outside every lock, with the transport's pacing, retries and back-off; the others
    wait for its result, bounded by their own deadline. A follower whose leader failed
    transiently tries once more itself, so one impatient webhook cannot fail a patient reconcile.
    """

    def __init__(
        self,
        settings: LeanIXSettings,
        *,
        send: Send,
        clock: Clock,
        on_exchange: Callable[[], None] | None = None,
    ) -> None:
        self._settings = settings
        self._send = send
        self._clock = clock
        self._on_exchange = on_exchange
        self._key = cache_scope(settings)

    @property
    def slot_lock(self) -> threading.Lock:
        """The lock guarding this provider's cache entry (tests check it is never held while
        anyone sleeps)."""
        return _slot(self._key).lock

    def peek(self) -> BearerToken | None:
        """The cached bearer if any (fresh or not), without I/O."""
        return _slot(self._key).token

    def get(self) -> BearerToken:
        """A bearer valid for at least its refresh margin more."""
        for _ in range(_MAX_FOLLOW_ROUNDS):
            slot = _slot(self._key)
            with slot.lock:
                token = slot.token
                if token is not None and self._fresh(token):
                    return token
                leader = slot.inflight is None
                if leader:
                    slot.inflight = Future()
                future = slot.inflight
            if future is None:  # pragma: no cover - set just above under the lock
                continue
            if leader:
                return self._lead(slot, future)
            try:
                return future.result(timeout=self._follow_timeout())
            except FutureTimeout:
                raise DeadlineExceededError(
                    "the deadline passed while waiting for the LeanIX token exchange",
                    method="POST",
                    path=TOKEN_PATH,
                ) from None
            except LxError as exc:
                if not exc.retryable or deadline_module.remaining() <= 0:
                    raise
                # The leader gave up (its deadline, or a transient fault); we may still try.
        raise DeadlineExceededError(
            "the LeanIX token exchange kept failing", method="POST", path=TOKEN_PATH
        )

    def _lead(self, slot: _Slot, future: Future[BearerToken]) -> BearerToken:
        try:
            token = self._exchange()
        except BaseException as exc:
            with slot.lock:
                slot.inflight = None
            future.set_exception(exc)
            raise
        with slot.lock:
            slot.token = token
            slot.inflight = None
        future.set_result(token)
        return token

    @staticmethod
    def _follow_timeout() -> float:
        return min(deadline_module.remaining(), _MAX_FOLLOW_WAIT_SECONDS)

    def invalidate(self, token: BearerToken) -> None:
        """Drop ``token`` after LeanIX rejected it (unless someone already replaced it)."""
        slot = _slot(self._key)
        with slot.lock:
            if slot.token is token:
                slot.token = None

    def _fresh(self, token: BearerToken) -> bool:
        return self._clock() < token.expires_at - refresh_margin(self._settings, token)

    def _exchange(self) -> BearerToken:
        url = self._settings.base_url + TOKEN_PATH
        secret = self._settings.api_token.get_secret_value()
        issued = self._clock()
        response = self._send(
            "POST",
            url,
            path=TOKEN_PATH,
            idempotent=assumptions.TOKEN_EXCHANGE_IS_IDEMPOTENT,
            auth=("apitoken", secret),
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        if self._on_exchange is not None:
            self._on_exchange()

        def redact(text: str) -> str:
            return text.replace(secret, "***")

        if response.status_code in assumptions.TOKEN_REFUSED_STATUSES:
            raise AuthenticationError(
                "LeanIX refused the API token; check LEANIX_API_TOKEN, the technical user's "
                "expiry date and LEANIX_HOST",
                method="POST",
                path=TOKEN_PATH,
                status=response.status_code,
                leanix_message=leanix_message(response, redact),
            )
        if response.status_code >= 400:
            raise error_from_response(
                response, method="POST", path=TOKEN_PATH, redact=redact, now=self._clock()
            )
        return self._parse(response, issued)

    def _parse(self, response: requests.Response, issued: float) -> BearerToken:
        try:
            body = response.json()
        except ValueError:
            body = None
        access = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access:
            raise AuthenticationError(
                "LeanIX's token endpoint answered without an access_token",
                method="POST",
                path=TOKEN_PATH,
                status=response.status_code,
            )
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        by_lifetime = issued + (
            float(expires_in)
            if isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
            else assumptions.DEFAULT_TOKEN_LIFETIME_SECONDS
        )
        payload = decode_jwt_payload(access)
        if payload is None:
            logger.warning(
                "LeanIX access token is not a JWT; routing to the configured host",
                extra={"lx_host": self._settings.base_url},
            )
            payload = {}
        claims = TokenClaims.from_payload(
            payload, configured_host=self._settings.base_url, fallback_expiry=by_lifetime
        )
        expires_at = min(claims.expires_at, by_lifetime)
        logger.debug(
            "LeanIX token exchanged",
            extra={
                "lx_instance_url": claims.instance_url,
                "lx_workspace_id": claims.workspace_id,
                "lx_expires_in": round(expires_at - issued),
            },
        )
        return BearerToken(
            access_token=SecretStr(access), expires_at=expires_at, issued_at=issued, claims=claims
        )
