"""Process-wide instances for warm Function instances and the CLI, keyed by their settings.

A warm Azure Functions worker serves many invocations; building the client once per settings
value keeps its connection pool, bearer token and caches across them without a hidden global per
workspace: a change of settings (a rotated token, another host) simply yields another client.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from lx_core.config import (
    BlobSettings,
    LeanIXSettings,
    StateSettings,
    TimeSettings,
    WebhookSettings,
    cached,
)
from lx_core.jobs.time_tagging import TimeTagger
from lx_core.leanix.client import LeanIXClient
from lx_core.state.base import StateStore, store_required

if TYPE_CHECKING:
    from lx_core.config import IntegrationSettings, RelaySettings, SurveySettings
    from lx_core.events import LeanIXEvent
    from lx_core.handlers.base import HandlerResult
    from lx_core.integration.connectors import Registry
    from lx_core.jobs.metrics_snapshot import MetricsSnapshot
    from lx_core.jobs.quality_reminders import QualityReminders
    from lx_core.jobs.survey_scoring import SurveyScorer
    from lx_core.jobs.sync_tick import SyncTicker, TickReport
    from lx_core.jobs.time_reconcile import ReconcileRun
    from lx_core.notify.relay import Relay
    from lx_core.storage.blob import BlobStore

_log = logging.getLogger(__name__)
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


def integration_settings() -> IntegrationSettings:
    from lx_core.config import IntegrationSettings

    return cached(IntegrationSettings)


#: The app's root folder: relative connector paths are resolved against it.
APP_ROOT = Path(__file__).resolve().parent.parent
_registries: dict[Path, Registry] = {}


def connectors_dir(settings: IntegrationSettings | None = None) -> Path:
    path = Path((settings or integration_settings()).connectors_dir)
    return path if path.is_absolute() else APP_ROOT / path


def integration_registry() -> Registry:
    """The connectors deployed with the app, validated once per process and folder."""
    from lx_core.integration.connectors import load_registry

    directory = connectors_dir()
    with _lock:
        registry = _registries.get(directory)
        if registry is None:
            registry = _registries[directory] = load_registry(directory)
        return registry


_blob_stores: dict[BlobSettings, BlobStore] = {}


def blob_store() -> BlobStore | None:
    """The process's blob store from ``LX_BLOB_*``, or None when none is configured."""
    settings = cached(BlobSettings)
    if not settings.configured:
        return None
    with _lock:
        store = _blob_stores.get(settings)
        if store is None:
            from lx_core.storage.blob import open_blob_store

            store = _blob_stores[settings] = open_blob_store(settings)
        return store


def sync_ticker(name: str, *, owner: str | None = None) -> SyncTicker:
    """A ticker for one deployed connector over the shared client, state and blob stores."""
    from lx_core.errors import ConfigurationError
    from lx_core.jobs.sync_tick import SyncTicker

    connector = integration_registry().get(name)
    if connector is None:
        raise ConfigurationError(f"no valid connector named {name!r} in {connectors_dir()}")
    store = state_store()
    if store is None:
        raise store_required("Integration runs keep their state")
    return SyncTicker(
        connector,
        api=leanix_client().integration,
        store=store,
        settings=integration_settings(),
        blob=blob_store(),
        blob_settings=cached(BlobSettings),
        env=os.environ,
        owner=owner,
    )


def sync_watch_all(*, budget_seconds: float) -> list[TickReport]:
    """Advance every open run by one tick, sharing the budget; one connector's failure is
    reported and does not stop the others."""
    import time

    from lx_core.errors import LxError
    from lx_core.jobs.sync_state import SyncStates
    from lx_core.jobs.sync_tick import TickReport

    store = state_store()
    if store is None:
        return []
    states = SyncStates(store)
    open_names = [n for n in sorted(integration_registry().connectors) if states.get(n)[0].open]
    reports: list[TickReport] = []
    end = time.monotonic() + budget_seconds
    for index, name in enumerate(open_names):
        share = max(1.0, (end - time.monotonic()) / (len(open_names) - index))
        try:
            reports.append(sync_ticker(name).tick(start=False, budget_seconds=share))
        except LxError as exc:
            reports.append(TickReport(name, "error", message=f"{type(exc).__name__}: {exc}"))
    _prune_outcomes(store)
    return reports


def _prune_outcomes(store: StateStore) -> None:
    """Keep the outcome log to LX_INTEGRATION_OUTCOME_RETENTION_DAYS, a bounded slice per tick;
    a failure here is logged and never stops the watch."""
    import time

    from lx_core.errors import LxError
    from lx_core.jobs.sync_state import OutcomeLog

    days = integration_settings().outcome_retention_days
    try:
        deleted = OutcomeLog(store).prune(before=time.time() - days * 86_400)
    except LxError as exc:
        _log.warning("outcome log not pruned: %s: %s", type(exc).__name__, exc)
        return
    if deleted:
        _log.info("outcome log: %d outcomes older than %d days deleted", deleted, days)


def reset_process_state() -> None:
    """Forget everything this process keeps between invocations: clients, bearer tokens, pacers,
    tag groups, the data model and cached settings. The one reset for tests, the CLI and the
    benchmarks, so none of them keeps its own list that falls behind."""
    from lx_core.config import clear_settings_cache
    from lx_core.jobs.survey_scoring import clear_scoring_caches
    from lx_core.leanix.auth import clear_token_cache
    from lx_core.leanix.datamodel import clear_datamodel_cache
    from lx_core.leanix.pacing import clear_buckets
    from lx_core.leanix.shared_pace import clear_paces
    from lx_core.leanix.surveys import clear_survey_caches
    from lx_core.leanix.tags import clear_tag_cache

    with _lock:
        while _clients:
            _clients.popitem()[1].close()
        while _stores:
            _stores.popitem()[1].close()
        while _blob_stores:
            _blob_stores.popitem()[1].close()
        _registries.clear()
    for clear in (
        clear_token_cache,
        clear_buckets,
        clear_paces,
        clear_tag_cache,
        clear_datamodel_cache,
        clear_settings_cache,
        clear_survey_caches,
        clear_scoring_caches,
    ):
        clear()


def relay_settings() -> RelaySettings:
    from lx_core.config import RelaySettings

    return cached(RelaySettings)


def relay_rules_file(settings: RelaySettings | None = None) -> Path:
    path = Path((settings or relay_settings()).rules_file)
    return path if path.is_absolute() else APP_ROOT / path


def workspace_url(client: LeanIXClient, settings: RelaySettings) -> str | None:
    """The workspace's URL for links: the setting, else ``{instance URL}/{workspace name}``
    from the token (one exchange, shared with every other call)."""
    if settings.workspace_url:
        return settings.workspace_url.rstrip("/")
    name = client.claims.workspace_name
    return f"{client.base_url.rstrip('/')}/{name}" if name else None


def relay(owner: str | None = None) -> Relay:
    """A relay over the shared client and state store, with the rules file read now (a broken
    file is a ConfigurationError naming file and field; nothing is half-loaded)."""
    from lx_core.jobs.time_reconcile import default_owner
    from lx_core.notify.crash import CrashPoints
    from lx_core.notify.relay import Relay
    from lx_core.notify.rules import load_rules
    from lx_core.notify.senders.factory import DefaultSenders

    settings = relay_settings()
    rules = load_rules(relay_rules_file(settings), os.environ)
    store = state_store()
    if store is None:
        raise store_required("The relay keeps its outbox")
    client = leanix_client()
    return Relay(
        rules,
        store=store,
        settings=settings,
        senders=DefaultSenders(settings),
        webhooks=client.webhooks if rules.sources.pull else None,
        workspace_url=workspace_url(client, settings),
        owner=owner or default_owner(),
        crash=CrashPoints.from_setting(settings.crash_points),
    )


def survey_settings() -> SurveySettings:
    from lx_core.config import SurveySettings

    return cached(SurveySettings)


def survey_scorer(*, dry_run: bool = False) -> SurveyScorer:
    """A scorer over the shared client and state store, with every scoring model validated now
    (a broken file is a DocumentError naming file and field; nothing is half-loaded)."""
    from lx_core.jobs.survey_scoring import SurveyScorer
    from lx_core.surveys.model import load_models

    directory = Path(survey_settings().models_dir)
    models = load_models(directory if directory.is_absolute() else APP_ROOT / directory)
    return SurveyScorer(leanix_client(), models, store=state_store(), dry_run=dry_run)


def metrics_snapshot(*, dry_run: bool = False) -> MetricsSnapshot:
    from lx_core.config import MetricsSettings
    from lx_core.jobs.metrics_snapshot import MetricsSnapshot

    return MetricsSnapshot(
        leanix_client(),
        state_store(),
        cached(MetricsSettings),
        cached(TimeSettings),
        dry_run=dry_run,
    )


def quality_reminders() -> QualityReminders:
    """The reminders over the shared client and store, with the quality file validated now."""
    from lx_core.config import QualitySettings
    from lx_core.jobs.quality_reminders import QualityReminders
    from lx_core.quality.model import load_quality

    settings = cached(QualitySettings)
    path = Path(settings.file)
    config = load_quality(path if path.is_absolute() else APP_ROOT / path)
    client = leanix_client()
    return QualityReminders(
        client,
        state_store(),
        config,
        settings,
        workspace_url=workspace_url(client, relay_settings()),
    )


def dispatch(handler_name: str, event: LeanIXEvent) -> HandlerResult:
    """Run one parsed event through the named handler (filters, claim, guard, handler)."""
    from lx_core.handlers.dispatch import Dispatcher
    from lx_core.handlers.registry import build_handler

    handler = build_handler(handler_name)

    def own_user_id() -> str | None:
        return leanix_client().claims.principal_id

    return Dispatcher(handler, store=state_store(), own_user_id=own_user_id).dispatch(event)


def prune_handler_state(*, retention_days: int = 7) -> int:
    """Forget event claims older than ``retention_days`` (a slice per handler per call; LeanIX
    stops redelivering long before). Called by the relay's timer, the deployment's
    housekeeping tick; a failure is logged and never stops it."""
    import time

    from lx_core.errors import LxError
    from lx_core.handlers.idempotency import EventClaims
    from lx_core.handlers.specs import SPECS

    store = state_store()
    if store is None:
        return 0
    before = time.time() - retention_days * 86_400
    deleted = 0
    for spec in SPECS:
        if spec.idempotency != "event_id":
            continue
        try:
            deleted += EventClaims(store, spec.name).prune(before=before)
        except LxError as exc:
            _log.warning("claims of %s not pruned: %s: %s", spec.name, type(exc).__name__, exc)
    return deleted
