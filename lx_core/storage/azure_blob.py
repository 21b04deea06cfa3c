"""AzureBlobStore: the BlobStore contract on Azure Blob storage (Azurite locally).

Uploads stream: chunks are gathered into blocks of ``LX_BLOB_CHUNK_BYTES``, each staged as soon
as it is full (Put Block), and the blob is committed at the end (Put Block List). Memory stays
bounded by one block whatever the result's size, and a blob is visible only when complete: an
upload that dies half-way leaves uncommitted blocks, which the service discards, never a cut-off
blob. An input that fits in one block is one Put Blob. ``overwrite=False`` is enforced by the
service (``If-None-Match: *`` on the write that makes the blob visible), so of two racing
writers exactly one wins and the other gets BlobExistsError.

Like ``lx_core.state.azure_table``: Azure packages are imported when a store is built, never at
module import (cold start is measured); every call is bounded by connect and read timeouts of
``LX_BLOB_TIMEOUT_SECONDS`` and at most two quick retries, so an unreachable account fails fast
with StorageUnavailableError; error messages are built from the operation, status and error code
only, never from the SDK's text or the connection string. The container is created on first use
only with a connection string (Azurite): in Azure the app's roles are scoped to the containers
the Bicep declares and cannot create any.

Azurite 3.35 accepts the SDK's newest API version only when started with
``--skipApiVersionCheck``, which ``lx_sandbox.azurite`` does; no version is pinned here, so the
deployed app speaks the SDK's default to Azure.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from lx_core import deadline
from lx_core.azure_sdk import credential as azure_credential
from lx_core.azure_sdk import error_code, quiet_http_logging
from lx_core.config import BlobSettings
from lx_core.errors import (
    BlobExistsError,
    BlobNotFoundError,
    ConfigurationError,
    StorageError,
    StorageUnavailableError,
)
from lx_core.storage.blob import JSON, NOT_CONFIGURED, BlobRef, check_address

if TYPE_CHECKING:
    from azure.core.exceptions import AzureError
    from azure.storage.blob import BlobClient, BlobServiceClient, StorageStreamDownloader

#: Retries after the first attempt, and the pause before each (uniform in 0..2x this).
RETRIES = 2
BACKOFF_SECONDS = 0.25
#: The service's limit of blocks in one blob.
MAX_BLOCKS = 50_000
WRITE_ROLE = "Storage Blob Data Contributor"
READ_ROLE = "Storage Blob Data Reader"


class _Closeable(Protocol):
    def close(self) -> None: ...


def _client_options(settings: BlobSettings) -> dict[str, Any]:
    """Timeouts, a short retry policy (the storage SDK's default waits 15 s and more between
    attempts) and transfer sizes of one block, so no single request holds more than a block."""
    from azure.storage.blob import LinearRetry

    retry: dict[str, Any] = {
        "backoff": BACKOFF_SECONDS,
        "random_jitter_range": BACKOFF_SECONDS,
        "retry_total": RETRIES,
    }
    size = settings.chunk_bytes
    return {
        "connection_timeout": settings.timeout_seconds,
        "read_timeout": settings.timeout_seconds,
        "retry_policy": LinearRetry(**retry),
        "max_single_put_size": size,
        "max_block_size": size,
        "max_single_get_size": size,
        "max_chunk_get_size": size,
    }


def to_storage_error(exc: AzureError, *, op: str, container: str, name: str) -> StorageError:
    """The lx_core error for an Azure SDK failure, from the status and error code only."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        ResourceExistsError,
        ResourceModifiedError,
        ServiceRequestError,
        ServiceResponseError,
    )

    status: int | None = getattr(exc, "status_code", None)
    code = error_code(exc)
    where: dict[str, str] = {"container": container, "name": name}
    answer = " ".join(str(p) for p in (f"HTTP {status}" if status else None, code) if p)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return StorageUnavailableError(
            f"blob storage unreachable on {op} ({type(exc).__name__})", **where
        )
    if status == 412 or code in ("BlobAlreadyExists", "ConditionNotMet"):
        return BlobExistsError("blob exists already", **where)
    if status == 404:
        if code == "ContainerNotFound":
            if op == "upload":
                return StorageError(
                    "container does not exist: the Bicep (infra/azure) declares it; check "
                    "LX_BLOB_RESULTS_CONTAINER or the connector's container",
                    **where,
                )
            return BlobNotFoundError("container does not exist", **where)
        return BlobNotFoundError("blob does not exist", **where)
    if status in (401, 403) or isinstance(exc, ClientAuthenticationError):
        role = WRITE_ROLE if op == "upload" else f"{READ_ROLE}' or '{WRITE_ROLE}"
        if status is None:
            return StorageError(
                f"no access token for blob storage ({type(exc).__name__}): check the managed "
                "identity (LX_BLOB_CLIENT_ID) or your Azure login",
                **where,
            )
        return StorageError(
            f"access denied on {op} ({answer}): the identity needs the '{role}' role on the "
            "container (with a connection string: check its account key)",
            **where,
        )
    if status is not None and (status in (408, 429) or status >= 500):
        return StorageUnavailableError(f"blob storage failed {op} ({answer})", **where)
    if isinstance(exc, ResourceExistsError | ResourceModifiedError):
        return StorageError(f"blob storage refused {op} ({answer or 'conflict'})", **where)
    return StorageError(f"blob storage refused {op} ({answer or type(exc).__name__})", **where)


def _public_url(url: str) -> str:
    """The blob's URL without a query (a connection string may carry a SAS)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _check_deadline(container: str, name: str) -> None:
    found = deadline.current()
    if found is not None and found.expired:
        raise StorageUnavailableError(
            "upload stopped: the caller's deadline passed", container=container, name=name
        )


class AzureBlobStore:
    """Blobs of one account. Thread-safe: the SDK clients are, and so is container creation."""

    def __init__(
        self,
        service: BlobServiceClient,
        *,
        chunk_bytes: int,
        create_containers: bool = False,
        credential: _Closeable | None = None,
    ) -> None:
        self._service = service
        self._chunk_bytes = chunk_bytes
        self._credential = credential
        self._creates_containers = create_containers
        self._ready: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: BlobSettings) -> AzureBlobStore:
        """A store for ``settings``: the connection string (Azurite) if set, creating containers
        on first use; else the account URL with a managed identity or the default credential."""
        from azure.storage.blob import BlobServiceClient

        quiet_http_logging()
        options = _client_options(settings)
        if settings.connection_string is not None:
            secret = settings.connection_string.get_secret_value()
            try:
                service = BlobServiceClient.from_connection_string(secret, **options)
            except ValueError:
                raise ConfigurationError(
                    "LX_BLOB_CONNECTION_STRING is not a usable storage connection string",
                    settings=["LX_BLOB_CONNECTION_STRING"],
                ) from None
            return cls(service, chunk_bytes=settings.chunk_bytes, create_containers=True)
        if settings.account_url:
            credential = azure_credential(settings.client_id)
            try:
                service = BlobServiceClient(settings.account_url, credential=credential, **options)
            except ValueError:
                credential.close()
                raise ConfigurationError(
                    "LX_BLOB_ACCOUNT_URL must be an https URL for identity-based access",
                    settings=["LX_BLOB_ACCOUNT_URL"],
                ) from None
            return cls(service, chunk_bytes=settings.chunk_bytes, credential=credential)
        raise ConfigurationError(
            NOT_CONFIGURED, settings=["LX_BLOB_ACCOUNT_URL", "LX_BLOB_CONNECTION_STRING"]
        )

    @property
    def creates_containers(self) -> bool:
        """Whether containers are created on first upload (connection string / Azurite)."""
        return self._creates_containers

    @contextmanager
    def _translated(self, op: str, container: str, name: str) -> Iterator[None]:
        from azure.core.exceptions import AzureError

        try:
            yield
        except AzureError as exc:
            raise to_storage_error(exc, op=op, container=container, name=name) from None

    def _blob(self, container: str, name: str) -> BlobClient:
        check_address(container, name)
        return self._service.get_blob_client(container, name)

    def _ensure_container(self, container: str, name: str) -> None:
        """Create ``container`` once, if this store may (Azurite only)."""
        if not self._creates_containers or container in self._ready:
            return
        from azure.core.exceptions import ResourceExistsError

        with self._lock, self._translated("create container", container, name):
            if container not in self._ready:
                with suppress(ResourceExistsError):
                    self._service.create_container(container)
                self._ready.add(container)

    def upload(
        self,
        container: str,
        name: str,
        chunks: Iterable[bytes],
        *,
        content_type: str = JSON,
        overwrite: bool = False,
    ) -> BlobRef:
        from azure.core import MatchConditions
        from azure.storage.blob import BlobBlock, ContentSettings

        blob = self._blob(container, name)
        self._ensure_container(container, name)
        headers = ContentSettings(content_type=content_type)
        upload_id = uuid.uuid4().hex[:16]  # per upload: racing writers never mix their blocks
        block_ids: list[str] = []
        buffer = bytearray()
        size = 0

        def stage(data: bytes) -> None:
            if len(block_ids) >= MAX_BLOCKS:
                raise StorageError(
                    f"result larger than {MAX_BLOCKS} blocks of {self._chunk_bytes} bytes: "
                    "raise LX_BLOB_CHUNK_BYTES",
                    container=container,
                    name=name,
                )
            if not block_ids and not overwrite and self.exists(container, name):
                # Fail before sending a large body whose commit would be refused anyway.
                raise BlobExistsError("blob exists already", container=container, name=name)
            _check_deadline(container, name)
            block_id = f"{upload_id}-{len(block_ids):06d}"
            with self._translated("upload", container, name):
                blob.stage_block(block_id, data, length=len(data))
            block_ids.append(block_id)

        for chunk in chunks:
            buffer += chunk
            size += len(chunk)
            # Strictly more than a block: this one is full and more follows. A blob of at most
            # one block therefore stays in the buffer and becomes a single Put Blob below.
            while len(buffer) > self._chunk_bytes:
                stage(bytes(buffer[: self._chunk_bytes]))
                del buffer[: self._chunk_bytes]

        _check_deadline(container, name)
        with self._translated("upload", container, name):
            if not block_ids:
                result = blob.upload_blob(
                    bytes(buffer), overwrite=overwrite, content_settings=headers
                )
            else:
                if buffer:
                    stage(bytes(buffer))
                conditions: dict[str, Any] = (
                    {} if overwrite else {"match_condition": MatchConditions.IfMissing}
                )
                result = blob.commit_block_list(
                    [BlobBlock(block_id=b) for b in block_ids],
                    content_settings=headers,
                    **conditions,
                )
        etag = str(result.get("etag") or "")
        if not etag:
            raise StorageError("the blob service returned no ETag", container=container, name=name)
        return BlobRef(container, name, size, etag, _public_url(blob.url))

    def open_chunks(self, container: str, name: str) -> Iterator[bytes]:
        blob = self._blob(container, name)
        with self._translated("download", container, name):
            downloader = blob.download_blob(max_concurrency=1)
        return self._chunks(downloader, container, name)

    def _chunks(
        self, downloader: StorageStreamDownloader[bytes], container: str, name: str
    ) -> Iterator[bytes]:
        with self._translated("download", container, name):
            yield from downloader.chunks()

    def exists(self, container: str, name: str) -> bool:
        blob = self._blob(container, name)
        with self._translated("exists", container, name):
            return bool(blob.exists())

    def close(self) -> None:
        self._service.close()
        if self._credential is not None:
            self._credential.close()

    def __enter__(self) -> AzureBlobStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
