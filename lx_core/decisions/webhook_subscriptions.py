"""Which webhook subscriptions to create or update so LeanIX matches the config. Pure: no I/O.

Subscriptions are matched by ``identifier``; only subscriptions named in the config are managed,
everything else in the workspace is left alone unless pruning is asked for (``plan_prune``:
only identifiers with the given prefix, so another team's webhooks stay). A field is compared
only where the config sets it, so server-side defaults never show up as drift. A secret the
read does not return cannot be compared: it is reported as unverifiable and resent only when
asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lx_core.assumptions import SUBSCRIPTION_SECRET_FIELDS
from lx_core.errors import ConfigurationError


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    DELETE = "delete"


@dataclass(frozen=True)
class SubscriptionChange:
    """One managed subscription: what to do and which fields differ (names only, no values)."""

    identifier: str
    action: Action
    desired: Mapping[str, Any]
    existing_id: str | None = None
    changed_fields: tuple[str, ...] = field(default=())
    unverifiable_fields: tuple[str, ...] = field(default=())


def _normalise(name: str, value: Any) -> Any:
    if name == "tagSets" and isinstance(value, list):
        return sorted(tuple(sorted(str(t) for t in inner)) for inner in value)
    return value


def plan_subscriptions(
    desired: Sequence[Mapping[str, Any]],
    existing: Sequence[Mapping[str, Any]],
    *,
    resend_secrets: bool = False,
) -> list[SubscriptionChange]:
    """Compare desired subscriptions (camelCase dicts) with the workspace's, by identifier."""
    by_identifier: dict[str, Mapping[str, Any]] = {}
    for sub in existing:
        ident = sub.get("identifier")
        if not ident:
            continue
        if ident in by_identifier:
            raise ConfigurationError(
                f"the workspace has several subscriptions named {ident!r}; remove the duplicates"
            )
        by_identifier[ident] = sub
    seen: set[str] = set()
    changes: list[SubscriptionChange] = []
    for want in desired:
        ident = want.get("identifier")
        if not ident:
            raise ConfigurationError("every subscription in the config needs an identifier")
        if ident in seen:
            raise ConfigurationError(f"the config names subscription {ident!r} twice")
        seen.add(ident)
        have = by_identifier.get(ident)
        if have is None:
            changes.append(SubscriptionChange(ident, Action.CREATE, want))
            continue
        diff: list[str] = []
        unverifiable: list[str] = []
        for name, value in want.items():
            if name == "identifier":
                continue
            if name in SUBSCRIPTION_SECRET_FIELDS and have.get(name) is None:
                unverifiable.append(name)
                if resend_secrets:
                    diff.append(name)
            elif _normalise(name, value) != _normalise(name, have.get(name)):
                diff.append(name)
        action = Action.UPDATE if diff else Action.UNCHANGED
        changes.append(
            SubscriptionChange(
                ident, action, want, str(have.get("id")), tuple(diff), tuple(unverifiable)
            )
        )
    return changes


def plan_prune(
    desired: Sequence[Mapping[str, Any]],
    existing: Sequence[Mapping[str, Any]],
    *,
    prefix: str,
    workspace_id: str,
) -> list[SubscriptionChange]:
    """Deletions of this workspace's subscriptions the config does not name, whose identifier
    starts with ``prefix`` ("" takes every undeclared one). A subscription without an
    identifier, or of another workspace, is never pruned: nothing says it is ours."""
    declared = {str(w.get("identifier")) for w in desired}

    def prunable(sub: Mapping[str, Any]) -> bool:
        ident = str(sub.get("identifier") or "")
        workspace = sub.get("workspaceId")
        return (
            bool(sub.get("id"))
            and bool(ident)
            and ident not in declared
            and ident.startswith(prefix)
            and (workspace is None or workspace == workspace_id)
        )

    return [
        SubscriptionChange(str(sub.get("identifier")), Action.DELETE, {}, str(sub.get("id")))
        for sub in existing
        if prunable(sub)
    ]
