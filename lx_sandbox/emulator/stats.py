"""Request statistics, so benchmarks and tests can count calls without reaching into memory."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_ID_SEGMENT = re.compile(
    r"/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def endpoint_key(method: str, path: str) -> str:
    """``"GET /services/webhooks/v1/subscriptions/{id}"``: ids folded so keys stay few."""
    return f"{method} {_ID_SEGMENT.sub('/{id}', path)}"


@dataclass
class Stats:
    """Counters; reset through ``DELETE /_sandbox/stats``."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    graphql: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    faults_injected: int = 0
    tokens_issued: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        """Zero every counter in place (the dispatcher holds a reference)."""
        for counter in (
            self.requests,
            self.statuses,
            self.graphql,
            self.operations,
            self.deliveries,
        ):
            counter.clear()
        self.faults_injected = 0
        self.tokens_issued = 0

    def to_json(self) -> dict[str, Any]:
        """The admin JSON form."""
        return {
            "total": sum(self.requests.values()),
            "requests": dict(self.requests),
            "statusCodes": dict(self.statuses),
            "graphql": {
                "requests": self.graphql["requests"],
                "queries": self.graphql["queries"],
                "mutations": self.graphql["mutations"],
                "updateFactSheet": self.graphql["updateFactSheet"],
                "errors": self.graphql["errors"],
                "operationNames": dict(self.operations),
            },
            "faultsInjected": self.faults_injected,
            "tokensIssued": self.tokens_issued,
            "deliveries": {
                "attempts": self.deliveries["attempts"],
                "succeeded": self.deliveries["succeeded"],
                "failed": self.deliveries["failed"],
                "dropped": self.deliveries["dropped"],
            },
        }
