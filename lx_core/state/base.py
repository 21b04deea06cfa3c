"""The state store contract: JSON rows addressed by (partition, key), written conditionally.

Everything lx-functions keeps between invocations (reconcile checkpoints, leases, the shared
request budget, and later relay outboxes and digests) is a small JSON object in one row. Writes are
conditional, so two instances racing for the same row can never both win: ``insert`` only if the
row is absent, ``replace`` and ``delete`` only while the row still carries the ETag that was read.
Azure Table storage gives exactly this; the in-memory backend imitates it for unit tests.

``transact`` applies up to 100 writes to one partition atomically (Azure's entity group
transaction): either all of them or none.

Every backend raises only ``lx_core.errors.StateError`` subclasses: ``StateConflictError`` when a
condition fails, ``StateUnavailableError`` when the store cannot be reached (retry later), and
``StateError`` itself for a request the store refuses (a bad key, a row too large).
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

from lx_core.errors import ConfigurationError, StateError

#: Longest partition or row key. Azure allows 1 KiB; ours are short names and ids.
MAX_KEY_LENGTH = 255
#: Largest row, as compact JSON text. An Azure string property holds 32K characters, so the
#: Azure backend splits the text over several properties; 256K keeps a row well under 1 MiB.
MAX_DATA_CHARS = 256_000

# Azure Table storage forbids / \ # ? and control characters in keys.
_BAD_KEY = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")


#: Most operations in one transaction (Azure's entity group transaction limit).
MAX_TRANSACTION_OPS = 100
#: Most row text in one transaction: Azure refuses a batch over 4 MiB, and its JSON escaping of
#: our (ASCII) row text adds to it, so the bound keeps well under.
MAX_TRANSACTION_CHARS = 2_500_000


@dataclass(frozen=True)
class Op:
    """One write in a transaction. ``replace`` needs ``etag``; ``delete`` uses it if given."""

    kind: Literal["insert", "replace", "upsert", "delete"]
    key: str
    data: Mapping[str, Any] | None = None
    etag: str | None = None

    @classmethod
    def insert(cls, key: str, data: Mapping[str, Any]) -> Op:
        return cls("insert", key, data)

    @classmethod
    def replace(cls, key: str, data: Mapping[str, Any], etag: str) -> Op:
        return cls("replace", key, data, etag)

    @classmethod
    def upsert(cls, key: str, data: Mapping[str, Any]) -> Op:
        return cls("upsert", key, data)

    @classmethod
    def delete(cls, key: str, etag: str | None = None) -> Op:
        return cls("delete", key, None, etag)


def check_transaction(partition: str, ops: Sequence[Op]) -> None:
    """StateError unless ``ops`` is a transaction every backend can run: 1 to 100 writes in one
    partition, each row at most once, data where the op needs it, at most
    ``MAX_TRANSACTION_CHARS`` of row text (``transaction_chunks`` splits writes that way)."""
    check_key(partition, "partition")
    if not 1 <= len(ops) <= MAX_TRANSACTION_OPS:
        raise StateError(
            f"a transaction holds 1 to {MAX_TRANSACTION_OPS} writes, not {len(ops)}",
            partition=partition,
        )
    seen: set[str] = set()
    for op in ops:
        check_key(op.key)
        if op.key in seen:
            raise StateError("a transaction writes each row once", partition=partition, key=op.key)
        seen.add(op.key)
        if (op.kind == "delete") != (op.data is None):
            raise StateError(f"{op.kind} needs {'no ' if op.kind == 'delete' else ''}data")
        if op.kind == "replace" and not op.etag:
            raise StateError(
                "replace needs the ETag that was read", partition=partition, key=op.key
            )
    total = sum(_op_chars(partition, op) for op in ops)
    if total > MAX_TRANSACTION_CHARS:
        raise StateError(
            f"a transaction holds at most {MAX_TRANSACTION_CHARS} characters of rows, not {total}",
            partition=partition,
        )


def _op_chars(partition: str, op: Op) -> int:
    return 0 if op.data is None else len(encode_data(op.data, partition, op.key))


def transaction_chunks(partition: str, ops: Sequence[Op]) -> list[list[Op]]:
    """``ops`` split, in order, into transactions within both the count and size limits."""
    chunks: list[list[Op]] = []
    current: list[Op] = []
    size = 0
    for op in ops:
        chars = _op_chars(partition, op)
        if current and (
            len(current) == MAX_TRANSACTION_OPS or size + chars > MAX_TRANSACTION_CHARS
        ):
            chunks.append(current)
            current, size = [], 0
        current.append(op)
        size += chars
    if current:
        chunks.append(current)
    return chunks


@dataclass(frozen=True)
class Row:
    """One stored row: where it lives, its JSON object, and the ETag of this version."""

    partition: str
    key: str
    data: Mapping[str, Any]
    etag: str


def check_key(value: str, what: str = "key") -> str:
    """``value`` if it is a usable partition or row key, else StateError naming the rule."""
    if not isinstance(value, str) or not value:
        raise StateError(f"{what} must be a non-empty string")
    if len(value) > MAX_KEY_LENGTH:
        raise StateError(f"{what} is longer than {MAX_KEY_LENGTH} characters")
    if _BAD_KEY.search(value):
        raise StateError(f"{what} contains / \\ # ? or a control character")
    return value


def encode_data(data: Mapping[str, Any], partition: str, key: str) -> str:
    """``data`` as compact JSON text, refusing what cannot be stored faithfully."""
    if not isinstance(data, Mapping):
        raise StateError("row data must be a JSON object", partition=partition, key=key)
    try:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise StateError(
            f"row data is not JSON-serialisable ({type(exc).__name__})",
            partition=partition,
            key=key,
        ) from None
    if len(text) > MAX_DATA_CHARS:
        raise StateError(
            f"row data is {len(text)} characters, over the limit of {MAX_DATA_CHARS}",
            partition=partition,
            key=key,
        )
    return text


def decode_data(text: str, partition: str, key: str) -> dict[str, Any]:
    """The JSON object stored in ``text`` (a row someone else damaged is a StateError)."""
    try:
        value = json.loads(text)
    except ValueError:
        raise StateError("stored row is not valid JSON", partition=partition, key=key) from None
    if not isinstance(value, dict):
        raise StateError("stored row is not a JSON object", partition=partition, key=key)
    return value


class StateStore(ABC):
    """Rows of JSON in partitions, with conditional writes. Thread-safe in every backend."""

    @abstractmethod
    def get(self, partition: str, key: str) -> Row | None:
        """The row, or None if there is none."""

    @abstractmethod
    def insert(self, partition: str, key: str, data: Mapping[str, Any]) -> Row:
        """Create the row; StateConflictError if it exists already."""

    @abstractmethod
    def replace(self, partition: str, key: str, data: Mapping[str, Any], *, etag: str) -> Row:
        """Overwrite the row if it still has ``etag``; StateConflictError if it changed or is
        gone."""

    @abstractmethod
    def upsert(self, partition: str, key: str, data: Mapping[str, Any]) -> Row:
        """Create or overwrite the row unconditionally (for rows with a single writer)."""

    @abstractmethod
    def delete(self, partition: str, key: str, *, etag: str | None = None) -> None:
        """Remove the row; with ``etag``, only if it still has it (else StateConflictError).
        Deleting a row that is not there is not an error."""

    @abstractmethod
    def transact(self, partition: str, ops: Sequence[Op]) -> list[Row | None]:
        """Apply every op of one partition, or none (see ``check_transaction`` for the limits).
        The written rows in order (None for a delete). StateConflictError naming the first op
        whose condition failed: an insert of a row that exists, a replace or delete whose row
        is gone or changed. (Unlike ``delete`` alone, deleting a missing row fails here: the
        service refuses it, and the other ops are then not applied either.)"""

    @abstractmethod
    def list(self, partition: str, *, limit: int = 1000, after: str | None = None) -> list[Row]:
        """Up to ``limit`` rows of one partition, in key order; with ``after``, only rows whose
        key sorts after it (so a reader can page on from the last key it saw)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections (the store is unusable afterwards)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def store_required(what: str) -> ConfigurationError:
    """The error for work that needs the state store when none is configured; ``what`` says
    what the store would keep (``"the relay keeps its outbox"``)."""
    return ConfigurationError(
        f"{what} in the state store; set LX_STATE_*",
        settings=["LX_STATE_TABLE_ENDPOINT", "LX_STATE_CONNECTION_STRING"],
    )
