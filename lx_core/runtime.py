"""Process-wide instances for warm Function instances and the CLI, keyed by their settings.

A warm Azure Functions worker serves many invocations; building the client once per settings
value keeps its connection pool, bearer token and caches across them without a hidden global per
workspace: a change of settings (a rotated token, another host) simply yields another client.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from lx_core.config import LeanIXSettings, StateSettings, TimeSettings, WebhookSettings, cached
from lx_core.jobs.time_tagging import TimeTagger
from lx_core.leanix.client import LeanIXClient
from lx_core.state.base import StateStore

if TYPE_CHECKING:
    from lx_core.jobs.time_reconcile import ReconcileRun

_MAX_CLIENTS = 8
_lock = threading.Lock()
_clients: OrderedDict[LeanIXSettings, LeanIXClient] = OrderedDict()


def leanix_client(settings: LeanIXSettings | None = None) -> LeanIXClient:
    """The process's client for these settings (default: from the environment)."""
    settings = settings or cached(LeanIXSettings)
    with _lock:
        client = _clients.get(settings)
        if client is None:
            if settings.pace_scope == "deployment":
                from lx_core.leanix.shared_pace import deployment_pace

                # One budget for every instance, in the state store (opened at the first lease).
                deployment_pace(settings, state_store)
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


_stores: dict[StateSettings, StateStore] = {}


def state_store() -> StateStore | None:
    """The process's state store from ``LX_STATE_*``, or None when none is configured."""
    settings = cached(StateSettings)
    if not settings.configured:
        return None
    with _lock:
        store = _stores.get(settings)
        if store is None:
            from lx_core.state.factory import open_store

            store = _stores[settings] = open_store(settings)
        return store


def time_reconcile_run(owner: str | None = None) -> ReconcileRun:
    """A reconcile run over the shared client and state store (unguarded without a store)."""
    from lx_core.jobs.time_reconcile import ReconcileRun

    return ReconcileRun(time_tagger(), state_store(), owner=owner)


def reset_process_state() -> None:
    """Forget everything this process keeps between invocations: clients, bearer tokens, pacers,
    tag groups, the data model and cached settings. The one reset for tests, the CLI and the
    benchmarks, so none of them keeps its own list that falls behind."""
    from lx_core.config import clear_settings_cache
    from lx_core.leanix.auth import clear_token_cache
    from lx_core.leanix.datamodel import clear_datamodel_cache
    from lx_core.leanix.pacing import clear_buckets
    from lx_core.leanix.shared_pace import clear_paces
    from lx_core.leanix.tags import clear_tag_cache

    with _lock:
        while _clients:
            _clients.popitem()[1].close()
        while _stores:
            _stores.popitem()[1].close()
    for clear in (
        clear_token_cache,
        clear_buckets,
        clear_paces,
        clear_tag_cache,
        clear_datamodel_cache,
        clear_settings_cache,
    ):
        clear()
