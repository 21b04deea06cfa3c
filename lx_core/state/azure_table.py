"""AzureTableStore: the StateStore contract on Azure Table storage (Azurite locally).

Each row is one entity. Its JSON text is split over ``data0``, ``data1``, ... (``chunks`` says how
many), because a string property holds at most 32K UTF-16 characters and a row may hold 256K.
Concurrency is the service's: the entity's ETag is the Row's, and ``replace``/``delete`` send it
with If-Match, so a racing writer gets 412 (``StateConflictError``) instead of a lost update.

Azure packages are imported when a store is built, never at module import: the Function App's
cold start is measured, and most invocations never touch state. Every call is bounded: connect and
read timeouts of ``LX_STATE_TIMEOUT_SECONDS``, at most two quick retries, and the same figure as
the budget across retries, so an unreachable store fails fast with ``StateUnavailableError``.
Error messages are built from the operation, status and error code only, never from the SDK's
text or the connection string, so no account key can reach a log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol

from lx_core.azure_sdk import credential as azure_credential
from lx_core.azure_sdk import error_code, quiet_http_logging
from lx_core.config import StateSettings
from lx_core.errors import ConfigurationError, StateConflictError, StateError, StateUnavailableError
from lx_core.state.base import (
    Op,
    Row,
    StateStore,
    check_key,
    check_transaction,
    decode_data,
    encode_data,
)

if TYPE_CHECKING:
    from azure.core.exceptions import AzureError
    from azure.data.tables import TableClient, TableEntity

#: Characters of JSON text per string property. The JSON is ASCII (``json.dumps`` escapes the
#: rest), so this is also its UTF-16 length: under the service's 32K-character property limit.
CHUNK_CHARS = 30_000
CHUNKS_PROPERTY = "chunks"
DATA_PREFIX = "data"
#: Retries after the first attempt, and the back-off factor between them (0 s, then 0.5 s).
RETRIES = 2
BACKOFF_SECONDS = 0.25
ROLE = "Storage Table Data Contributor"


class _Closeable(Protocol):
    def close(self) -> None: ...


def to_entity(partition: str, key: str, text: str) -> dict[str, Any]:
    """The entity for a row whose JSON is ``text``, split into properties of CHUNK_CHARS."""
    parts = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]
    entity: dict[str, Any] = {"PartitionKey": partition, "RowKey": key, CHUNKS_PROPERTY: len(parts)}
    entity.update({f"{DATA_PREFIX}{i}": part for i, part in enumerate(parts)})
    return entity


def from_entity(entity: Mapping[str, Any], etag: str) -> Row:
    """The Row stored in ``entity`` (a damaged entity is a StateError naming the row)."""
    partition, key = str(entity.get("PartitionKey")), str(entity.get("RowKey"))
    count = entity.get(CHUNKS_PROPERTY)
    values = [
        entity.get(f"{DATA_PREFIX}{i}") for i in range(count if isinstance(count, int) else 0)
    ]
    parts = [part for part in values if isinstance(part, str)]
    if not parts or len(parts) != len(values):
        raise StateError("stored row has missing data chunks", partition=partition, key=key)
    return Row(partition, key, decode_data("".join(parts), partition, key), etag)


def etag_of(metadata: Mapping[str, Any], partition: str, key: str) -> str:
    """The ETag the service returned (every successful read and write carries one)."""
    etag = metadata.get("etag")
    if not isinstance(etag, str) or not etag:
        raise StateError("the table service returned no ETag", partition=partition, key=key)
    return etag


def _read(entity: TableEntity) -> Row:
    return from_entity(entity, etag_of(entity.metadata, entity["PartitionKey"], entity["RowKey"]))


def _written(partition: str, key: str, text: str, metadata: Mapping[str, Any]) -> Row:
    """The Row just written: its data as stored (JSON round trip), with the new ETag."""
    return Row(partition, key, decode_data(text, partition, key), etag_of(metadata, partition, key))


def _client_options(timeout: float) -> dict[str, Any]:
    """Timeouts and a small retry policy for azure-core (its defaults wait minutes)."""
    return {
        "connection_timeout": timeout,
        "read_timeout": timeout,
        "timeout": timeout,  # the retry policy's budget across attempts
        "retry_total": RETRIES,
        "retry_connect": RETRIES,
        "retry_read": RETRIES,
        "retry_status": RETRIES,
        "retry_backoff_factor": BACKOFF_SECONDS,
        "retry_backoff_max": 2,
    }


def to_state_error(
    exc: AzureError, *, op: str, table: str, partition: str | None, key: str | None
) -> StateError:
    """The lx_core error for an Azure SDK failure. Uses only the status and error code: the
    SDK's text can carry URLs and service detail we do not control."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        ResourceExistsError,
        ResourceModifiedError,
        ServiceRequestError,
        ServiceResponseError,
    )

    status: int | None = getattr(exc, "status_code", None)
    code = error_code(exc)
    where: dict[str, Any] = {"partition": partition, "key": key}
    answer = " ".join(str(p) for p in (f"HTTP {status}" if status else None, code) if p)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return StateUnavailableError(
            f"state table {table} unreachable on {op} ({type(exc).__name__})", **where
        )
    if status == 412 or isinstance(exc, ResourceModifiedError):
        return StateConflictError("row changed (ETag)", **where)
    if status == 409 or isinstance(exc, ResourceExistsError):
        return StateConflictError("row exists already", **where)
    if status == 404:
        if code == "TableNotFound":
            return StateError(
                f"state table {table} does not exist ({op}): the Bicep (infra/azure) declares "
                "it; check LX_STATE_TABLE_NAME",
                **where,
            )
        return StateConflictError("row is gone", **where)
    if status in (401, 403) or isinstance(exc, ClientAuthenticationError):
        if status is None:
            return StateError(
                f"no access token for state table {table} ({type(exc).__name__}): check the "
                "managed identity (LX_STATE_CLIENT_ID) or your Azure login",
                **where,
            )
        return StateError(
            f"access to state table {table} denied on {op} ({answer}): the identity needs the "
            f"'{ROLE}' role on it (with a connection string: check its account key)",
            **where,
        )
    if status is not None and (status in (408, 429) or status >= 500):
        return StateUnavailableError(f"state table {table} failed {op} ({answer})", **where)
    return StateError(f"state table {table} refused {op} ({answer or type(exc).__name__})", **where)


class AzureTableStore(StateStore):
    """Rows in one table. Thread-safe: the SDK client is, and so is the one-time table creation.

    ``create_table`` is for Azurite and development only: in Azure the app's role is scoped to
    the table the Bicep declares and cannot create tables.
    """

    def __init__(
        self,
        client: TableClient,
        *,
        create_table: bool = False,
        credential: _Closeable | None = None,
    ) -> None:
        self._client = client
        self._credential = credential
        self._creates_table = create_table
        self._table_ready = not create_table
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: StateSettings) -> AzureTableStore:
        """A store for ``settings``: the connection string (Azurite) if set, creating the table
        on first use; else the endpoint with a managed identity or the default credential."""
        from azure.data.tables import TableClient

        quiet_http_logging()
        options = _client_options(settings.timeout_seconds)
        if settings.connection_string is not None:
            secret = settings.connection_string.get_secret_value()
            try:
                client = TableClient.from_connection_string(secret, settings.table_name, **options)
            except ValueError:
                raise ConfigurationError(
                    "LX_STATE_CONNECTION_STRING is not a usable storage connection string",
                    settings=["LX_STATE_CONNECTION_STRING"],
                ) from None
            return cls(client, create_table=True)
        if settings.table_endpoint:
            credential = azure_credential(settings.client_id)
            try:
                client = TableClient(
                    settings.table_endpoint,
                    settings.table_name,
                    credential=credential,
                    **options,
                )
            except ValueError:
                credential.close()
                raise ConfigurationError(
                    "LX_STATE_TABLE_ENDPOINT must be an https URL for identity-based access",
                    settings=["LX_STATE_TABLE_ENDPOINT"],
                ) from None
            return cls(client, credential=credential)
        from lx_core.state.factory import NOT_CONFIGURED

        raise ConfigurationError(
            NOT_CONFIGURED, settings=["LX_STATE_TABLE_ENDPOINT", "LX_STATE_CONNECTION_STRING"]
        )

    @property
    def table_name(self) -> str:
        return self._client.table_name

    @property
    def creates_table(self) -> bool:
        """Whether this store creates its table on first use (connection string / Azurite)."""
        return self._creates_table

    @contextmanager
    def _translated(self, op: str, partition: str | None, key: str | None = None) -> Iterator[None]:
        from azure.core.exceptions import AzureError

        try:
            yield
        except AzureError as exc:
            raise to_state_error(
                exc, op=op, table=self.table_name, partition=partition, key=key
            ) from None

    def _ready(self) -> TableClient:
        """The client, after creating the table once if this store may (Azurite only)."""
        if not self._table_ready:
            from azure.core.exceptions import ResourceExistsError

            with self._lock, self._translated("create table", None):
                if not self._table_ready:
                    with suppress(ResourceExistsError):
                        self._client.create_table()
                    self._table_ready = True
        return self._client

    def get(self, partition: str, key: str) -> Row | None:
        check_key(partition, "partition"), check_key(key)
        from azure.core.exceptions import ResourceNotFoundError

        client = self._ready()
        with self._translated("get", partition, key):
            try:
                entity = client.get_entity(partition, key)
            except ResourceNotFoundError as exc:
                if error_code(exc) == "TableNotFound":
                    raise
                return None
        return _read(entity)

    def insert(self, partition: str, key: str, data: Mapping[str, Any]) -> Row:
        check_key(partition, "partition"), check_key(key)
        text = encode_data(data, partition, key)
        client = self._ready()
        with self._translated("insert", partition, key):
            meta = client.create_entity(to_entity(partition, key, text))
        return _written(partition, key, text, meta)

    def replace(self, partition: str, key: str, data: Mapping[str, Any], *, etag: str) -> Row:
        check_key(partition, "partition"), check_key(key)
        text = encode_data(data, partition, key)
        from azure.core import MatchConditions
        from azure.data.tables import UpdateMode

        client = self._ready()
        with self._translated("replace", partition, key):
            meta = client.update_entity(
                to_entity(partition, key, text),
                mode=UpdateMode.REPLACE,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        return _written(partition, key, text, meta)

    def upsert(self, partition: str, key: str, data: Mapping[str, Any]) -> Row:
        check_key(partition, "partition"), check_key(key)
        text = encode_data(data, partition, key)
        from azure.data.tables import UpdateMode

        client = self._ready()
        with self._translated("upsert", partition, key):
            # REPLACE, not MERGE: a shorter row must not keep the old row's extra chunks.
            meta = client.upsert_entity(to_entity(partition, key, text), mode=UpdateMode.REPLACE)
        return _written(partition, key, text, meta)

    def delete(self, partition: str, key: str, *, etag: str | None = None) -> None:
        check_key(partition, "partition"), check_key(key)
        from azure.core import MatchConditions

        client = self._ready()
        with self._translated("delete", partition, key):
            # The SDK treats 404 as success, which is the contract: a missing row is not an error.
            if etag is None:
                client.delete_entity(partition, key)
            else:
                client.delete_entity(
                    partition, key, etag=etag, match_condition=MatchConditions.IfNotModified
                )

    def transact(self, partition: str, ops: Sequence[Op]) -> list[Row | None]:
        check_transaction(partition, ops)
        from azure.core import MatchConditions
        from azure.core.exceptions import AzureError
        from azure.data.tables import UpdateMode

        texts = [None if op.data is None else encode_data(op.data, partition, op.key) for op in ops]
        batch: list[Any] = []
        for op, text in zip(ops, texts, strict=True):
            if text is None:
                entity = {"PartitionKey": partition, "RowKey": op.key}
                options = (
                    {"etag": op.etag, "match_condition": MatchConditions.IfNotModified}
                    if op.etag
                    else {}
                )
                batch.append(("delete", entity, options))
            elif op.kind == "insert":
                batch.append(("create", to_entity(partition, op.key, text)))
            elif op.kind == "upsert":
                batch.append(
                    ("upsert", to_entity(partition, op.key, text), {"mode": UpdateMode.REPLACE})
                )
            else:
                batch.append(
                    (
                        "update",
                        to_entity(partition, op.key, text),
                        {
                            "mode": UpdateMode.REPLACE,
                            "etag": op.etag,
                            "match_condition": MatchConditions.IfNotModified,
                        },
                    )
                )
        client = self._ready()
        try:
            results = client.submit_transaction(batch)
        except AzureError as exc:
            # The service names the op that failed; the error names its row.
            index = getattr(exc, "index", None)
            key = ops[index].key if isinstance(index, int) and 0 <= index < len(ops) else None
            raise to_state_error(
                exc, op="transaction", table=self.table_name, partition=partition, key=key
            ) from None
        out: list[Row | None] = []
        for op, text, meta in zip(ops, texts, results, strict=True):
            out.append(None if text is None else _written(partition, op.key, text, meta))
        return out

    def list(self, partition: str, *, limit: int = 1000, after: str | None = None) -> list[Row]:
        check_key(partition, "partition")
        if limit <= 0:
            return []
        query, parameters = "PartitionKey eq @partition", {"partition": partition}
        if after is not None:
            query += " and RowKey gt @after"  # the service orders by RowKey within a partition
            parameters["after"] = after
        client = self._ready()
        with self._translated("list", partition):
            pages = client.query_entities(
                query,
                parameters=parameters,
                results_per_page=min(limit, 1000),
            )
            return [_read(entity) for entity in islice(pages, limit)]

    def close(self) -> None:
        self._client.close()
        if self._credential is not None:
            self._credential.close()
