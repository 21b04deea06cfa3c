"""The daily data-quality snapshot over a 10,000-fact-sheet workspace: the project's one paged
read per type against a naive baseline that lists ids and reads each fact sheet on its own.

Both run through the same client and the same pure figures (``quality_figures.add``) against
one emulator process. The naive run reads only the first N fact sheets (``--naive-sample``) and
is scaled linearly to the workspace, as the reconcile bench does: its cost per fact sheet is
exactly one read, plus one listing page per 100. The figures of the sampled fact sheets are
compared with the paged run's, so a faster wrong answer cannot pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bench import report
from bench.common import (
    MAX_PACE,
    EmulatorProcess,
    clear_process_caches,
    hermetic_env,
    make_client,
    require,
    time_settings,
)
from bench.reconcile import traced
from lx_core.config import MetricsSettings
from lx_core.decisions.quality_figures import TypeFigures, add
from lx_core.jobs.metrics_snapshot import MetricsSnapshot, SnapshotReport
from lx_core.leanix.client import LeanIXClient


@dataclass
class SnapshotResult:
    fact_sheets: int
    paged_calls: int
    paged_s: float
    naive_examined: int
    naive_calls: int
    naive_s: float
    scale: float
    sample_equal: bool

    @property
    def naive_calls_scaled(self) -> float:
        return self.naive_calls * self.scale

    @property
    def call_ratio(self) -> float:
        return self.naive_calls_scaled / self.paged_calls


def _settings() -> MetricsSettings:
    return MetricsSettings(fact_sheet_types=("Application",))


def naive(
    client: LeanIXClient, snapshot: MetricsSnapshot, limit: int
) -> tuple[TypeFigures, list[str]]:
    """List ids page by page, then one ``factSheet(id)`` read per fact sheet."""
    ids: list[str] = []
    for page in client.graphql.iter_fact_sheet_pages("id", fact_sheet_type="Application"):
        ids.extend(str(n["id"]) for n in page.nodes)
        if len(ids) >= limit:
            break
    ids = ids[:limit]
    figures = TypeFigures("Application")
    selection = snapshot.selection("Application")
    today = datetime.now(UTC).date()
    reader = snapshot.time_reader("Application")
    for fs_id in ids:
        node = client.graphql.get_fact_sheet(fs_id, selection)
        if node is not None:
            add(figures, [node], today, reader)
    return figures, ids


def measure(fact_sheets: int = 10_000, naive_sample: int = 500) -> SnapshotResult:
    with hermetic_env(), EmulatorProcess(f"generated:{fact_sheets}") as emu:
        emu.reseed(fact_sheets)
        clear_process_caches()
        client = make_client(emu.url)
        try:
            snapshot = MetricsSnapshot(client, None, _settings(), time_settings(), dry_run=True)
            paged = SnapshotReport(datetime.now(UTC).date())
            _, paged_s, _ = traced(lambda: snapshot.measure(paged.day, paged))
        finally:
            client.close()
        paged_calls = int(emu.stats()["total"])
        total = paged.figures[0].count
        require(total >= fact_sheets * 0.9, f"the paged run saw {total} fact sheets")
        emu.admin("DELETE", "/stats")
        clear_process_caches()
        client = make_client(emu.url)
        try:
            limit = naive_sample if 0 < naive_sample < total else total
            (figures, ids), naive_s, _ = traced(lambda: naive(client, snapshot, limit))
        finally:
            client.close()
        naive_calls = int(emu.stats()["total"])
        # The same figures over the sample, from a paged read of exactly those ids.
        clear_process_caches()
        client = make_client(emu.url)
        try:
            check = TypeFigures("Application")
            wanted = set(ids)
            for page in client.graphql.iter_fact_sheet_pages(
                snapshot.selection("Application"),
                fact_sheet_type="Application",
            ):
                nodes = [n for n in page.nodes if n.get("id") in wanted]
                add(check, nodes, paged.day, snapshot.time_reader("Application"))
        finally:
            client.close()
    return SnapshotResult(
        fact_sheets=total,
        paged_calls=paged_calls,
        paged_s=paged_s,
        naive_examined=len(ids),
        naive_calls=naive_calls,
        naive_s=naive_s,
        scale=total / max(1, len(ids)),
        sample_equal=check.point() == figures.point()
        and check.time_classes == figures.time_classes,
    )


def table(r: SnapshotResult) -> report.Table:
    scaled = r.scale != 1.0
    tag = " (scaled)" if scaled else ""
    rows = [
        report.Row(
            "LeanIX calls (emulator count)",
            report.count(r.paged_calls),
            report.count(r.naive_calls_scaled) + tag,
            report.ratio(r.call_ratio, "x fewer"),
            "≥ 50x fewer",
            report.check(r.call_ratio >= 50),
        ),
        report.Row(
            "wall time",
            report.secs(r.paged_s),
            report.secs(r.naive_s * r.scale) + tag,
            report.ratio(r.naive_s * r.scale / r.paged_s, "x faster"),
        ),
        report.Row(
            "same figures over the naive sample",
            "equal" if r.sample_equal else "DIFFERENT",
            goal="equal",
            ok=report.check(r.sample_equal),
        ),
    ]
    notes = [
        f"{r.fact_sheets:,} generated Applications, pace {MAX_PACE}/min; paged = "
        "MetricsSnapshot.measure (pages of 100 with completion, seal, subscriptions, lifecycle, "
        "TIME tag); naive = list ids, then factSheet(id) for each, the same selection.",
    ]
    if scaled:
        notes.append(
            f"naive run measured over the first {r.naive_examined:,} fact sheets "
            f"({r.naive_calls:,} calls, {r.naive_s:.1f} s) and SCALED x{r.scale:.2f}: one read "
            "per fact sheet plus a listing page per 100 is linear."
        )
    return report.Table("snapshot", "Metrics snapshot: paged vs per fact sheet", rows, notes)
