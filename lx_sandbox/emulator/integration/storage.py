"""Large LDIF input: ``GET /storages/azure`` targets and reading ``withUrlInput`` URLs.

With an Azure blob connection string (Azurite in tests) the target is a real blob with a SAS
(read, create, write) in the container ``lx-integration-input``; otherwise it is an upload URL of
the emulator itself that takes a ``PUT`` with ``x-ms-blob-type: BlockBlob`` like Azure does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from lx_sandbox.emulator.state import new_id

INPUT_CONTAINER = "lx-integration-input"
UPLOAD_PATH = "/_sandbox/integration/uploads/"
#: Upper bound for an LDIF read from a URL (bigger than the inline limit, still bounded).
MAX_URL_INPUT_BYTES = 1024 * 1024 * 1024


class InputError(Exception):
    """The URL could not be read, or did not hold an LDIF."""


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Uploads:
    """Blobs uploaded to the emulator's own upload URLs, by token."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    #: Staged blocks (Put Block) by token and block id, until Put Block List.
    blocks: dict[str, dict[str, bytes]] = field(default_factory=dict)
    open_tokens: set[str] = field(default_factory=set)

    def new_target(self, base_url: str) -> str:
        """A fresh upload URL."""
        token = new_id()
        self.open_tokens.add(token)
        return f"{base_url}{UPLOAD_PATH}{token}"

    def token_of(self, url: str, base_url: str) -> str | None:
        """The token of one of our upload URLs (None for any other URL)."""
        prefix = f"{base_url}{UPLOAD_PATH}"
        if not url.startswith(prefix):
            return None
        return url[len(prefix) :].split("?", 1)[0]


def _azure_target(connection_string: str, lifetime_s: float) -> tuple[str, str]:
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas

    parts = dict(p.split("=", 1) for p in connection_string.split(";") if "=" in p)
    service = BlobServiceClient.from_connection_string(connection_string)
    try:
        container = service.get_container_client(INPUT_CONTAINER)
        with contextlib.suppress(ResourceExistsError):
            container.create_container()
        blob = container.get_blob_client(f"ldif-{new_id()}.json")
        expiry = datetime.now(UTC) + timedelta(seconds=lifetime_s)
        sas = generate_blob_sas(
            account_name=service.account_name or parts.get("AccountName", ""),
            container_name=INPUT_CONTAINER,
            blob_name=blob.blob_name,
            account_key=parts.get("AccountKey"),
            permission=BlobSasPermissions(read=True, create=True, write=True),
            expiry=expiry,
        )
        return f"{blob.url}?{sas}", _iso(expiry)
    finally:
        service.close()


async def storage_target(
    uploads: Uploads, base_url: str, connection_string: str | None, lifetime_s: float
) -> tuple[str, str]:
    """``(SAS url, expireAt)`` for ``GET /storages/azure``."""
    if connection_string:
        return await asyncio.to_thread(_azure_target, connection_string, lifetime_s)
    expiry = datetime.now(UTC) + timedelta(seconds=lifetime_s)
    return uploads.new_target(base_url), _iso(expiry)


async def read_url(uploads: Uploads, base_url: str, url: str) -> Any:
    """The JSON document behind ``url`` (our own upload, or any HTTP(S) URL such as a SAS)."""
    token = uploads.token_of(url, base_url)
    if token is not None:
        raw = uploads.blobs.get(token)
        if raw is None:
            raise InputError("Nothing was uploaded to this URL")
    else:
        raw = await _download(url)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"The URL does not hold a JSON LDIF: {exc}") from exc


async def _download(url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async with (
            httpx.AsyncClient(timeout=60.0) as client,
            client.stream("GET", url) as resp,
        ):
            if resp.status_code != 200:
                raise InputError(f"Reading the URL answered HTTP {resp.status_code}")
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > MAX_URL_INPUT_BYTES:
                    raise InputError("The LDIF behind the URL is too large")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise InputError(f"Reading the URL failed: {exc}") from exc
    return b"".join(chunks)
