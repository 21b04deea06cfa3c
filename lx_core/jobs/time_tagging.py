"""TIME tagging: one Application (the webhook path) and the per-item steps of the reconcile.

Both paths read the current state, ask the pure decision in ``lx_core.decisions`` what it should
be, and write only the difference, rev-guarded. The walk over every Application, with its
checkpoint and lease, lives in ``lx_core.jobs.time_reconcile``. Webhook events are hints, not
state: the Application is always re-read, so out-of-order or duplicate deliveries are harmless.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
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
from lx_core.errors import ConfigurationError, NotFoundError
from lx_core.events import LeanIXEvent
from lx_core.jobs.reconcile_summary import ProgressCallback, ReconcileSummary
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.datamodel import DataModel
from lx_core.leanix.fact_sheets import read_modify_write
from lx_core.leanix.graphql import FactSheetUpdate, Patch
from lx_core.leanix.tags import TagCatalog, TagGroup, TagSpec
from lx_core.state.base import StateStore

log = logging.getLogger(__name__)

TAG_COLOURS: Mapping[TimeClass, str] = {
    TimeClass.TOLERATE: "#81c1da",
    TimeClass.INVEST: "#00b361",
    TimeClass.MIGRATE: "#fedd3a",
    TimeClass.ELIMINATE: "#f8333c",
}


@dataclass(frozen=True)
class TimeResult:
    """What happened to one Application. ``reason`` says why it was ignored or skipped."""

    fact_sheet_id: str
    outcome: Outcome | None
    classification: TimeClass | None = None
    written: bool = False
    reason: str | None = None

    @property
    def status(self) -> str:
        return "ignored" if self.outcome is None else self.outcome.value

    @property
    def ignored_reason(self) -> str | None:
        return self.reason if self.outcome is None else None


@dataclass(frozen=True)
class Context:
    """Per-run set-up: the fit scales, where TIME is written, and what to read."""

    scales: TimeScales
    target: TagTarget | FieldTarget
    selection: str


@dataclass(frozen=True)
class Verdict:
    """The decision for one fact sheet as read: a TimeDecision, or why it is skipped."""

    decision: TimeDecision | None
    skip_reason: str | None = None


class TimeTagger:
    """Keeps Applications' TIME classification in line with their fits."""

    def __init__(self, client: LeanIXClient, settings: TimeSettings) -> None:
        self._client = client
        self._settings = settings

    # -- set-up (cached per process by the catalog and data model) -------------------------

    def _scales(self) -> TimeScales:
        """The fit scales in this workspace's value order. A failed read raises (the event gets
        a 503, the run fails); only a workspace that definitively lacks an order gets the
        documented default: a silent fallback would write wrong tags on a custom scale."""
        s = self._settings
        model = DataModel(self._client.graphql)
        default = TimeScales.defaults()
        functional = model.value_order(s.fact_sheet_type, "functionalSuitability")
        technical = model.value_order(s.fact_sheet_type, "technicalSuitability")
        return TimeScales(
            FitScale(
                "functionalSuitability",
                functional or default.functional.order,
                s.functional_high_from,
            ),
            FitScale(
                "technicalSuitability", technical or default.technical.order, s.technical_high_from
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
        if group is None:
            raise ConfigurationError(
                f"tag group {s.tag_group!r} could not be found or created",
                settings=["TIME_TAG_GROUP"],
            )
        if group.mode != "SINGLE":
            log.warning("tag group %r is not SINGLE mode; TIME keeps one tag anyway", group.name)
        by_name = {name.casefold(): tag for name, tag in group.tags.items()}
        tag_ids = {c: by_name[s.tag_names[c].casefold()].id for c in TimeClass}
        return TagTarget(
            tag_ids=tag_ids, group_tag_ids=frozenset(t.id for t in group.tags.values())
        )

    def _check_type(self) -> None:
        """The configured type must exist and carry both fits (one cached schema read)."""
        s = self._settings
        model = DataModel(self._client.graphql)
        if not model.has_type(s.fact_sheet_type):
            raise ConfigurationError(
                f"fact sheet type {s.fact_sheet_type!r} does not exist in this workspace",
                settings=["TIME_FACT_SHEET_TYPE"],
            )
        missing = [
            f
            for f in ("functionalSuitability", "technicalSuitability")
            if not model.has_field(s.fact_sheet_type, f)
        ]
        if missing:
            raise ConfigurationError(
                f"fact sheet type {s.fact_sheet_type!r} has no {' or '.join(missing)}; TIME "
                "needs both fits",
                settings=["TIME_FACT_SHEET_TYPE"],
            )

    def context(self) -> Context:
        """What every decision needs: scales, target and the selection (cached per process)."""
        s = self._settings
        self._check_type()
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
            "id rev name type status "
            f"... on {s.fact_sheet_type} {{ functionalSuitability technicalSuitability {extra}}} "
            "tags { id }"
        )
        return Context(self._scales(), target, selection)

    # -- one Application ---------------------------------------------------------------------

    @property
    def settings(self) -> TimeSettings:
        return self._settings

    @property
    def client(self) -> LeanIXClient:
        return self._client

    def ignore_reason(self, event: LeanIXEvent) -> str | None:
        """Why an event needs no work, or None if it does: the handlers' shared filters, as
        the TIME handler declares them. Costs no LeanIX read."""
        from lx_core.handlers.filters import ignore_reason
        from lx_core.handlers.specs import spec_named

        return ignore_reason(
            spec_named("time"),
            event,
            fact_sheet_types=frozenset({self._settings.fact_sheet_type}),
            own_user_id=lambda: self._client.claims.principal_id,
            ignore_own_events=self._settings.ignore_own_events,
        )

    def handle_event(self, event: LeanIXEvent) -> TimeResult:
        """Bring the event's Application in line: one read, at most one write (more only when
        concurrent writers clash)."""
        fs_id = event.fact_sheet.id if event.fact_sheet else ""
        reason = self.ignore_reason(event)
        if reason is not None:
            return TimeResult(fs_id, None, reason=reason)
        try:
            return self.tag_one(fs_id)
        except NotFoundError:
            return TimeResult(fs_id, None, reason="fact sheet no longer exists")

    def tag_one(self, fact_sheet_id: str, ctx: Context | None = None) -> TimeResult:
        """Read one Application, decide, and write only if its TIME value must change."""
        ctx = ctx or self.context()
        verdicts: list[Verdict] = []

        def decide_patches(node: Mapping[str, Any]) -> list[Patch] | None:
            verdict = self.decide(ctx, node)
            verdicts.append(verdict)
            decision = verdict.decision
            if decision is None or not decision.needs_write:
                return None
            return patches_for(decision, ctx.target)

        result = read_modify_write(
            self._client.graphql,
            fact_sheet_id,
            ctx.selection,
            decide_patches,
            comment=self._settings.comment,
        )
        last = verdicts[-1] if verdicts else Verdict(None, "not read")
        if last.decision is None:
            return TimeResult(fact_sheet_id, Outcome.SKIPPED, reason=last.skip_reason)
        decision = last.decision
        if result.done:
            return TimeResult(fact_sheet_id, Outcome.CHANGED, decision.classification, True)
        outcome = Outcome.UNCHANGED if decision.outcome is Outcome.CHANGED else decision.outcome
        return TimeResult(fact_sheet_id, outcome, decision.classification)

    def decide(self, ctx: Context, node: Mapping[str, Any]) -> Verdict:
        """The verdict for a fact sheet as read; skipped (with the reason) for ones we must not
        touch."""
        fs_type = node.get("type")
        if fs_type != self._settings.fact_sheet_type:
            return Verdict(None, f"not an {self._settings.fact_sheet_type} (type {fs_type})")
        if node.get("status") == "ARCHIVED":
            return Verdict(None, "archived")
        state = ApplicationState(
            id=str(node["id"]),
            functional=node.get("functionalSuitability"),
            technical=node.get("technicalSuitability"),
            tag_ids=tuple(str(t["id"]) for t in node.get("tags") or ()),
            time_field=node.get(self._settings.field),
        )
        return Verdict(decide(state, ctx.scales, ctx.target, self._settings.on_unset))

    def update_for(
        self, ctx: Context, node: Mapping[str, Any], decision: TimeDecision
    ) -> FactSheetUpdate:
        """The rev-guarded batch item that applies ``decision`` to ``node``."""
        return FactSheetUpdate(
            id=str(node["id"]),
            rev=node.get("rev"),
            patches=tuple(patches_for(decision, ctx.target)),
            comment=self._settings.comment,
        )

    def current_value(self, ctx: Context, node: Mapping[str, Any]) -> str | None:
        """The TIME class the fact sheet shows now (for "from → to" listings)."""
        target = ctx.target
        if isinstance(target, FieldTarget):
            value = node.get(target.field)
            return str(value) if value is not None else None
        by_id = {tag_id: cls.value for cls, tag_id in target.tag_ids.items()}
        for tag in node.get("tags") or ():
            found = by_id.get(str(tag.get("id")))
            if found:
                return found
        return None

    # -- all Applications --------------------------------------------------------------------

    def reconcile(
        self,
        *,
        dry_run: bool = False,
        on_progress: ProgressCallback | None = None,
        store: StateStore | None = None,
        owner: str | None = None,
        budget_seconds: float | None = None,
    ) -> ReconcileSummary:
        """Walk every Application and write the changed ones; see ``time_reconcile``. Without a
        ``store`` the run is neither resumable nor guarded against a concurrent one."""
        from lx_core.jobs.time_reconcile import ReconcileRun

        run = ReconcileRun(self, store, owner=owner)
        return run.run(dry_run=dry_run, on_progress=on_progress, budget_seconds=budget_seconds)


def patches_for(decision: TimeDecision, target: TagTarget | FieldTarget) -> list[Patch]:
    if decision.new_tag_ids is not None:
        # The verified way to change tags: replace the whole list (reference §2.6).
        value = json.dumps([{"tagId": tag_id} for tag_id in decision.new_tag_ids])
        return [Patch(op="replace", path="/tags", value=value)]
    if not isinstance(target, FieldTarget):
        raise TypeError("a decision without a tag list needs a field target")
    if decision.clear_field:
        return [Patch(op="remove", path=f"/{target.field}", value=None)]
    return [Patch(op="replace", path=f"/{target.field}", value=decision.new_field_value)]


def _missing_tags(group: TagGroup | None, names: Mapping[TimeClass, str]) -> list[str]:
    present = {n.casefold() for n in group.tags} if group else set()
    return [n for n in names.values() if n.casefold() not in present]
