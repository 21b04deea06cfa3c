"""One HTTP fault rule: what it matches, when it is active, what answer it forces.

A rule matches by path prefix, method, user, token, service and GraphQL operation; it fires for
the next ``count`` matches or with probability ``rate`` from its own seeded RNG (so adding a
rule never changes another rule's sequence), and only inside its time box.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.json_checks import object_of
from lx_sandbox.emulator.request_info import GRAPHQL_PATH, RequestInfo
from lx_sandbox.emulator.retry_after import FORMATS, SECONDS

JsonDict = dict[str, Any]

STATUS = "status"
PROCESSED_THEN_FAIL = "processed_then_fail"
GRAPHQL_ERRORS = "graphql_errors"
MALFORMED = "malformed"
KINDS = (STATUS, PROCESSED_THEN_FAIL, GRAPHQL_ERRORS, MALFORMED)
FAIL_AS = ("status", "timeout", "reset")
MALFORMED_BODIES = ("html", "truncated")
#: ``/services/<service>/...``; ``graphql`` is the Pathfinder GraphQL endpoint alone.
SERVICES = ("mtm", "pathfinder", "webhooks", "integration-api", "graphql")
OPERATIONS = ("query", "mutation")
#: Longer than the project's default read timeout (30 s), so a client gives up first.
DEFAULT_HOLD_MS = 35_000
DEFAULT_PROCESSED_STATUS = 502
RULE_KEYS = frozenset(
    {
        "pathPrefix", "method", "status", "retryAfter", "retryAfterFormat", "rate", "count",
        "latencyMs", "kind", "failAs", "holdMs", "errorType", "message", "malformedBody", "user",
        "token", "service", "operation", "startAfterSeconds", "durationSeconds", "seed",
    }
)  # fmt: skip
#: Keys of a rule's answer that are state, not settings (ignored when sent back).
RULE_STATE_KEYS = frozenset({"id", "active", "fired"})


def derived_seed(base: int, label: object) -> int:
    """A stable 48-bit seed for one consumer of randomness (rule id, delivery fault); below
    2**53, so it survives a JSON round trip through any client (JavaScript numbers too)."""
    digest = hashlib.sha256(f"{base}:{label}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def _opt_str(doc: JsonDict, key: str) -> str | None:
    value = doc.get(key)
    return None if value is None or value == "" else str(value)


def _opt_float(doc: JsonDict, key: str, *, minimum: float = 0.0) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    number = float(value)
    if number < minimum:
        raise ValueError(f"{key} must be >= {minimum:g}")
    return number


def _opt_int(doc: JsonDict, key: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    number = int(value)
    if number < 0:
        raise ValueError(f"{key} must be >= 0")
    return number


def _choice(doc: JsonDict, key: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    value = doc.get(key)
    if value is None:
        return default
    if value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}")
    return str(value)


@dataclass(slots=True)
class FaultRule:
    """One rule. ``kind="status"`` with ``status`` None means latency only."""

    id: int
    path_prefix: str = "/services/"
    method: str | None = None
    status: int | None = None
    retry_after: int | None = None
    retry_after_format: str = SECONDS
    rate: float | None = None
    count: int | None = None
    latency_ms: int = 0
    kind: str = STATUS
    fail_as: str | None = None
    hold_ms: int = DEFAULT_HOLD_MS
    error_type: str | None = None
    message: str | None = None
    malformed_body: str = "html"
    user: str | None = None
    token: str | None = None
    service: str | None = None
    operation: str | None = None
    start_after_s: float = 0.0
    duration_s: float | None = None
    seed: int = 0
    added_at: float = field(default_factory=time.monotonic)
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_json(cls, rule_id: int, doc: JsonDict, *, base_seed: int = 0) -> FaultRule:
        """Parse the admin JSON form; raises ValueError on nonsense."""
        doc = object_of(doc, "fault rule", RULE_KEYS, RULE_STATE_KEYS)
        kind = _choice(doc, "kind", KINDS, STATUS) or STATUS
        status = doc.get("status")
        if status is not None and not (400 <= int(status) <= 599):
            raise ValueError("status must be a 4xx/5xx code")
        rate = doc.get("rate")
        if rate is not None and not (0.0 <= float(rate) <= 1.0):
            raise ValueError("rate must be within [0, 1]")
        count = doc.get("count")
        if count is not None and int(count) < 0:
            raise ValueError("count must be >= 0")
        latency = int(doc.get("latencyMs") or 0)
        if kind == STATUS and status is None and latency <= 0:
            raise ValueError("a rule needs a status or latencyMs")
        fail_as = None
        if kind == PROCESSED_THEN_FAIL:
            fail_as = _choice(doc, "failAs", FAIL_AS, "status")
            if fail_as == "status":
                status = DEFAULT_PROCESSED_STATUS if status is None else status
                if not 500 <= int(status) <= 599:
                    raise ValueError("processed_then_fail answers with a 5xx status")
        hold = doc.get("holdMs")
        hold_ms = DEFAULT_HOLD_MS if hold is None else int(hold)
        if hold_ms < 0:
            raise ValueError("holdMs must be >= 0")
        duration = _opt_float(doc, "durationSeconds")
        if duration is not None and duration <= 0:
            raise ValueError("durationSeconds must be > 0")
        method = doc.get("method")
        seed = int(doc["seed"]) if doc.get("seed") is not None else derived_seed(base_seed, rule_id)
        return cls(
            id=rule_id,
            path_prefix=str(doc.get("pathPrefix") or "/services/"),
            method=str(method).upper() if method else None,
            status=int(status) if status is not None else None,
            retry_after=_opt_int(doc, "retryAfter"),
            retry_after_format=_choice(doc, "retryAfterFormat", FORMATS, SECONDS) or SECONDS,
            rate=float(rate) if rate is not None else None,
            count=int(count) if count is not None else None,
            latency_ms=latency,
            kind=kind,
            fail_as=fail_as,
            hold_ms=hold_ms,
            error_type=_opt_str(doc, "errorType"),
            message=_opt_str(doc, "message"),
            malformed_body=_choice(doc, "malformedBody", MALFORMED_BODIES, "html") or "html",
            user=_opt_str(doc, "user"),
            token=_opt_str(doc, "token"),
            service=_choice(doc, "service", SERVICES, None),
            operation=_choice(doc, "operation", OPERATIONS, None),
            start_after_s=_opt_float(doc, "startAfterSeconds") or 0.0,
            duration_s=duration,
            seed=seed,
            rng=random.Random(seed),
        )

    @property
    def answers(self) -> bool:
        """Whether the rule decides the answer (not latency only)."""
        return self.kind != STATUS or self.status is not None

    def active(self, now: float) -> bool:
        """Inside the time box (relative to when the rule was added)."""
        start = self.added_at + self.start_after_s
        if now < start:
            return False
        return self.duration_s is None or now < start + self.duration_s

    def matches(self, info: RequestInfo) -> bool:
        """Path, method and targeting; the operation is only parsed when a rule asks for it."""
        if not info.path.startswith(self.path_prefix):
            return False
        if self.method is not None and self.method != info.method:
            return False
        if self.service == "graphql":
            if info.path != GRAPHQL_PATH:
                return False
        elif self.service is not None and self.service != info.service:
            return False
        user = info.user
        if self.user is not None and (user is None or self.user not in (user.id, user.username)):
            return False
        if self.token is not None and (user is None or user.token != self.token):
            return False
        return self.operation is None or self.operation == info.operation()

    def draw(self) -> bool:
        """Consume one firing (``count``) or roll the rule's own dice (``rate``)."""
        if self.count is not None:
            if self.count <= 0:
                return False
            self.count -= 1
            return True
        return self.rate is None or self.rng.random() < self.rate

    def to_json(self, now: float | None = None) -> JsonDict:
        """The admin JSON form."""
        now = time.monotonic() if now is None else now
        return {
            "id": self.id,
            "kind": self.kind,
            "pathPrefix": self.path_prefix,
            "method": self.method,
            "status": self.status,
            "retryAfter": self.retry_after,
            "retryAfterFormat": self.retry_after_format,
            "rate": self.rate,
            "count": self.count,
            "latencyMs": self.latency_ms,
            "failAs": self.fail_as,
            "holdMs": self.hold_ms,
            "errorType": self.error_type,
            "message": self.message,
            "malformedBody": self.malformed_body,
            "user": self.user,
            "token": self.token,
            "service": self.service,
            "operation": self.operation,
            "startAfterSeconds": self.start_after_s,
            "durationSeconds": self.duration_s,
            "seed": self.seed,
            "active": self.active(now),
            "fired": self.fired,
        }
