"""PUSH delivery faults: lose, fail, delay, duplicate or reorder deliveries, reproducibly.

``drop``/``fail`` are decided per attempt (as before); ``delay``, ``duplicate`` and ``reorder``
once per event and subscription, when the delivery is queued. Each kind draws from its own RNG
derived from the injector's seed, so enabling one never shifts another's sequence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.fault_rules import derived_seed
from lx_sandbox.emulator.json_checks import object_of

JsonDict = dict[str, Any]
DEFAULT_REORDER_WINDOW_MS = 1000
DELIVERY_FAULT_KEYS = frozenset(
    {
        "dropRate", "dropNext", "failRate", "failNext", "failStatus", "delayMs", "delayJitterMs",
        "duplicateRate", "duplicateNext", "reorderRate", "reorderNext", "reorderWindowMs",
    }
)  # fmt: skip


def _rate(doc: JsonDict, key: str) -> float:
    value = float(doc.get(key) or 0.0)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"delivery.{key} must be within [0, 1]")
    return value


def _non_negative(doc: JsonDict, key: str, default: int = 0) -> int:
    raw = doc.get(key)
    value = int(raw) if raw is not None else default
    if value < 0:
        raise ValueError(f"delivery.{key} must be >= 0")
    return value


@dataclass(slots=True)
class DeliveryPlan:
    """How one queued delivery is disturbed before its first attempt."""

    hold_s: float = 0.0
    duplicate: bool = False
    labels: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DeliveryFaults:
    """PUSH faults: ``drop`` loses a delivery silently, ``fail`` records a failed attempt."""

    drop_rate: float = 0.0
    drop_next: int = 0
    fail_rate: float = 0.0
    fail_next: int = 0
    fail_status: int = 503
    delay_ms: int = 0
    delay_jitter_ms: int = 0
    duplicate_rate: float = 0.0
    duplicate_next: int = 0
    reorder_rate: float = 0.0
    reorder_next: int = 0
    reorder_window_ms: int = DEFAULT_REORDER_WINDOW_MS

    @classmethod
    def from_json(cls, doc: JsonDict | None) -> DeliveryFaults:
        """Parse the admin JSON form (see the README for every key)."""
        doc = object_of(doc or {}, "delivery", DELIVERY_FAULT_KEYS)
        fail_status = int(doc.get("failStatus") or 503)
        if not 400 <= fail_status <= 599:
            raise ValueError("delivery.failStatus must be a 4xx/5xx code")
        return cls(
            drop_rate=_rate(doc, "dropRate"),
            drop_next=_non_negative(doc, "dropNext"),
            fail_rate=_rate(doc, "failRate"),
            fail_next=_non_negative(doc, "failNext"),
            fail_status=fail_status,
            delay_ms=_non_negative(doc, "delayMs"),
            delay_jitter_ms=_non_negative(doc, "delayJitterMs"),
            duplicate_rate=_rate(doc, "duplicateRate"),
            duplicate_next=_non_negative(doc, "duplicateNext"),
            reorder_rate=_rate(doc, "reorderRate"),
            reorder_next=_non_negative(doc, "reorderNext"),
            reorder_window_ms=_non_negative(doc, "reorderWindowMs", DEFAULT_REORDER_WINDOW_MS),
        )

    def to_json(self) -> JsonDict:
        """The admin JSON form."""
        return {
            "dropRate": self.drop_rate,
            "dropNext": self.drop_next,
            "failRate": self.fail_rate,
            "failNext": self.fail_next,
            "failStatus": self.fail_status,
            "delayMs": self.delay_ms,
            "delayJitterMs": self.delay_jitter_ms,
            "duplicateRate": self.duplicate_rate,
            "duplicateNext": self.duplicate_next,
            "reorderRate": self.reorder_rate,
            "reorderNext": self.reorder_next,
            "reorderWindowMs": self.reorder_window_ms,
        }


class DeliveryDice:
    """One RNG per queue-time fault kind, derived from the injector's seed."""

    def __init__(self, seed: int) -> None:
        self.delay = random.Random(derived_seed(seed, "delivery:delay"))
        self.duplicate = random.Random(derived_seed(seed, "delivery:duplicate"))
        self.reorder = random.Random(derived_seed(seed, "delivery:reorder"))

    def plan(self, d: DeliveryFaults) -> DeliveryPlan:
        """Decide delay, reorder hold and duplication for one queued delivery.

        ``reorderNext`` holds for the whole window (deterministic); ``reorderRate`` holds for a
        random part of it, so later events may overtake.
        """
        plan = DeliveryPlan()
        if d.delay_ms or d.delay_jitter_ms:
            jitter = self.delay.uniform(0, d.delay_jitter_ms) if d.delay_jitter_ms else 0.0
            plan.hold_s += (d.delay_ms + jitter) / 1000.0
            plan.labels.append("delay")
        if d.reorder_next > 0:
            d.reorder_next -= 1
            plan.hold_s += d.reorder_window_ms / 1000.0
            plan.labels.append("reorder")
        elif d.reorder_rate and self.reorder.random() < d.reorder_rate:
            plan.hold_s += self.reorder.uniform(0, d.reorder_window_ms) / 1000.0
            plan.labels.append("reorder")
        if d.duplicate_next > 0:
            d.duplicate_next -= 1
            plan.duplicate = True
        elif d.duplicate_rate and self.duplicate.random() < d.duplicate_rate:
            plan.duplicate = True
        return plan
