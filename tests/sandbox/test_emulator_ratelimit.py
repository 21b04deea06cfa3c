"""The per-user rate limit (§0.3): sliding window, Retry-After, attribution, switch and reset."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from lx_sandbox.emulator import HUMAN_TOKEN
from tests.sandbox.conftest import GQL, WEBHOOKS, Api

QUERY = "{ allTagGroups { totalCount } }"
SUBSCRIPTIONS = f"{WEBHOOKS}/subscriptions"


def _limit(api: Api, limit: int, window: float, enabled: bool = True) -> None:
    body = {"rateLimit": {"enabled": enabled, "limit": limit, "windowSeconds": window}}
    config = api.admin("PUT", "/config", json=body)
    assert config["rateLimit"] == {
        "enabled": enabled,
        "limit": limit,
        "windowSeconds": window,
        "retryAfter": True,
    }


def _statuses(api: Api, n: int) -> list[int]:
    return [api.gql_raw(QUERY).status_code for _ in range(n)]


def test_default_is_leanix_documented_limit(emu_private: Callable[..., Api]) -> None:
    """1,800 requests per minute per user, out of the box: the 1,801st of a minute is a 429."""
    api = emu_private(seed="empty")
    assert api.admin("GET", "/config")["rateLimit"] == {
        "enabled": True,
        "limit": 1800,
        "windowSeconds": 60.0,
        "retryAfter": True,
    }
    api.login()  # request 1 of the minute
    started = time.monotonic()
    statuses = [api.rest("GET", SUBSCRIPTIONS).status_code for _ in range(1800)]
    assert time.monotonic() - started < 55  # all inside one window
    assert statuses[:1799] == [200] * 1799 and statuses[1799] == 429
    last = api.rest("GET", SUBSCRIPTIONS)
    assert last.status_code == 429
    assert last.json() == {"status": "ERROR", "message": "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED"}
    assert 1 <= int(last.headers["Retry-After"]) <= 60
    assert api.admin("GET", "/stats")["rateLimited"] == 2


def test_over_the_limit_answers_429_with_message_and_retry_after(emu: Api) -> None:
    _limit(emu, 10, 1.0)
    emu.login()  # the token exchange is the user's first request in the window
    assert _statuses(emu, 9) == [200] * 9
    rejected = [emu.gql_raw(QUERY) for _ in range(3)]
    assert [r.status_code for r in rejected] == [429, 429, 429]
    assert all(r.json()["message"] == "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED" for r in rejected)
    assert all(r.headers["Retry-After"] == "1" for r in rejected)  # (0, 1] s, rounded up
    stats = emu.admin("GET", "/stats")
    tech = stats["users"][emu.user_id()]
    assert stats["rateLimited"] == 3 and tech["rateLimited"] == 3
    assert tech["statusCodes"] == {"200": 10, "429": 3}
    assert stats["statusCodes"]["429"] == 3
    time.sleep(1.05)
    assert _statuses(emu, 1) == [200]


def test_window_slides_and_rejected_requests_do_not_count(emu: Api) -> None:
    _limit(emu, 5, 1.0)
    started = time.monotonic()
    emu.login()
    assert _statuses(emu, 4) == [200] * 4
    rejected = 0
    while time.monotonic() - started < 0.6:  # hammer: every one of these is rejected
        assert emu.gql_raw(QUERY).status_code == 429
        rejected += 1
    time.sleep(max(0.0, started + 1.05 - time.monotonic()))
    # The five admitted requests have left the window; the rejected ones never entered it.
    assert _statuses(emu, 5) == [200] * 5
    assert _statuses(emu, 1) == [429]
    assert emu.admin("GET", "/stats")["rateLimited"] == rejected + 1


def test_limit_is_per_user_and_token_exchange_counts_for_the_token_owner(
    emu: Api, emu_human: Api
) -> None:
    _limit(emu, 3, 60.0)
    emu.login()
    emu_human.login()
    assert _statuses(emu, 3) == [200, 200, 429]
    exchange = emu.token_raw()  # MTM: the user behind the API token, not a bearer
    assert exchange.status_code == 429
    assert exchange.json()["message"] == "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED"
    assert int(exchange.headers["Retry-After"]) in range(59, 61)
    assert _statuses(emu_human, 2) == [200, 200]
    assert emu_human.token_raw().status_code == 429
    for _ in range(20):  # admin routes are never limited
        emu.admin("GET", "/health")
    stats = emu.admin("GET", "/stats")
    assert stats["users"][emu.user_id()]["rateLimited"] == 2
    assert stats["users"][emu.user_id(HUMAN_TOKEN)]["rateLimited"] == 1
    assert stats["users"][emu.user_id(HUMAN_TOKEN)]["username"] == "jane.doe@example.com"


def test_unauthenticated_requests_are_not_limited(emu: Api) -> None:
    _limit(emu, 1, 60.0)
    for _ in range(5):
        r = requests.post(
            emu.base_url + GQL,
            json={"query": QUERY},
            headers={"Authorization": "Bearer nope"},
            timeout=5,
        )
        assert r.status_code == 401
    assert emu.admin("GET", "/stats")["rateLimited"] == 0


def test_switch_turns_it_off_and_bad_settings_are_rejected(emu: Api) -> None:
    emu.login()
    _limit(emu, 1, 60.0, enabled=False)
    assert _statuses(emu, 5) == [200] * 5
    for bad in (
        {"limit": 0},
        {"limit": 1.5},
        {"limit": "60"},
        {"windowSeconds": 0},
        {"enabled": "yes"},
        {"retryAfter": 1},
        {"limits": 60},
    ):
        r = emu.admin_raw("PUT", "/config", json={"rateLimit": bad})
        assert r.status_code == 400, bad
    assert emu.admin("GET", "/config")["rateLimit"]["enabled"] is False
    assert emu.admin("PUT", "/config", json={"rateLimit": {"enabled": True}})["rateLimit"] == {
        "enabled": True,
        "limit": 1,
        "windowSeconds": 60.0,
        "retryAfter": True,
    }


def test_retry_after_can_be_left_out(emu: Api) -> None:
    """§0.3: LeanIX's 429 "might contain" Retry-After; clients must cope without one."""
    emu.admin("PUT", "/config", json={"rateLimit": {"limit": 2, "retryAfter": False}})
    emu.login()
    assert _statuses(emu, 1) == [200]
    rejected = emu.gql_raw(QUERY)
    assert rejected.status_code == 429 and "Retry-After" not in rejected.headers
    assert rejected.json()["message"] == "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED"
    assert emu.admin("GET", "/config")["rateLimit"]["windowSeconds"] == 60.0  # kept


def test_reset_restores_settings_and_counters(emu_private: Callable[..., Api]) -> None:
    api = emu_private(
        seed="empty", rate_limit=3, rate_limit_window_seconds=60.0, rate_limit_retry_after=False
    )
    api.login()
    assert _statuses(api, 3) == [200, 200, 429]
    api.admin("PUT", "/config", json={"rateLimit": {"limit": 100, "retryAfter": True}})
    api.admin("POST", "/reset")
    assert api.admin("GET", "/config")["rateLimit"] == {
        "enabled": True,
        "limit": 3,
        "windowSeconds": 60.0,
        "retryAfter": False,
    }
    assert api.admin("GET", "/stats")["rateLimited"] == 0
    assert _statuses(api, 4) == [200, 200, 200, 429]  # a fresh window for the same token
