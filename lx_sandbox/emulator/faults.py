"""Fault injection settings of one server: HTTP rules, latency, token faults, PUSH faults.

Everything is reproducible by seed: each rule has its own RNG (``seed`` per rule, default
derived from the injector's seed and the rule id), and rule ids restart at 1 whenever the rule
set is replaced or cleared, so the same admin calls replay the same faults.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.delivery_faults import DeliveryDice, DeliveryFaults, DeliveryPlan
from lx_sandbox.emulator.fault_rules import FaultRule
from lx_sandbox.emulator.json_checks import list_of_objects, object_of
from lx_sandbox.emulator.request_info import RequestInfo

JsonDict = dict[str, Any]
FAULT_KEYS = frozenset(
    {"seed", "latencyMs", "tokenLifetimeSeconds", "tokenRevokeEverySeconds", "rules", "delivery"}
)

__all__ = ["DeliveryFaults", "DeliveryPlan", "FaultInjector", "FaultRule", "HttpFault"]


@dataclass(slots=True)
class HttpFault:
    """What the middleware should do for one request: wait, then maybe answer per ``rule``."""

    latency_s: float = 0.0
    rule: FaultRule | None = None


def _positive_or_none(doc: JsonDict, key: str) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    number = float(value)
    if number <= 0:
        raise ValueError(f"{key} must be > 0")
    return number


@dataclass
class FaultInjector:
    """All fault settings of one server; mutated through ``/_sandbox/faults``."""

    seed: int = 0
    latency_ms: int = 0
    token_lifetime: float | None = None
    token_revoke_every: float | None = None
    rules: list[FaultRule] = field(default_factory=list)
    delivery: DeliveryFaults = field(default_factory=DeliveryFaults)
    injected: int = 0

    def __post_init__(self) -> None:
        self._restart_randomness()

    def _restart_randomness(self) -> None:
        self.rng = random.Random(self.seed)  # drop/fail of PUSH attempts, as before
        self.dice = DeliveryDice(self.seed)
        self._ids = itertools.count(1)

    def load(self, doc: JsonDict) -> None:
        """Replace every setting from the admin JSON form (rule ids restart at 1)."""
        doc = object_of(doc, "faults", FAULT_KEYS, frozenset({"injected"}))
        seed = int(doc["seed"]) if doc.get("seed") is not None else self.seed
        ids = itertools.count(1)
        rules = [
            FaultRule.from_json(next(ids), r, base_seed=seed)
            for r in list_of_objects(doc.get("rules"), "rules")
        ]
        delivery = DeliveryFaults.from_json(doc.get("delivery"))
        lifetime = _positive_or_none(doc, "tokenLifetimeSeconds")
        revoke_every = _positive_or_none(doc, "tokenRevokeEverySeconds")
        latency = int(doc.get("latencyMs") or 0)
        if latency < 0:
            raise ValueError("latencyMs must be >= 0")
        self.seed = seed
        self._restart_randomness()
        self._ids = ids
        self.rules = rules
        self.delivery = delivery
        self.latency_ms = latency
        self.token_lifetime = lifetime
        self.token_revoke_every = revoke_every

    def add_rule(self, doc: JsonDict) -> FaultRule:
        """Append one rule."""
        rule = FaultRule.from_json(next(self._ids), doc, base_seed=self.seed)
        self.rules.append(rule)
        return rule

    def remove_rule(self, rule_id: int) -> FaultRule | None:
        """Remove one rule by id; None if there is none."""
        for i, rule in enumerate(self.rules):
            if rule.id == rule_id:
                return self.rules.pop(i)
        return None

    def clear(self) -> None:
        """Remove every fault (the RNGs restart from the seed, rule ids from 1)."""
        self.rules = []
        self.delivery = DeliveryFaults()
        self.latency_ms = 0
        self.token_lifetime = None
        self.token_revoke_every = None
        self._restart_randomness()

    def rules_json(self) -> list[JsonDict]:
        """Every rule in the admin JSON form."""
        now = time.monotonic()
        return [r.to_json(now) for r in self.rules]

    def to_json(self) -> JsonDict:
        """The admin JSON form."""
        return {
            "seed": self.seed,
            "latencyMs": self.latency_ms,
            "tokenLifetimeSeconds": self.token_lifetime,
            "tokenRevokeEverySeconds": self.token_revoke_every,
            "rules": self.rules_json(),
            "delivery": self.delivery.to_json(),
            "injected": self.injected,
        }

    def for_request(self, info: RequestInfo) -> HttpFault:
        """Decide latency and an optional forced answer for one service request.

        Latency-only rules add up; the first answering rule that fires decides the answer, and
        later answering rules are left unconsumed.
        """
        fault = HttpFault(latency_s=self.latency_ms / 1000.0)
        if not self.rules:
            return fault
        now = time.monotonic()
        for rule in self.rules:
            if rule.answers and fault.rule is not None:
                continue
            if not rule.matches(info) or not rule.active(now) or not rule.draw():
                continue
            rule.fired += 1
            fault.latency_s += rule.latency_ms / 1000.0
            if rule.answers:
                fault.rule = rule
        if fault.rule is not None:
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

    def delivery_plan(self) -> DeliveryPlan:
        """Delay, reorder and duplication for one queued PUSH delivery."""
        return self.dice.plan(self.delivery)
