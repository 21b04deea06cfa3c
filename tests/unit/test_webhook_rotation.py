"""Rotating the webhook secret without downtime: every webhook route accepts the current
``LX_WEBHOOK_AUTHORIZATION`` and, while it is set, ``LX_WEBHOOK_AUTHORIZATION_NEXT``; once the
rotation ends only the new value works. The header is compared in constant time on each route."""

from __future__ import annotations

import hmac
import json
from typing import Any

import azure.functions as func
import pytest

from lx_core import runtime
from lx_core.config import WebhookSettings, load
from lx_core.errors import ConfigurationError
from lx_core.handlers.specs import SPECS
from lx_core.state.memory import MemoryStore
from tests.indexed_app import indexed_functions
from tests.unit.fake_leanix import FakeLeanIX

CURRENT = "Bearer hook-secret"
NEXT = "Bearer next-hook-secret"
ROUTES = [spec.function_name for spec in SPECS]


@pytest.fixture(autouse=True)
def _memory_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handlers that record notices need a state store; any store will do here."""
    store = MemoryStore()
    monkeypatch.setattr(runtime, "state_store", lambda: store)


def _post(function_name: str, auth: str | None) -> tuple[int, dict[str, Any]]:
    # An event no handler acts on: authentication is all that is being tested, and an accepted
    # delivery answers 200 "ignored" without a LeanIX call.
    body = {"type": "WorkspaceCreatedEvent", "id": 1, "workspaceId": "ws-1"}
    headers = {"content-type": "application/json"}
    if auth is not None:
        headers["Authorization"] = auth
    req = func.HttpRequest(
        method="POST",
        url=f"http://localhost/api/{function_name}",
        headers=headers,
        body=json.dumps(body).encode(),
    )
    resp = indexed_functions()[function_name].get_user_function()(req)
    return resp.status_code, json.loads(resp.get_body())


@pytest.mark.parametrize("function_name", ROUTES)
def test_during_a_rotation_both_secrets_work_on_every_route(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch, function_name: str
) -> None:
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION_NEXT", NEXT)
    assert _post(function_name, CURRENT)[0] == 200
    assert _post(function_name, NEXT)[0] == 200
    for wrong in (None, "", "Bearer other", NEXT + " ", CURRENT.lower()):
        status, body = _post(function_name, wrong)
        assert status == 401 and "Authorization" in body["error"]
    assert fake_leanix.ops == []


@pytest.mark.parametrize("function_name", ROUTES)
def test_after_the_rotation_only_the_new_secret_works(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch, function_name: str
) -> None:
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION", NEXT)  # the new value became the current one
    assert _post(function_name, NEXT)[0] == 200
    assert _post(function_name, CURRENT)[0] == 401


@pytest.mark.parametrize("function_name", ROUTES)
def test_every_route_compares_with_compare_digest(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch, function_name: str
) -> None:
    """Not a timing test: each route's check must go through ``hmac.compare_digest``, once per
    accepted secret, whichever of them matches."""
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION_NEXT", NEXT)
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    for auth in (CURRENT, NEXT, "Bearer wrong"):
        calls.clear()
        _post(function_name, auth)
        assert sorted(b for _, b in calls) == sorted([CURRENT.encode(), NEXT.encode()])
        assert {a for a, _ in calls} == {auth.encode()}


def test_an_unresolved_next_secret_is_a_configuration_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION", CURRENT)
    monkeypatch.setenv(
        "LX_WEBHOOK_AUTHORIZATION_NEXT",
        "@Microsoft.KeyVault(VaultName=kv;SecretName=lx-webhook-authorization-next)",
    )
    with pytest.raises(ConfigurationError) as caught:
        load(WebhookSettings)
    assert list(caught.value.settings) == ["LX_WEBHOOK_AUTHORIZATION_NEXT"]
    assert "Key Vault" in str(caught.value)


def test_a_blank_next_secret_means_no_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION", CURRENT)
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION_NEXT", "  ")
    assert load(WebhookSettings).accepted_authorizations() == (CURRENT,)
