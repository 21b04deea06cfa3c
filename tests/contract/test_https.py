"""Contract: the client over HTTPS, trusting the emulator's certificate only through the
standard REQUESTS_CA_BUNDLE, and refusing it otherwise (TLS is never switched off)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from lx_core.errors import APIError, RequestTimeoutError, TransportError
from lx_core.leanix.client import LeanIXClient
from lx_sandbox.emulator import SandboxConfig, SandboxServer
from tests.contract.conftest import REPO_ROOT, TOKEN_KEY, Admin, make_settings

pytestmark = pytest.mark.sandbox

PAYROLL = "78c88549-24a8-59fd-b49b-be4433449965"
PRODUCT_CODE = ("lx_core", "functions", "lx_cli", "function_app.py")
TLS_OFF = re.compile(
    r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context"
    r"|disable_warnings"
)


@pytest.fixture(scope="module")
def tls_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A demo emulator on HTTPS with a freshly generated self-signed certificate."""
    cert = tmp_path_factory.mktemp("tls") / "sandbox-cert.pem"
    with SandboxServer(SandboxConfig(seed="demo", https=True, cert_file=cert)) as server:
        yield server


@pytest.fixture
def tls_admin(tls_sandbox: SandboxServer) -> Iterator[Admin]:
    """The HTTPS emulator's admin API (trusting its certificate explicitly), reset."""
    assert tls_sandbox.cert_file is not None
    api = Admin(tls_sandbox.url, verify=str(tls_sandbox.cert_file))
    api.reset()
    yield api
    api.close()


def test_client_works_over_https_when_the_ca_bundle_trusts_the_cert(
    tls_sandbox: SandboxServer, tls_admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With REQUESTS_CA_BUNDLE pointing at the certificate, the unchanged client exchanges the
    token, routes to the https instanceUrl, reads and writes."""
    assert tls_sandbox.url.startswith("https://")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_sandbox.cert_file))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with LeanIXClient(make_settings(tls_sandbox.url)) as client:
        assert client.claims.instance_url == tls_sandbox.url
        assert client.graphql.get_fact_sheet(PAYROLL, "id name") == {
            "id": PAYROLL,
            "name": "Payroll",
        }
        assert len(list(client.graphql.iter_fact_sheets("id", fact_sheet_type="ITComponent"))) == 15
        assert client.webhooks.list_subscriptions() == []
    assert tls_admin.stats()["tokensIssued"] == 1


def test_untrusted_certificate_is_a_transport_error(
    tls_sandbox: SandboxServer, tls_admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without trusting the self-signed certificate the call fails as a TLS TransportError,
    at once (a certificate problem is not retried), and never reaches the server."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with LeanIXClient(make_settings(tls_sandbox.url)) as client:
        with pytest.raises(TransportError) as info:
            _ = client.claims
        assert not isinstance(info.value, RequestTimeoutError | APIError)
        assert isinstance(info.value.__cause__, requests.exceptions.SSLError)
        assert "SSLError" in str(info.value)
        assert client.stats.retries == 0
        assert client.stats.calls == 1
    stats = tls_admin.stats()
    assert stats["requests"].get(TOKEN_KEY, 0) == 0
    assert stats["tokensIssued"] == 0


def test_product_code_never_disables_certificate_checks() -> None:
    """No ``verify=False`` (or any other way of switching TLS checks off) in deployed code."""
    files = [
        path
        for name in PRODUCT_CODE
        for path in (
            [REPO_ROOT / name] if name.endswith(".py") else (REPO_ROOT / name).rglob("*.py")
        )
    ]
    assert len(files) > 10
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TLS_OFF.search(line)
    ]
    assert offenders == []
