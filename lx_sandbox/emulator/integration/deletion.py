"""``processingMode: full`` with ``deletionScope``: archive what the run did not touch.

[V] §1: items in scope that the run did not touch are archived at the end of the run; scopes
may repeat and overlap (each item is handled once); ``maximumDeletionRatio`` defaults to 50 %,
101 allows 100 %, and above the ratio the deletion is cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lx_sandbox.emulator.integration.report import Report
from lx_sandbox.emulator.integration.scope import ScopeError, select
from lx_sandbox.emulator.integration.writer import Writer
from lx_sandbox.emulator.state import FactSheet

DEFAULT_MAX_RATIO = 50.0
#: ASSUMPTION: scopes of these entities are reported as not emulated (fact sheets only).
_OTHER_SCOPES = ("relations", "tags", "subscriptions", "documents", "impacts")


def _max_ratio(spec: Mapping[str, Any]) -> float:
    ratios = spec.get("maximumDeletionRatio")
    value = ratios.get("factSheets") if isinstance(ratios, Mapping) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return DEFAULT_MAX_RATIO


def apply_deletion_scope(writer: Writer, report: Report, spec: Any, touched: set[str]) -> int:
    """Archive untouched fact sheets in scope; returns how many were archived."""
    if not isinstance(spec, Mapping):
        return 0
    for name in _OTHER_SCOPES:
        if spec.get(name):
            report.add(
                f"deletionScope.{name} is not emulated by the sandbox; nothing was removed",
                category="NOT_EMULATED",
            )
    candidates: dict[str, FactSheet] = {}
    for i, entry in enumerate(spec.get("factSheets") or []):
        if not isinstance(entry, Mapping):
            continue
        if entry.get("owner"):
            report.add(
                f"deletionScope.factSheets[{i}].owner is not emulated; the scope was used alone",
                category="NOT_EMULATED",
            )
        try:
            for fs in select(writer.ws, entry.get("scope")):
                candidates.setdefault(fs.id, fs)
        except ScopeError as exc:
            report.add(f"deletionScope.factSheets[{i}]: {exc}", category="DELETION")
            return 0
    if not candidates:
        return 0
    doomed = [fs for fs_id, fs in candidates.items() if fs_id not in touched]
    ratio = 100.0 * len(doomed) / len(candidates)
    limit = _max_ratio(spec)
    if ratio > limit:
        report.add(
            f"Deletion cancelled: {len(doomed)} of {len(candidates)} fact sheets in the deletion "
            f"scope ({ratio:.1f}%) would be archived, more than maximumDeletionRatio.factSheets "
            f"({limit:g}%)",
            category="DELETION",
        )
        return 0
    return sum(1 for fs in doomed if writer.archive(fs))
