"""Fixtures for the LeanIX client tests: all prefixed ``leanix_``, none autouse."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses
from pydantic import SecretStr

from lx_core import runtime
from lx_core.config import LeanIXSettings
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.testing import FakeClock, unsigned_jwt


def _settings(api_token: str = "api-token-1", **overrides: Any) -> LeanIXSettings:  # noqa: S107
    # Every field explicit, so a developer's LEANIX_* environment cannot leak into a test.
    values: dict[str, Any] = {
        "api_token": SecretStr(api_token),
        "host": "app.leanix.net",
        "connect_timeout": 5.0,
        "read_timeout": 30.0,
        "max_retries": 5,
        "retry_budget_seconds": 60.0,
        "backoff_initial_seconds": 0.5,
        "backoff_max_seconds": 30.0,
        "requests_per_minute": 1500,
        "token_refresh_margin_seconds": 60,
        "page_size": 100,
        "cache_ttl_seconds": 300,
    }
    values.update(overrides)
    return LeanIXSettings(**values)


@pytest.fixture
def leanix_reset() -> Iterator[None]:
    """Empty the process-wide caches (bearer, pacer, tags, data model) around a test."""
    runtime.reset_process_state()
    yield
    runtime.reset_process_state()


@pytest.fixture
def leanix_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def leanix_http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def leanix_settings_factory() -> Callable[..., LeanIXSettings]:
    """``factory(api_token="...", **field_overrides)``."""
    return _settings


@pytest.fixture
def leanix_make_client(leanix_reset: None, leanix_clock: FakeClock) -> Callable[..., LeanIXClient]:
    """``make(settings=None)``: a client on the fake clock with fixed jitter (0.5)."""

    def make(settings: LeanIXSettings | None = None) -> LeanIXClient:
        return LeanIXClient(
            settings or _settings(),
            clock=leanix_clock,
            sleep=leanix_clock.sleep,
            jitter=lambda: 0.5,
        )

    return make


@pytest.fixture
def leanix_client(leanix_make_client: Callable[..., LeanIXClient]) -> LeanIXClient:
    return leanix_make_client()


@pytest.fixture
def leanix_token(leanix_http: responses.RequestsMock) -> Callable[..., str]:
    """``add(token=None, *, expires_in=3599, host=..., status=200)`` registers one token-endpoint
    answer and returns the access token it hands out."""

    def add(
        token: str | None = None,
        *,
        expires_in: int = 3599,
        host: str = "https://app.leanix.net",
        status: int = 200,
    ) -> str:
        token = token or unsigned_jwt()
        body: dict[str, Any] = (
            {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
            if status == 200
            else {"error": "unauthorized", "error_description": "Bad credentials"}
        )
        leanix_http.add(
            responses.POST, host + "/services/mtm/v1/oauth2/token", json=body, status=status
        )
        return token

    return add


@pytest.fixture
def fake_leanix(
    leanix_reset: None, leanix_http: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """An in-memory workspace behind `responses`, with the app's settings in the environment and
    the process-wide runtime emptied around the test."""
    from lx_core import runtime
    from tests.unit.fake_leanix import FakeLeanIX

    for name in list(__import__("os").environ):
        if name.startswith(("LEANIX_", "TIME_", "LX_WEBHOOK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LEANIX_API_TOKEN", "unit-api-token")
    monkeypatch.setenv("LEANIX_HOST", "app.leanix.net")
    monkeypatch.setenv("LEANIX_MAX_RETRIES", "0")
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION", "Bearer hook-secret")
    runtime.reset_process_state()
    yield FakeLeanIX(leanix_http)
    runtime.reset_process_state()
