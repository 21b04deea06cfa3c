"""``GET/PUT /_sandbox/config``: the runtime settings a test may change, in their JSON form.

Everything changed here is put back by ``/_sandbox/reset`` (from :class:`SandboxConfig`), so a
test that changes a setting cannot leak it into the next one. Unknown keys are refused: a typo
must not pass silently as "no change".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from lx_sandbox.emulator.json_checks import object_of, positive_number
from lx_sandbox.emulator.ratelimit import RateLimitSettings
from lx_sandbox.emulator.surveys import survey_apis_of

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator

JsonDict = dict[str, Any]
T = TypeVar("T")

_TOP_KEYS = frozenset(
    {
        "maxPageSize",
        "tokenLifetimeSeconds",
        "rateLimit",
        "acceptDoubleSlash",
        "cursorTtlSeconds",
        "delivery",
        "surveyApis",
    }
)
_RATE_LIMIT_KEYS = frozenset({"enabled", "limit", "windowSeconds", "retryAfter"})
_DELIVERY_KEYS = frozenset(
    {"maxAttempts", "backoffSeconds", "maxBackoffSeconds", "concurrency", "timeoutSeconds"}
)
#: Fixed when the server starts (the worker pool and HTTP client are built then).
_FIXED_DELIVERY = {"concurrency": "concurrency", "timeoutSeconds": "timeout_s"}


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}")
    return value


def _rate_limit(current: RateLimitSettings, value: Any) -> RateLimitSettings:
    doc = object_of(value, "rateLimit", _RATE_LIMIT_KEYS)
    settings = RateLimitSettings(
        enabled=_bool(doc.get("enabled", current.enabled), "rateLimit.enabled"),
        limit=_int(doc.get("limit", current.limit), "rateLimit.limit", 1),
        window_s=positive_number(
            doc.get("windowSeconds", current.window_s), "rateLimit.windowSeconds"
        ),
        retry_after=_bool(doc.get("retryAfter", current.retry_after), "rateLimit.retryAfter"),
    )
    settings.validate()
    return settings


def _opt(doc: JsonDict, key: str, convert: Callable[[Any], T]) -> T | None:
    value = doc.get(key)
    return None if value is None else convert(value)


def apply_config(emu: Emulator, body: JsonDict) -> None:
    """Validate the whole body first, then apply it (a 400 changes nothing)."""
    body = object_of(body, "config", _TOP_KEYS)
    settings = emu.dispatcher.settings
    delivery = object_of(body.get("delivery") or {}, "delivery", _DELIVERY_KEYS)
    for key, attr in _FIXED_DELIVERY.items():
        if key in delivery and delivery[key] != getattr(settings, attr):
            raise ValueError(f"delivery.{key} is fixed when the server starts (SandboxConfig)")
    rate_limit = _opt(body, "rateLimit", lambda v: _rate_limit(emu.limiter.settings, v))
    double_slash = _opt(body, "acceptDoubleSlash", lambda v: _bool(v, "acceptDoubleSlash"))
    ttl: float | None = emu.cursor_ttl_seconds
    if "cursorTtlSeconds" in body:  # null = unlimited, so presence matters here
        ttl = _opt(body, "cursorTtlSeconds", lambda v: positive_number(v, "cursorTtlSeconds"))
    survey_apis = _opt(body, "surveyApis", survey_apis_of)
    page = _opt(body, "maxPageSize", lambda v: _int(v, "maxPageSize", 1))
    lifetime = _opt(
        body, "tokenLifetimeSeconds", lambda v: positive_number(v, "tokenLifetimeSeconds")
    )
    attempts = _opt(delivery, "maxAttempts", lambda v: _int(v, "delivery.maxAttempts", 1))
    backoff = _opt(
        delivery, "backoffSeconds", lambda v: positive_number(v, "delivery.backoffSeconds")
    )
    max_backoff = _opt(
        delivery, "maxBackoffSeconds", lambda v: positive_number(v, "delivery.maxBackoffSeconds")
    )
    if page is not None:
        emu.max_page_size = page
    if lifetime is not None:
        emu.faults.token_lifetime = lifetime  # the same setting as faults.tokenLifetimeSeconds
    if attempts is not None:
        settings.max_attempts = attempts
    if backoff is not None:
        settings.backoff_s = backoff
    if max_backoff is not None:
        settings.max_backoff_s = max_backoff
    if rate_limit is not None:
        # Counters survive a settings change: a lower limit applies to the current window.
        emu.limiter.settings = rate_limit
    if double_slash is not None:
        emu.accept_double_slash = double_slash
    emu.cursor_ttl_seconds = ttl
    if survey_apis is not None:
        emu.survey_apis = survey_apis


def config_json(emu: Emulator) -> JsonDict:
    """The admin JSON form."""
    settings = emu.dispatcher.settings
    return {
        "maxPageSize": emu.max_page_size,
        "tokenLifetimeSeconds": emu.token_lifetime,
        "rateLimit": emu.limiter.settings.to_json(),
        "acceptDoubleSlash": emu.accept_double_slash,
        "cursorTtlSeconds": emu.cursor_ttl_seconds,
        "surveyApis": list(emu.survey_apis),
        "delivery": {
            "maxAttempts": settings.max_attempts,
            "backoffSeconds": settings.backoff_s,
            "maxBackoffSeconds": settings.max_backoff_s,
            "concurrency": settings.concurrency,
            "timeoutSeconds": settings.timeout_s,
        },
    }
