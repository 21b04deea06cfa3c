"""TIME tagging: one Application (the webhook path) or all of them (the nightly reconcile).

Both paths read the current state, ask the pure decision in ``lx_core.decisions`` what it should
be, and write only the difference, rev-guarded. Webhook events are hints, not state: the
Application is always re-read, so out-of-order or duplicate deliveries are harmless.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lx_core.config import TimeSettings
from lx_core.decisions.time_model import FitScale, TimeClass, TimeScales
from lx_core.decisions.time_tags import (
    ApplicationState,
    FieldTarget,
    Outcome,
    TagTarget,
    TimeDecision,
    decide,
)
from lx_core.errors import (
    AuthenticationError,
    ConfigurationError,
    LeanIXError,
    NotFoundError,
    PermissionDeniedError,
    RevisionClashError,
)
from lx_core.events import LeanIXEvent
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.datamodel import DataModel
from lx_core.leanix.fact_sheets import read_modify_write
from lx_core.leanix.graphql import FactSheetUpdate, Patch
from lx_core.leanix.tags import TagCatalog, TagGroup, TagSpec

log = logging.getLogger(__name__)

HANDLED_EVENTS = frozenset({"FACT_SHEET_CREATED", "FACT_SHEET_UPDATED"})
TAG_COLOURS: Mapping[TimeClass, str] = {
    TimeClass.TOLERATE: "#81c1da",
    TimeClass.INVEST: "#00b361",
    TimeClass.MIGRATE: "#fedd3a",
    TimeClass.ELIMINATE: "#f8333c",
}
_MAX_RECORDED_FAILURES = 50


@dataclass(frozen=True)
class TimeResult:
    """What happened to one Application."""

    fact_sheet_id: str
    outcome: Outcome | None
    classification: TimeClass | None = None
    written: bool = False
    ignored_reason: str | None = None

    @property
    def status(self) -> str:
        return "ignored" if self.outcome is None else self.outcome.value


@dataclass
class ReconcileSummary:
    """Counts of one reconcile run; ``failures`` keeps the first few ids with their errors."""

    dry_run: bool = False
    total: int | None = None
    examined: int = 0
    changed: int = 0
    unchanged: int = 0
    unclassifiable: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        if outcome is Outcome.CHANGED:
            self.changed += 1
        elif outcome is Outcome.UNCHANGED:
            self.unchanged += 1
        elif outcome is Outcome.UNCLASSIFIABLE:
            self.unclassifiable += 1
        else:
            self.skipped += 1

    def fail(self, fact_sheet_id: str, error: Exception) -> None:
        self.failed += 1
        if len(self.failures) < _MAX_RECORDED_FAILURES:
            self.failures.append((fact_sheet_id, str(error)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "total": self.total,
            "examined": self.examined,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "unclassifiable": self.unclassifiable,
            "skipped": self.skipped,
            "failed": self.failed,
        }


ProgressCallback = Callable[[ReconcileSummary], None]


@dataclass(frozen=True)
class _Context:
    scales: TimeScales
    target: TagTarget | FieldTarget
    selection: str


class TimeTagger:
    """Keeps Applications' TIME classification in line with their fits."""

    def __init__(self, client: LeanIXClient, settings: TimeSettings) -> None:
        self._client = client
        self._settings = settings

    # -- set-up (cached per process by the catalog and data model) -------------------------

    def _scales(self) -> TimeScales:
        s = self._settings
        orders: dict[str, tuple[str, ...]] = {}
        model = DataModel(self._client.graphql)
        for name in ("functionalSuitability", "technicalSuitability"):
            try:
                order = model.value_order(s.fact_sheet_type, name)
            except (AuthenticationError, PermissionDeniedError):
                raise
            except LeanIXError as exc:
                log.warning(
                    "could not read the value order of %s; using the documented default",
                    name,
                    extra={"field": name, "error": str(exc)},
                )
                order = None
            if order:
                orders[name] = order
        default = TimeScales.defaults()
        return TimeScales(
            FitScale(
                "functionalSuitability",
                orders.get("functionalSuitability", default.functional.order),
                s.functional_high_from,
            ),
            FitScale(
                "technicalSuitability",
                orders.get("technicalSuitability", default.technical.order),
                s.technical_high_from,
            ),
        )

    def _tag_target(self) -> TagTarget:
        s = self._settings
        catalog = TagCatalog(self._client.graphql)
        group = catalog.group(s.tag_group)
        missing = _missing_tags(group, s.tag_names)
        if missing:
            if not s.create_missing_tags:
                raise ConfigurationError(
                    f"tag group {s.tag_group!r} lacks tags {missing}; create them or set "
                    "TIME_CREATE_MISSING_TAGS=true",
                    settings=["TIME_TAG_GROUP", "TIME_TAG_NAMES"],
                )
            group = catalog.ensure_group(
                s.tag_group,
                mode="SINGLE",
                restrict_to=(s.fact_sheet_type,),
                tags=[
                    TagSpec(name=s.tag_names[c], color=TAG_COLOURS[c], description=f"TIME: {c}")
                    for c in TimeClass
                ],
            )
        assert group is not None
        if group.mode != "SINGLE":
            log.warning("tag group %r is not SINGLE mode; TIME keeps one tag anyway", group.name)
        by_name = {name.casefold(): tag for name, tag in group.tags.items()}
        tag_ids = {c: by_name[s.tag_names[c].casefold()].id for c in TimeClass}
        return TagTarget(
            tag_ids=tag_ids, group_tag_ids=frozenset(t.id for t in group.tags.values())
        )

    def _context(self) -> _Context:
        s = self._settings
        target: TagTarget | FieldTarget
        if s.target == "field":
            if not DataModel(self._client.graphql).has_field(s.fact_sheet_type, s.field):
                raise ConfigurationError(
                    f"TIME_TARGET=field, but {s.fact_sheet_type} has no field {s.field!r} in "
                    "this workspace",
                    settings=["TIME_TARGET", "TIME_FIELD"],
                )
            target = FieldTarget(s.field)
            extra = f"{s.field} "
        else:
            target = self._tag_target()
            extra = ""
        selection = (
            "id rev type status "
            f"... on {s.fact_sheet_type} {{ functionalSuitability technicalSuitability {extra}}} "
            "tags { id }"
        )
        return _Context(self._scales(), target, selection)

    # -- one Application ---------------------------------------------------------------------

    def ignore_reason(self, event: LeanIXEvent) -> str | None:
        """Why an event needs no work, or None if it does. Costs no LeanIX read."""
        if event.event_type not in HANDLED_EVENTS:
            return f"event type {event.event_type} is not handled"
        if event.fact_sheet is None:
            return "event carries no fact sheet"
        if event.fact_sheet.type != self._settings.fact_sheet_type:
            return (
                f"fact sheet type {event.fact_sheet.type} is not {self._settings.fact_sheet_type}"
            )
        own = self._settings.ignore_own_events and event.user_id
        if own and event.user_id == self._client.claims.principal_id:
            return "event caused by this app's own write"
        return None

    def handle_event(self, event: LeanIXEvent) -> TimeResult:
        """Bring the event's Application in line: at most one read and one write."""
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        reason = self.ignore_reason(event)
        if reason is not None:
            return TimeResult(fs_id, None, ignored_reason=reason)
        try:
            return self.tag_one(fs_id)
        except NotFoundError:
            return TimeResult(fs_id, None, ignored_reason="fact sheet no longer exists")

    def tag_one(self, fact_sheet_id: str) -> TimeResult:
        """Read one Application, decide, and write only if its TIME value must change."""
        ctx = self._context()
        verdict: list[TimeDecision | None] = []

        def decide_patches(node: Mapping[str, Any]) -> list[Patch] | None:
            decision = self._decide(ctx, node)
            verdict.append(decision)
            if decision is None or not decision.needs_write:
                return None
            return _patches(decision, ctx.target)

        result = read_modify_write(
            self._client.graphql,
            fact_sheet_id,
            ctx.selection,
            decide_patches,
            comment=self._settings.comment,
        )
        last = verdict[-1] if verdict else None
        if last is None:
            return TimeResult(fact_sheet_id, Outcome.SKIPPED)
        outcome = last.outcome if result.written or not last.needs_write else Outcome.UNCHANGED
        return TimeResult(fact_sheet_id, outcome, last.classification, written=result.written)

    def _decide(self, ctx: _Context, node: Mapping[str, Any]) -> TimeDecision | None:
        """None for fact sheets we must not touch (wrong type, archived)."""
        if node.get("type") != self._settings.fact_sheet_type or node.get("status") == "ARCHIVED":
            return None
        state = ApplicationState(
            id=str(node["id"]),
            functional=node.get("functionalSuitability"),
            technical=node.get("technicalSuitability"),
            tag_ids=tuple(str(t["id"]) for t in node.get("tags") or ()),
            time_field=node.get(self._settings.field),
        )
        return decide(state, ctx.scales, ctx.target, self._settings.on_unset)

    # -- all Applications --------------------------------------------------------------------

    def reconcile(
        self, *, dry_run: bool = False, on_progress: ProgressCallback | None = None
    ) -> ReconcileSummary:
        """Walk every Application page by page and write the changed ones in batches."""
        ctx = self._context()
        summary = ReconcileSummary(dry_run=dry_run)
        pending: list[FactSheetUpdate] = []
        gql = self._client.graphql
        for page in gql.iter_fact_sheet_pages(
            ctx.selection, fact_sheet_type=self._settings.fact_sheet_type
        ):
            summary.total = page.total_count
            for node in page.nodes:
                summary.examined += 1
                decision = self._decide(ctx, node)
                if decision is None:
                    summary.count(Outcome.SKIPPED)
                elif not decision.needs_write or dry_run:
                    summary.count(decision.outcome)
                else:
                    pending.append(
                        FactSheetUpdate(
                            id=str(node["id"]),
                            rev=node.get("rev"),
                            patches=_patches(decision, ctx.target),
                            comment=self._settings.comment,
                        )
                    )
                    if len(pending) >= self._settings.batch_size:
                        self._flush(pending, summary)
                        pending = []
            if on_progress:
                on_progress(summary)
        if pending:
            self._flush(pending, summary)
            if on_progress:
                on_progress(summary)
        log.info("TIME reconcile finished", extra=summary.as_dict())
        return summary

    def _flush(self, updates: Sequence[FactSheetUpdate], summary: ReconcileSummary) -> None:
        try:
            outcomes = self._client.graphql.update_fact_sheets(updates)
        except (AuthenticationError, PermissionDeniedError, ConfigurationError):
            raise
        except LeanIXError as exc:
            for update in updates:
                summary.fail(update.id, exc)
            return
        for outcome in outcomes:
            if outcome.error is None:
                summary.count(Outcome.CHANGED)
            elif isinstance(outcome.error, RevisionClashError):
                # Changed since the page was read: decide again from a fresh read.
                try:
                    summary.count(self.tag_one(outcome.id).outcome or Outcome.SKIPPED)
                except LeanIXError as exc:
                    summary.fail(outcome.id, exc)
            else:
                summary.fail(outcome.id, outcome.error)


def _patches(decision: TimeDecision, target: TagTarget | FieldTarget) -> list[Patch]:
    if decision.new_tag_ids is not None:
        # The verified way to change tags: replace the whole list (reference §2.6).
        value = json.dumps([{"tagId": tag_id} for tag_id in decision.new_tag_ids])
        return [Patch(op="replace", path="/tags", value=value)]
    assert isinstance(target, FieldTarget)
    if decision.clear_field:
        return [Patch(op="remove", path=f"/{target.field}", value=None)]
    return [Patch(op="replace", path=f"/{target.field}", value=decision.new_field_value)]


def _missing_tags(group: TagGroup | None, names: Mapping[TimeClass, str]) -> list[str]:
    present = {n.casefold() for n in group.tags} if group else set()
    return [n for n in names.values() if n.casefold() not in present]
