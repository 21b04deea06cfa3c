"""LeanIXClient: the facade other layers code against, built from LeanIXSettings.

Construction does no I/O (Functions import modules at cold start, and a LeanIX outage must not
break the import); the first call exchanges the API token. Sub-clients are created on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import requests

from lx_core.config import LeanIXSettings, load
from lx_core.leanix.auth import TokenClaims
from lx_core.leanix.graphql import GraphQLClient
from lx_core.leanix.integration_api import IntegrationAPI
from lx_core.leanix.transport import CallStats, HttpTransport
from lx_core.leanix.webhooks import WebhooksClient

if TYPE_CHECKING:
    from lx_core.leanix.fact_sheet_subscriptions import FactSheetSubscriptionsClient
    from lx_core.leanix.metrics import MetricsClient
    from lx_core.leanix.surveys import SurveysClient
    from lx_core.leanix.users import UsersClient


class LeanIXClient:
    """One workspace, one technical user: GraphQL, webhooks, the Integration API and raw REST
    calls."""

    def __init__(
        self,
        settings: LeanIXSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        self._transport = HttpTransport(
            settings, session=session, clock=clock, sleep=sleep, jitter=jitter
        )

    @classmethod
    def from_env(cls) -> LeanIXClient:
        """Settings from the environment (ConfigurationError names what is missing); no I/O."""
        return cls(load(LeanIXSettings))

    @property
    def transport(self) -> HttpTransport:
        return self._transport

    @property
    def claims(self) -> TokenClaims:
        """Who and where we are; exchanges the API token first if needed."""
        return self._transport.claims

    @property
    def base_url(self) -> str:
        """``instanceUrl`` once a token is known, else the configured host."""
        return self._transport.base_url

    @property
    def stats(self) -> CallStats:
        return self._transport.stats

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool,
    ) -> requests.Response:
        """An authenticated call to ``base_url + path``; raises lx_core errors on failure."""
        return self._transport.request(
            method, path, json=json, params=params, idempotent=idempotent
        )

    @cached_property
    def graphql(self) -> GraphQLClient:
        return GraphQLClient(self._transport)

    @cached_property
    def webhooks(self) -> WebhooksClient:
        return WebhooksClient(self._transport)

    @cached_property
    def fact_sheet_subscriptions(self) -> FactSheetSubscriptionsClient:
        """People subscribed to fact sheets (not webhook subscriptions: see ``webhooks``)."""
        from lx_core.leanix.fact_sheet_subscriptions import FactSheetSubscriptionsClient

        return FactSheetSubscriptionsClient(self.graphql)

    @cached_property
    def users(self) -> UsersClient:
        from lx_core.leanix.users import UsersClient

        return UsersClient(self._transport)

    @cached_property
    def surveys(self) -> SurveysClient:
        """Survey API v1, or Poll API v2 where only that exists (probed once)."""
        from lx_core.leanix.surveys import SurveysClient

        return SurveysClient(self._transport)

    @cached_property
    def metrics(self) -> MetricsClient:
        from lx_core.leanix.metrics import MetricsClient

        return MetricsClient(self._transport)

    @cached_property
    def integration(self) -> IntegrationAPI:
        """The Integration API; its IntegrationSettings are read from the environment when
        first needed (pass your own with ``IntegrationAPI(client.transport, settings=...)``)."""
        return IntegrationAPI(self._transport)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
