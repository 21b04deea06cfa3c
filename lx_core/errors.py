"""One error hierarchy for everything lx_core raises.

Catch at the level you can act on: retry on ``TransportError``, re-read on ``RevisionClashError``,
fix configuration on ``ConfigurationError``. Every error carries what is needed to diagnose it
(status, method, path, LeanIX's own message and error type) and never a token: messages are built
from fields we control, and LeanIX's text is truncated.

    LeanIXError
    ├── ConfigurationError        a setting is missing or malformed; names the setting
    ├── TransportError            no HTTP answer: connection refused, DNS, TLS
    │   └── RequestTimeoutError   connect or read timeout
    ├── APIError                  LeanIX answered with an error status
    │   ├── AuthenticationError   401 after one re-authentication, or the token exchange refused
    │   ├── PermissionDeniedError 403
    │   ├── NotFoundError         404
    │   ├── BadRequestError       any other 4xx
    │   ├── RateLimitError        429 still there when the retry budget ran out
    │   └── ServerError           5xx still there when the retry budget ran out
    └── GraphQLError              an ``errors`` array in the answer, even with HTTP 200
        └── RevisionClashError    errorType REVISION_CLASH: the fact sheet changed under us
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_MAX_DETAIL = 300


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


class LeanIXError(Exception):
    """Root of every error lx_core raises."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        leanix_message: str | None = None,
        error_type: str | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.leanix_message = _clip(leanix_message)
        self.error_type = error_type
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.message]
        if self.method and self.path:
            parts.append(f"[{self.method} {self.path}]")
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.error_type:
            parts.append(f"errorType={self.error_type}")
        if self.leanix_message:
            parts.append(f"leanix: {self.leanix_message}")
        return " ".join(parts)


class ConfigurationError(LeanIXError):
    """A setting is missing or malformed. The message names the setting, never its value."""

    def __init__(self, message: str, *, settings: Sequence[str] = ()) -> None:
        self.settings = tuple(settings)
        super().__init__(message)


class TransportError(LeanIXError):
    """The request got no HTTP answer (connection refused, DNS, TLS)."""


class RequestTimeoutError(TransportError):
    """The connect or read timeout expired."""


class APIError(LeanIXError):
    """LeanIX answered with an HTTP error status."""


class AuthenticationError(APIError):
    """The API token was refused, or a 401 persisted after one re-authentication."""


class PermissionDeniedError(APIError):
    """403: the technical user lacks the permission."""


class NotFoundError(APIError):
    """404: the resource does not exist."""


class BadRequestError(APIError):
    """Any 4xx other than 401, 403, 404 and 429."""


class RateLimitError(APIError):
    """429 still returned when the retry budget ran out."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ServerError(APIError):
    """5xx still returned when the retry budget ran out."""


class GraphQLError(LeanIXError):
    """The GraphQL answer carried an ``errors`` array (LeanIX does this with HTTP 200)."""

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        data: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        self.errors = [dict(e) for e in errors]
        self.data = dict(data) if data is not None else None
        super().__init__(message, **kw)


class RevisionClashError(GraphQLError):
    """The fact sheet's revision moved on since we read it (errorType REVISION_CLASH)."""


def error_for_status(status: int) -> type[APIError]:
    """The APIError subclass for an HTTP status, so every layer maps statuses the same way."""
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    return BadRequestError
