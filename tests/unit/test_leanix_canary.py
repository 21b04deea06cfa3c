"""Canary: the API token and the bearer never reach a log record, an error's text or a repr."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest
import requests
import responses

from lx_core.config import LeanIXSettings
from lx_core.errors import (
    AuthenticationError,
    BadRequestError,
    GraphQLError,
    LeanIXError,
    RequestTimeoutError,
)
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.testing import unsigned_jwt

CANARY = "CANARY-7f3a9c1e-api-token"
TOKEN_URL = "https://app.leanix.net/services/mtm/v1/oauth2/token"
GQL = "https://acme.leanix.net/services/pathfinder/v1/graphql"
SUBS = "https://acme.leanix.net/services/webhooks/v1/subscriptions"


def _texts(exc: BaseException) -> list[str]:
    return [
        str(exc),
        repr(exc),
        "".join(traceback.format_exception(exc)),
        repr(vars(exc)),
    ]


def test_canary_never_leaks(
    leanix_make_client: Callable[..., LeanIXClient],
    leanix_settings_factory: Callable[..., LeanIXSettings],
    leanix_http: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = leanix_make_client(leanix_settings_factory(CANARY, max_retries=1))
    bearers = [unsigned_jwt(nonce=f"bearer-{i}") for i in range(3)]
    for bearer in bearers:
        leanix_http.add(
            responses.POST, TOKEN_URL, json={"access_token": bearer, "expires_in": 3599}
        )
    leanix_http.add(responses.POST, TOKEN_URL, status=401, json={"error": f"bad {CANARY}"})
    # Answers are consumed in registration order, one per call.
    gql_answers: list[dict[str, object]] = [
        {"status": 503},  # {a}: retried,
        {"status": 401},  # then re-authenticated (bearer 1) and replayed,
        {"json": {"data": {"a": 1}}},  # successfully
        {"json": {"data": None, "errors": [{"message": "no"}]}},  # {b}: GraphQL error
        {"body": requests.exceptions.ConnectTimeout("t")},  # {c}: timeout,
        {"body": requests.exceptions.ConnectTimeout("t")},  # and again: RequestTimeoutError
        {"status": 401},  # {d}: 401, re-auth (bearer 2),
        {"status": 401},  # 401 again: AuthenticationError
        {"status": 401},  # {e}: 401, and the token endpoint refuses the API token
    ]
    for answer in gql_answers:
        leanix_http.add(responses.POST, GQL, **answer)  # type: ignore[arg-type]
    leanix_http.add(
        responses.GET, SUBS, status=400, json={"message": f"token {CANARY} / {bearers[1]}"}
    )
    failures: list[BaseException] = []
    for call in (
        lambda: client.graphql.execute("{ a }"),
        lambda: client.webhooks.list_subscriptions(),  # LeanIX echoing secrets
        lambda: client.graphql.execute("{ b }"),
        lambda: client.graphql.execute("{ c }"),
        lambda: client.graphql.execute("{ d }"),
        lambda: client.graphql.execute("{ e }"),
    ):
        try:
            call()
        except LeanIXError as exc:
            failures.append(exc)

    assert [type(f) for f in failures] == [
        BadRequestError,
        GraphQLError,
        RequestTimeoutError,
        AuthenticationError,
        AuthenticationError,
    ]
    assert "token *** / ***" in str(failures[0])  # redacted, not dropped
    assert "refused the API token" in str(failures[4])
    assert client.stats.token_exchanges == 4
    secrets = [CANARY, *bearers]
    haystack: list[str] = [repr(client.transport.tokens.peek()), repr(client.settings)]
    for record in caplog.records:
        haystack.append(record.getMessage())
        haystack.append(repr(vars(record)))
    for failure in failures:
        haystack.extend(_texts(failure))
    for text in haystack:
        for secret in secrets:
            assert secret not in text
    assert len(caplog.records) > 5  # the paths above were really logged
