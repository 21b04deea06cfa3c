"""Does webhooks.json carry what the handlers declare? Pure: specs and subscriptions in,
problems out.

Every handler needs a PUSH subscription targeting its route whose tag sets carry each of its
event types; every PUSH subscription must target some handler's route. A gap either way is an
error: an event nobody receives, or deliveries to a route that does not exist (404s LeanIX
retries, then disables the subscription).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from lx_core.handlers.specs import HandlerSpec


def target_route(target_url: str) -> str | None:
    """The route under /api/ a target URL calls (``leanix/time``), or None."""
    path = urlsplit(target_url).path
    marker = "/api/"
    at = path.find(marker)
    return path[at + len(marker) :].strip("/") if at >= 0 else None


def coverage_problems(
    specs: Sequence[HandlerSpec], subscriptions: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Every gap between the handlers and the PUSH subscriptions, as readable lines."""
    problems: list[str] = []
    by_route = {spec.route: spec for spec in specs}
    carried: dict[str, set[str]] = {spec.name: set() for spec in specs}
    for sub in subscriptions:
        if sub.get("deliveryType") != "PUSH":
            continue
        ident = sub.get("identifier", "?")
        route = target_route(str(sub.get("targetUrl") or ""))
        spec = by_route.get(route or "")
        if spec is None:
            problems.append(
                f"subscription {ident} targets {route or 'no /api/ route'}, which no handler serves"
            )
            continue
        for tag_set in sub.get("tagSets") or ():
            carried[spec.name].update(str(t) for t in tag_set)
    for spec in specs:
        missing = sorted(spec.event_types - carried[spec.name])
        if missing:
            problems.append(
                f"handler {spec.name} (route {spec.route}) receives no subscription carrying "
                + ", ".join(missing)
            )
    return problems
