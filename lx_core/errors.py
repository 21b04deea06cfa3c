"""One error tree for everything lx-functions raises on purpose, with ``LxError`` at its root.

Catch at the level you can act on: answer 503 on anything ``retryable``, re-read on
``RevisionClashError``, fix configuration on ``ConfigurationError``. Every error carries what is
needed to diagnose it (status, method, path, LeanIX's own message and error type, the server's
``Retry-After``) and never a secret: messages are built from fields we control, and LeanIX's text
is redacted and truncated before it gets here.

    LxError                           root; ``retryable`` says whether trying later may succeed
    ├── ConfigurationError            a setting is missing or malformed; names it, never its value
    │   └── DocumentError             a JSON file breaks a rule: names file, JSON path and rule
    ├── EventParseError               a webhook body is not a LeanIX event (answered 400)
    ├── LdifError                     an LDIF header or content item breaks §5.3 (names the item)
    ├── StateError                    the state store (Azure Table storage) refused or failed
    │   ├── StateConflictError        the row exists already, or its ETag moved on (lost a race)
    │   ├── StateUnavailableError     the store could not be reached or answered 5xx   [retryable]
    │   └── LeaseLostError            another owner holds the lease we were renewing
    ├── StorageError                  Blob storage (results, inbound blobs) refused or failed
    │   ├── BlobExistsError           the blob exists already (an upload without overwrite)
    │   ├── BlobNotFoundError         the blob does not exist
    │   └── StorageUnavailableError   the service could not be reached or answered 5xx [retryable]
    ├── SourceError                   an inbound source could not be read or mapped
    │   └── SourceUnavailableError    no answer, timeout, 429 or 5xx after its retries [retryable]
    └── LeanIXError                   a LeanIX call failed
        ├── TransportError            no HTTP answer: connection refused, DNS, TLS     [retryable]
        │   ├── RequestTimeoutError   connect or read timeout                          [retryable]
        │   └── DeadlineExceededError the caller's deadline passed first               [retryable]
        ├── APIError                  LeanIX answered with an error status
        │   ├── AuthenticationError   401 after one re-authentication, or the token refused
        │   ├── PermissionDeniedError 403
        │   ├── NotFoundError         404
        │   ├── BadRequestError       any other 4xx
        │   ├── RateLimitError        429 still there when the retry budget ran out    [retryable]
        │   ├── ServerError           5xx still there when the retry budget ran out    [retryable]
        │   └── MalformedResponseError a 2xx whose body is not the JSON it must be     [retryable]
        └── GraphQLError              an ``errors`` array in the answer, even with HTTP 200
            └── RevisionClashError    REVISION_CLASH: the fact sheet changed under us  [retryable]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

_MAX_DETAIL = 300


def clip(text: str | None, limit: int = _MAX_DETAIL) -> str | None:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks a cut)."""
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LxError(Exception):
    """Root of every error lx-functions raises on purpose."""

    #: Whether the same call may succeed later without anyone changing anything.
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.message = message
        #: Seconds the other side asked us to wait (its ``Retry-After``), when it said so.
        self.retry_after = retry_after
        super().__init__(self._render())

    def _render(self) -> str:
        return self.message


class ConfigurationError(LxError):
    """A setting is missing or malformed. The message names the setting, never its value."""

    def __init__(self, message: str, *, settings: Sequence[str] = ()) -> None:
        self.settings = tuple(settings)
        super().__init__(message)


class DocumentError(ConfigurationError):
    """A configuration document (connector or processor file) breaks a rule.

    One error per document, naming the file, the JSON path (``$.processors[2].run``) and the rule
    id (``required``, ``type``, ``duplicate-key``, ...), so a CI log points at the exact line to
    fix. The message describes the rule, never the offending value (it may be a secret).
    ``settings`` names the environment variables a placeholder of the file lacks, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str,
        path: str = "$",
        rule: str,
        settings: Sequence[str] = (),
    ) -> None:
        self.file = file
        self.path = path
        self.rule = rule
        super().__init__(message, settings=settings)

    def _render(self) -> str:
        return f"{self.file}: {self.path}: {self.message} (rule: {self.rule})"


class LdifError(LxError):
    """An LDIF header or content item breaks the format (§5.3). ``path`` names the item
    (``$.content[12].id``) and ``rule`` the check; the item's data is never echoed."""

    def __init__(self, message: str, *, path: str = "$", rule: str) -> None:
        self.path = path
        self.rule = rule
        super().__init__(message)

    def _render(self) -> str:
        return f"{self.path}: {self.message} (rule: {self.rule})"


class EventParseError(LxError):
    """The body is not a LeanIX event; the message names the offending field, never its value."""


class StateError(LxError):
    """The state store refused or failed an operation."""

    def __init__(self, message: str, *, partition: str | None = None, key: str | None = None):
        self.partition = partition
        self.key = key
        super().__init__(message)

    def _render(self) -> str:
        if self.partition is None:
            return self.message
        return f"{self.message} [{self.partition}/{self.key}]"


class StateConflictError(StateError):
    """Insert of a row that exists, or a replace/delete whose ETag no longer matches."""


class StateUnavailableError(StateError):
    """The store could not be reached, timed out, or answered with a server error."""

    retryable = True


class LeaseLostError(StateError):
    """The lease we held was taken over (it expired and someone else acquired it)."""


class StorageError(LxError):
    """Blob storage refused or failed an operation; names the container and blob, never a key."""

    def __init__(self, message: str, *, container: str | None = None, name: str | None = None):
        self.container = container
        self.name = name
        super().__init__(message)

    def _render(self) -> str:
        if self.container is None:
            return self.message
        where = self.container if self.name is None else f"{self.container}/{self.name}"
        return f"{self.message} [{where}]"


class BlobExistsError(StorageError):
    """An upload without ``overwrite`` found the blob there already."""


class BlobNotFoundError(StorageError):
    """The blob (or its container) does not exist."""


class StorageUnavailableError(StorageError):
    """The Blob service could not be reached, timed out, or answered with a server error."""

    retryable = True


class SourceError(LxError):
    """An inbound source could not be read or mapped. ``url`` is the address without its query
    string (which may carry a key); the secret of the source's auth is never in the message."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.url = url
        self.status = status
        super().__init__(message, retry_after=retry_after)

    def _render(self) -> str:
        parts = [self.message]
        if self.url:
            parts.append(f"[{self.url}]")
        if self.status is not None:
            parts.append(f"status={self.status}")
        return " ".join(parts)


class SourceUnavailableError(SourceError):
    """No usable answer after the bounded retries: transport failure, timeout, 429 or 5xx."""

    retryable = True


class LeanIXError(LxError):
    """A LeanIX call failed."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        leanix_message: str | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.leanix_message = clip(leanix_message)
        self.error_type = error_type
        super().__init__(message, retry_after=retry_after)

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


class TransportError(LeanIXError):
    """The request got no HTTP answer (connection refused, DNS, TLS)."""

    retryable = True


class RequestTimeoutError(TransportError):
    """The connect or read timeout expired."""


class DeadlineExceededError(TransportError):
    """The caller's deadline passed before LeanIX gave a usable answer (nothing was waited
    for past it: timeouts, back-off and the token exchange are all capped by the time left)."""


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

    retryable = True


class ServerError(APIError):
    """5xx still returned when the retry budget ran out."""

    retryable = True


class MalformedResponseError(APIError):
    """A 2xx answer whose body is not the JSON it must be (a proxy's page, a cut-off body)."""

    retryable = True


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

    retryable = True


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
