"""``python -m lx_sandbox.emulator`` runs in the foreground and prints its URL."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests


def test_cli_prints_url_and_serves() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lx_sandbox.emulator",
            "--port",
            "0",
            "--seed",
            "generated:20",
            "--token-lifetime",
            "60",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        ws = requests.get(url + "/_sandbox/workspace", timeout=5).json()
        assert ws["factSheetCounts"]["Application"] == 20
        token = requests.post(
            url + "/services/mtm/v1/oauth2/token",
            auth=("apitoken", "sandbox-technical-user-token"),
            data={"grant_type": "client_credentials"},
            timeout=5,
        ).json()
        assert token["expires_in"] == 59
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_cli_flags_reach_the_config() -> None:
    from lx_sandbox.emulator.__main__ import parse_args

    flags = ["--rate-limit", "60", "--rate-limit-window", "2", "--cursor-ttl", "5"]
    config = parse_args([*flags, "--reject-double-slash"])
    assert (config.rate_limit_enabled, config.rate_limit, config.rate_limit_window_seconds) == (
        True,
        60,
        2.0,
    )
    assert config.cursor_ttl_seconds == 5.0 and config.accept_double_slash is False
    off = parse_args(["--rate-limit", "0"])
    assert off.rate_limit_enabled is False and off.accept_double_slash is True
    assert off.cursor_ttl_seconds is None
