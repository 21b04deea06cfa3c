"""Webhook plumbing shared by the HTTP functions: authenticate, bound, parse, answer.

Every failure becomes a short JSON answer: 401 for credentials, 413/400 for bodies, 503 with
Retry-After whenever trying again later can help (so LeanIX redelivers), 500 only for our own
faults. Never a stack trace or
a secret to the caller; details go to the log.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from collections.abc import Callable, Mapping, Sequence
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


def require_authorization(req: func.HttpRequest, accepted: Sequence[str]) -> None:
    """The Authorization header must equal one accepted secret: the current one, or during a
    rotation the next one. Each is compared in constant time, and all of them always, so the
    answer's timing says neither whether nor which one matched."""
    given = (req.headers.get("authorization") or "").encode("utf-8")
    matches = [hmac.compare_digest(given, secret.encode("utf-8")) for secret in accepted]
    if not any(matches):
        raise HttpProblemError(401, "missing or wrong Authorization header")


def read_json(req: func.HttpRequest, max_bytes: int) -> object:
    """The decoded JSON body, refusing oversized, empty, malformed and too deeply nested ones."""
    from lx_core.events import loads_json

    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise HttpProblemError(413, f"body exceeds {max_bytes} bytes")
    body = req.get_body() or b""
    if len(body) > max_bytes:
        raise HttpProblemError(413, f"body exceeds {max_bytes} bytes")
    if not body.strip():
        raise HttpProblemError(400, "body is empty; expected a LeanIX webhook event as JSON")
    return loads_json(body)


def retry_after_header(error: Exception, default: int) -> dict[str, str]:
    """Retry-After for a 503: LeanIX's own wait when it gave one, else ``default`` seconds."""
    after = getattr(error, "retry_after", None)
    seconds = default if after is None else max(1, min(3600, round(after)))
    return {"Retry-After": str(seconds)}


def webhook_endpoint(handler: Handler) -> Handler:
    """Map every exception a webhook handler can raise to a safe answer.

    The answers that remain possible: 200 (done or ignored), 400 (not a LeanIX event), 401
    (credentials), 413 (too large), 503 with Retry-After (LeanIX unavailable, rate limited, out
    of time, or concurrent writers kept clashing: LeanIX redelivers), 502 (LeanIX refused the
    call for good: a bug to look into), 500 (misconfigured, or a bug of ours).
    """

    @functools.wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        # Imported per call, not at module level: keeps `import function_app` (cold start) light.
        from lx_core.errors import ConfigurationError, EventParseError, LeanIXError, LxError

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
        except LxError as exc:
            if exc.retryable:
                log.warning("%s: retry later: %s", name, exc)
                return json_response(
                    503,
                    {"error": "LeanIX is unavailable or busy; retry later"},
                    retry_after_header(exc, _default_retry_after()),
                )
            if isinstance(exc, LeanIXError):
                log.error("%s: LeanIX call failed: %s", name, exc)
                return json_response(502, {"error": "a LeanIX call failed; see the function log"})
            log.error("%s: failed: %s", name, exc)
            return json_response(500, {"error": "internal error; see the function log"})
        except RecursionError:
            return json_response(400, {"error": "not a LeanIX event: nested too deeply"})
        except Exception:
            log.exception("%s: unexpected error", name)
            return json_response(500, {"error": "internal error; see the function log"})

    return wrapper


def _default_retry_after() -> int:
    from lx_core import runtime

    try:
        return runtime.webhook_settings().retry_after_seconds
    except Exception:  # a broken setting must not hide the answer being built
        return 30
