"""Fault injection: HTTP errors, latency and PUSH delivery failures, reproducible by seed.

Rules match by path prefix (and optionally method) and fire either for the next ``count``
matching requests or with probability ``rate`` drawn from a seeded RNG, so a failing test
replays the same faults.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass(slots=True)
class FaultRule:
    """One rule. ``status`` None means latency only."""

    id: int
    path_prefix: str = "/services/"
    method: str | None = None
    status: int | None = None
    retry_after: int | None = None
    rate: float | None = None
    count: int | None = None
    latency_ms: int = 0
    fired: int = 0

    @classmethod
    def from_json(cls, rule_id: int, doc: JsonDict) -> FaultRule:
        """Parse the admin JSON form; raises ValueError on nonsense."""
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
        if status is None and latency <= 0:
            raise ValueError("a rule needs a status or latencyMs")
        method = doc.get("method")
        return cls(
            id=rule_id,
            path_prefix=str(doc.get("pathPrefix") or "/services/"),
            method=str(method).upper() if method else None,
            status=int(status) if status is not None else None,
            retry_after=int(doc["retryAfter"]) if doc.get("retryAfter") is not None else None,
            rate=float(rate) if rate is not None else None,
            count=int(count) if count is not None else None,
            latency_ms=latency,
        )

    def to_json(self) -> JsonDict:
        """The admin JSON form."""
        return {
            "id": self.id,
            "pathPrefix": self.path_prefix,
            "method": self.method,
            "status": self.status,
            "retryAfter": self.retry_after,
            "rate": self.rate,
            "count": self.count,
            "latencyMs": self.latency_ms,
            "fired": self.fired,
        }


@dataclass(slots=True)
class DeliveryFaults:
    """PUSH faults: ``drop`` loses a delivery silently, ``fail`` records a failed attempt."""

    drop_rate: float = 0.0
    drop_next: int = 0
    fail_rate: float = 0.0
    fail_next: int = 0
    fail_status: int = 503

    @classmethod
    def from_json(cls, doc: JsonDict | None) -> DeliveryFaults:
        """Parse ``{"dropRate","dropNext","failRate","failNext","failStatus"}``."""
        doc = doc or {}
        return cls(
            drop_rate=float(doc.get("dropRate") or 0.0),
            drop_next=int(doc.get("dropNext") or 0),
            fail_rate=float(doc.get("failRate") or 0.0),
            fail_next=int(doc.get("failNext") or 0),
            fail_status=int(doc.get("failStatus") or 503),
        )

    def to_json(self) -> JsonDict:
        """The admin JSON form."""
        return {
            "dropRate": self.drop_rate,
            "dropNext": self.drop_next,
            "failRate": self.fail_rate,
            "failNext": self.fail_next,
            "failStatus": self.fail_status,
        }


@dataclass(slots=True)
class HttpFault:
    """What the middleware should do for one request."""

    latency_s: float = 0.0
    status: int | None = None
    retry_after: int | None = None


@dataclass
class FaultInjector:
    """All fault settings of one server; mutated through ``/_sandbox/faults``."""

    seed: int = 0
    latency_ms: int = 0
    token_lifetime: float | None = None
    rules: list[FaultRule] = field(default_factory=list)
    delivery: DeliveryFaults = field(default_factory=DeliveryFaults)
    injected: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._ids = itertools.count(1)

    def load(self, doc: JsonDict) -> None:
        """Replace every setting from the admin JSON form."""
        rules = [FaultRule.from_json(next(self._ids), r) for r in doc.get("rules") or []]
        delivery = DeliveryFaults.from_json(doc.get("delivery"))
        self.rules = rules
        self.delivery = delivery
        self.latency_ms = int(doc.get("latencyMs") or 0)
        if doc.get("seed") is not None:
            self.seed = int(doc["seed"])
            self.rng = random.Random(self.seed)
        lifetime = doc.get("tokenLifetimeSeconds")
        self.token_lifetime = float(lifetime) if lifetime is not None else None

    def add_rule(self, doc: JsonDict) -> FaultRule:
        """Append one rule."""
        rule = FaultRule.from_json(next(self._ids), doc)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every fault (the RNG restarts from the seed)."""
        self.rules = []
        self.delivery = DeliveryFaults()
        self.latency_ms = 0
        self.token_lifetime = None
        self.rng = random.Random(self.seed)

    def to_json(self) -> JsonDict:
        """The admin JSON form."""
        return {
            "seed": self.seed,
            "latencyMs": self.latency_ms,
            "tokenLifetimeSeconds": self.token_lifetime,
            "rules": [r.to_json() for r in self.rules],
            "delivery": self.delivery.to_json(),
            "injected": self.injected,
        }

    def for_request(self, method: str, path: str) -> HttpFault:
        """Decide latency and an optional error answer for one service request."""
        fault = HttpFault(latency_s=self.latency_ms / 1000.0)
        for rule in self.rules:
            if not path.startswith(rule.path_prefix):
                continue
            if rule.method is not None and rule.method != method:
                continue
            if rule.status is not None and fault.status is not None:
                continue  # the answer is decided; leave later error rules unconsumed
            if rule.count is not None:
                if rule.count <= 0:
                    continue
            elif rule.rate is not None and self.rng.random() >= rule.rate:
                continue
            if rule.count is not None:
                rule.count -= 1
            rule.fired += 1
            fault.latency_s += rule.latency_ms / 1000.0
            if rule.status is not None and fault.status is None:
                fault.status = rule.status
                fault.retry_after = rule.retry_after
        if fault.status is not None:
            self.injected += 1
        return fault

    def delivery_outcome(self) -> str | None:
        """``"drop"``, ``"fail"`` or None for the next PUSH attempt."""
        d = self.delivery
        if d.drop_next > 0:
            d.drop_next -= 1
            return "drop"
        if d.fail_next > 0:
            d.fail_next -= 1
            return "fail"
        if d.drop_rate and self.rng.random() < d.drop_rate:
            return "drop"
        if d.fail_rate and self.rng.random() < d.fail_rate:
            return "fail"
        return None
