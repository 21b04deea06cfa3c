"""``/_sandbox/config``: partial updates, strict validation (a 400 changes nothing), reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.conftest import Api

JsonDict = dict[str, Any]


def test_defaults_and_round_trip(emu_private: Callable[..., Api]) -> None:
    api = emu_private(seed="empty")
    config = api.admin("GET", "/config")
    assert config == {
        "maxPageSize": 10000,
        "tokenLifetimeSeconds": 3600.0,
        "rateLimit": {"enabled": True, "limit": 1800, "windowSeconds": 60.0, "retryAfter": True},
        "acceptDoubleSlash": True,
        "cursorTtlSeconds": None,
        "surveyApis": ["v1", "v2"],
        "delivery": {
            "maxAttempts": 5,
            "backoffSeconds": 0.5,
            "maxBackoffSeconds": 5.0,
            "concurrency": 16,
            "timeoutSeconds": 10.0,
        },
    }
    assert api.admin("PUT", "/config", json=config) == config  # a GET answer can be sent back


def test_only_named_keys_change_and_reset_restores_them(emu: Api) -> None:
    before = emu.admin("GET", "/config")
    after = emu.admin(
        "PUT",
        "/config",
        json={"maxPageSize": 7, "delivery": {"maxBackoffSeconds": 1.5}, "cursorTtlSeconds": 30},
    )
    assert after["maxPageSize"] == 7 and after["cursorTtlSeconds"] == 30.0
    assert after["delivery"] == {**before["delivery"], "maxBackoffSeconds": 1.5}
    assert after["rateLimit"] == before["rateLimit"]
    emu.admin("POST", "/reset")
    assert emu.admin("GET", "/config") == before


@pytest.mark.parametrize(
    "body",
    [
        {"rateLimt": {"limit": 5}},
        {"delivery": {"maxAttempt": 3}},
        {"delivery": {"concurrency": 99}},
        {"delivery": {"timeoutSeconds": 1}},
        {"delivery": {"backoffSeconds": 0}},
        {"maxPageSize": 0},
        {"maxPageSize": "10"},
        {"tokenLifetimeSeconds": -1},
        {"cursorTtlSeconds": "soon"},
        {"acceptDoubleSlash": None, "rateLimit": []},
    ],
)
def test_invalid_bodies_are_400_and_change_nothing(emu: Api, body: JsonDict) -> None:
    before = emu.admin("GET", "/config")
    r = emu.admin_raw("PUT", "/config", json={"maxPageSize": 3, **body})
    assert r.status_code == 400, body
    assert r.json()["error"]
    assert emu.admin("GET", "/config") == before
    assert emu.admin_raw("PUT", "/config", json=[1]).status_code == 400
