"""The BlobStore contract, blob names from path templates, and the configured backend.

Run results can be far larger than memory, so an upload takes an iterable of byte chunks and a
download yields chunks: a caller never holds a whole blob. ``upload(..., overwrite=False)`` is
the default because a result name carries its run's id or timestamp; finding the blob there
already means a second writer, which must be told (``BlobExistsError``), not silently replaced.

The Azure backend (``lx_core.storage.azure_blob``) is imported only when a store is opened: the
Function App's cold start is measured, and most invocations never touch Blob storage.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Annotated, Protocol, Self

from pydantic import AfterValidator

from lx_core.config import BlobSettings
from lx_core.errors import ConfigurationError, StorageError

NOT_CONFIGURED = (
    "no blob storage configured: set LX_BLOB_ACCOUNT_URL (Azure, managed identity) or "
    "LX_BLOB_CONNECTION_STRING (e.g. Azurite)"
)
#: The Bicep's container for run results (Storage Blob Data Contributor on it alone).
RESULTS_CONTAINER = "lx-results"
#: The Bicep's container for inbound blob sources (Storage Blob Data Reader on it alone).
SOURCES_CONTAINER = "lx-sources"
#: The service's limit on a blob name.
MAX_NAME_CHARS = 1024
CONTAINER_NAME = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
JSON = "application/json"

PLACEHOLDERS = frozenset({"connector", "run_id", "date", "time", "timestamp"})
#: A template must hold one of these, so that two runs never map to the same name.
UNIQUE_PLACEHOLDERS = frozenset({"run_id", "time", "timestamp"})


@dataclass(frozen=True, slots=True)
class BlobRef:
    """Where a blob was written: enough to find it again and to report it (no SAS, no key)."""

    container: str
    name: str
    size: int
    etag: str
    url: str

    @property
    def location(self) -> str:
        """``container/name``, the short form for logs and outcome rows."""
        return f"{self.container}/{self.name}"


class BlobStore(Protocol):
    """Blobs of one storage account. Implementations are thread-safe."""

    def upload(
        self,
        container: str,
        name: str,
        chunks: Iterable[bytes],
        *,
        content_type: str = JSON,
        overwrite: bool = False,
    ) -> BlobRef:
        """Write ``chunks`` as one blob; it becomes visible only when complete.

        Raises BlobExistsError if it exists and ``overwrite`` is False, StorageUnavailableError
        when the service cannot be reached (retryable), StorageError otherwise.
        """
        ...

    def open_chunks(self, container: str, name: str) -> Iterator[bytes]:
        """The blob's bytes in chunks. The first request is made by this call, so a missing
        blob raises BlobNotFoundError here, not at the first ``next()``."""
        ...

    def exists(self, container: str, name: str) -> bool:
        """Whether the blob exists (a missing container counts as no)."""
        ...

    def close(self) -> None:
        """Release connections and credentials."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def check_container(container: str) -> str:
    """``container`` if it is a valid container name (3-63 lowercase letters, digits, single
    hyphens), else ValueError."""
    if not CONTAINER_NAME.fullmatch(container):
        raise ValueError(
            f"{container!r} is not a container name (3-63 lowercase letters, digits and single "
            "hyphens, starting and ending with a letter or digit)"
        )
    return container


def check_blob_name(name: str) -> str:
    """``name`` if it is a safe blob name: no leading ``/``, no empty, ``.`` or ``..`` segment,
    no backslash or control character, at most 1024 characters. Else ValueError."""
    if not name or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"a blob name has 1 to {MAX_NAME_CHARS} characters")
    if name.startswith("/"):
        raise ValueError("a blob name must not start with '/'")
    if "\\" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError("a blob name must not contain a backslash or control character")
    if any(segment in ("", ".", "..") for segment in name.split("/")):
        raise ValueError("a blob name must not contain an empty, '.' or '..' path segment")
    return name


def check_address(container: str, name: str) -> None:
    """StorageError (naming both) unless ``container`` and ``name`` are valid; both backends
    check before any I/O, so a bad name fails the same way in memory and in Azure."""
    try:
        check_container(container), check_blob_name(name)
    except ValueError as exc:
        raise StorageError(f"invalid blob address: {exc}", container=container, name=name) from None


def _fields(template: str) -> list[str]:
    """The placeholder names in ``template`` (ValueError on format specs, conversions, indexing
    or unbalanced braces: only plain ``{name}`` is allowed)."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"unbalanced braces ({exc})") from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if spec or conversion or not field.isidentifier():
            raise ValueError(f"placeholder {{{field}}} must be a plain {{name}}")
        if field not in PLACEHOLDERS:
            raise ValueError(
                f"unknown placeholder {{{field}}}; use {', '.join(sorted(PLACEHOLDERS))}"
            )
        names.append(field)
    return names


def check_blob_template(template: str) -> str:
    """``template`` if it is a usable path template, else ValueError (for pydantic validators).

    Placeholders: ``{connector}``, ``{run_id}``, ``{date}`` (YYYY-MM-DD), ``{time}`` (HHMMSSZ)
    and ``{timestamp}`` (YYYYMMDDTHHMMSSZ), all UTC. One of ``{run_id}``, ``{time}`` or
    ``{timestamp}`` is required, so that a second run never collides with the first.
    """
    names = _fields(template)
    if not UNIQUE_PLACEHOLDERS & set(names):
        raise ValueError(
            "needs {run_id}, {timestamp} or {time}, so that each run gets a name of its own"
        )
    sample = template.format(
        connector="c", run_id="r", date="2000-01-01", time="000000Z", timestamp="20000101T000000Z"
    )
    check_blob_name(sample)
    return template


#: A path template field, for connector models: ``target: BlobTemplate``.
BlobTemplate = Annotated[str, AfterValidator(check_blob_template)]


def render_blob_name(template: str, *, connector: str, run_id: str, when: datetime) -> str:
    """The blob name for one run's results; ConfigurationError naming the template when the
    template or the rendered name is not acceptable. ``when`` must be timezone-aware."""
    if when.tzinfo is None:
        raise ValueError("when must be timezone-aware")
    at = when.astimezone(UTC)
    try:
        check_blob_template(template)
        name = template.format(
            connector=connector,
            run_id=run_id,
            date=at.strftime("%Y-%m-%d"),
            time=at.strftime("%H%M%SZ"),
            timestamp=at.strftime("%Y%m%dT%H%M%SZ"),
        )
        return check_blob_name(name)
    except ValueError as exc:
        raise ConfigurationError(f"blob path template {template!r}: {exc}") from None


def open_blob_store(settings: BlobSettings) -> BlobStore:
    """The Azure Blob backend for ``settings``; ConfigurationError if none is configured."""
    if not settings.configured:
        raise ConfigurationError(
            NOT_CONFIGURED, settings=["LX_BLOB_ACCOUNT_URL", "LX_BLOB_CONNECTION_STRING"]
        )
    from lx_core.storage.azure_blob import AzureBlobStore

    return AzureBlobStore.from_settings(settings)
