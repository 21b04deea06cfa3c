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
    """Every gap between the handlers and the PUSH subscriptions, as readable lines.

    A tag set matches an event carrying all of its tags, and a subscription matches when any
    of its sets does; so each tag set a handler declares must appear as a set (not spread
    over several), on an active subscription that POSTs to the handler's route (http or
    https, with a host)."""
    problems: list[str] = []
    by_route = {spec.route: spec for spec in specs}
    carried: dict[str, set[frozenset[str]]] = {spec.name: set() for spec in specs}
    for sub in subscriptions:
        if sub.get("deliveryType") != "PUSH":
            continue
        ident = sub.get("identifier", "?")
        target = str(sub.get("targetUrl") or "")
        route = target_route(target)
        spec = by_route.get(route or "")
        if spec is None:
            problems.append(
                f"subscription {ident} targets {route or 'no /api/ route'}, which no handler serves"
            )
            continue
        unusable = _unusable(sub, target)
        if unusable:
            problems.append(f"subscription {ident} for handler {spec.name} {unusable}")
            continue
        carried[spec.name].update(
            frozenset(str(t) for t in tag_set) for tag_set in sub.get("tagSets") or ()
        )
    for spec in specs:
        missing = [ts for ts in spec.tag_sets if frozenset(ts) not in carried[spec.name]]
        if missing:
            problems.append(
                f"handler {spec.name} (route {spec.route}) receives no subscription carrying "
                + ", ".join("[" + ", ".join(ts) + "]" for ts in missing)
            )
    return problems


def _unusable(sub: Mapping[str, Any], target: str) -> str | None:
    """Why a subscription delivers nothing to its route, or None."""
    if sub.get("active") is False:
        return "is not active"
    method = str(sub.get("targetMethod") or "POST").upper()
    if method != "POST":
        return f"uses {method}; the handlers answer POST only"
    parts = urlsplit(target)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "has no http(s) target host"
    return None
