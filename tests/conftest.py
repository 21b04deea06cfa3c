"""Fixtures for every test layer: one Azurite per run, and a fresh state table per test.

``azurite`` is started only when a test asks for it. If Node.js or Azurite is missing the tests
that need it fail (never skip) with the message saying to run ``make azurite``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from lx_core.state.azure_table import AzureTableStore
from lx_sandbox.azurite import Azurite, AzuriteError


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """One Azurite (blob, queue, table) for the whole run, its data in a temporary directory."""
    server = Azurite(tmp_path_factory.mktemp("azurite"))
    failure = None
    try:
        server.start()
    except AzuriteError as exc:
        failure = str(exc)
    if failure is not None:
        pytest.fail(failure, pytrace=False)  # fail, never skip: the message says what to run
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def state_store(azurite: Azurite) -> Iterator[AzureTableStore]:
    """An AzureTableStore on Azurite, on a table of its own (tests never see each other's rows)."""
    settings = azurite.state_settings(f"t{uuid.uuid4().hex}")
    with AzureTableStore.from_settings(settings) as store:
        yield store
