"""Which channels a notice goes to: the rules of notifications.json applied to one notice.

Pure: no I/O, so every routing rule is tested without a store or a sink.
"""

from __future__ import annotations

from lx_core.notify.notices import IntegrationRunNotice, Notice
from lx_core.notify.rules import NotificationRules, Route


def _matches(route: Route, notice: Notice) -> bool:
    if route.kinds is not None and notice.kind not in route.kinds:
        return False
    if route.severities is not None and notice.severity not in route.severities:
        return False
    if isinstance(notice, IntegrationRunNotice):
        if notice.test and not route.include_tests:
            return False
        if route.connectors is not None and not (
            {notice.connector, notice.connector_id} & set(route.connectors)
        ):
            return False
    elif route.connectors is not None:
        return False
    return True


def channels_for(notice: Notice, rules: NotificationRules) -> list[str]:
    """Every channel of every matching route, each once, in the order routes name them.

    A dead-letter report goes only to the fallback channel, whatever the routes say, so one
    broken channel can never multiply reports.
    """
    if notice.kind == "dead_letter":
        fallback = rules.dead_letter.fallback_channel
        return [fallback] if fallback else []
    seen: dict[str, None] = {}
    for route in rules.routes:
        if _matches(route, notice):
            seen.update(dict.fromkeys(route.channels))
    return list(seen)
