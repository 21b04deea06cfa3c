"""LeanIXClient facade: no I/O until first use, lazy sub-clients, session ownership."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
import requests
import responses

from lx_core.config import LeanIXSettings
from lx_core.errors import ConfigurationError
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.graphql import GraphQLClient
from lx_core.leanix.webhooks import WebhooksClient


@pytest.mark.usefixtures("leanix_reset")
def test_from_env_reads_settings_without_io(
    monkeypatch: pytest.MonkeyPatch, leanix_http: responses.RequestsMock
) -> None:
    monkeypatch.setenv("LEANIX_API_TOKEN", "env-token")
    monkeypatch.setenv("LEANIX_HOST", "eu.leanix.net")
    client = LeanIXClient.from_env()
    assert client.base_url == "https://eu.leanix.net"
    assert isinstance(client.graphql, GraphQLClient)
    assert client.graphql is client.graphql
    assert isinstance(client.webhooks, WebhooksClient)
    assert len(leanix_http.calls) == 0


def test_from_env_names_the_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEANIX_API_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="LEANIX_API_TOKEN"):
        LeanIXClient.from_env()


def test_context_manager_closes_its_own_session(leanix_client: LeanIXClient) -> None:
    with (
        mock.patch.object(requests.Session, "close") as close,
        leanix_client as entered,
    ):
        assert entered is leanix_client
    close.assert_called_once()


@pytest.mark.usefixtures("leanix_reset")
def test_an_injected_session_is_used_and_left_open(
    leanix_settings_factory: Callable[..., LeanIXSettings],
    leanix_http: responses.RequestsMock,
    leanix_token: Callable[..., str],
) -> None:
    session = requests.Session()
    session.headers["X-Probe"] = "yes"
    leanix_token()
    leanix_http.add(responses.GET, "https://acme.leanix.net/services/x/v1/y", json={})
    with mock.patch.object(session, "close") as close:
        with LeanIXClient(leanix_settings_factory(), session=session) as client:
            response = client.request("GET", "/services/x/v1/y", idempotent=True)
        close.assert_not_called()
    assert response.status_code == 200
    assert leanix_http.calls[1].request.headers["X-Probe"] == "yes"
