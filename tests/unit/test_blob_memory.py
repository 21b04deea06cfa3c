"""Blob names from path templates, the MemoryBlobStore contract, the factory and lazy imports."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from lx_core.config import BlobSettings
from lx_core.errors import (
    BlobExistsError,
    BlobNotFoundError,
    ConfigurationError,
    StorageError,
    StorageUnavailableError,
)
from lx_core.storage.blob import (
    BlobTemplate,
    check_blob_template,
    open_blob_store,
    render_blob_name,
)
from lx_core.storage.memory import MemoryBlobStore

WHEN = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def _settings(**overrides: object) -> BlobSettings:
    values: dict[str, object] = {
        "account_url": None,
        "connection_string": None,
        "client_id": None,
        "results_container": "lx-results",
        "timeout_seconds": 5.0,
        "chunk_bytes": 64 * 1024,
    }
    values.update(overrides)
    return BlobSettings(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{connector}/{date}/{time}-{run_id}.json", "apps-out/2025-03-04/050607Z-r-1.json"),
        ("results/{timestamp}.json", "results/20250304T050607Z.json"),
        ("{connector}_{run_id}", "apps-out_r-1"),
        ("{date}/{date}-{time}.ldif.json", "2025-03-04/2025-03-04-050607Z.ldif.json"),
    ],
)
def test_render_blob_name(template: str, expected: str) -> None:
    assert render_blob_name(template, connector="apps-out", run_id="r-1", when=WHEN) == expected


def test_times_are_rendered_in_utc() -> None:
    when = WHEN.astimezone(timezone(timedelta(hours=-8)))  # the day before, locally
    assert render_blob_name("{timestamp}", connector="c", run_id="r", when=when) == (
        "20250304T050607Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        render_blob_name("{timestamp}", connector="c", run_id="r", when=WHEN.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{connector}/{when}.json", "unknown placeholder {when}"),
        ("{run_id:>10}", "must be a plain {name}"),
        ("{run_id!r}", "must be a plain {name}"),
        ("{0}", "must be a plain {name}"),
        ("{run_id", "unbalanced braces"),
        ("/{run_id}.json", "must not start with '/'"),
        ("a/../{run_id}", "'..' path segment"),
        ("a//{run_id}", "empty, '.' or '..' path segment"),
        ("{connector}/{date}.json", "needs {run_id}, {timestamp} or {time}"),
        ("static.json", "needs {run_id}"),
    ],
)
def test_bad_templates_are_configuration_errors_naming_the_template(
    template: str, problem: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        render_blob_name(template, connector="c", run_id="r", when=WHEN)
    assert repr(template) in str(info.value) and problem in str(info.value)
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_blob_template(template)


@pytest.mark.parametrize("run_id", ["../x", "x/../y", "a\\b", "x\n"])
def test_rendered_values_cannot_escape_the_path(run_id: str) -> None:
    with pytest.raises(ConfigurationError, match="blob path template"):
        render_blob_name("out/{run_id}.json", connector="c", run_id=run_id, when=WHEN)


def test_blob_template_type_validates_in_models() -> None:
    class Target(BaseModel):
        path: BlobTemplate

    assert Target(path="{connector}/{run_id}.json").path == "{connector}/{run_id}.json"
    with pytest.raises(ValidationError) as info:
        Target(path="{connector}/{nope}.json")
    assert info.value.errors()[0]["loc"] == ("path",)


# ---------------------------------------------------------------------------------------------
# MemoryBlobStore
# ---------------------------------------------------------------------------------------------


def _chunks(parts: list[bytes], consumed: list[int]) -> Iterator[bytes]:
    for part in parts:
        consumed.append(len(part))
        yield part


def test_upload_streams_and_reads_back_in_chunks() -> None:
    store = MemoryBlobStore(chunk_bytes=4)
    consumed: list[int] = []
    ref = store.upload("lx-results", "a/b.json", _chunks([b"0123", b"456", b"789ab"], consumed))
    assert consumed == [4, 3, 5]
    assert (ref.container, ref.name, ref.size, ref.location) == (
        "lx-results",
        "a/b.json",
        12,
        "lx-results/a/b.json",
    )
    assert ref.etag
    assert list(store.open_chunks("lx-results", "a/b.json")) == [b"0123", b"4567", b"89ab"]
    stored = store.get("lx-results", "a/b.json")
    assert stored is not None and stored.content_type == "application/json"


def test_without_overwrite_an_existing_blob_is_a_conflict_and_kept() -> None:
    store = MemoryBlobStore()
    first = store.upload("lx-results", "x", [b"first"])
    with pytest.raises(BlobExistsError) as info:
        store.upload("lx-results", "x", [b"second"])
    assert (info.value.container, info.value.name) == ("lx-results", "x")
    assert b"".join(store.open_chunks("lx-results", "x")) == b"first"
    second = store.upload("lx-results", "x", [b"second"], overwrite=True, content_type="text/x")
    assert second.etag != first.etag
    assert b"".join(store.open_chunks("lx-results", "x")) == b"second"


def test_a_failed_upload_leaves_nothing_behind() -> None:
    store = MemoryBlobStore()

    def broken() -> Iterator[bytes]:
        yield b"part"
        raise RuntimeError("the producer died")

    with pytest.raises(RuntimeError):
        store.upload("lx-results", "x", broken())
    assert not store.exists("lx-results", "x")


def test_missing_blobs_raise_on_open_not_on_next() -> None:
    store = MemoryBlobStore()
    with pytest.raises(BlobNotFoundError):
        store.open_chunks("lx-results", "nope")
    assert store.exists("lx-results", "nope") is False


def test_injected_failures_are_retryable_and_counted() -> None:
    store = MemoryBlobStore()
    store.fail_next(2)
    for _ in range(2):
        with pytest.raises(StorageUnavailableError) as info:
            store.upload("lx-results", "x", [b"1"])
        assert info.value.retryable
    store.upload("lx-results", "x", [b"1"])
    assert store.calls == ["upload", "upload", "upload"]
    assert store.names("lx-results") == ["x"]


@pytest.mark.parametrize(
    ("container", "name"),
    [("Results", "x"), ("lx--results", "x"), ("ab", "x"), ("lx-results", "/x"), ("lx-results", "")],
)
def test_invalid_addresses_are_storage_errors(container: str, name: str) -> None:
    with pytest.raises(StorageError, match="invalid blob address"):
        MemoryBlobStore().upload(container, name, [b"1"])


# ---------------------------------------------------------------------------------------------
# Factory and imports
# ---------------------------------------------------------------------------------------------


def test_open_blob_store_without_settings_names_both() -> None:
    with pytest.raises(ConfigurationError) as info:
        open_blob_store(_settings())
    assert info.value.settings == ("LX_BLOB_ACCOUNT_URL", "LX_BLOB_CONNECTION_STRING")


def test_a_broken_connection_string_is_a_configuration_error_without_its_value() -> None:
    with pytest.raises(ConfigurationError) as info:
        open_blob_store(_settings(connection_string=SecretStr("AccountKey=abc;nonsense")))
    assert info.value.settings == ("LX_BLOB_CONNECTION_STRING",)
    assert "AccountKey" not in str(info.value)


def test_the_azure_sdk_is_imported_only_when_a_store_is_opened() -> None:
    probe = (
        "import sys\n"
        "import lx_core.storage.blob, lx_core.storage.memory, lx_core.storage.azure_blob\n"
        "import lx_core.integration.sources\n"
        "print(sorted(m for m in sys.modules if m.startswith('azure')))\n"
    )
    out = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == "[]"
