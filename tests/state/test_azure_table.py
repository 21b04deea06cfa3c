"""AzureTableStore on real Azurite: what only the Azure backend can get wrong. Persistence across
a restart, failing fast (and without secrets) when the store is down or stalls, access denied,
entity layout, and lazy imports."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from lx_core.errors import ConfigurationError, StateError, StateUnavailableError
from lx_core.state.azure_table import CHUNK_CHARS, ROLE, AzureTableStore, from_entity, to_entity
from lx_core.state.base import Row, encode_data
from lx_core.state.lease import Lease
from lx_sandbox.azurite import ACCOUNT_KEY, Azurite, AzuriteError
from tests.state.racing import race

#: How long a call may take to fail when the store is unreachable (timeouts and retries bounded).
FAST_FAILURE_SECONDS = 5.0


def _table() -> str:
    return f"t{uuid.uuid4().hex}"


def _rendered(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


@pytest.fixture(scope="module")
def own_azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """An Azurite of this module's own, so stopping it cannot disturb other tests."""
    server = Azurite(tmp_path_factory.mktemp("azurite-own"))
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
def own_store(own_azurite: Azurite) -> Iterator[AzureTableStore]:
    if not own_azurite.running:
        own_azurite.start()
    with AzureTableStore.from_settings(own_azurite.state_settings(_table())) as store:
        yield store


def test_rows_survive_an_azurite_restart(own_azurite: Azurite, own_store: AzureTableStore) -> None:
    row = own_store.insert("p", "k", {"text": "y" * 70_000})
    own_azurite.restart()
    assert own_store.get("p", "k") == row
    own_store.replace("p", "k", {"after": "restart"}, etag=row.etag)


def test_a_stopped_store_fails_fast_as_unavailable_without_the_key(
    own_azurite: Azurite, own_store: AzureTableStore
) -> None:
    own_store.insert("p", "k", {"v": 1})
    own_azurite.stop()
    try:
        for call in (
            lambda: own_store.get("p", "k"),
            lambda: own_store.upsert("p", "k", {"v": 2}),
            lambda: own_store.list("p"),
        ):
            started = time.monotonic()
            with pytest.raises(StateUnavailableError) as caught:
                call()
            assert time.monotonic() - started < FAST_FAILURE_SECONDS
            assert caught.value.retryable
            assert ACCOUNT_KEY not in _rendered(caught.value)
            assert "AccountKey" not in _rendered(caught.value)
    finally:
        own_azurite.start()
    got = own_store.get("p", "k")  # the same store recovers once Azurite is back
    assert got is not None and got.data == {"v": 1}


def test_a_store_that_never_answers_times_out_within_the_budget(azurite: Azurite) -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        conn = azurite.connection_string.replace(f":{azurite.table_port}/", f":{port}/")
        settings = azurite.state_settings(
            _table(), connection_string=SecretStr(conn), timeout_seconds=1.0
        )
        with AzureTableStore.from_settings(settings) as store:
            started = time.monotonic()
            with pytest.raises(StateUnavailableError) as caught:
                store.get("p", "k")
        assert time.monotonic() - started < 4 * 1.0
        assert ACCOUNT_KEY not in _rendered(caught.value)


def test_a_wrong_account_key_is_access_denied_naming_the_role(azurite: Azurite) -> None:
    wrong_key = "A" * 86 + "=="
    conn = azurite.connection_string.replace(ACCOUNT_KEY, wrong_key)
    settings = azurite.state_settings(_table(), connection_string=SecretStr(conn))
    with AzureTableStore.from_settings(settings) as store, pytest.raises(StateError) as caught:
        store.get("p", "k")
    assert type(caught.value) is StateError and not caught.value.retryable
    assert ROLE in str(caught.value) and "403" in str(caught.value)
    assert wrong_key not in _rendered(caught.value)


def test_a_missing_table_is_never_created_without_permission(
    azurite: Azurite, state_store: AzureTableStore
) -> None:
    from azure.data.tables import TableClient

    name = _table()
    client = TableClient.from_connection_string(azurite.connection_string, name)
    with AzureTableStore(client) as store:  # as with an endpoint: the Bicep owns the table
        assert not store.creates_table
        with pytest.raises(StateError, match="does not exist") as caught:
            store.get("p", "k")
        assert type(caught.value) is StateError
        with pytest.raises(StateError, match="does not exist"):
            store.insert("p", "k", {})
    state_store.insert("p", "k", {})  # a connection-string store creates its own on first use
    assert state_store.creates_table


def test_an_endpoint_store_uses_an_identity_and_never_creates(azurite: Azurite) -> None:
    settings = azurite.state_settings(
        connection_string=None,
        table_endpoint="https://acct.table.core.windows.net",
        client_id="00000000-0000-0000-0000-000000000001",
    )
    with AzureTableStore.from_settings(settings) as store:  # builds offline: no call is made
        assert not store.creates_table
        assert store.table_name == "lxstate"
    http = azurite.state_settings(
        connection_string=None, table_endpoint=azurite.table_endpoint, client_id=None
    )
    with pytest.raises(ConfigurationError) as caught:
        AzureTableStore.from_settings(http)
    assert caught.value.settings == ("LX_STATE_TABLE_ENDPOINT",)


def test_separate_clients_racing_for_a_lease_one_wins(
    azurite: Azurite, state_store: AzureTableStore
) -> None:
    settings = azurite.state_settings(state_store.table_name)
    stores = [AzureTableStore.from_settings(settings) for _ in range(8)]  # as 8 instances
    try:
        leases = [Lease(s, "race", owner=f"i{i}", duration=60) for i, s in enumerate(stores)]
        assert sorted(race([lease.acquire for lease in leases])) == [False] * 7 + [True]
    finally:
        for store in stores:
            store.close()


def test_rows_are_split_into_properties_the_service_accepts() -> None:
    text = encode_data({"text": "z" * 200_000}, "p", "k")
    entity = to_entity("p", "k", text)
    chunks = [v for name, v in entity.items() if name.startswith("data")]
    assert entity["chunks"] == len(chunks) == -(-len(text) // CHUNK_CHARS)
    assert all(len(chunk) <= CHUNK_CHARS and chunk.isascii() for chunk in chunks)
    assert from_entity(entity, "etag-1") == Row("p", "k", {"text": "z" * 200_000}, "etag-1")
    del entity["data1"]
    with pytest.raises(StateError, match="missing data chunks"):
        from_entity(entity, "etag-1")


def test_importing_the_state_package_does_not_import_azure() -> None:
    code = (
        "import sys, lx_core.state.factory, lx_core.state.azure_table, lx_core.state.lease\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'azure'))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(  # noqa: S603 - our own interpreter and fixed code
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
