"""MTM token exchange (§1.1-1.3) and bearer enforcement on every service."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import requests

from lx_sandbox.emulator import SandboxConfig, SandboxServer
from tests.sandbox.conftest import GQL, TOKEN_PATH, WEBHOOKS, Api


def _claims(token: str) -> dict[str, Any]:
    header_b64, payload_b64, _sig = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "==="))
    assert header == {"alg": "RS256", "typ": "JWT"}
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload_b64 + "==="))
    return claims


def test_token_exchange_returns_documented_body_and_claims(emu: Api) -> None:
    body = emu.login()
    assert set(body) == {"scope", "expired", "access_token", "token_type", "expires_in"}
    assert body["scope"] == "" and body["expired"] is False
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599
    claims = _claims(body["access_token"])
    ws = emu.admin("GET", "/workspace")
    assert claims["instanceUrl"] == emu.base_url
    assert claims["exp"] - claims["iat"] == 3600
    for key in ("iss", "jti", "sub"):
        assert claims[key]
    principal = claims["principal"]
    technical = next(u for u in ws["users"] if u["technical"])
    assert principal["id"] == technical["id"]
    assert principal["username"] == technical["username"]
    assert principal["account"] == ws["account"]
    perm = principal["permission"]
    assert perm["workspaceId"] == ws["workspace"]["id"]
    assert perm["workspaceName"] == ws["workspace"]["name"]
    assert perm["role"] == "ADMIN" and perm["status"] == "ACTIVE" and perm["id"]


def test_two_tokens_are_two_principals_in_one_workspace(emu: Api, emu_human: Api) -> None:
    tech = _claims(emu.login()["access_token"])["principal"]
    human = _claims(emu_human.login()["access_token"])["principal"]
    assert tech["id"] != human["id"]
    assert tech["permission"]["workspaceId"] == human["permission"]["workspaceId"]


def test_unknown_token_and_bad_requests_are_rejected(emu: Api) -> None:
    url = emu.base_url + TOKEN_PATH
    grant = {"grant_type": "client_credentials"}
    assert requests.post(url, auth=("apitoken", "nope"), data=grant, timeout=5).status_code == 401
    assert requests.post(url, data=grant, timeout=5).status_code == 401
    wrong_user = requests.post(
        url, auth=("someone", "sandbox-technical-user-token"), data=grant, timeout=5
    )
    assert wrong_user.status_code == 401
    no_grant = requests.post(url, auth=("apitoken", "sandbox-technical-user-token"), timeout=5)
    assert no_grant.status_code == 400


def test_alternative_documented_request_forms(emu: Api) -> None:
    url = emu.base_url + TOKEN_PATH
    in_query = requests.post(
        url + "?grant_type=client_credentials",
        auth=("apitoken", "sandbox-technical-user-token"),
        timeout=5,
    )
    assert in_query.status_code == 200
    as_form = requests.post(
        url,
        data={
            "grant_type": "client_credentials",
            "client_id": "apitoken",
            "client_secret": "sandbox-technical-user-token",
        },
        timeout=5,
    )
    assert as_form.status_code == 200


def test_every_service_requires_a_bearer(emu: Api) -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", GQL, {"json": {"query": "{ allTagGroups { totalCount } }"}}),
        ("GET", f"{WEBHOOKS}/subscriptions", {}),
        ("POST", f"{WEBHOOKS}/events", {"json": {"tags": ["x"]}}),
    ]
    for method, path, kwargs in calls:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
            r = requests.request(method, emu.base_url + path, headers=headers, timeout=5, **kwargs)
            assert r.status_code == 401, (method, path, headers)
        assert emu.rest(method, path, **kwargs).status_code == 200


def test_revoked_tokens_are_rejected(emu: Api) -> None:
    emu.login()
    assert emu.gql_raw("{ allTagGroups { totalCount } }").status_code == 200
    emu.admin("POST", "/tokens/expire")
    assert emu.gql_raw("{ allTagGroups { totalCount } }").status_code == 401


def test_short_token_lifetime_expires() -> None:
    with SandboxServer(SandboxConfig(seed="empty", token_lifetime_seconds=1)) as server:
        api = Api(server.url)
        body = api.login()
        assert body["expires_in"] == 0
        claims = _claims(body["access_token"])
        assert claims["exp"] - claims["iat"] == 1
        assert api.gql_raw("{ allTagGroups { totalCount } }").status_code == 200
        time.sleep(1.1)
        assert api.gql_raw("{ allTagGroups { totalCount } }").status_code == 401
        api.login()
        assert api.gql_raw("{ allTagGroups { totalCount } }").status_code == 200


def test_token_lifetime_can_be_changed_per_test(emu: Api) -> None:
    emu.admin("PUT", "/config", json={"tokenLifetimeSeconds": 120})
    body = emu.login()
    assert body["expires_in"] == 119
