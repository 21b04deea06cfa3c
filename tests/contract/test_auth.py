"""Contract: token exchange, claims, bearer reuse, refresh and re-authentication (MTM)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lx_core.errors import AuthenticationError, NotFoundError
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.graphql import Patch
from lx_sandbox.emulator import TECHNICAL_TOKEN, SandboxServer
from tests.contract.conftest import GQL_KEY, TOKEN_KEY, TOKEN_PATH, Admin, ClientFactory

pytestmark = pytest.mark.sandbox

PAYROLL = "78c88549-24a8-59fd-b49b-be4433449965"


def test_token_exchange_yields_the_workspace_claims(
    sandbox: SandboxServer, admin: Admin, client: LeanIXClient
) -> None:
    """The bearer's claims route to the emulator and name its workspace and technical user."""
    ws = admin.workspace()
    claims = client.claims
    assert claims.instance_url == sandbox.url
    assert client.base_url == sandbox.url
    assert claims.workspace_id == ws["workspace"]["id"]
    assert claims.workspace_name == ws["workspace"]["name"] == "sandbox-demo"
    assert claims.principal_id == admin.user_id(TECHNICAL_TOKEN)
    assert claims.expires_at > time.time() + 60
    assert admin.stats()["tokensIssued"] == 1
    assert client.stats.token_exchanges == 1


def test_wrong_api_token_raises_authentication_error(
    admin: Admin, make_client: ClientFactory
) -> None:
    """A refused API token is an AuthenticationError, asked once, with no secret in the text."""
    client = make_client("definitely-not-a-valid-token")
    with pytest.raises(AuthenticationError) as info:
        _ = client.claims
    assert info.value.status == 401
    assert info.value.path == TOKEN_PATH
    assert "definitely-not-a-valid-token" not in str(info.value)
    assert admin.stats()["tokensIssued"] == 0
    assert admin.requests_to(TOKEN_KEY) == 1  # a refused token is not retried


def test_bearer_is_reused_across_calls_and_clients(
    admin: Admin, make_client: ClientFactory
) -> None:
    """Many calls from two clients with the same token share one bearer (one exchange)."""
    first, second = make_client(), make_client()
    for _ in range(6):
        assert first.graphql.get_fact_sheet(PAYROLL, "id") == {"id": PAYROLL}
        assert second.graphql.get_fact_sheet(PAYROLL, "id") == {"id": PAYROLL}
    stats = admin.stats()
    assert stats["tokensIssued"] == 1
    assert stats["requests"][TOKEN_KEY] == 1
    assert stats["requests"][GQL_KEY] == 12
    assert first.stats.snapshot().by_service == {"mtm": 1, "pathfinder": 6}
    assert second.stats.snapshot().by_service == {"pathfinder": 6}


def test_bearer_is_refreshed_before_a_short_lifetime_ends(
    admin: Admin, make_client: ClientFactory
) -> None:
    """With 3 s tokens and a 1 s margin, calls spanning > 3 s all succeed on fresh bearers:
    the client refreshes proactively (new exchanges, never a 401)."""
    admin.put_faults({"tokenLifetimeSeconds": 3})
    client = make_client(token_refresh_margin_seconds=1)
    started = time.monotonic()
    calls = 0
    while time.monotonic() - started < 3.5:
        assert client.graphql.get_fact_sheet(PAYROLL, "id") == {"id": PAYROLL}
        calls += 1
        time.sleep(0.25)
    stats = admin.stats()
    assert stats["requests"][GQL_KEY] == calls
    assert stats["tokensIssued"] >= 2
    assert stats["statusCodes"].get("401", 0) == 0
    assert client.stats.token_exchanges == stats["tokensIssued"]


def test_revoked_bearer_is_replaced_once_and_the_write_replayed(
    admin: Admin, client: LeanIXClient
) -> None:
    """After the server revokes every bearer, a mutation gets one 401, one re-authentication
    and one replay; the caller sees only the result, and the write is applied exactly once."""
    rev = admin.fact_sheet(PAYROLL)["rev"]
    assert client.graphql.get_fact_sheet(PAYROLL, "id") is not None
    admin.expire_tokens()
    updated = client.graphql.update_fact_sheet(
        PAYROLL, [Patch(op="replace", path="/description", value="after re-auth")], rev=None
    )
    assert updated["rev"] == rev + 1
    stats = admin.stats()
    assert stats["tokensIssued"] == 2
    assert stats["statusCodes"]["401"] == 1
    assert stats["graphql"]["updateFactSheet"] == 1
    after = admin.fact_sheet(PAYROLL)
    assert after["rev"] == rev + 1
    assert after["description"] == "after re-auth"
    assert client.stats.token_exchanges == 2


def test_token_exchange_is_retried_on_503(admin: Admin, client: LeanIXClient) -> None:
    """The token endpoint is asked again after a 503 (the exchange has no side effect)."""
    admin.add_fault(pathPrefix=TOKEN_PATH, status=503, count=1)
    assert client.claims.principal_id == admin.user_id(TECHNICAL_TOKEN)
    stats = admin.stats()
    assert stats["requests"][TOKEN_KEY] == 2
    assert stats["statusCodes"]["503"] == 1
    assert stats["tokensIssued"] == 1


def test_concurrent_callers_share_one_exchange(admin: Admin, make_client: ClientFactory) -> None:
    """Eight threads starting at once on a cold cache (slow token endpoint) cause one
    exchange; every call succeeds with the shared bearer."""
    admin.add_fault(pathPrefix=TOKEN_PATH, latencyMs=300)
    clients = [make_client() for _ in range(8)]
    barrier = threading.Barrier(len(clients))

    def call(c: LeanIXClient) -> dict[str, Any] | None:
        barrier.wait()
        return c.graphql.get_fact_sheet(PAYROLL, "id")

    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(call, clients))
    assert results == [{"id": PAYROLL}] * len(clients)
    stats = admin.stats()
    assert stats["tokensIssued"] == 1
    assert stats["requests"][TOKEN_KEY] == 1
    assert stats["requests"][GQL_KEY] == len(clients)


def test_raw_request_is_authenticated_and_mapped(admin: Admin, client: LeanIXClient) -> None:
    """client.request sends an authenticated call to instanceUrl + path, returns the response,
    maps error statuses, and refuses anything but an absolute path on the LeanIX host."""
    response = client.request("GET", "/services/webhooks/v1/subscriptions", idempotent=True)
    assert response.status_code == 200
    assert response.json()["status"] == "OK"
    assert response.request.headers["Authorization"].startswith("Bearer ")
    with pytest.raises(NotFoundError):
        client.request("GET", "/services/webhooks/v1/subscriptions/no-such-id", idempotent=True)
    for bad in ("https://evil.example.com/x", "//evil.example.com/x", "services/x"):
        with pytest.raises(ValueError, match="absolute path"):
            client.request("GET", bad, idempotent=True)
    assert admin.stats()["requests"] == {
        TOKEN_KEY: 1,
        "GET /services/webhooks/v1/subscriptions": 1,
        "GET /services/webhooks/v1/subscriptions/no-such-id": 1,
    }
