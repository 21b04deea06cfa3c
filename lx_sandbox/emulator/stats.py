"""Request statistics, so benchmarks and tests can count calls without reaching into memory.

Totals plus a split by user (the user behind the bearer or the exchanged API token), so a test
can prove which principal caused which traffic, 429s and no-op writes.
"""

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
class UserStats:
    """Counters of one user."""

    username: str
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    token_exchanges: int = 0
    rate_limited: int = 0
    update_fact_sheet: int = 0
    noop_writes: int = 0

    def to_json(self) -> dict[str, Any]:
        """The admin JSON form."""
        return {
            "username": self.username,
            "requests": self.requests,
            "statusCodes": dict(self.statuses),
            "tokenExchanges": self.token_exchanges,
            "rateLimited": self.rate_limited,
            "updateFactSheet": self.update_fact_sheet,
            "noopWrites": self.noop_writes,
        }


@dataclass
class Stats:
    """Counters; reset through ``DELETE /_sandbox/stats`` (and ``/_sandbox/reset``)."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    graphql: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    faults_injected: int = 0
    faults_by_kind: Counter[str] = field(default_factory=Counter)
    tokens_issued: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)
    users: dict[str, UserStats] = field(default_factory=dict)
    anonymous: UserStats = field(default_factory=lambda: UserStats("<anonymous>"))
    rate_limited: int = 0
    noop_writes: int = 0
    double_slash: int = 0
    revocations: Counter[str] = field(default_factory=Counter)

    def user(self, user_id: str | None, username: str = "") -> UserStats:
        """The counters of one user (created on first use); None = unauthenticated."""
        if user_id is None:
            return self.anonymous
        found = self.users.get(user_id)
        if found is None:
            found = self.users[user_id] = UserStats(username)
        return found

    def reset(self) -> None:
        """Zero every counter in place (the dispatcher holds a reference)."""
        for counter in (
            self.requests,
            self.statuses,
            self.graphql,
            self.operations,
            self.deliveries,
            self.faults_by_kind,
            self.revocations,
        ):
            counter.clear()
        self.users.clear()
        self.anonymous = UserStats("<anonymous>")
        self.faults_injected = 0
        self.tokens_issued = 0
        self.rate_limited = 0
        self.noop_writes = 0
        self.double_slash = 0

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
            "faultsByKind": dict(self.faults_by_kind),
            "tokensIssued": self.tokens_issued,
            "tokenRevocations": {
                "periodic": self.revocations["periodic"],
                "manual": self.revocations["manual"],
                "tokensInvalidated": self.revocations["tokensInvalidated"],
            },
            "rateLimited": self.rate_limited,
            "noopWrites": self.noop_writes,
            "doubleSlashRequests": self.double_slash,
            "deliveries": {
                "attempts": self.deliveries["attempts"],
                "succeeded": self.deliveries["succeeded"],
                "failed": self.deliveries["failed"],
                "dropped": self.deliveries["dropped"],
                "duplicated": self.deliveries["duplicated"],
                "delayed": self.deliveries["delayed"],
                "reordered": self.deliveries["reordered"],
                "retryAfterHonoured": self.deliveries["retryAfterHonoured"],
            },
            "users": {uid: u.to_json() for uid, u in self.users.items()},
            "anonymous": {
                "requests": self.anonymous.requests,
                "statusCodes": dict(self.anonymous.statuses),
            },
        }
