"""DayPoints: one Metrics v2 point per key and day, replaced rather than duplicated.

Metrics v2 appends a second point when one is posted at a timestamp that has one, and can only
delete *every* point at a timestamp. So points carry the start of their day (UTC) as their
timestamp, and the state store keeps a ledger per schema and day of what should be there:

1. ``put`` compares with the ledger first: the same values write nothing.
2. A new key is recorded as ``posted: false``, posted, then marked posted: one POST.
3. Changed values (or a row left ``posted: false`` by a crash, whose POST may or may not have
   landed) make the day dirty: the ledger is updated, the day's points are deleted and every
   ledger row is posted again. The ``~day`` row says "rewriting" until that finished, so a crash
   anywhere in it is repaired by the next ``put`` or ``repair`` of that day.

Rewrites run only where ``rewrite=True``: the leased timers. Elsewhere (the survey webhook) a
change is recorded ``posted: false`` and left for the timer's ``repair``, so a delivery never
deletes a day it has no time to post again. A new key posted by a webhook while the timer
rewrites the same day can still be posted twice (rare; the next change rewrites the day).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal

from lx_core.errors import StateConflictError
from lx_core.leanix.metrics import MetricsClient, PointValue
from lx_core.state.base import Op, Row, StateStore, transaction_chunks

log = logging.getLogger(__name__)

_MARK = "~day"
Outcome = Literal["unchanged", "posted", "rewritten", "deferred"]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


@dataclass(frozen=True)
class PutResult:
    outcome: Outcome
    #: Points posted (a rewrite posts the whole day).
    posted: int = 0


class DayPoints:
    def __init__(self, store: StateStore, metrics: MetricsClient, schema_uuid: str) -> None:
        self.store = store
        self.metrics = metrics
        self.schema_uuid = schema_uuid

    def _partition(self, day: date) -> str:
        return f"mday.{self.schema_uuid}.{day.isoformat()}"

    def recorded(self, day: date) -> dict[str, dict[str, PointValue]]:
        """The ledger of ``day``: key → values."""
        return {row.key: dict(row.data["values"]) for row in self._rows(day)}

    def _rows(self, day: date) -> list[Row]:
        rows: list[Row] = []
        after: str | None = None
        while True:
            page = self.store.list(self._partition(day), after=after)
            rows.extend(r for r in page if r.key != _MARK)
            if len(page) < 1000:
                return rows
            after = page[-1].key

    def put(
        self,
        day: date,
        key: str,
        values: Mapping[str, PointValue],
        *,
        rewrite: bool = True,
        _retried: bool = False,
    ) -> PutResult:
        """Make the day's point for ``key`` hold ``values``; without ``rewrite``, a change that
        needs the day rewritten is recorded and ``deferred`` to ``repair``."""
        partition = self._partition(day)
        row = self.store.get(partition, key)
        rewriting = self._rewriting(day)
        settled = row is not None and row.data.get("posted") and not rewriting
        if settled and row is not None and row.data.get("values") == dict(values):
            return PutResult("unchanged")
        if row is not None or rewriting:
            # A changed point, a post a crash left in doubt, or an unfinished rewrite: only a
            # rewrite of the whole day replaces a point.
            self.store.upsert(partition, key, {"values": dict(values), "posted": False})
            return self._rewrite(day) if rewrite else PutResult("deferred")
        try:
            written = self.store.insert(partition, key, {"values": dict(values), "posted": False})
        except StateConflictError:  # another writer recorded this key first: compare again
            if _retried:
                raise
            return self.put(day, key, values, rewrite=rewrite, _retried=True)
        self.metrics.post_point(self.schema_uuid, day_start(day), dict(values))
        self.store.replace(
            partition, key, {"values": dict(values), "posted": True}, etag=written.etag
        )
        return PutResult("posted", 1)

    def repair(self, day: date) -> PutResult:
        """Finish a rewrite or a post a crash interrupted; nothing if the day is clean."""
        return self._rewrite(day) if self._dirty(day) else PutResult("unchanged")

    def _rewriting(self, day: date) -> bool:
        mark = self.store.get(self._partition(day), _MARK)
        return mark is not None and bool(mark.data.get("rewriting"))

    def _dirty(self, day: date) -> bool:
        """A rewrite unfinished, or a post in doubt anywhere in the day (lists the ledger)."""
        return self._rewriting(day) or any(not r.data.get("posted") for r in self._rows(day))

    def _rewrite(self, day: date) -> PutResult:
        partition = self._partition(day)
        self.store.upsert(partition, _MARK, {"rewriting": True})
        self.metrics.delete_points_at(self.schema_uuid, day_start(day))
        rows = self._rows(day)
        for row in rows:
            self.metrics.post_point(self.schema_uuid, day_start(day), dict(row.data["values"]))
        ops = [Op.upsert(r.key, {"values": dict(r.data["values"]), "posted": True}) for r in rows]
        for chunk in transaction_chunks(partition, ops):
            self.store.transact(partition, chunk)
        self.store.upsert(partition, _MARK, {"rewriting": False})
        log.info(
            "metrics day rewritten",
            extra={
                "lx_schema": self.schema_uuid,
                "lx_day": day.isoformat(),
                "lx_points": len(rows),
            },
        )
        return PutResult("rewritten", len(rows))
