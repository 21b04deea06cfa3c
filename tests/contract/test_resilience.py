"""Contract: retries on 429/5xx, Retry-After, the retry budget and timeouts, driven by the
emulator's fault rules and checked against its request counters."""

from __future__ import annotations

import socket
import time

import pytest

from lx_core.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.graphql import Patch
from tests.contract.conftest import GQL_KEY, GQL_PATH, Admin, ClientFactory, make_settings

pytestmark = pytest.mark.sandbox

WAREHOUSE = "b7c4d3ad-4889-5b0a-9114-71cc2a8831fe"


def _warm(client: LeanIXClient, admin: Admin) -> None:
    """Exchange the token first, then zero the emulator's counters."""
    assert client.claims.principal_id
    admin.clear_stats()


def test_429_without_retry_after_is_retried(admin: Admin, client: LeanIXClient) -> None:
    """Two 429s without Retry-After are absorbed by back-off; the third attempt answers."""
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, status=429, count=2)
    assert client.graphql.get_fact_sheet(WAREHOUSE, "id name") == {
        "id": WAREHOUSE,
        "name": "Warehouse",
    }
    stats = admin.stats()
    assert stats["statusCodes"]["429"] == 2
    assert stats["statusCodes"]["200"] == 1
    assert stats["requests"][GQL_KEY] == 3
    assert client.stats.retries == 2


def test_429_retry_after_is_honoured(admin: Admin, client: LeanIXClient) -> None:
    """A 429 with ``Retry-After: 1`` makes the client wait at least one second."""
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, status=429, retryAfter=1, count=1)
    started = time.monotonic()
    assert client.graphql.get_fact_sheet(WAREHOUSE, "id") == {"id": WAREHOUSE}
    elapsed = time.monotonic() - started
    assert elapsed >= 1.0
    assert elapsed < 3.0
    assert admin.status_count(429) == 1
    assert admin.requests_to(GQL_KEY) == 2


def test_429_on_a_plain_mutation_is_retried(admin: Admin, client: LeanIXClient) -> None:
    """429 means "not processed", so even a write without rev is retried, and applied once."""
    _warm(client, admin)
    rev = admin.fact_sheet(WAREHOUSE)["rev"]
    admin.add_fault(pathPrefix=GQL_PATH, status=429, count=1)
    patch = Patch(op="replace", path="/description", value="written through a 429")
    assert client.graphql.update_fact_sheet(WAREHOUSE, [patch], rev=None)["rev"] == rev + 1
    assert admin.status_count(429) == 1
    assert admin.fact_sheet(WAREHOUSE)["description"] == "written through a 429"


def test_503_is_retried_for_queries(admin: Admin, client: LeanIXClient) -> None:
    """A query (idempotent) is retried through two 503s."""
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, status=503, count=2)
    assert client.graphql.get_fact_sheet(WAREHOUSE, "id") == {"id": WAREHOUSE}
    assert admin.status_count(503) == 2
    assert admin.requests_to(GQL_KEY) == 3


def test_plain_mutation_is_not_retried_on_503(admin: Admin, client: LeanIXClient) -> None:
    """A write without rev may have been applied, so a 503 is raised at once: one request,
    ServerError, and the fact sheet is unchanged."""
    _warm(client, admin)
    before = admin.fact_sheet(WAREHOUSE)
    admin.add_fault(pathPrefix=GQL_PATH, status=503, count=1)
    patch = Patch(op="replace", path="/description", value="must not be written")
    with pytest.raises(ServerError) as info:
        client.graphql.update_fact_sheet(WAREHOUSE, [patch], rev=None)
    assert info.value.status == 503
    assert admin.requests_to(GQL_KEY) == 1
    assert admin.stats()["graphql"]["updateFactSheet"] == 0
    assert client.stats.retries == 0
    after = admin.fact_sheet(WAREHOUSE)
    assert after["rev"] == before["rev"]
    assert after["description"] == before["description"]


def test_rev_guarded_mutation_is_retried_on_503(admin: Admin, client: LeanIXClient) -> None:
    """A write carrying rev is safe to replay (a duplicate would clash), so it is retried and
    applied exactly once."""
    _warm(client, admin)
    rev = admin.fact_sheet(WAREHOUSE)["rev"]
    admin.add_fault(pathPrefix=GQL_PATH, status=503, count=1)
    patch = Patch(op="replace", path="/description", value="rev-guarded")
    assert client.graphql.update_fact_sheet(WAREHOUSE, [patch], rev=rev)["rev"] == rev + 1
    assert admin.requests_to(GQL_KEY) == 2
    assert admin.stats()["graphql"]["updateFactSheet"] == 1
    assert admin.fact_sheet(WAREHOUSE)["rev"] == rev + 1


def test_persistent_5xx_raises_server_error_within_the_budget(
    admin: Admin, make_client: ClientFactory
) -> None:
    """A 502 that never ends is retried until the 1 s budget would be exceeded, then raised as
    ServerError, well before max_retries would stop it."""
    client = make_client(
        max_retries=20,
        retry_budget_seconds=1.0,
        backoff_initial_seconds=0.1,
        backoff_max_seconds=0.3,
    )
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, status=502)
    started = time.monotonic()
    with pytest.raises(ServerError) as info:
        client.graphql.get_fact_sheet(WAREHOUSE, "id")
    elapsed = time.monotonic() - started
    assert info.value.status == 502
    assert elapsed <= 1.5
    attempts = admin.status_count(502)
    assert 3 <= attempts < 21
    assert client.stats.retries == attempts - 1


def test_read_timeout_raises_request_timeout_error(
    admin: Admin, make_client: ClientFactory
) -> None:
    """Injected latency beyond the read timeout ends as RequestTimeoutError after the allowed
    retry (a query is idempotent), in bounded time."""
    client = make_client(read_timeout=0.3, max_retries=1)
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, latencyMs=1000)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        client.graphql.get_fact_sheet(WAREHOUSE, "id")
    elapsed = time.monotonic() - started
    assert elapsed < 1.4
    assert admin.requests_to(GQL_KEY) == 2
    assert client.stats.retries == 1


def test_read_timeout_of_a_plain_mutation_is_not_replayed(
    admin: Admin, make_client: ClientFactory
) -> None:
    """A write without rev that timed out may have been applied, so it is raised after one
    attempt instead of being sent again."""
    client = make_client(read_timeout=0.2, max_retries=3)
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, latencyMs=500)
    patch = Patch(op="replace", path="/description", value="maybe written")
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        client.graphql.update_fact_sheet(WAREHOUSE, [patch], rev=None)
    assert time.monotonic() - started < 0.45
    assert admin.requests_to(GQL_KEY) == 1
    assert client.stats.retries == 0
    # Let the abandoned request run out on the server, so it cannot touch the next test.
    time.sleep(max(0.0, started + 0.7 - time.monotonic()))


def test_retry_after_beyond_the_budget_raises_rate_limit_error_at_once(
    admin: Admin, make_client: ClientFactory
) -> None:
    """A Retry-After longer than the whole budget is not slept through: RateLimitError at
    once, carrying the server's Retry-After."""
    client = make_client(retry_budget_seconds=1.0)
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, status=429, retryAfter=5, count=1)
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        client.graphql.get_fact_sheet(WAREHOUSE, "id")
    assert time.monotonic() - started < 0.5
    assert info.value.status == 429
    assert info.value.retry_after == 5.0
    assert "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED" in (info.value.leanix_message or "")
    assert admin.requests_to(GQL_KEY) == 1


def test_pacing_keeps_calls_under_the_configured_rate(
    admin: Admin, make_client: ClientFactory
) -> None:
    """At 600 requests/min (burst of 10) the token exchange plus 14 calls take at least half a
    second, and the client reports the time it paced."""
    client = make_client(requests_per_minute=600)
    started = time.monotonic()
    for _ in range(14):
        assert client.graphql.get_fact_sheet(WAREHOUSE, "id") == {"id": WAREHOUSE}
    elapsed = time.monotonic() - started
    assert elapsed >= 0.45
    # How much of that was pacing depends on how long the calls themselves took (a slow, busy
    # machine refills the bucket meanwhile); that some was, and no more than the whole, does not.
    assert 0 < client.stats.snapshot().paced_seconds <= elapsed
    assert admin.requests_to(GQL_KEY) == 14


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, BadRequestError),
    ],
)
def test_final_error_statuses_are_mapped_and_not_retried(
    admin: Admin, client: LeanIXClient, status: int, error: type[APIError]
) -> None:
    """Statuses that will not heal by asking again are raised at once as their error class."""
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, status=status, count=1)
    with pytest.raises(error) as info:
        client.graphql.get_fact_sheet(WAREHOUSE, "id")
    assert type(info.value) is error
    assert info.value.status == status
    assert admin.requests_to(GQL_KEY) == 1
    assert client.stats.retries == 0


def test_500_on_a_read_is_retried_and_heals(admin: Admin, client: LeanIXClient) -> None:
    """A query is idempotent: one 500 costs a retry, not the caller's read (storm cause 2)."""
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, status=500, count=1)
    assert client.graphql.get_fact_sheet(WAREHOUSE, "id") == {"id": WAREHOUSE}
    assert admin.requests_to(GQL_KEY) == 2
    assert client.stats.retries == 1


def test_persistent_401_is_an_authentication_error_after_one_reauth(
    admin: Admin, client: LeanIXClient
) -> None:
    """A 401 that survives one re-authentication is raised as AuthenticationError: two calls,
    two exchanges, no loop."""
    _warm(client, admin)
    admin.add_fault(pathPrefix=GQL_PATH, status=401, count=5)
    with pytest.raises(AuthenticationError) as info:
        client.graphql.get_fact_sheet(WAREHOUSE, "id")
    assert info.value.status == 401
    stats = admin.stats()
    assert stats["requests"][GQL_KEY] == 2
    assert stats["tokensIssued"] == 1


def test_connection_refused_is_retried_then_a_transport_error() -> None:
    """Nothing listening: the connect failure (never processed) is retried up to max_retries,
    then raised as TransportError, not as a timeout."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = LeanIXClient(make_settings(f"http://127.0.0.1:{port}", max_retries=2))
    try:
        with pytest.raises(TransportError) as info:
            _ = client.claims
    finally:
        client.close()
    assert not isinstance(info.value, RequestTimeoutError)
    assert client.stats.calls == 3
    assert client.stats.retries == 2
