"""Weekly data-quality reminders: the checkers of ``infra/leanix/quality.json`` over one paged
read per type, the gaps grouped by the person responsible, one digest per person per ISO week
through the relay's e-mail channel.

A digest is never enqueued twice in a week, whatever runs twice or dies halfway: per person and
week a row is inserted first (``recording``), the notice recorded (its id is stable, so the
relay queues it once even if it is recorded again), then the row marked ``recorded``. A rerun
skips recorded rows and finishes recording ones. People with nothing to fix get nothing;
technical users are never owners. ``dry_run_to`` sends every digest to one address instead.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from lx_core import deadline
from lx_core.config import QualitySettings
from lx_core.decisions.quality_checks import Gap, Person, gaps, owners, related_groups
from lx_core.errors import StateConflictError
from lx_core.leanix.client import LeanIXClient
from lx_core.notify.notices import DigestItem, QualityDigestNotice, notice_id
from lx_core.notify.outbox import NoticeLog
from lx_core.quality.model import QualityConfig
from lx_core.state.base import StateStore, store_required
from lx_core.state.lease import Lease

log = logging.getLogger(__name__)

LEASE_NAME = "quality-reminders"
#: Fields every fact sheet has; a required-field checker on one of them needs no type fragment.
_COMMON = frozenset({"id", "name", "type", "status", "lxState", "updatedAt", "description"})
_SUBSCRIPTIONS = (
    "subscriptions { edges { node { type user { id email technicalUser } roles { name } } } }"
)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Finding:
    """One fact sheet with gaps, and who should fix them."""

    id: str
    name: str
    type: str
    gaps: tuple[Gap, ...]
    owners: tuple[Person, ...]
    organizations: tuple[str, ...]


@dataclass
class ReminderReport:
    week: str
    findings: list[Finding] = field(default_factory=list)
    #: person e-mail → ``recorded`` (new), ``already`` (this week), ``finished`` (a crash left it)
    digests: dict[str, str] = field(default_factory=dict)
    pages: int = 0
    busy: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "busy": self.busy,
            "pages": self.pages,
            "factSheetsWithGaps": len(self.findings),
            "withoutOwner": sum(1 for f in self.findings if not f.owners),
            "digests": dict(sorted(self.digests.items())),
        }


class QualityReminders:
    def __init__(
        self,
        client: LeanIXClient,
        store: StateStore | None,
        config: QualityConfig,
        settings: QualitySettings,
        *,
        workspace_url: str | None = None,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.client = client
        self.store = store
        self.config = config
        self.settings = settings
        self.workspace_url = workspace_url
        self._today = today

    # --- reading -------------------------------------------------------------------------------

    def selection(self, fs_type: str, *, organizations: bool = False) -> str:
        """What one page reads; the organization relation only when asked (it need not exist
        in every workspace)."""
        checkers = [c for c in self.config.checkers if c.type == fs_type]
        parts = ["id name type status lxState updatedAt description", _SUBSCRIPTIONS]
        fields = sorted({c.field for c in checkers if c.field and c.field not in _COMMON})
        on_type = list(fields)
        if any(c.rule == "end_of_life_past" for c in checkers):
            on_type.append("lifecycle { phases { phase startDate } }")
        relation = self.config.organization.relation
        if organizations and relation.startswith(f"rel{fs_type}To"):
            on_type.append(f"{relation} {{ edges {{ node {{ factSheet {{ id name }} }} }} }}")
        if on_type:
            parts.append(f"... on {fs_type} {{ {' '.join(on_type)} }}")
        return " ".join(parts)

    def findings(
        self, report: ReminderReport | None = None, *, organizations: bool = False
    ) -> Iterator[Finding]:
        """Every active fact sheet with at least one gap, one paged read per type."""
        today = self._today()
        relation = self.config.organization.relation
        for fs_type in self.config.types():
            checkers = [c for c in self.config.checkers if c.type == fs_type]
            for page in self.client.graphql.iter_fact_sheet_pages(
                self.selection(fs_type, organizations=organizations), fact_sheet_type=fs_type
            ):
                if report is not None:
                    report.pages += 1
                for node in page.nodes:
                    found = gaps(checkers, node, today)
                    if found:
                        yield Finding(
                            str(node.get("id")),
                            str(node.get("name") or node.get("id")),
                            fs_type,
                            tuple(found),
                            tuple(owners(node, self.config.owners)),
                            tuple(related_groups(node, relation) if organizations else ()),
                        )

    # --- grouping ------------------------------------------------------------------------------

    @staticmethod
    def by_person(findings: list[Finding]) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = {}
        for finding in findings:
            for person in finding.owners:
                grouped.setdefault(person.email.lower(), []).append(finding)
        return grouped

    def digest(self, email: str, items: list[Finding], week: str) -> QualityDigestNotice:
        # A trial run (dry_run_to) is a digest of its own: it never uses up the real one.
        to = self.settings.dry_run_to or ""
        person = hashlib.blake2b(f"{email.lower()}|{to}".encode(), digest_size=8).hexdigest()
        limit = self.settings.max_items
        return QualityDigestNotice(
            id=notice_id("quality", f"{week}-{person}"),
            week=week,
            person=email,
            recipients=(self.settings.dry_run_to or email,),
            workspace_url=self.workspace_url,
            total=len(items),
            items=tuple(
                DigestItem(
                    fact_sheet_id=f.id,
                    fact_sheet_name=f.name,
                    fact_sheet_type=f.type,
                    gaps=tuple(g.text for g in f.gaps),
                )
                for f in sorted(items, key=lambda f: f.name.lower())[:limit]
            ),
        )

    # --- sending -------------------------------------------------------------------------------

    def _enqueue(
        self, store: StateStore, notice: QualityDigestNotice
    ) -> Literal["recorded", "already", "finished"]:
        partition = f"quality.{notice.week}"
        key = notice.id
        try:
            row = store.insert(partition, key, {"state": "recording"})
            outcome: Literal["recorded", "already", "finished"] = "recorded"
        except StateConflictError:
            existing = store.get(partition, key)
            if existing is None or existing.data.get("state") == "recorded":
                return "already"
            row, outcome = existing, "finished"
        NoticeLog(store).record(notice, now=time.time())
        store.replace(partition, key, {"state": "recorded"}, etag=row.etag)
        return outcome

    def run(
        self, *, owner: str = "cli", send: bool = True, organizations: bool = False
    ) -> ReminderReport:
        """Find the gaps; with ``send``, enqueue this week's digests (under a lease)."""
        week = iso_week(self._today())
        report = ReminderReport(week)
        lease = None
        if send:
            if self.store is None:
                raise store_required("reminders are recorded")
            lease = Lease(
                self.store, LEASE_NAME, owner=owner, duration=self.settings.tick_seconds + 60.0
            )
            if not lease.acquire():
                report.busy = True
                return report
        try:
            with deadline.within(self.settings.tick_seconds):
                report.findings = list(self.findings(report, organizations=organizations))
                if send and self.store is not None:
                    for email, items in sorted(self.by_person(report.findings).items()):
                        notice = self.digest(email, items, week)
                        report.digests[email] = self._enqueue(self.store, notice)
        finally:
            if lease is not None:
                lease.release()
        log.info(  # counts only: the report names people
            "quality reminders",
            extra={
                "lx_week": week,
                "lx_fact_sheets_with_gaps": len(report.findings),
                "lx_digests": dict(Counter(report.digests.values())),
            },
        )
        return report


def aggregate(
    findings: list[Finding], by: Literal["owner", "organization"]
) -> list[dict[str, Any]]:
    """Gaps counted per owner or per organization (no owner / none: one row of its own)."""
    rows: dict[str, dict[str, Any]] = {}
    for finding in findings:
        keys: list[str]
        if by == "owner":
            keys = [p.email for p in finding.owners] or ["(no owner)"]
        else:
            keys = list(finding.organizations) or ["(no organization)"]
        for key in keys:
            row = rows.setdefault(key, {"who": key, "factSheets": 0, "gaps": {}})
            row["factSheets"] += 1
            counts: dict[str, int] = row["gaps"]
            for gap in finding.gaps:
                counts[gap.checker] = counts.get(gap.checker, 0) + 1
    return sorted(rows.values(), key=lambda r: (-int(r["factSheets"]), str(r["who"])))
