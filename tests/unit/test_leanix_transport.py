"""HttpTransport: 401 replay, retries and their limits, timeouts, error mapping, stats."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate

import pytest
import requests
import responses

from lx_core.config import LeanIXSettings
from lx_core.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.testing import FakeClock, unsigned_jwt

GQL = "https://acme.leanix.net/services/pathfinder/v1/graphql"
SUBS = "https://acme.leanix.net/services/webhooks/v1/subscriptions"
TOKEN_URL = "https://app.leanix.net/services/mtm/v1/oauth2/token"
QUERY = "{ allFactSheets { totalCount } }"
MUTATION = 'mutation { createTag(name: "x") { id } }'

MakeClient = Callable[..., LeanIXClient]
AddToken = Callable[..., str]
Settings = Callable[..., LeanIXSettings]


def _gql_ok() -> dict[str, object]:
    return {"data": {"allFactSheets": {"totalCount": 1}}, "errors": None}


def _service_calls(rsps: responses.RequestsMock) -> list[responses.Call]:
    return [c for c in rsps.calls if c.request.url != TOKEN_URL]


# --- 401 --------------------------------------------------------------------------------------


def test_401_reauthenticates_once_and_replays_once(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    old = leanix_token(unsigned_jwt(nonce="old"))
    new = leanix_token(unsigned_jwt(nonce="new"))
    leanix_http.add(responses.POST, GQL, status=401)
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    assert leanix_client.graphql.execute(MUTATION) == _gql_ok()["data"]
    auths = [c.request.headers["Authorization"] for c in _service_calls(leanix_http)]
    assert auths == [f"Bearer {old}", f"Bearer {new}"]
    assert leanix_client.stats.token_exchanges == 2


def test_second_401_raises_authentication_error(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token(unsigned_jwt(nonce="old"))
    leanix_token(unsigned_jwt(nonce="new"))
    leanix_token(unsigned_jwt(nonce="never"))
    leanix_http.add(responses.POST, GQL, status=401)
    with pytest.raises(AuthenticationError) as info:
        leanix_client.graphql.execute(QUERY)
    assert info.value.status == 401
    assert len(_service_calls(leanix_http)) == 2
    assert leanix_client.stats.token_exchanges == 2


# --- 429 --------------------------------------------------------------------------------------


def test_429_honours_retry_after_seconds(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, status=429, headers={"Retry-After": "7"})
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    leanix_client.graphql.execute(MUTATION)  # 429 is retried even for a mutation
    assert leanix_clock.sleeps == [7.0]
    assert leanix_client.stats.retries == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_retry_after_is_honoured_on_5xx_too(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
    status: int,
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, status=status, headers={"Retry-After": "9"})
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    leanix_client.graphql.execute(QUERY)
    assert leanix_clock.sleeps == [9.0]


def test_429_honours_retry_after_http_date(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
) -> None:
    leanix_token()
    when = formatdate(leanix_clock.now + 12, usegmt=True)
    leanix_http.add(responses.POST, GQL, status=429, headers={"Retry-After": when})
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    leanix_client.graphql.execute(QUERY)
    assert leanix_clock.sleeps == [pytest.approx(12, abs=1)]


def test_429_without_retry_after_backs_off_exponentially(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
) -> None:
    leanix_token()
    for _ in range(3):
        leanix_http.add(responses.POST, GQL, status=429)
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    leanix_client.graphql.execute(QUERY)
    # equal jitter at 0.5: 0.75 of 0.5, 1, 2
    assert leanix_clock.sleeps == [0.375, 0.75, 1.5]


def test_backoff_is_capped_at_backoff_max(
    leanix_make_client: MakeClient,
    leanix_settings_factory: Settings,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
) -> None:
    client = leanix_make_client(leanix_settings_factory(max_retries=8, backoff_max_seconds=2))
    leanix_token()
    for _ in range(5):
        leanix_http.add(responses.POST, GQL, status=503)
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    client.graphql.execute(QUERY)
    assert max(leanix_clock.sleeps) == 1.5  # 2 * 0.75


def test_429_out_of_budget_raises_rate_limit_error_with_retry_after(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
) -> None:
    leanix_token()
    leanix_http.add(
        responses.POST,
        GQL,
        status=429,
        headers={"Retry-After": "120"},
        json={"message": "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED"},
    )
    with pytest.raises(RateLimitError) as info:
        leanix_client.graphql.execute(QUERY)
    assert info.value.retry_after == 120
    assert info.value.leanix_message == "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED"
    assert leanix_clock.sleeps == []  # a 120 s wait would overrun the 60 s budget: stop now
    assert len(_service_calls(leanix_http)) == 1


# --- 5xx --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_for_queries(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    status: int,
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, status=status)
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    assert leanix_client.graphql.execute(QUERY) == _gql_ok()["data"]
    assert len(_service_calls(leanix_http)) == 2


@pytest.mark.parametrize("status", [502, 503])
def test_gateway_errors_are_not_retried_for_a_plain_mutation(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    status: int,
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, status=status)
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    with pytest.raises(ServerError) as info:
        leanix_client.graphql.execute("# a comment\n  mutation { x }")
    assert info.value.status == status
    assert len(_service_calls(leanix_http)) == 1


def test_500_on_a_query_is_retried_like_any_5xx(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    """A query is idempotent: a 500 is as worth retrying as a 502 (storm cause 2)."""
    leanix_token()
    leanix_http.add(responses.POST, GQL, status=500)
    leanix_http.add(responses.POST, GQL, json={"data": {"ok": True}})
    assert leanix_client.graphql.execute(QUERY) == {"ok": True}
    assert len(_service_calls(leanix_http)) == 2


def test_500_on_an_unguarded_mutation_is_not_retried(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, status=500)
    with pytest.raises(ServerError):
        leanix_client.graphql.execute("mutation { x }")
    assert len(_service_calls(leanix_http)) == 1


def test_5xx_backoff_stops_at_the_time_budget(
    leanix_make_client: MakeClient,
    leanix_settings_factory: Settings,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    leanix_clock: FakeClock,
) -> None:
    client = leanix_make_client(
        leanix_settings_factory(max_retries=20, retry_budget_seconds=10, backoff_max_seconds=30)
    )
    leanix_token()
    leanix_http.add(responses.POST, GQL, status=503)
    started = leanix_clock.now
    with pytest.raises(ServerError) as info:
        client.graphql.execute(QUERY)
    assert info.value.status == 503
    # waits 0.375 + 0.75 + 1.5 + 3 = 5.625; the next (6) would pass 10 s, so it stops there
    assert leanix_clock.sleeps == [0.375, 0.75, 1.5, 3.0]
    assert leanix_clock.now - started <= 10
    assert len(_service_calls(leanix_http)) == 5


def test_attempts_are_bounded_by_max_retries(
    leanix_make_client: MakeClient,
    leanix_settings_factory: Settings,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
) -> None:
    client = leanix_make_client(leanix_settings_factory(max_retries=2))
    leanix_token()
    leanix_http.add(responses.POST, GQL, status=429)
    with pytest.raises(RateLimitError):
        client.graphql.execute(QUERY)
    assert len(_service_calls(leanix_http)) == 3


# --- no answer --------------------------------------------------------------------------------


def test_connect_timeout_is_retried_even_for_a_mutation(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, body=requests.exceptions.ConnectTimeout("slow"))
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    leanix_client.graphql.execute(MUTATION)
    assert len(_service_calls(leanix_http)) == 2


def test_persistent_connect_timeout_maps_to_request_timeout_error(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, body=requests.exceptions.ConnectTimeout("slow"))
    with pytest.raises(RequestTimeoutError, match="connecting") as info:
        leanix_client.graphql.execute(QUERY)
    assert info.value.method == "POST"
    assert info.value.path == "/services/pathfinder/v1/graphql"
    assert len(_service_calls(leanix_http)) == 6


def test_read_timeout_on_a_mutation_is_not_retried(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, body=requests.exceptions.ReadTimeout("slow"))
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    with pytest.raises(RequestTimeoutError, match="read timeout"):
        leanix_client.graphql.execute(MUTATION)
    assert len(_service_calls(leanix_http)) == 1


def test_read_timeout_on_a_query_is_retried(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, body=requests.exceptions.ReadTimeout("slow"))
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    leanix_client.graphql.execute(QUERY)
    assert len(_service_calls(leanix_http)) == 2


def test_other_request_errors_map_to_transport_error(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    leanix_http.add(responses.GET, SUBS, body=requests.exceptions.SSLError("bad cert"))
    with pytest.raises(TransportError) as info:
        leanix_client.request("GET", "/services/webhooks/v1/subscriptions", idempotent=True)
    assert not isinstance(info.value, RequestTimeoutError)
    assert len(_service_calls(leanix_http)) == 1  # certificate errors do not heal


def test_every_call_carries_connect_and_read_timeouts(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    leanix_client.graphql.execute(QUERY)
    for call in leanix_http.calls:
        assert call.request.req_kwargs["timeout"] == (5.0, 30.0)  # type: ignore[attr-defined]


# --- mapping and stats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"), [(404, NotFoundError), (400, BadRequestError), (422, BadRequestError)]
)
def test_4xx_are_mapped_and_carry_method_path_and_message(
    leanix_client: LeanIXClient,
    leanix_http: responses.RequestsMock,
    leanix_token: AddToken,
    status: int,
    error: type[Exception],
) -> None:
    leanix_token()
    leanix_http.add(
        responses.GET,
        SUBS,
        status=status,
        json={"status": "ERROR", "errors": [{"value": "x", "messages": ["nope", "really"]}]},
    )
    with pytest.raises(error) as info:
        leanix_client.request(
            "get",
            "/services/webhooks/v1/subscriptions",
            params={"identifier": "q"},
            idempotent=True,
        )
    exc = info.value
    assert exc.method == "GET"  # type: ignore[attr-defined]
    assert exc.path == "/services/webhooks/v1/subscriptions"  # type: ignore[attr-defined]
    assert exc.leanix_message == "x: nope; x: really"  # type: ignore[attr-defined]
    assert "identifier" not in str(exc)
    assert len(_service_calls(leanix_http)) == 1


def test_non_json_error_body_becomes_the_message(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    leanix_http.add(responses.GET, SUBS, status=403, body="<html>Forbidden</html>")
    with pytest.raises(Exception, match="Forbidden"):
        leanix_client.request("GET", "/services/webhooks/v1/subscriptions", idempotent=True)


def test_path_must_stay_on_the_leanix_host(leanix_client: LeanIXClient) -> None:
    for path in ("https://evil.example/x", "//evil.example/x", "services/x"):
        with pytest.raises(ValueError, match="absolute path"):
            leanix_client.request("GET", path, idempotent=True)


def test_stats_count_calls_by_service_retries_and_exchanges(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_token: AddToken
) -> None:
    leanix_token()
    leanix_http.add(responses.POST, GQL, status=503)
    leanix_http.add(responses.POST, GQL, json=_gql_ok())
    leanix_http.add(responses.GET, SUBS, json={"data": []})
    leanix_client.graphql.execute(QUERY)
    leanix_client.webhooks.list_subscriptions()
    snap = leanix_client.stats.snapshot()
    assert snap.calls == 4
    assert dict(snap.by_service) == {"mtm": 1, "pathfinder": 2, "webhooks": 1}
    assert snap.retries == 1
    assert snap.token_exchanges == 1
    assert leanix_client.stats.reset() == snap
    assert leanix_client.stats.snapshot().calls == 0
