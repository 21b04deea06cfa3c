"""The Azurite harness: a clear, actionable error when it is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lx_sandbox.azurite import Azurite, AzuriteNotInstalledError


def test_a_missing_azurite_says_to_run_make_azurite(tmp_path: Path) -> None:
    server = Azurite(tmp_path / "data", binary=tmp_path / "no-azurite")
    with pytest.raises(AzuriteNotInstalledError, match=r"run `make azurite`"):
        server.start()
    assert not server.running


def test_a_missing_node_says_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AzuriteNotInstalledError, match=r"Node\.js.*`make azurite`"):
        Azurite(tmp_path / "data").start()


def test_addresses_are_known_only_once_started(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not been started"):
        _ = Azurite(tmp_path).connection_string
