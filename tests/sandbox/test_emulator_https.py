"""HTTPS with a generated self-signed certificate trusted through REQUESTS_CA_BUNDLE / verify."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from lx_sandbox.emulator import SandboxConfig, SandboxServer


def test_https_with_generated_certificate(tmp_path: Path) -> None:
    cert = tmp_path / "sandbox.pem"
    with SandboxServer(SandboxConfig(seed="empty", https=True, cert_file=cert)) as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert cert.exists()
        with requests.Session() as session:
            with pytest.raises(requests.exceptions.SSLError):
                session.get(server.url + "/_sandbox/health", timeout=5, verify=True)
            r = session.get(server.url + "/_sandbox/health", timeout=5, verify=str(cert))
            assert r.json()["url"] == server.url
            localhost = server.url.replace("127.0.0.1", "localhost")
            assert session.get(localhost + "/_sandbox/health", timeout=5, verify=str(cert)).ok
        script = (
            "import requests,sys; "
            "r = requests.post(sys.argv[1] + '/services/mtm/v1/oauth2/token', "
            "auth=('apitoken', 'sandbox-technical-user-token'), "
            "data={'grant_type': 'client_credentials'}, timeout=5); print(r.status_code)"
        )
        env = {**os.environ, "REQUESTS_CA_BUNDLE": str(cert)}
        out = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script, server.url],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert out.stdout.strip() == "200"
