"""AzureBlobStore on real Azurite: block uploads that stream, streamed reads, overwrite
semantics (also when a racing writer commits first), container creation, outages and refused
access failing fast without the key, and a blob source read through it."""

from __future__ import annotations

import json
import socket
import time
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from pydantic import SecretStr

from lx_core import deadline
from lx_core.config import BlobSettings
from lx_core.errors import (
    BlobExistsError,
    BlobNotFoundError,
    StorageError,
    StorageUnavailableError,
)
from lx_core.integration.sources import BlobSource, read_source
from lx_core.leanix.testing import FakeClock
from lx_core.storage.azure_blob import WRITE_ROLE, AzureBlobStore
from lx_core.storage.blob import open_blob_store
from lx_sandbox.azurite import ACCOUNT_KEY, ACCOUNT_NAME, Azurite

BLOCK = 64 * 1024  # the smallest LX_BLOB_CHUNK_BYTES
FAST_FAILURE_SECONDS = 5.0


def _settings(connection_string: str, **overrides: Any) -> BlobSettings:
    values: dict[str, Any] = {
        "account_url": None,
        "connection_string": SecretStr(connection_string),
        "client_id": None,
        "results_container": "lx-results",
        "timeout_seconds": 2.0,
        "chunk_bytes": BLOCK,
    }
    values.update(overrides)
    return BlobSettings(**values)


def _rendered(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


@pytest.fixture
def container() -> str:
    return f"t{uuid.uuid4().hex[:20]}"


@pytest.fixture
def store(azurite: Azurite) -> Iterator[AzureBlobStore]:
    built = open_blob_store(_settings(azurite.connection_string))
    assert isinstance(built, AzureBlobStore)
    with built:
        yield built


@pytest.fixture
def sdk(azurite: Azurite) -> Iterator[BlobServiceClient]:
    """The SDK itself, to look at what the store wrote."""
    with BlobServiceClient.from_connection_string(azurite.connection_string) as client:
        yield client


def _payload(size: int) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


def test_a_large_upload_is_staged_block_by_block_while_the_input_streams(
    store: AzureBlobStore, sdk: BlobServiceClient, container: str
) -> None:
    data = _payload(3 * BLOCK + 1234)
    blob = sdk.get_blob_client(container, "big.json")
    staged_while_streaming: list[int] = []

    def produce() -> Iterator[bytes]:
        for start in range(0, len(data), 10_000):
            if start >= 2 * BLOCK + 20_000:
                _committed, uncommitted = blob.get_block_list("uncommitted")
                staged_while_streaming.append(len(uncommitted))
            yield data[start : start + 10_000]

    ref = store.upload(container, "big.json", produce())
    assert staged_while_streaming and staged_while_streaming[0] >= 2, (
        "blocks must be sent while the input is still being produced, not at the end"
    )
    committed, uncommitted = blob.get_block_list("all")
    assert [b.size for b in committed] == [BLOCK, BLOCK, BLOCK, 1234]
    assert uncommitted == []
    assert ref.size == len(data) and ref.etag == blob.get_blob_properties().etag
    assert ref.url.endswith(f"/{ACCOUNT_NAME}/{container}/big.json") and "?" not in ref.url
    assert blob.download_blob().readall() == data


def test_a_small_upload_is_one_put_with_its_content_type(
    store: AzureBlobStore, sdk: BlobServiceClient, container: str
) -> None:
    ref = store.upload(container, "r/small.json", [b'{"a":', b"1}"], content_type="text/plain")
    props = sdk.get_blob_client(container, "r/small.json").get_blob_properties()
    assert props.content_settings.content_type == "text/plain"
    assert props.size == ref.size == 7
    exact = store.upload(container, "exact", [_payload(BLOCK)])
    assert exact.size == BLOCK
    assert b"".join(store.open_chunks(container, "exact")) == _payload(BLOCK)


def test_reads_stream_in_chunks_of_one_block(store: AzureBlobStore, container: str) -> None:
    data = _payload(2 * BLOCK + 99)
    store.upload(container, "x", [data])
    chunks = list(store.open_chunks(container, "x"))
    assert len(chunks) == 3 and max(len(c) for c in chunks) <= BLOCK
    assert b"".join(chunks) == data


def test_an_empty_blob(store: AzureBlobStore, container: str) -> None:
    assert store.upload(container, "empty", iter(())).size == 0
    assert b"".join(store.open_chunks(container, "empty")) == b""


def test_exists(store: AzureBlobStore, container: str) -> None:
    assert store.exists(container, "x") is False  # the container does not exist yet either
    store.upload(container, "x", [b"1"])
    assert store.exists(container, "x") is True
    assert store.exists(container, "y") is False


def test_missing_blobs_and_containers_raise_on_open(store: AzureBlobStore, container: str) -> None:
    with pytest.raises(BlobNotFoundError, match="container does not exist"):
        store.open_chunks(container, "x")
    store.upload(container, "x", [b"1"])
    with pytest.raises(BlobNotFoundError, match="blob does not exist") as info:
        store.open_chunks(container, "y")
    assert (info.value.container, info.value.name) == (container, "y")


@pytest.mark.parametrize("size", [10, 3 * BLOCK], ids=["single-put", "blocks"])
def test_without_overwrite_an_existing_blob_is_kept(
    store: AzureBlobStore, container: str, size: int
) -> None:
    first = store.upload(container, "x", [b"first"])
    consumed: list[int] = []

    def second() -> Iterator[bytes]:
        for part in (_payload(size // 2), _payload(size - size // 2)):
            consumed.append(len(part))
            yield part

    with pytest.raises(BlobExistsError):
        store.upload(container, "x", second())
    assert b"".join(store.open_chunks(container, "x")) == b"first"
    if size > BLOCK:
        assert len(consumed) == 1, "a large upload stops before sending its first block"
    replaced = store.upload(container, "x", [b"second"], overwrite=True)
    assert replaced.etag != first.etag
    assert b"".join(store.open_chunks(container, "x")) == b"second"


def test_a_racing_writer_that_commits_first_wins(store: AzureBlobStore, container: str) -> None:
    """The service decides at commit time: our exists() check passed, the rival got in."""
    rival_done: list[bool] = []

    rival = b"rival" * (BLOCK // 4)

    def ours() -> Iterator[bytes]:
        yield _payload(BLOCK + 1)  # the first block is staged (the exists check has passed)
        # A block upload too: Azurite 3.35 (unlike its commit) refuses a conditional single
        # Put Blob while another writer's uncommitted blocks exist, which also ends with one
        # winner, but would not reach our commit.
        store.upload(container, "x", [rival])
        rival_done.append(True)
        yield _payload(BLOCK)

    with pytest.raises(BlobExistsError):
        store.upload(container, "x", ours())
    assert rival_done == [True]
    assert b"".join(store.open_chunks(container, "x")) == rival


def test_a_producer_that_dies_leaves_no_blob(store: AzureBlobStore, container: str) -> None:
    def dying() -> Iterator[bytes]:
        yield _payload(2 * BLOCK + 1)
        raise RuntimeError("LeanIX went away mid-download")

    with pytest.raises(RuntimeError):
        store.upload(container, "x", dying())
    assert store.exists(container, "x") is False


def test_the_container_is_created_only_with_a_connection_string(
    azurite: Azurite, store: AzureBlobStore, sdk: BlobServiceClient, container: str
) -> None:
    assert store.creates_containers
    assert not sdk.get_container_client(container).exists()
    store.upload(container, "x", [b"1"])
    assert sdk.get_container_client(container).exists()
    store.upload(container, "y", [b"2"])  # second time: no create call needed, no error

    by_identity = _settings("", account_url="https://acct.blob.core.windows.net")
    assert by_identity.connection_string is None  # an empty setting counts as unset
    with open_blob_store(by_identity) as other:  # no I/O: the credential is asked on a call
        assert isinstance(other, AzureBlobStore) and not other.creates_containers


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_account_fails_fast_as_retryable_without_the_key() -> None:
    port = _closed_port()
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT_NAME};"
    )
    with open_blob_store(_settings(conn)) as store:
        for call in (
            lambda: store.upload("lx-results", "x", [b"1"]),
            lambda: store.open_chunks("lx-results", "x"),
            lambda: store.exists("lx-results", "x"),
        ):
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError) as info:
                call()
            assert time.monotonic() - started < FAST_FAILURE_SECONDS
            assert info.value.retryable and "unreachable" in str(info.value)
            assert ACCOUNT_KEY not in _rendered(info.value)


def test_a_wrong_key_is_refused_access_naming_the_role(azurite: Azurite, container: str) -> None:
    wrong = azurite.connection_string.replace(ACCOUNT_KEY, "d3Jvbmcta2V5" * 8)
    with open_blob_store(_settings(wrong)) as store, pytest.raises(StorageError) as info:
        store.upload(container, "x", [b"1"])
    assert not info.value.retryable and not isinstance(info.value, StorageUnavailableError)
    assert "HTTP 403" in str(info.value) and WRITE_ROLE in str(info.value)
    assert ACCOUNT_KEY not in _rendered(info.value)


def test_a_jsonl_blob_source_streams_through_the_store(azurite: Azurite, container: str) -> None:
    lines = [{"type": "Application", "id": f"app-{i}", "data": {"n": i}} for i in range(3000)]
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    with open_blob_store(_settings(azurite.connection_string)) as store:
        store.upload(container, "in/apps.jsonl", [body])
        assert len(body) > 2 * BLOCK  # read back in several chunks, lines cut across them
        source = BlobSource(kind="blob", container=container, name="in/apps.jsonl", format="jsonl")
        reader = read_source(source, env={}, blob=store)
        assert list(reader) == lines and reader.stats.items == 3000


def test_an_upload_stops_at_the_callers_deadline(store: AzureBlobStore, container: str) -> None:
    clock = FakeClock()

    def slow() -> Iterator[bytes]:
        yield _payload(BLOCK + 1)
        clock.advance(10)  # the producer took too long: the invocation's deadline passed
        yield _payload(BLOCK)

    with deadline.within(5, clock=clock), pytest.raises(StorageUnavailableError) as info:
        store.upload(container, "x", slow())
    assert "deadline" in str(info.value) and info.value.retryable
    assert store.exists(container, "x") is False
