"""The naive reconcile the batched one is compared with: one read and one write per Application.

This is the pattern of LeanIX's own public samples: list the Applications page by page (ids
only), then for each one read it with ``factSheet(id)`` and, if its TIME tag is wrong, write it
with one ``updateFactSheet``. It runs through the same LeanIXClient, pace and decision code
(``TimeTagger.tag_one``: 1 read, 0 or 1 write) as the project, so only the algorithm differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lx_core.config import TimeSettings
from lx_core.decisions.time_tags import Outcome
from lx_core.jobs.time_tagging import TimeTagger
from lx_core.leanix.client import LeanIXClient


@dataclass
class NaiveSummary:
    """What the naive run did; ``ids`` are the Applications it examined, in listing order."""

    total: int | None = None
    examined: int = 0
    written: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)


def list_application_ids(
    client: LeanIXClient, fact_sheet_type: str, limit: int
) -> tuple[list[str], int | None]:
    """Ids page by page, and the workspace's total; stops at the page reaching ``limit``
    (0 = all)."""
    ids: list[str] = []
    total: int | None = None
    for page in client.graphql.iter_fact_sheet_pages("id", fact_sheet_type=fact_sheet_type):
        total = page.total_count
        ids.extend(str(node["id"]) for node in page.nodes)
        if limit and len(ids) >= limit:
            break
    return (ids[:limit] if limit else ids), total


def naive_reconcile(
    client: LeanIXClient, settings: TimeSettings, *, limit: int = 0
) -> NaiveSummary:
    """Read each Application on its own and write its TIME tag on its own (no batching)."""
    tagger = TimeTagger(client, settings)
    summary = NaiveSummary()
    summary.ids, summary.total = list_application_ids(client, settings.fact_sheet_type, limit)
    for fs_id in summary.ids:
        result = tagger.tag_one(fs_id)
        summary.examined += 1
        summary.written += int(result.written)
        key = (result.outcome or Outcome.SKIPPED).value
        summary.outcomes[key] = summary.outcomes.get(key, 0) + 1
    return summary
