"""MemoryBlobStore: the BlobStore contract in process memory, for unit tests only.

It keeps the contract's observable rules (a blob appears only once complete, ``overwrite=False``
conflicts, missing blobs raise BlobNotFoundError, chunked reads) and can be told to fail the next
operations with ``StorageUnavailableError``, so callers' "results pending" paths can be tested
without stopping Azurite.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType

from lx_core.errors import BlobExistsError, BlobNotFoundError, StorageUnavailableError
from lx_core.storage.blob import JSON, BlobRef, check_address


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """One blob as stored: its bytes, content type and ETag."""

    data: bytes
    content_type: str
    etag: str


class MemoryBlobStore:
    """Blobs in a dict. ``chunk_bytes`` is the read chunk size of ``open_chunks``."""

    def __init__(self, *, chunk_bytes: int = 64 * 1024) -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be positive")
        self.chunk_bytes = chunk_bytes
        self._blobs: dict[tuple[str, str], StoredBlob] = {}
        self._failures = 0
        self._lock = threading.Lock()
        #: Operations performed, by kind ("upload", "open", "exists"), for assertions.
        self.calls: list[str] = []

    def fail_next(self, count: int = 1) -> None:
        """Make the next ``count`` operations raise StorageUnavailableError."""
        with self._lock:
            self._failures += count

    def _begin(self, op: str, container: str, name: str) -> None:
        check_address(container, name)
        with self._lock:
            self.calls.append(op)
            if self._failures > 0:
                self._failures -= 1
                raise StorageUnavailableError(
                    f"blob storage unreachable on {op} (injected)", container=container, name=name
                )

    def upload(
        self,
        container: str,
        name: str,
        chunks: Iterable[bytes],
        *,
        content_type: str = JSON,
        overwrite: bool = False,
    ) -> BlobRef:
        self._begin("upload", container, name)
        data = b"".join(bytes(chunk) for chunk in chunks)
        etag = '"0x' + hashlib.sha256(data).hexdigest()[:16].upper() + '"'
        with self._lock:
            if not overwrite and (container, name) in self._blobs:
                raise BlobExistsError("blob exists already", container=container, name=name)
            self._blobs[(container, name)] = StoredBlob(data, content_type, etag)
        return BlobRef(container, name, len(data), etag, f"memory://{container}/{name}")

    def open_chunks(self, container: str, name: str) -> Iterator[bytes]:
        self._begin("open", container, name)
        with self._lock:
            blob = self._blobs.get((container, name))
        if blob is None:
            raise BlobNotFoundError("blob does not exist", container=container, name=name)
        return self._chunks(blob.data)

    def _chunks(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), self.chunk_bytes):
            yield data[start : start + self.chunk_bytes]

    def exists(self, container: str, name: str) -> bool:
        self._begin("exists", container, name)
        with self._lock:
            return (container, name) in self._blobs

    def get(self, container: str, name: str) -> StoredBlob | None:
        """The stored blob, for assertions (no fault injection, no call recorded)."""
        with self._lock:
            return self._blobs.get((container, name))

    def names(self, container: str) -> list[str]:
        """Every blob name in ``container``, sorted."""
        with self._lock:
            return sorted(n for c, n in self._blobs if c == container)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> MemoryBlobStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
