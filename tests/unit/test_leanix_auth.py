"""Token exchange, claims, the per-process bearer cache and refresh."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
import requests
import responses

from lx_core.config import LeanIXSettings
from lx_core.errors import AuthenticationError, ServerError
from lx_core.leanix.auth import TokenClaims, decode_jwt_payload
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.testing import DEFAULT_START, FakeClock, unsigned_jwt

TOKEN_URL = "https://app.leanix.net/services/mtm/v1/oauth2/token"
WEBHOOKS_URL = "https://acme.leanix.net/services/webhooks/v1/subscriptions"

MakeClient = Callable[..., LeanIXClient]
AddToken = Callable[..., str]
Settings = Callable[..., LeanIXSettings]


def _token_calls(rsps: responses.RequestsMock) -> list[requests.PreparedRequest]:
    return [c.request for c in rsps.calls if c.request.url == TOKEN_URL]


def test_exchange_sends_basic_apitoken_and_grant_type(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    claims = leanix_client.claims
    request = leanix_http.calls[0].request
    assert request.method == "POST"
    assert request.url == TOKEN_URL
    expected = base64.b64encode(b"apitoken:api-token-1").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert parse_qs(str(request.body)) == {"grant_type": ["client_credentials"]}
    assert claims == TokenClaims(
        instance_url="https://acme.leanix.net",
        workspace_id="ws-1",
        workspace_name="acme",
        principal_id="tu-1",
        expires_at=DEFAULT_START + 3600,
    )


def test_service_calls_go_to_instance_url_after_exchange(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    assert leanix_client.base_url == "https://app.leanix.net"  # no I/O yet
    assert len(leanix_http.calls) == 0
    token = leanix_token()
    leanix_http.add(responses.GET, WEBHOOKS_URL, json={"status": "OK", "data": []})
    leanix_client.request("GET", "/services/webhooks/v1/subscriptions", idempotent=True)
    assert leanix_client.base_url == "https://acme.leanix.net"
    call = leanix_http.calls[1].request
    assert call.url == WEBHOOKS_URL
    assert call.headers["Authorization"] == f"Bearer {token}"


def test_cache_is_shared_by_clients_of_the_same_token(
    leanix_make_client: MakeClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    first, second = leanix_make_client(), leanix_make_client()
    assert first.claims == second.claims
    assert len(_token_calls(leanix_http)) == 1
    assert first.stats.token_exchanges + second.stats.token_exchanges == 1


def test_cache_is_separate_per_token_and_per_host(
    leanix_make_client: MakeClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_settings_factory: Settings,
) -> None:
    leanix_token(unsigned_jwt(workspace_id="ws-a"))
    leanix_token(unsigned_jwt(workspace_id="ws-b"))
    leanix_token(unsigned_jwt(workspace_id="ws-eu"), host="https://eu.leanix.net")
    a = leanix_make_client(leanix_settings_factory("token-a"))
    b = leanix_make_client(leanix_settings_factory("token-b"))
    eu = leanix_make_client(leanix_settings_factory("token-a", host="eu.leanix.net"))
    assert a.claims.workspace_id == "ws-a"
    assert b.claims.workspace_id == "ws-b"
    assert eu.claims.workspace_id == "ws-eu"
    assert len(leanix_http.calls) == 3


def test_refreshes_within_the_margin_before_expiry(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
) -> None:
    leanix_token(unsigned_jwt(nonce="one"))
    leanix_token(unsigned_jwt(nonce="two", exp=DEFAULT_START + 7200))
    _ = leanix_client.claims
    leanix_clock.advance(3599 - 61)  # expires_in=3599 wins over exp; margin 60 s
    _ = leanix_client.claims
    assert len(leanix_http.calls) == 1
    leanix_clock.advance(2)
    assert leanix_client.claims.expires_at == DEFAULT_START + 7200
    assert len(leanix_http.calls) == 2


def test_expiry_is_the_earlier_of_exp_and_expires_in(
    leanix_client: LeanIXClient, leanix_token: AddToken, leanix_http: responses.RequestsMock
) -> None:
    leanix_token(unsigned_jwt(exp=DEFAULT_START + 100), expires_in=3599)
    bearer = leanix_client.transport.tokens.get()
    assert bearer.expires_at == DEFAULT_START + 100
    assert "eyJ" not in repr(bearer)


@pytest.mark.parametrize("status", [400, 401])
def test_refused_api_token_raises_authentication_error(
    leanix_client: LeanIXClient,
    leanix_token: AddToken,
    leanix_http: responses.RequestsMock,
    status: int,
) -> None:
    leanix_token(status=status)
    with pytest.raises(AuthenticationError, match="refused the API token") as info:
        _ = leanix_client.claims
    assert info.value.status == status
    assert "api-token-1" not in str(info.value)
    assert len(leanix_http.calls) == 1  # a refusal is never retried


def test_token_endpoint_5xx_is_retried(
    leanix_client: LeanIXClient,
    leanix_token: AddToken,
    leanix_http: responses.RequestsMock,
    leanix_clock: FakeClock,
) -> None:
    leanix_http.add(responses.POST, TOKEN_URL, status=503)
    leanix_token()
    assert leanix_client.claims.workspace_id == "ws-1"
    assert leanix_clock.sleeps == [pytest.approx(0.375)]  # 0.5 → equal jitter at 0.5


def test_token_endpoint_5xx_gives_up_with_server_error(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, TOKEN_URL, status=503)
    with pytest.raises(ServerError) as info:
        _ = leanix_client.claims
    assert info.value.path == "/services/mtm/v1/oauth2/token"
    assert len(leanix_http.calls) == 6  # 1 + max_retries


def test_concurrent_callers_make_one_exchange(
    leanix_make_client: MakeClient, leanix_http: responses.RequestsMock
) -> None:
    calls = 0

    def slow_token(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        nonlocal calls
        calls += 1
        time.sleep(0.05)
        body = json.dumps({"access_token": unsigned_jwt(), "expires_in": 3599})
        return 200, {"Content-Type": "application/json"}, body

    leanix_http.add_callback(responses.POST, TOKEN_URL, callback=slow_token)
    clients = [leanix_make_client() for _ in range(8)]
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda c=c: results.append(c.claims.instance_url)) for c in clients
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["https://acme.leanix.net"] * 8
    assert calls == 1


def test_claims_fall_back_to_configured_host_without_instance_url(
    leanix_client: LeanIXClient, leanix_token: AddToken
) -> None:
    leanix_token(unsigned_jwt(instance_url=None))
    assert leanix_client.claims.instance_url == "https://app.leanix.net"


def test_instance_url_downgrade_to_http_is_refused(
    leanix_client: LeanIXClient, leanix_token: AddToken
) -> None:
    leanix_token(unsigned_jwt(instance_url="http://acme.leanix.net"))
    with pytest.raises(AuthenticationError, match="downgrades"):
        _ = leanix_client.claims


def test_instance_url_path_is_dropped(leanix_client: LeanIXClient, leanix_token: AddToken) -> None:
    leanix_token(unsigned_jwt(instance_url="https://acme.leanix.net/acme/"))
    assert leanix_client.claims.instance_url == "https://acme.leanix.net"


def test_decode_restores_base64url_padding() -> None:
    for name in ("a", "ab", "abc", "abcd"):  # every padding length
        token = unsigned_jwt(workspace_name=name)
        payload = decode_jwt_payload(token)
        assert payload is not None
        assert payload["principal"]["permission"]["workspaceName"] == name
    assert decode_jwt_payload("not-a-jwt") is None
    assert decode_jwt_payload("a.!!!.c") is None


def test_a_margin_longer_than_the_lifetime_is_clamped_to_a_fraction_of_it(
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
    leanix_make_client: MakeClient,
    leanix_settings_factory: Settings,
) -> None:
    """30 s tokens with the default 60 s margin: one exchange per lifetime, not one per call
    (storm cause 1)."""
    client = leanix_make_client(leanix_settings_factory(token_refresh_margin_seconds=60))
    for nonce in range(4):
        leanix_token(unsigned_jwt(nonce=str(nonce), exp=None), expires_in=30)
    for _ in range(20):
        _ = client.claims
        leanix_clock.advance(3.0)  # 20 calls over 60 s
    assert len(_token_calls(leanix_http)) == 3  # at 0 s, ~27 s, ~54 s
    assert client.stats.token_exchanges == 3


def test_no_thread_sleeps_while_holding_the_exchange_lock(
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
    leanix_settings_factory: Settings,
) -> None:
    """The exchange's back-off happens outside the lock, so other threads are never queued
    behind a sleeping leader."""
    held_while_sleeping: list[bool] = []
    client: LeanIXClient | None = None

    def sleep(seconds: float) -> None:
        if client is not None:
            held_while_sleeping.append(client.transport.tokens.slot_lock.locked())
        leanix_clock.sleep(seconds)

    client = LeanIXClient(
        leanix_settings_factory(), clock=leanix_clock, sleep=sleep, jitter=lambda: 0.5
    )
    leanix_http.add(responses.POST, TOKEN_URL, status=503)
    leanix_http.add(responses.POST, TOKEN_URL, status=502)
    leanix_token()
    assert client.claims.workspace_id == "ws-1"
    assert held_while_sleeping == [False, False]
