"""MemoryStore: the StateStore contract in a dict, for unit tests only.

It follows the same rules as the Azure backend (key checks, size limit, ETags that change on
every write), so a unit test that passes here fails for the same reasons in Azure. It is never a
production fallback: state that dies with the process would break every promise the store makes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from typing import Any

from lx_core.errors import StateConflictError
from lx_core.state.base import Row, StateStore, check_key, decode_data, encode_data


class MemoryStore(StateStore):
    """Rows in a dict under one lock; ETags are a process-wide counter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], tuple[str, str]] = {}  # (p, k) -> (etag, json text)
        self._etags = itertools.count(1)
        #: Every write (insert, replace, upsert, delete) in order, for tests that count them.
        self.writes: list[tuple[str, str, str]] = []

    def _row(self, partition: str, key: str, etag: str, text: str) -> Row:
        return Row(partition, key, decode_data(text, partition, key), etag)

    def _next_etag(self) -> str:
        return f'W/"{next(self._etags)}"'

    def get(self, partition: str, key: str) -> Row | None:
        check_key(partition, "partition"), check_key(key)
        with self._lock:
            found = self._rows.get((partition, key))
        return None if found is None else self._row(partition, key, *found)

    def insert(self, partition: str, key: str, data: Mapping[str, Any]) -> Row:
        check_key(partition, "partition"), check_key(key)
        text = encode_data(data, partition, key)
        with self._lock:
            if (partition, key) in self._rows:
                raise StateConflictError("row exists already", partition=partition, key=key)
            etag = self._next_etag()
            self._rows[(partition, key)] = (etag, text)
            self.writes.append(("insert", partition, key))
        return self._row(partition, key, etag, text)

    def replace(self, partition: str, key: str, data: Mapping[str, Any], *, etag: str) -> Row:
        check_key(partition, "partition"), check_key(key)
        text = encode_data(data, partition, key)
        with self._lock:
            found = self._rows.get((partition, key))
            if found is None:
                raise StateConflictError("row is gone", partition=partition, key=key)
            if found[0] != etag:
                raise StateConflictError("row changed (ETag)", partition=partition, key=key)
            new_etag = self._next_etag()
            self._rows[(partition, key)] = (new_etag, text)
            self.writes.append(("replace", partition, key))
        return self._row(partition, key, new_etag, text)

    def upsert(self, partition: str, key: str, data: Mapping[str, Any]) -> Row:
        check_key(partition, "partition"), check_key(key)
        text = encode_data(data, partition, key)
        with self._lock:
            etag = self._next_etag()
            self._rows[(partition, key)] = (etag, text)
            self.writes.append(("upsert", partition, key))
        return self._row(partition, key, etag, text)

    def delete(self, partition: str, key: str, *, etag: str | None = None) -> None:
        check_key(partition, "partition"), check_key(key)
        with self._lock:
            found = self._rows.get((partition, key))
            if found is None:
                return
            if etag is not None and found[0] != etag:
                raise StateConflictError("row changed (ETag)", partition=partition, key=key)
            del self._rows[(partition, key)]
            self.writes.append(("delete", partition, key))

    def list(self, partition: str, *, limit: int = 1000, after: str | None = None) -> list[Row]:
        check_key(partition, "partition")
        with self._lock:
            items = sorted(
                (k, v)
                for (p, k), v in self._rows.items()
                if p == partition and (after is None or k > after)
            )
        return [self._row(partition, k, etag, text) for k, (etag, text) in items[:limit]]
