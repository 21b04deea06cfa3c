"""Constructor configuration of a sandbox server (everything a test may want to pin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SandboxConfig:
    """Settings of one emulator instance.

    ``seed`` is ``"demo"`` (the shipped fixture), ``"generated:N"`` (N Applications, RNG seed
    ``generated_seed``), ``"empty"`` (users and the TIME tag group only) or a seed document.
    ``faults`` uses the ``/_sandbox/faults`` JSON form. The per-user rate limit is on by default
    at LeanIX's documented 1,800 requests per 60 s ([V] §0.3); ``/_sandbox/reset`` restores
    every setting here, whatever ``PUT /_sandbox/config`` changed.
    """

    host: str = "127.0.0.1"
    port: int = 0
    https: bool = False
    cert_file: str | Path | None = None
    seed: str | dict[str, Any] = "demo"
    generated_seed: int = 42
    data_model: dict[str, Any] | None = None
    token_lifetime_seconds: float = 3600.0
    max_page_size: int = 10000
    faults: dict[str, Any] = field(default_factory=dict)
    fault_seed: int = 0
    delivery_max_attempts: int = 5
    delivery_backoff_seconds: float = 0.5
    #: Caps every redelivery wait, a target's ``Retry-After`` included (emulator time is short).
    delivery_max_backoff_seconds: float = 5.0
    delivery_concurrency: int = 16
    delivery_timeout_seconds: float = 10.0
    log_level: str = "warning"
    rate_limit_enabled: bool = True
    rate_limit: int = 1800
    rate_limit_window_seconds: float = 60.0
    #: False = the limit's 429 carries no Retry-After ([V] §0.3: it "might contain" one).
    rate_limit_retry_after: bool = True
    accept_double_slash: bool = True
    #: None = cursors never expire.
    cursor_ttl_seconds: float | None = None
    #: Integration API run timing: PENDING lasts this long after start, then IN_PROGRESS this long.
    integration_pending_seconds: float = 0.1
    integration_run_seconds: float = 0.5
    #: Tag sets the run-statistics event is sent with (None = [["integrations", "statistics"]]).
    integration_statistics_tag_sets: list[list[str]] | None = None
    #: An Azure blob connection string (Azurite in tests): ``GET /storages/azure`` then hands out
    #: SAS URLs there; None = upload URLs of the emulator itself.
    integration_blob_connection_string: str | None = None
    #: Largest accepted Integration API request body (413 above).
    integration_max_body_bytes: int = 64 * 1024 * 1024
    #: Survey APIs the workspace offers: "v1" (Survey API v1), "v2" (Poll API v2); a missing one
    #: answers 404 on every path, like a workspace that has only the other.
    survey_apis: list[str] = field(default_factory=lambda: ["v1", "v2"])
