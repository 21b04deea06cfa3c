"""Settings, read from the environment (Azure app settings, local.settings.json, or a shell).

Nothing is read at import time: each settings class is built at first use through ``load``, which
turns pydantic's validation errors into one ``ConfigurationError`` naming every bad setting by its
environment variable, never echoing a value. A blank variable counts as unset: the deployment
templates declare every setting, and a blank one keeps its default.
"""

from __future__ import annotations

import json
import os
import re
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from lx_core import assumptions
from lx_core.decisions.time_model import TimeClass
from lx_core.errors import ConfigurationError

#: How App Service passes on a Key Vault reference it could not resolve: as its own text.
KEY_VAULT_PREFIX = "@Microsoft.KeyVault("


def _reject_unresolved_secret(value: SecretStr) -> SecretStr:
    raw = value.get_secret_value().strip()
    if not raw:
        raise ValueError("must not be empty")
    if raw.startswith(KEY_VAULT_PREFIX):
        raise ValueError(
            "is an unresolved Key Vault reference; check the app's identity and vault access"
        )
    return SecretStr(raw)


def _optional_secret(value: SecretStr | None) -> SecretStr | None:
    """None when unset or blank, else the secret unless it is an unresolved Key Vault reference."""
    if value is None or not value.get_secret_value().strip():
        return None
    return _reject_unresolved_secret(value)


class LeanIXSettings(BaseSettings):
    """How to reach one LeanIX workspace (env prefix ``LEANIX_``)."""

    model_config = SettingsConfigDict(
        env_prefix="LEANIX_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    api_token: SecretStr = Field(description="Technical user API token (secret).")
    host: str = Field(
        "app.leanix.net",
        description="Token host: a name (https is assumed) or a URL. After the token exchange "
        "the token's instanceUrl claim wins.",
    )
    connect_timeout: float = Field(5.0, gt=0, le=120)
    read_timeout: float = Field(30.0, gt=0, le=600)
    max_retries: int = Field(5, ge=0, le=20)
    retry_budget_seconds: float = Field(60.0, gt=0, le=3600)
    backoff_initial_seconds: float = Field(0.5, ge=0, le=60)
    backoff_max_seconds: float = Field(30.0, ge=0, le=600)
    requests_per_minute: int = Field(1500, ge=1, le=1800)
    pace_scope: Literal["process", "deployment"] = Field(
        "process",
        description="process: each instance paces itself at requests_per_minute; deployment: "
        "every instance shares one budget per user in the state store (needs LX_STATE_*).",
    )
    pace_window_seconds: float = Field(
        60.0,
        ge=1,
        le=3600,
        description="The period LeanIX counts requests over; the deployment budget is "
        "requests_per_minute scaled to it (only tests against the emulator change it).",
    )
    pace_fallback_instances: int = Field(
        40,
        ge=1,
        le=1000,
        description="While the state store cannot be reached, each instance paces itself at "
        "requests_per_minute / this (set it to the app's maximumInstanceCount).",
    )
    token_refresh_margin_seconds: int = Field(60, ge=0, le=1800)
    page_size: int = Field(100, ge=1, le=10000)
    cache_ttl_seconds: int = Field(300, ge=0, le=86400)

    _check_token = field_validator("api_token")(_reject_unresolved_secret)

    @field_validator("host")
    @classmethod
    def _normalise_host(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            raise ValueError("must not be empty")
        if "://" not in value:
            value = "https://" + value
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be a host name or an http(s) URL")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("must not contain a path, query or fragment")
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def base_url(self) -> str:
        """The configured host as a URL without trailing slash."""
        return self.host


class TimeSettings(BaseSettings):
    """TIME tagging options (env prefix ``TIME_``)."""

    model_config = SettingsConfigDict(
        env_prefix="TIME_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    target: Literal["tag", "field"] = Field(
        "tag", description="Write a tag of a SINGLE-mode tag group, or the workspace's TIME field."
    )
    tag_group: str = Field("TIME Model", min_length=1, max_length=255)
    tag_names: dict[TimeClass, str] = Field(
        default_factory=lambda: {c: c.value.capitalize() for c in TimeClass},
        description='JSON object, e.g. {"invest": "Invest", ...}',
    )
    field: str = Field("lxTimeClassification", min_length=1)
    on_unset: Literal["keep", "remove"] = Field(
        "keep", description="What to do with an existing TIME value when a fit is unset."
    )
    functional_high_from: str | None = Field(
        None, description="Lowest functional fit counted as high (default: upper half)."
    )
    technical_high_from: str | None = Field(
        None, description="Lowest technical fit counted as high (default: upper half)."
    )
    create_missing_tags: bool = True
    ignore_own_events: bool = True
    fact_sheet_type: str = "Application"
    comment: str = "lx-functions: TIME classification"
    batch_size: int = Field(25, ge=1, le=100)
    reconcile_invocation_seconds: float = Field(
        480.0,
        gt=10,
        le=3600,
        description="How long one timer invocation works before it pauses at a checkpoint "
        "(below the host's functionTimeout).",
    )
    reconcile_lease_seconds: float = Field(
        120.0, ge=10, le=3600, description="How long a reconcile's lease lasts between renewals."
    )
    reconcile_max_restarts: int = Field(
        3, ge=0, le=20, description="Walk restarts allowed when LeanIX rejects a stored cursor."
    )

    @field_validator("tag_names", mode="before")
    @classmethod
    def _parse_tag_names(cls, value: object) -> object:
        if isinstance(value, str):
            value = json.loads(value)
        return value

    @field_validator("tag_names")
    @classmethod
    def _all_classes_named(cls, value: dict[TimeClass, str]) -> dict[TimeClass, str]:
        missing = [c.value for c in TimeClass if not value.get(c)]
        if missing:
            raise ValueError(f"needs a tag name for {missing}")
        if len(set(value.values())) != len(value):
            raise ValueError("tag names must be distinct")
        return value


class WebhookSettings(BaseSettings):
    """How incoming LeanIX webhooks are checked (env prefix ``LX_WEBHOOK_``)."""

    model_config = SettingsConfigDict(
        env_prefix="LX_WEBHOOK_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    authorization: SecretStr = Field(
        description="The exact Authorization header LeanIX sends: the subscription's "
        "authorizationHeader (secret)."
    )
    max_body_bytes: int = Field(1_048_576, ge=1024, le=20 * 1024 * 1024)
    deadline_seconds: float = Field(
        assumptions.ASSUMED_DELIVERY_TIMEOUT_SECONDS / 2,
        gt=0.5,
        le=60,
        description="Total time a delivery may take before it is answered 503 (LeanIX's own "
        "delivery timeout is undocumented; see lx_core.assumptions).",
    )
    authorization_next: SecretStr | None = Field(
        None,
        description="During a rotation, the next Authorization value, accepted as well as "
        "the current one until LeanIX has moved to it (secret).",
    )
    retry_after_seconds: int = Field(
        30, ge=1, le=3600, description="Retry-After on a 503 when LeanIX gave none."
    )

    _check_secret = field_validator("authorization")(_reject_unresolved_secret)
    _check_next = field_validator("authorization_next")(_optional_secret)

    def accepted_authorizations(self) -> tuple[str, ...]:
        """Every Authorization value a delivery may carry: the current one and, while a
        rotation is under way, the next one."""
        values = [self.authorization.get_secret_value()]
        if self.authorization_next is not None:
            values.append(self.authorization_next.get_secret_value())
        return tuple(values)


def _service_endpoint(value: str | None, service: str) -> str | None:
    """A Storage service endpoint (no trailing slash), or None when unset; never a SAS URL."""
    if value is None or not value.strip():
        return None
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL of a {service} service")
    if parts.query or parts.fragment:
        raise ValueError("must not contain a query (no SAS tokens; use the identity)")
    return value


class StateSettings(BaseSettings):
    """Where durable state lives (env prefix ``LX_STATE_``): a Table service of the *data*
    storage account, never the Functions host's ``AzureWebJobsStorage``.

    In Azure, ``LX_STATE_TABLE_ENDPOINT`` with the app's managed identity
    (``LX_STATE_CLIENT_ID``); locally, ``LX_STATE_CONNECTION_STRING`` (Azurite). The operator's
    ``lx`` uses either: the endpoint with their own Azure login (azure-identity's default
    credential chain), or a connection string.
    """

    model_config = SettingsConfigDict(
        env_prefix="LX_STATE_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    table_endpoint: str | None = Field(
        None, description="https://<account>.table.core.windows.net (identity-based access)."
    )
    connection_string: SecretStr | None = Field(
        None, description="A storage connection string, e.g. Azurite's (secret)."
    )
    table_name: str = Field("lxstate", pattern=r"^[A-Za-z][A-Za-z0-9]{2,62}$")
    client_id: str | None = Field(
        None, description="Client id of the user-assigned managed identity, in Azure."
    )
    timeout_seconds: float = Field(10.0, gt=0, le=120)

    @field_validator("table_endpoint")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        return _service_endpoint(value, "Table")

    _check_connection_string = field_validator("connection_string")(_optional_secret)

    @model_validator(mode="after")
    def _one_way_in(self) -> StateSettings:
        if self.table_endpoint and self.connection_string:
            raise ValueError("set LX_STATE_TABLE_ENDPOINT or LX_STATE_CONNECTION_STRING, not both")
        return self

    @property
    def configured(self) -> bool:
        return bool(self.table_endpoint or self.connection_string)


class IntegrationSettings(BaseSettings):
    """Integration API runs: connectors, the run watcher and the large-input path
    (env prefix ``LX_INTEGRATION_``)."""

    model_config = SettingsConfigDict(
        env_prefix="LX_INTEGRATION_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    connectors_dir: str = Field(
        "infra/leanix/connectors",
        description="Folder of connector files, relative to the app root (deployed with it).",
    )
    url_input_threshold_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="An LDIF larger than this is uploaded to LeanIX's SAS URL and started with "
        "withUrlInput instead of one inline POST; also the in-memory buffer limit.",
    )
    poll_min_seconds: float = Field(1.0, gt=0, le=60)
    poll_max_seconds: float = Field(
        60.0, gt=0, le=3600, description="Longest wait between two status polls of one run."
    )
    watch_schedule: str = Field(
        "0 */1 * * * *", description="NCRONTAB of the watch tick that advances every open run."
    )
    tick_invocation_seconds: float = Field(
        240.0, gt=0, le=3600, description="Time one tick may spend watching runs."
    )
    lease_seconds: float = Field(
        120.0,
        gt=0,
        le=600,
        description="Lease on one connector's run while a tick works on it; renewed after each "
        "poll, so it must exceed poll_max_seconds. A dead host delays the next tick this long.",
    )
    handover: Literal["keep_watching", "stop"] = Field(
        "keep_watching",
        description="At the watcher's deadline: keep watching at the next tick, or stop the run.",
    )
    warnings_limit: int = Field(
        500, ge=0, le=100_000, description="Warnings kept per outcome (the count is always kept)."
    )
    start_attempts: int = Field(
        6,
        ge=1,
        le=50,
        description="Tries to create and start one run before it is recorded as NOT_STARTED.",
    )
    start_retry_seconds: float = Field(
        30.0, ge=0, le=3600, description="Wait after the first failed try; doubles per try."
    )
    outcome_retention_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="Outcome log rows older than this are deleted by the watch tick.",
    )

    @model_validator(mode="after")
    def _poll_bounds(self) -> IntegrationSettings:
        if self.poll_min_seconds > self.poll_max_seconds:
            raise ValueError("poll_min_seconds must not exceed poll_max_seconds")
        if self.lease_seconds <= self.poll_max_seconds:
            # The lease is renewed after each poll: it must outlast the longest wait between two.
            raise ValueError("lease_seconds must exceed poll_max_seconds")
        return self


class BlobSettings(BaseSettings):
    """Blob storage of the *data* account: run results and inbound blob sources
    (env prefix ``LX_BLOB_``). Identity-based in Azure, a connection string locally."""

    model_config = SettingsConfigDict(
        env_prefix="LX_BLOB_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    account_url: str | None = Field(
        None, description="https://<account>.blob.core.windows.net (identity-based access)."
    )
    connection_string: SecretStr | None = Field(
        None, description="A storage connection string, e.g. Azurite's (secret)."
    )
    client_id: str | None = Field(
        None, description="Client id of the user-assigned managed identity, in Azure."
    )
    results_container: str = Field("lx-results", pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    chunk_bytes: int = Field(
        4 * 1024 * 1024, ge=64 * 1024, le=100 * 1024 * 1024, description="Upload block size."
    )

    @field_validator("account_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return _service_endpoint(value, "Blob")

    _check_connection_string = field_validator("connection_string")(_optional_secret)

    @model_validator(mode="after")
    def _one_way_in(self) -> BlobSettings:
        if self.account_url and self.connection_string:
            raise ValueError("set LX_BLOB_ACCOUNT_URL or LX_BLOB_CONNECTION_STRING, not both")
        return self

    @property
    def configured(self) -> bool:
        return bool(self.account_url or self.connection_string)


class RelaySettings(BaseSettings):
    """The notification relay (env prefix ``LX_RELAY_``). Channels and routes live in the rules
    file; these say how hard one tick works."""

    model_config = SettingsConfigDict(
        env_prefix="LX_RELAY_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    rules_file: str = Field(
        "infra/leanix/notifications.json",
        description="The notification rules, relative to the app root (deployed with it).",
    )
    schedule: str = Field("0 */1 * * * *", description="NCRONTAB of the relay's timer.")
    tick_seconds: float = Field(
        45.0, gt=0, le=3600, description="Time one tick may spend reading and delivering."
    )
    pull_timeout_seconds: int = Field(
        1, ge=0, le=60, description="Long-poll wait of one PULL request when nothing is new."
    )
    pull_max_batches: int = Field(
        50, ge=1, le=10_000, description="PULL batches one tick reads per subscription."
    )
    page_size: int = Field(
        200, ge=1, le=1000, description="Outbox rows read at once; bounds the tick's memory."
    )
    lookback_seconds: float = Field(
        3600.0,
        ge=0,
        le=7 * 86_400,
        description="The outcome and notice logs are re-read this far behind the relay's "
        "cursor, so a row recorded late (another instance, a slow results upload) is not "
        "skipped; rows already queued are not queued twice.",
    )
    send_timeout_seconds: float = Field(10.0, gt=0, le=120)
    channel_backoff_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="Pause of a channel after it failed without saying how long to wait; "
        "doubles per consecutive failure up to channel_backoff_max_seconds.",
    )
    channel_backoff_max_seconds: float = Field(600.0, ge=0, le=86_400)
    delivered_retention_days: int = Field(
        7,
        ge=1,
        le=365,
        description="How long delivered items are remembered, so a re-read never resends them.",
    )
    workspace_url: str | None = Field(
        None,
        description="The workspace's URL in links (https://<host>/<workspace>); default: "
        "derived from LEANIX_HOST and the token's workspace name.",
    )
    crash_points: str = Field(
        "",
        description="Tests only: comma-separated crash points (after_pull, after_outbox_write, "
        "after_cursor_commit, after_send, after_mark) at which the process exits.",
    )


class SmtpSettings(BaseSettings):
    """The SMTP relay for e-mail channels (env prefix ``LX_SMTP_``)."""

    model_config = SettingsConfigDict(
        env_prefix="LX_SMTP_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    host: str | None = Field(None, description="SMTP server name; e-mail channels wait without.")
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls"] = Field(
        "starttls", description="STARTTLS on a plain port, or implicit TLS (port 465)."
    )
    username: str | None = None
    password: SecretStr | None = Field(None, description="SMTP password (secret).")
    from_address: str = Field(
        "lx-functions@localhost", pattern=r"^[^@\s]+@[^@\s]+$", description="The From address."
    )
    message_id_domain: str = Field(
        "lx-functions", pattern=r"^[A-Za-z0-9.-]+$", description="Right side of Message-IDs."
    )
    ca_file: str | None = Field(None, description="Extra CA certificate (PEM) to trust.")
    timeout_seconds: float = Field(15.0, gt=0, le=120)

    _check_password = field_validator("password")(_optional_secret)


SubscriptionKind = Literal["ACCOUNTABLE", "RESPONSIBLE", "OBSERVER"]


class CreatorSubscriptionSettings(BaseSettings):
    """Subscribe a new fact sheet's creator (env prefix ``LX_CREATOR_SUBSCRIPTION_``)."""

    model_config = SettingsConfigDict(
        env_prefix="LX_CREATOR_SUBSCRIPTION_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    fact_sheet_types: tuple[str, ...] = Field(
        ("Application",), description="Types whose creators are subscribed (JSON list)."
    )
    subscription_type: SubscriptionKind = Field(
        "RESPONSIBLE", description="ACCOUNTABLE, RESPONSIBLE or OBSERVER."
    )
    role: str | None = Field(
        None, description="A subscription role's name (of the same type) to give the creator."
    )


class NoticeHandlerSettings(BaseSettings):
    """The archive, quality-seal and subscription-removed notices (env prefix
    ``LX_NOTICES_``)."""

    model_config = SettingsConfigDict(
        env_prefix="LX_NOTICES_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    fact_sheet_types: tuple[str, ...] | None = Field(
        None, description="Types to report on (JSON list); unset: every type."
    )
    archive_recipients: tuple[SubscriptionKind, ...] = Field(
        ("ACCOUNTABLE", "RESPONSIBLE", "OBSERVER"),
        description="Which subscribers of an archived fact sheet receive its notice.",
    )
    seal_recipients: tuple[SubscriptionKind, ...] = Field(
        ("RESPONSIBLE", "ACCOUNTABLE"),
        description="Which subscribers are told that a fact sheet's quality seal broke.",
    )
    removed_types: tuple[SubscriptionKind, ...] = Field(
        ("RESPONSIBLE", "ACCOUNTABLE"),
        description="Removed subscriptions of these types are reported.",
    )
    removed_recipients: tuple[SubscriptionKind, ...] = Field(
        ("ACCOUNTABLE",),
        description="Who is told of a removed subscription: the remaining subscribers of "
        "these types.",
    )


class SurveySettings(BaseSettings):
    """Survey scoring (env prefix ``LX_SURVEY_``): the scoring models and the timer."""

    model_config = SettingsConfigDict(
        env_prefix="LX_SURVEY_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    models_dir: str = Field(
        "infra/leanix/scoring",
        description="The scoring models, relative to the app root (deployed with it).",
    )
    schedule: str = Field(
        "0 */15 * * * *",
        description="NCRONTAB of the timer that scores results no event announced; a lost "
        "event costs at most this long.",
    )
    tick_seconds: float = Field(
        240.0, gt=0, le=3600, description="Time one timer tick may spend scoring."
    )


class MetricsSettings(BaseSettings):
    """The daily data-quality snapshot (env prefix ``LX_METRICS_``)."""

    model_config = SettingsConfigDict(
        env_prefix="LX_METRICS_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    fact_sheet_types: tuple[str, ...] = Field(
        ("Application", "ITComponent", "BusinessCapability", "DataObject", "Interface"),
        description="The types measured (JSON list), one paged read each.",
    )
    lifecycle_types: tuple[str, ...] = Field(
        ("Application", "ITComponent"),
        description="The types that have a lifecycle (read for 'past end of life').",
    )
    quality_schema: str = Field(
        "lxDataQuality", min_length=1, max_length=100, description="Schema of the per-type points."
    )
    time_schema: str = Field(
        "lxTimeClasses",
        min_length=1,
        max_length=100,
        description="Schema of the Applications-per-TIME-class points.",
    )
    schedule: str = Field("0 30 2 * * *", description="NCRONTAB of the daily snapshot (UTC).")
    tick_seconds: float = Field(540.0, gt=0, le=3600, description="Time one snapshot may take.")


class QualitySettings(BaseSettings):
    """The weekly data-quality reminders (env prefix ``LX_QUALITY_``)."""

    model_config = SettingsConfigDict(
        env_prefix="LX_QUALITY_", extra="ignore", frozen=True, env_ignore_empty=True
    )

    file: str = Field(
        "infra/leanix/quality.json",
        description="The checkers and owner rules, relative to the app root.",
    )
    schedule: str = Field("0 0 7 * * 1", description="NCRONTAB of the weekly reminders (UTC).")
    dry_run_to: str | None = Field(
        None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="Send every digest to this one address instead of its owner (a trial run).",
    )
    max_items: int = Field(
        50, ge=1, le=500, description="Fact sheets listed in one digest; the rest are counted."
    )
    tick_seconds: float = Field(540.0, gt=0, le=3600)


S = TypeVar("S", bound=BaseSettings)

_MAX_CACHED_SETTINGS = 32
_cached_settings: dict[tuple[type[BaseSettings], tuple[tuple[str, str], ...]], BaseSettings] = {}


def _env_snapshot(cls: type[BaseSettings]) -> tuple[tuple[str, str], ...]:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(prefix)))


def cached(cls: type[S]) -> S:
    """``load(cls)``, reused while the class's own environment variables stay the same.

    Building settings costs hundreds of microseconds (pydantic-settings re-reads and re-validates
    every field); a warm Function instance would pay that on every invocation. Keying on a
    snapshot of the variables with the class's prefix keeps changes (a rotated secret) effective
    on the very next call. Failures are not cached.
    """
    key = (cls, _env_snapshot(cls))
    hit = _cached_settings.get(key)
    if hit is not None:
        return hit  # type: ignore[return-value]
    value = load(cls)
    if len(_cached_settings) >= _MAX_CACHED_SETTINGS:
        _cached_settings.clear()
    _cached_settings[key] = value
    return value


def clear_settings_cache() -> None:
    """Forget every cached settings object (see ``lx_core.runtime.reset_process_state``)."""
    _cached_settings.clear()


def load(cls: type[S]) -> S:
    """Build a settings class from the environment, or raise a ConfigurationError that names
    every missing or malformed setting by its environment variable."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        names: list[str] = []
        problems: list[str] = []
        for err in exc.errors(include_input=False, include_url=False):
            field = str(err["loc"][0]) if err["loc"] else "*"
            name = (prefix + field).upper()
            names.append(name)
            problems.append(f"{name}: {err['msg']}")
        raise ConfigurationError(
            "invalid configuration: " + "; ".join(problems), settings=names
        ) from None
    except SettingsError as exc:
        # pydantic-settings fails before validation on undecodable JSON values; its message
        # names the field and the source, not the value.
        match = re.search(r'field "([^"]+)"', str(exc))
        prefix = str(cls.model_config.get("env_prefix", ""))
        name = (prefix + (match.group(1) if match else "")).upper()
        raise ConfigurationError(
            f"invalid configuration: {name}: not valid JSON", settings=[name]
        ) from None
