"""Webhook plumbing shared by the HTTP functions: authenticate, bound, parse, answer.

Every failure becomes a short JSON answer: 401 for credentials, 413/400 for bodies, 503 when
LeanIX is unavailable (so LeanIX redelivers), 500 only for our own faults. Never a stack trace or
a secret to the caller; details go to the log.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import azure.functions as func

log = logging.getLogger(__name__)

Handler = Callable[[func.HttpRequest], func.HttpResponse]


class HttpProblemError(Exception):
    """An answer other than success, raised from anywhere inside a handler."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def json_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body),
        status_code=status,
        mimetype="application/json",
        headers=dict(headers or {}),
    )


def require_authorization(req: func.HttpRequest, expected: str) -> None:
    """The Authorization header must equal the configured secret (constant-time compare)."""
    given = req.headers.get("authorization") or ""
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise HttpProblemError(401, "missing or wrong Authorization header")


def read_json(req: func.HttpRequest, max_bytes: int) -> object:
    """The decoded JSON body, refusing oversized, empty and malformed ones."""
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise HttpProblemError(413, f"body exceeds {max_bytes} bytes")
    body = req.get_body() or b""
    if len(body) > max_bytes:
        raise HttpProblemError(413, f"body exceeds {max_bytes} bytes")
    if not body.strip():
        raise HttpProblemError(400, "body is empty; expected a LeanIX webhook event as JSON")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HttpProblemError(400, "body is not valid JSON") from None


def webhook_endpoint(handler: Handler) -> Handler:
    """Map every exception a webhook handler can raise to a safe answer."""

    @functools.wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        # Imported per call, not at module level: keeps `import function_app` (cold start) light.
        from lx_core.errors import (
            ConfigurationError,
            LeanIXError,
            RateLimitError,
            ServerError,
            TransportError,
        )
        from lx_core.events import EventParseError

        name = handler.__name__
        try:
            return handler(req)
        except HttpProblemError as problem:
            return json_response(problem.status, {"error": problem.message}, problem.headers)
        except EventParseError as exc:
            return json_response(400, {"error": f"not a LeanIX event: {exc}"})
        except ConfigurationError as exc:
            log.error("%s: configuration error: %s", name, exc, extra={"settings": exc.settings})
            return json_response(500, {"error": "the function is misconfigured; see its log"})
        except (TransportError, ServerError, RateLimitError) as exc:
            log.warning("%s: LeanIX unavailable: %s", name, exc)
            return json_response(
                503, {"error": "LeanIX is unavailable; retry later"}, {"Retry-After": "60"}
            )
        except LeanIXError as exc:
            log.error("%s: LeanIX call failed: %s", name, exc)
            return json_response(502, {"error": "a LeanIX call failed; see the function log"})
        except Exception:
            log.exception("%s: unexpected error", name)
            return json_response(500, {"error": "internal error; see the function log"})

    return wrapper
