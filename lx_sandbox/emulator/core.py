"""The emulator's composition root: one workspace plus everything that serves it.

HTTP route modules receive this object; nothing else holds global state, so several servers
can run side by side in one process.
"""

from __future__ import annotations

from typing import Any

from lx_sandbox.emulator.config import SandboxConfig
from lx_sandbox.emulator.delivery import DeliverySettings, Dispatcher
from lx_sandbox.emulator.events import EventStore
from lx_sandbox.emulator.faults import FaultInjector
from lx_sandbox.emulator.graphql_exec import Executor
from lx_sandbox.emulator.integration.service import IntegrationService
from lx_sandbox.emulator.integration.settings import (
    DEFAULT_STATISTICS_TAG_SETS,
    IntegrationSettings,
)
from lx_sandbox.emulator.metrics import MetricsStore
from lx_sandbox.emulator.mtm import TokenIssuer
from lx_sandbox.emulator.operations import OperationClassifier
from lx_sandbox.emulator.ratelimit import RateLimitSettings, SlidingWindowLimiter
from lx_sandbox.emulator.seed import build_workspace, generate_workspace, load_fixture
from lx_sandbox.emulator.state import User, Workspace
from lx_sandbox.emulator.stats import Stats
from lx_sandbox.emulator.subscriptions import SubscriptionStore
from lx_sandbox.emulator.surveys import SurveyStore, survey_apis_of

JsonDict = dict[str, Any]


def resolve_seed(seed: str | JsonDict, generated_seed: int = 42) -> JsonDict:
    """Turn a seed spec (``demo``, ``generated:N``, ``empty`` or a document) into a document."""
    if isinstance(seed, dict):
        return seed
    if seed == "demo":
        return load_fixture()
    if seed == "empty":
        return generate_workspace(0, generated_seed) | {"factSheets": []}
    if seed.startswith("generated:"):
        return generate_workspace(int(seed.split(":", 1)[1]), generated_seed)
    raise ValueError(f"unknown seed {seed!r} (demo, empty, generated:N or a document)")


class Emulator:
    """State, auth, GraphQL, events, delivery, faults and stats of one emulated workspace."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.base_url = f"http://{config.host}:{config.port}"
        self.stats = Stats()
        self.faults = FaultInjector(seed=config.fault_seed)
        self.tokens = TokenIssuer(config.token_lifetime_seconds, on_revoke=self._count_revocation)
        if config.faults:
            self.set_faults(config.faults)
        self.classifier = OperationClassifier()
        self.limiter = SlidingWindowLimiter(self._rate_limit_settings())
        self.max_page_size = config.max_page_size
        self.accept_double_slash = config.accept_double_slash
        if config.cursor_ttl_seconds is not None and not config.cursor_ttl_seconds > 0:
            raise ValueError("cursor_ttl_seconds must be > 0 (or None for unlimited)")
        self.cursor_ttl_seconds = config.cursor_ttl_seconds
        self.survey_apis = survey_apis_of(config.survey_apis)
        self.dispatcher = Dispatcher(
            settings=self._delivery_settings(),
            faults=self.faults,
            stats=self.stats,
        )
        self._seed_doc = resolve_seed(config.seed, config.generated_seed)
        self._data_model_override = config.data_model
        self.integration = IntegrationService(
            make_settings=self._integration_settings,
            workspace=lambda: self.ws,
            events=lambda: self.events,
            base_url=lambda: self.base_url,
            blob_connection_string=config.integration_blob_connection_string,
        )
        self.ws: Workspace
        self.events: EventStore
        self.subscriptions: SubscriptionStore
        self.executor: Executor
        self.surveys: SurveyStore
        self.metrics: MetricsStore
        self.load(self._seed_doc, self._data_model_override)

    def _delivery_settings(self) -> DeliverySettings:
        c = self.config
        return DeliverySettings(
            max_attempts=c.delivery_max_attempts,
            backoff_s=c.delivery_backoff_seconds,
            max_backoff_s=c.delivery_max_backoff_seconds,
            concurrency=c.delivery_concurrency,
            timeout_s=c.delivery_timeout_seconds,
        )

    def _integration_settings(self) -> IntegrationSettings:
        c = self.config
        tag_sets = c.integration_statistics_tag_sets or DEFAULT_STATISTICS_TAG_SETS
        return IntegrationSettings(
            pending_seconds=c.integration_pending_seconds,
            run_seconds=c.integration_run_seconds,
            statistics_tag_sets=[list(t) for t in tag_sets],
            max_body_bytes=c.integration_max_body_bytes,
        )

    def _rate_limit_settings(self) -> RateLimitSettings:
        c = self.config
        settings = RateLimitSettings(
            enabled=c.rate_limit_enabled,
            limit=c.rate_limit,
            window_s=c.rate_limit_window_seconds,
            retry_after=c.rate_limit_retry_after,
        )
        settings.validate()
        return settings

    def _count_revocation(self, kind: str, rounds: int, tokens: int) -> None:
        self.stats.revocations[kind] += rounds
        self.stats.revocations["tokensInvalidated"] += tokens

    def set_faults(self, doc: JsonDict) -> None:
        """Replace every fault setting (``PUT /_sandbox/faults``)."""
        self.faults.load(doc)
        self.tokens.revoke_every(self.faults.token_revoke_every)

    def set_token_revocation(self, seconds: float | None) -> None:
        """Revoke every issued token each ``seconds`` from now (None = never); keeps the rest
        of the fault settings (``PUT /_sandbox/tokens/revocation``)."""
        if seconds is not None and not seconds > 0:
            raise ValueError("everySeconds must be > 0 (or null for never)")
        self.faults.token_revoke_every = seconds
        self.tokens.revoke_every(seconds)

    def clear_faults(self) -> None:
        """Remove every fault (``DELETE /_sandbox/faults``)."""
        self.faults.clear()
        self.tokens.revoke_every(None)

    @property
    def token_lifetime(self) -> float:
        """Effective access-token lifetime (a fault setting overrides the config)."""
        return self.faults.token_lifetime or self.config.token_lifetime_seconds

    def load(self, doc: JsonDict, data_model_override: JsonDict | None = None) -> None:
        """Replace the workspace; clears events, subscriptions, delivery logs, the
        Integration API's configurations and runs, surveys and metrics."""
        ws = build_workspace(doc, data_model_override)
        self._seed_doc = doc
        self._data_model_override = data_model_override
        self.ws = ws
        self.events = EventStore()
        self.subscriptions = SubscriptionStore()
        self.dispatcher.reset(self.subscriptions)
        self.events.listeners.append(self.dispatcher.on_event)
        self.executor = Executor(ws.data_model)
        self.integration.configs.clear()
        self.integration.runs.reset()
        self.surveys = SurveyStore()
        self.metrics = MetricsStore()

    def reset(self) -> None:
        """Back to the constructor's seed, faults, settings, rate-limit counters and stats."""
        self.load(
            resolve_seed(self.config.seed, self.config.generated_seed), self.config.data_model
        )
        self.clear_faults()
        if self.config.faults:
            self.set_faults(self.config.faults)
        self.stats.reset()
        self.limiter.reset(self._rate_limit_settings())
        self.max_page_size = self.config.max_page_size
        self.accept_double_slash = self.config.accept_double_slash
        self.cursor_ttl_seconds = self.config.cursor_ttl_seconds
        self.survey_apis = survey_apis_of(self.config.survey_apis)
        fresh = self._delivery_settings()
        settings = self.dispatcher.settings
        settings.max_attempts, settings.backoff_s = fresh.max_attempts, fresh.backoff_s
        settings.max_backoff_s = fresh.max_backoff_s
        self.integration.reset()

    def override_data_model(self, override: JsonDict) -> None:
        """Change value orders (or add/remove/retype fields) in place and rebuild the schema;
        stored values the new model does not allow are dropped."""
        from lx_sandbox.emulator.seed import merge_data_model

        self.ws.set_data_model(merge_data_model(self.ws.data_model, override))
        self.executor = Executor(self.ws.data_model)

    def user_for_token(self, api_token: str) -> User | None:
        """The user owning an API token."""
        return self.ws.users_by_token.get(api_token)

    def user_for_bearer(self, authorization: str | None) -> User | None:
        """The user behind a valid bearer header (None = answer 401)."""
        user_id = self.tokens.validate(authorization)
        if user_id is None:
            return None
        return self.ws.users_by_id.get(user_id)
