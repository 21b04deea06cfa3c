"""Webhook subscriptions as code: read the config file, plan against LeanIX, apply the plan.

The config (``infra/leanix/webhooks.json``) names subscriptions by ``identifier``; ``${NAME}``
placeholders come from the environment, so URLs, function keys and secrets never live in the
file, and ``callbackFile`` inlines a JavaScript callback kept next to it. Applying is
idempotent: unchanged subscriptions are not written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lx_core import assumptions
from lx_core.decisions.webhook_subscriptions import (
    Action,
    SubscriptionChange,
    plan_prune,
    plan_subscriptions,
)
from lx_core.errors import DocumentError
from lx_core.integration.documents import error_from_validation, json_path, read_json
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.webhooks import Subscription

DEFAULT_FILE = Path("infra/leanix/webhooks.json")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


#: The keys a subscription of the file may set: LeanIX's writable fields, and ``callbackFile``.
#: Anything else is refused by name, because ``Subscription`` keeps unknown keys (LeanIX's own,
#: on a read) and would send a typo (``targetURL``) to LeanIX instead of the field meant.
_FILE_KEYS = frozenset(
    {field.alias or name for name, field in Subscription.model_fields.items() if name != "id"}
    - assumptions.SUBSCRIPTION_READ_ONLY_FIELDS
    | {"callbackFile"}
)


def _interpolate(
    value: Any, environ: Mapping[str, str], missing: dict[str, str], parts: list[str | int]
) -> Any:
    """``value`` with ``${NAME}`` filled; each unset name is recorded with the JSON path where
    it first appears (an unset one becomes "", so validation still runs on the rest)."""
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ or not environ[name]:
                missing.setdefault(name, json_path(parts))
                return ""
            return environ[name]

        return _PLACEHOLDER.sub(sub, value)
    if isinstance(value, list):
        return [_interpolate(v, environ, missing, [*parts, i]) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _interpolate(v, environ, missing, [*parts, k]) for k, v in value.items()}
    return value


def load_desired(
    path: Path, environ: Mapping[str, str], *, workspace_id: str
) -> list[dict[str, Any]]:
    """The subscriptions the file asks for, as LeanIX API bodies (camelCase, no id).

    All or nothing: the first broken rule is one ``DocumentError`` naming the file, the JSON
    path and the rule (never a value: the placeholders fill in secrets)."""
    source = str(path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise DocumentError("must be an object", file=source, rule="type")
    for key in data:
        if key != "subscriptions" and not key.startswith("$"):
            raise DocumentError(
                "is not a key of this file", file=source, path=json_path([key]), rule="unknown-key"
            )
    entries = data.get("subscriptions")
    if not isinstance(entries, list):
        raise DocumentError(
            "a top-level 'subscriptions' list is required",
            file=source,
            path="$.subscriptions",
            rule="required" if entries is None else "type",
        )
    missing: dict[str, str] = {}
    desired: list[dict[str, Any]] = []
    for index, raw in enumerate(entries):
        at: list[str | int] = ["subscriptions", index]
        if not isinstance(raw, dict):
            raise DocumentError(
                f"subscription #{index} is not an object",
                file=source,
                path=json_path(at),
                rule="type",
            )
        entry = {k: v for k, v in raw.items() if not k.startswith("$")}
        unknown = next((k for k in entry if k not in _FILE_KEYS), None)
        if unknown is not None:
            raise DocumentError(
                "is not a field a subscription file may set",
                file=source,
                path=json_path([*at, unknown]),
                rule="unknown-key",
            )
        callback_file = entry.pop("callbackFile", None)
        if callback_file is not None and not isinstance(callback_file, str):
            raise DocumentError(
                "must be a string",
                file=source,
                path=json_path([*at, "callbackFile"]),
                rule="type",
            )
        if callback_file is not None:
            try:
                entry["callback"] = (path.parent / callback_file).read_text(encoding="utf-8")
            except OSError:
                raise DocumentError(
                    f"subscription #{index}: cannot read callbackFile {callback_file}",
                    file=source,
                    path=json_path([*at, "callbackFile"]),
                    rule="missing-reference",
                ) from None
        entry = _interpolate(entry, environ, missing, at)
        entry.setdefault("workspaceId", workspace_id)
        try:
            model = Subscription.model_validate(entry)
        except ValidationError as exc:
            # The identifier as written, before filling: a filled value may be a secret.
            where = raw.get("identifier", f"#{index}")
            first = error_from_validation(exc, source=source)
            field = first.path.removeprefix("$").lstrip(".")
            raise DocumentError(
                f"subscription {where}: {field + ' ' if field else ''}{first.message}",
                file=source,
                path=json_path(at) + first.path.removeprefix("$"),
                rule=first.rule,
            ) from None
        desired.append({k: v for k, v in model.to_api(include_id=False).items() if k in entry})
    if missing:
        names = sorted(missing)
        first_name = next(iter(missing))  # in file order: where the fix starts
        raise DocumentError(
            f"needs these environment variables: {', '.join(names)} "
            f"(${{{first_name}}} is the first without a value)",
            file=source,
            path=missing[first_name],
            rule="unset-placeholder",
            settings=names,
        )
    return desired


@dataclass(frozen=True)
class AppliedChange:
    change: SubscriptionChange
    subscription_id: str | None


class SubscriptionManager:
    """Plans and applies webhook subscriptions for one workspace."""

    def __init__(self, client: LeanIXClient) -> None:
        self._client = client

    def load(self, path: Path, environ: Mapping[str, str]) -> list[dict[str, Any]]:
        return load_desired(path, environ, workspace_id=self._client.claims.workspace_id or "")

    def plan(
        self,
        desired: list[dict[str, Any]],
        *,
        resend_secrets: bool = False,
        prune_prefix: str | None = None,
    ) -> list[SubscriptionChange]:
        """Creates, updates (drifted fields, event types included) and unchanged ones, by
        identifier; with ``prune_prefix``, also deletions of undeclared subscriptions whose
        identifier starts with it."""
        existing = [s.to_api() for s in self._client.webhooks.list_subscriptions()]
        changes = plan_subscriptions(desired, existing, resend_secrets=resend_secrets)
        if prune_prefix is not None:
            changes += plan_prune(
                desired,
                existing,
                prefix=prune_prefix,
                workspace_id=self._client.claims.workspace_id or "",
            )
        return changes

    def status(self, desired: list[dict[str, Any]]) -> list[SubscriptionStatus]:
        """Each declared subscription as LeanIX reports it, with its newest delivery."""
        webhooks = self._client.webhooks
        existing = {s.identifier: s for s in webhooks.list_subscriptions() if s.identifier}
        out: list[SubscriptionStatus] = []
        for want in desired:
            ident = str(want.get("identifier"))
            have = existing.get(ident)
            if have is None or have.id is None:
                out.append(SubscriptionStatus(ident, exists=False))
                continue
            latest = (
                webhooks.deliveries(have.id, page=1, size=1) if have.delivery_type == "PUSH" else []
            )
            out.append(
                SubscriptionStatus(
                    ident,
                    exists=True,
                    delivery_type=have.delivery_type,
                    active=have.active,
                    last_delivery_status=have.last_delivery_status,
                    error_count=have.error_count,
                    first_failed_delivery=have.first_time_delivery_failed,
                    latest_delivery=_safe_delivery(latest[0]) if latest else None,
                )
            )
        return out

    def apply(self, changes: list[SubscriptionChange]) -> list[AppliedChange]:
        """Create, update or (pruning) delete what the plan says; unchanged subscriptions
        cost nothing."""
        applied: list[AppliedChange] = []
        webhooks = self._client.webhooks
        for change in changes:
            if change.action is Action.CREATE:
                created = webhooks.create(Subscription.model_validate(change.desired))
                applied.append(AppliedChange(change, created.id))
            elif change.action is Action.UPDATE:
                if change.existing_id is None:
                    raise ValueError(f"update of {change.identifier} without an existing id")
                current = webhooks.get(change.existing_id).to_api()
                merged = {**current, **change.desired, "id": change.existing_id}
                updated = webhooks.update(Subscription.model_validate(merged))
                applied.append(AppliedChange(change, updated.id))
            elif change.action is Action.DELETE:
                if change.existing_id is None:
                    raise ValueError(f"delete of {change.identifier} without an existing id")
                webhooks.delete(change.existing_id)
                applied.append(AppliedChange(change, change.existing_id))
            else:
                applied.append(AppliedChange(change, change.existing_id))
        return applied


@dataclass(frozen=True)
class SubscriptionStatus:
    """How one declared subscription fares in LeanIX (its delivery figures, no secrets)."""

    identifier: str
    exists: bool
    delivery_type: str | None = None
    active: bool | None = None
    last_delivery_status: int | None = None
    error_count: int | None = None
    first_failed_delivery: str | None = None
    latest_delivery: Mapping[str, Any] | None = None


def check_coverage(path: Path, desired: list[dict[str, Any]]) -> None:
    """DocumentError naming ``path`` and every gap between it and the handlers; its JSON path
    is the first PUSH target no handler serves (``desired`` is in file order), else
    ``$.subscriptions``."""
    from lx_core.decisions.webhook_coverage import coverage_problems, target_route
    from lx_core.handlers.specs import SPECS

    problems = coverage_problems(SPECS, desired)
    if problems:
        routes = {spec.route for spec in SPECS}
        stray = next(
            (
                index
                for index, sub in enumerate(desired)
                if sub.get("deliveryType") == "PUSH"
                and target_route(str(sub.get("targetUrl") or "")) not in routes
            ),
            None,
        )
        raise DocumentError(
            "does not match the handlers: " + "; ".join(problems),
            file=str(path),
            path="$.subscriptions" if stray is None else f"$.subscriptions[{stray}].targetUrl",
            rule="handler-coverage",
        )


#: Delivery-log fields safe to show: LeanIX's record also holds the request headers (the
#: webhook secret) and the target URL (the function key).
_DELIVERY_FIELDS = ("createdAt", "httpStatus", "success", "duration", "eventId", "status")


def _safe_delivery(delivery: Mapping[str, Any]) -> dict[str, Any]:
    return {k: delivery[k] for k in _DELIVERY_FIELDS if k in delivery}
