"""Process-wide instances for warm Function instances and the CLI, keyed by their settings.

A warm Azure Functions worker serves many invocations; building the client once per settings
value keeps its connection pool, bearer token and caches across them without a hidden global per
workspace: a change of settings (a rotated token, another host) simply yields another client.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from lx_core.config import LeanIXSettings, TimeSettings, WebhookSettings, cached
from lx_core.jobs.time_tagging import TimeTagger
from lx_core.leanix.client import LeanIXClient

_MAX_CLIENTS = 8
_lock = threading.Lock()
_clients: OrderedDict[LeanIXSettings, LeanIXClient] = OrderedDict()


def leanix_client(settings: LeanIXSettings | None = None) -> LeanIXClient:
    """The process's client for these settings (default: from the environment)."""
    settings = settings or cached(LeanIXSettings)
    with _lock:
        client = _clients.get(settings)
        if client is None:
            client = _clients[settings] = LeanIXClient(settings)
            while len(_clients) > _MAX_CLIENTS:
                _clients.popitem(last=False)[1].close()
        else:
            _clients.move_to_end(settings)
        return client


def time_tagger() -> TimeTagger:
    """A TIME tagger over the shared client, with TIME settings read now."""
    return TimeTagger(leanix_client(), cached(TimeSettings))


def webhook_settings() -> WebhookSettings:
    return cached(WebhookSettings)


def reset() -> None:
    """Forget every client (tests, and settings reloads in long-running CLI sessions)."""
    with _lock:
        while _clients:
            _clients.popitem()[1].close()
