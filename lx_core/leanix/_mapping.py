"""Turn HTTP answers and requests exceptions into lx_core errors, the same way everywhere.

Messages are built from fields we control (method, path without query string, status) plus
LeanIX's own text, which is passed through a redactor first so that a secret echoed by a server
can never reach a log or a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from lx_core import errors
from lx_core.leanix.retry import retry_after_of

Redact = Callable[[str], str]


def _no_redaction(text: str) -> str:
    return text


def path_only(path: str) -> str:
    """The path without query string or fragment, for error objects and logs."""
    return path.split("?", 1)[0].split("#", 1)[0]


def service_of(path: str) -> str:
    """The service name: the segment after ``/services/`` (``pathfinder``, ``mtm``, ...)."""
    parts = path_only(path).strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "services":
        return parts[1]
    return parts[0] if parts and parts[0] else "-"


def messages_from_body(body: Any) -> str | None:
    """LeanIX's explanation from a JSON body: ``message``, the REST envelope's
    ``errors[].messages``, or GraphQL's ``errors[].message``."""
    if not isinstance(body, dict):
        return None
    found: list[str] = []
    errs = body.get("errors")
    if isinstance(errs, list):
        for err in errs:
            if not isinstance(err, dict):
                continue
            msgs = err.get("messages")
            if isinstance(msgs, list):
                # The REST envelope names the offending field in ``value``; keep it.
                field = err.get("value")
                prefix = f"{field}: " if isinstance(field, str) and field else ""
                found.extend(f"{prefix}{m}" for m in msgs if m)
            if isinstance(err.get("message"), str):
                found.append(err["message"])
    for key in ("message", "error_description", "error"):
        value = body.get(key)
        if isinstance(value, str) and value and not found:
            found.append(value)
    return "; ".join(found) or None


def leanix_message(response: requests.Response, redact: Redact = _no_redaction) -> str | None:
    """LeanIX's message from a response: parsed from JSON when possible, else the raw text."""
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        return None
    if not text:
        return None
    try:
        message = messages_from_body(response.json())
    except ValueError:
        message = text
    return redact(message) if message else None


def error_from_response(
    response: requests.Response,
    *,
    method: str,
    path: str,
    redact: Redact = _no_redaction,
    now: float = 0.0,
) -> errors.APIError:
    """The APIError for an error status (after retries gave up)."""
    status = response.status_code
    cls = errors.error_for_status(status)
    kw: dict[str, Any] = {
        "method": method,
        "path": path_only(path),
        "status": status,
        "leanix_message": leanix_message(response, redact),
    }
    if cls is errors.RateLimitError:
        return errors.RateLimitError(
            "LeanIX rate limit still exceeded when the retry budget ran out",
            retry_after=retry_after_of(response, now),
            **kw,
        )
    if cls is errors.ServerError:
        return errors.ServerError(
            "LeanIX answered with a server error", retry_after=retry_after_of(response, now), **kw
        )
    if cls is errors.AuthenticationError:
        return errors.AuthenticationError(
            "LeanIX rejected the bearer token after one re-authentication", **kw
        )
    if cls is errors.PermissionDeniedError:
        return errors.PermissionDeniedError(
            "the technical user lacks the permission for this call", **kw
        )
    if cls is errors.NotFoundError:
        return errors.NotFoundError("LeanIX did not find the resource", **kw)
    return cls("LeanIX rejected the request", **kw)


def error_from_exception(
    exc: requests.RequestException, *, method: str, path: str, deadline_passed: bool = False
) -> errors.TransportError:
    """The TransportError for a request that got no HTTP answer. The text names only the kind of
    failure, never the request (whose headers hold the bearer token)."""
    kw: dict[str, Any] = {"method": method, "path": path_only(path)}
    if deadline_passed and isinstance(exc, requests.exceptions.Timeout):
        return errors.DeadlineExceededError(
            "LeanIX did not answer before the caller's deadline", **kw
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return errors.RequestTimeoutError("connecting to LeanIX timed out", **kw)
    if isinstance(exc, requests.exceptions.Timeout):
        return errors.RequestTimeoutError("LeanIX did not answer within the read timeout", **kw)
    return errors.TransportError(f"LeanIX could not be reached ({type(exc).__name__})", **kw)


def malformed_response(
    response: requests.Response, *, method: str, path: str, what: str
) -> errors.MalformedResponseError:
    """The error for a 2xx answer whose body is not the JSON it must be."""
    return errors.MalformedResponseError(
        f"LeanIX answered {response.status_code} but {what}",
        method=method,
        path=path_only(path),
        status=response.status_code,
    )


_UNPARSED = object()


def json_of(response: requests.Response) -> Any:
    """The decoded JSON body (None if it is not JSON), parsed once per response."""
    cached = response.__dict__.get("_lx_json", _UNPARSED)
    if cached is not _UNPARSED:
        return cached
    try:
        value = response.json()
    except ValueError:
        value = None
    response.__dict__["_lx_json"] = value
    return value


def is_not_json_object(response: requests.Response) -> bool:
    """True when the body is not a JSON object (an ``unusable`` check for the retry policy)."""
    return not isinstance(json_of(response), dict)
