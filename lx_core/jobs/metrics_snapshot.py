"""The daily data-quality snapshot: one paged GraphQL pass per fact-sheet type, figures per
type, written as Metrics v2 points at the start of the day (UTC).

Two schemas, created when missing: per type (``count``, ``meanCompletion``,
``brokenQualitySeal``, ``withoutOwner``, ``pastEndOfLife``; dimension ``factSheetType``) and
Applications per TIME class (``count``; dimension ``timeClass``). Points go through the day
ledger, so a rerun on the same day with the same figures writes nothing, changed figures
replace the day's points, and a crash between a delete and its posts is repaired next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from lx_core import deadline
from lx_core.config import MetricsSettings, TimeSettings
from lx_core.decisions.quality_figures import UNCLASSIFIED, TypeFigures, add
from lx_core.decisions.time_model import TimeClass
from lx_core.jobs.day_points import DayPoints, PutResult
from lx_core.leanix.client import LeanIXClient
from lx_core.state.base import StateStore, store_required
from lx_core.state.lease import Lease

log = logging.getLogger(__name__)

LEASE_NAME = "metrics-snapshot"
QUALITY_METRICS = ("count", "meanCompletion", "brokenQualitySeal", "withoutOwner", "pastEndOfLife")
_BASE_SELECTION = (
    "id status lxState completion { completion } subscriptions { edges { node { type } } }"
)


@dataclass
class SnapshotReport:
    day: date
    figures: list[TypeFigures] = field(default_factory=list)
    #: schema → point key → outcome (``posted``, ``rewritten``, ``unchanged``; dry: ``dry``).
    written: dict[str, dict[str, str]] = field(default_factory=dict)
    graphql_pages: int = 0
    busy: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "busy": self.busy,
            "pages": self.graphql_pages,
            "types": [
                {**f.point(), "timeClasses": dict(sorted(f.time_classes.items()))}
                for f in self.figures
            ],
            "written": self.written,
        }


class MetricsSnapshot:
    def __init__(
        self,
        client: LeanIXClient,
        store: StateStore | None,
        settings: MetricsSettings,
        time_settings: TimeSettings,
        *,
        dry_run: bool = False,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.time_settings = time_settings
        self.dry_run = dry_run
        self._today = today

    # --- reading -------------------------------------------------------------------------------

    def selection(self, fs_type: str) -> str:
        parts = [_BASE_SELECTION]
        if fs_type in self.settings.lifecycle_types:
            parts.append(f"... on {fs_type} {{ lifecycle {{ phases {{ phase startDate }} }} }}")
        if fs_type == self.time_settings.fact_sheet_type:
            if self.time_settings.target == "field":
                parts.append(f"... on {fs_type} {{ {self.time_settings.field} }}")
            else:
                parts.append("tags { name tagGroup { name } }")
        return " ".join(parts)

    def time_reader(self, fs_type: str) -> Callable[[Mapping[str, Any]], str | None] | None:
        ts = self.time_settings
        if fs_type != ts.fact_sheet_type:
            return None
        if ts.target == "field":
            return lambda node: node.get(ts.field) or None
        by_name = {name: cls.value for cls, name in ts.tag_names.items()}

        def from_tags(node: Mapping[str, Any]) -> str | None:
            for tag in node.get("tags") or ():
                if isinstance(tag, Mapping) and (tag.get("tagGroup") or {}).get("name") == (
                    ts.tag_group
                ):
                    return by_name.get(str(tag.get("name")))
            return None

        return from_tags

    def measure(self, day: date, report: SnapshotReport) -> None:
        """Every configured type's figures, one paged read each."""
        for fs_type in self.settings.fact_sheet_types:
            figures = TypeFigures(fs_type)
            reader = self.time_reader(fs_type)
            if reader is not None:  # every class, so one that drops to 0 says 0
                figures.time_classes = dict.fromkeys(
                    [*(c.value for c in TimeClass), UNCLASSIFIED], 0
                )
            for page in self.client.graphql.iter_fact_sheet_pages(
                self.selection(fs_type), fact_sheet_type=fs_type
            ):
                report.graphql_pages += 1
                add(figures, page.nodes, day, reader)
            report.figures.append(figures)

    # --- writing -------------------------------------------------------------------------------

    def _ledger(self, name: str, metrics: tuple[str, ...], dimension: str) -> DayPoints:
        if self.store is None:
            raise store_required("the snapshot records what it wrote")
        schema = self.client.metrics.ensure_schema(
            name,
            metrics=metrics,
            dimensions=[dimension],
            description="Data-quality snapshot (lx-functions)",
        )
        return DayPoints(self.store, self.client.metrics, schema.uuid)

    def write(self, day: date, report: SnapshotReport) -> None:
        quality = {f.fact_sheet_type: f.point() for f in report.figures}
        times: dict[str, dict[str, float | str]] = {}
        for f in report.figures:
            for cls, count in f.time_classes.items():
                times[cls] = {"timeClass": cls, "count": count}
        targets = (
            (self.settings.quality_schema, QUALITY_METRICS, "factSheetType", quality),
            (self.settings.time_schema, ("count",), "timeClass", times),
        )
        for name, metrics, dimension, points in targets:
            if self.dry_run:
                report.written[name] = dict.fromkeys(points, "dry")
                continue
            ledger = self._ledger(name, metrics, dimension)
            ledger.repair(day)
            outcomes: dict[str, str] = {}
            for key, values in points.items():
                result: PutResult = ledger.put(day, key, values)
                outcomes[key] = result.outcome
            report.written[name] = outcomes

    def run(self, *, day: date | None = None, owner: str = "cli") -> SnapshotReport:
        """Measure and write the snapshot of ``day`` (default: today, UTC) under a lease."""
        day = day or self._today()
        report = SnapshotReport(day)
        lease = None
        if self.store is not None and not self.dry_run:
            lease = Lease(
                self.store, LEASE_NAME, owner=owner, duration=self.settings.tick_seconds + 60.0
            )
            if not lease.acquire():
                report.busy = True
                return report
        try:
            with deadline.within(self.settings.tick_seconds):
                self.measure(day, report)
                self.write(day, report)
        finally:
            if lease is not None:
                lease.release()
        log.info("metrics snapshot", extra={"lx_snapshot": report.to_json()})
        return report
