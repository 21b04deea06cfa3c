"""MemoryStore: the StateStore contract in a dict, for unit tests only.

It follows the same rules as the Azure backend (key checks, size limit, ETags that change on
every write, all-or-nothing transactions), so a unit test that passes here fails for the same
reasons in Azure. It is never a production fallback: state that dies with the process would
break every promise the store makes.

Each partition keeps its keys sorted, so ``list`` costs the page it returns, not the partition:
the relay's memory benchmark measures the relay, not this double.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from lx_core.errors import StateConflictError
from lx_core.state.base import (
    Op,
    Row,
    StateStore,
    check_key,
    check_transaction,
    decode_data,
    encode_data,
)


class _Partition:
    __slots__ = ("keys", "rows")

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str]] = {}  # key -> (etag, json text)
        self.keys: list[str] = []  # sorted

    def put(self, key: str, value: tuple[str, str]) -> None:
        if key not in self.rows:
            bisect.insort(self.keys, key)
        self.rows[key] = value

    def drop(self, key: str) -> None:
        del self.rows[key]
        del self.keys[bisect.bisect_left(self.keys, key)]


class MemoryStore(StateStore):
    """Rows in dicts under one lock; ETags are a process-wide counter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._partitions: dict[str, _Partition] = {}
        self._etags = itertools.count(1)
        #: Every write (insert, replace, upsert, delete) in order, for tests that count them.
        self.writes: list[tuple[str, str, str]] = []

    def _row(self, partition: str, key: str, etag: str, text: str) -> Row:
        return Row(partition, key, decode_data(text, partition, key), etag)

    def _next_etag(self) -> str:
        return f'W/"{next(self._etags)}"'

    def _part(self, partition: str) -> _Partition:
        part = self._partitions.get(partition)
        if part is None:
            part = self._partitions[partition] = _Partition()
        return part

    def _found(self, partition: str, key: str) -> tuple[str, str] | None:
        part = self._partitions.get(partition)
        return None if part is None else part.rows.get(key)

    def get(self, partition: str, key: str) -> Row | None:
        check_key(partition, "partition"), check_key(key)
        with self._lock:
            found = self._found(partition, key)
        return None if found is None else self._row(partition, key, *found)

    def insert(self, partition: str, key: str, data: Mapping[str, Any]) -> Row:
        [row] = self.transact(partition, [Op.insert(key, data)])
        if row is None:  # pragma: no cover - an insert always returns its row
            raise StateConflictError("row was not written", partition=partition, key=key)
        return row

    def replace(self, partition: str, key: str, data: Mapping[str, Any], *, etag: str) -> Row:
        check_key(partition, "partition"), check_key(key)
        [row] = self.transact(partition, [Op.replace(key, data, etag)])
        if row is None:  # pragma: no cover - a replace always returns its row
            raise StateConflictError("row was not written", partition=partition, key=key)
        return row

    def upsert(self, partition: str, key: str, data: Mapping[str, Any]) -> Row:
        [row] = self.transact(partition, [Op.upsert(key, data)])
        if row is None:  # pragma: no cover - an upsert always returns its row
            raise StateConflictError("row was not written", partition=partition, key=key)
        return row

    def delete(self, partition: str, key: str, *, etag: str | None = None) -> None:
        check_key(partition, "partition"), check_key(key)
        with self._lock:
            if self._found(partition, key) is None:
                return  # a missing row is not an error (outside a transaction)
        self.transact(partition, [Op.delete(key, etag)])

    def transact(self, partition: str, ops: Sequence[Op]) -> list[Row | None]:
        check_transaction(partition, ops)
        texts = [None if op.data is None else encode_data(op.data, partition, op.key) for op in ops]
        with self._lock:
            for op in ops:  # every condition first: all or nothing
                found = self._found(partition, op.key)
                if op.kind == "insert" and found is not None:
                    raise StateConflictError("row exists already", partition=partition, key=op.key)
                if op.kind in ("replace", "delete"):
                    if found is None:
                        raise StateConflictError("row is gone", partition=partition, key=op.key)
                    if op.etag is not None and found[0] != op.etag:
                        raise StateConflictError(
                            "row changed (ETag)", partition=partition, key=op.key
                        )
            part = self._part(partition)
            out: list[tuple[str, str, str] | None] = []
            for op, text in zip(ops, texts, strict=True):
                self.writes.append((op.kind, partition, op.key))
                if text is None:
                    part.drop(op.key)
                    out.append(None)
                    continue
                etag = self._next_etag()
                part.put(op.key, (etag, text))
                out.append((op.key, etag, text))
        return [None if o is None else self._row(partition, *o) for o in out]

    def list(self, partition: str, *, limit: int = 1000, after: str | None = None) -> list[Row]:
        check_key(partition, "partition")
        with self._lock:
            part = self._partitions.get(partition)
            if part is None or limit <= 0:
                return []
            start = 0 if after is None else bisect.bisect_right(part.keys, after)
            keys = part.keys[start : start + limit]
            items = [(k, part.rows[k]) for k in keys]
        return [self._row(partition, k, etag, text) for k, (etag, text) in items]
