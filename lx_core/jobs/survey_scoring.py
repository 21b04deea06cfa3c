"""Score survey results and write the targets: the one path the webhook handler, the timer and
``lx surveys score`` share.

Per result: the result (one read), its survey's definition (cached), the fact sheet (one read,
with its comments when the comment target is on), then at most one write per target: the
field and tag in one rev-guarded ``updateFactSheet``, a comment when the explanation changed,
a metric point through the day ledger. What was scored is recorded per result (status, a
digest of the answers, the model version), which is what the timer diffs against.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from lx_core import deadline
from lx_core.decisions import score_targets
from lx_core.decisions.score_targets import FactSheetNow, Plan, TagChoice
from lx_core.decisions.survey_scoring import Scored, score
from lx_core.errors import DeadlineExceededError, LxError, MalformedResponseError, NotFoundError
from lx_core.jobs.day_points import DayPoints
from lx_core.leanix.cache import ProcessCache
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.comments import COMMENTS_SELECTION, comment_messages, post_comment
from lx_core.leanix.fact_sheets import read_modify_write
from lx_core.leanix.metrics import parse_timestamp
from lx_core.leanix.surveys import Poll, PollResult, PollRun
from lx_core.leanix.tags import TagCatalog, TagSpec
from lx_core.state.base import StateStore, store_required
from lx_core.state.lease import Lease
from lx_core.surveys.answers import adapt
from lx_core.surveys.model import ScoringModel

log = logging.getLogger(__name__)

Status = Literal["changed", "unchanged", "unscorable", "skipped", "gone", "failed"]
LEASE_NAME = "survey-scoring"


class _FactSheetGoneError(Exception):
    """The result's fact sheet no longer exists (internal)."""


class _TickStoppedError(Exception):
    """The deadline is near: the tick ends here (internal)."""


_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
#: A run's survey never changes; a schema's uuid neither: both are looked up once a day.
_run_polls: ProcessCache[str | None] = ProcessCache()
_schemas: ProcessCache[str] = ProcessCache()


def clear_scoring_caches() -> None:
    _run_polls.clear()
    _schemas.clear()


@dataclass(frozen=True)
class ResultOutcome:
    """How one result fared; ``writes`` names the targets written (or, dry, to be written)."""

    result_id: str
    status: Status
    fact_sheet_id: str = ""
    fact_sheet_name: str = ""
    score: float | None = None
    band: str | None = None
    reason: str | None = None
    writes: tuple[str, ...] = ()
    model_version: int | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"resultId": self.result_id, "status": self.status}
        for key, value in (
            ("factSheetId", self.fact_sheet_id),
            ("score", self.score),
            ("band", self.band),
            ("reason", self.reason),
            ("modelVersion", self.model_version),
        ):
            if value not in (None, ""):
                body[key] = value
        body["writes"] = list(self.writes)
        return body


@dataclass
class Summary:
    outcomes: list[ResultOutcome] = field(default_factory=list)
    #: The deadline came near; the rest is left for the next tick.
    stopped_early: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_json(self) -> dict[str, Any]:
        statuses: tuple[Status, ...] = (
            "changed",
            "unchanged",
            "unscorable",
            "skipped",
            "gone",
            "failed",
        )
        return {
            "results": len(self.outcomes),
            **{s: self.count(s) for s in statuses},
            "stoppedEarly": self.stopped_early,
            "unscorableResults": [
                o.to_json() for o in self.outcomes if o.status in ("unscorable", "failed")
            ],
        }


def answers_digest(result: PollResult, model: ScoringModel) -> str:
    """What a score depends on: the answers, the status and the model version."""
    text = json.dumps(
        {"a": result.answers, "s": result.status, "v": model.version},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _ended_since(run: PollRun, last_tick: datetime | None) -> bool:
    """Whether a finished run ended after the last tick began (so no tick saw it end). Before
    the first tick nothing counts: older runs are for ``lx surveys score``."""
    if last_tick is None or not run.end_time:
        return False
    ended = parse_timestamp(run.end_time)
    return ended is None or ended >= last_tick  # an unreadable end: looked at every tick


def _digest(model: ScoringModel) -> str:
    return hashlib.blake2b(model.key.encode(), digest_size=8).hexdigest()


def _partition(model: ScoringModel) -> str:
    """Per result: what it was last scored from."""
    return f"survey.{_digest(model)}"


def _runs_partition(model: ScoringModel) -> str:
    """The runs seen open, for one last pass once they finish."""
    return f"survey-runs.{_digest(model)}"


class SurveyScorer:
    """Scores results under the models that name their survey, and writes the targets."""

    def __init__(
        self,
        client: LeanIXClient,
        models: Sequence[ScoringModel],
        *,
        store: StateStore | None,
        dry_run: bool = False,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.models = tuple(models)
        self.store = store
        self.dry_run = dry_run
        self._today = today
        self._clock = clock
        self._tags = TagCatalog(client.graphql)
        #: Whether a changed metric point may rewrite its day here. The webhook path leaves
        #: that to the leased timer (a day's rewrite posts every point of the day).
        self.rewrite_metrics = True

    # --- which model ---------------------------------------------------------------------------

    def model_for(self, poll: Poll) -> ScoringModel | None:
        for model in self.models:
            ref = model.survey
            if ref.poll_id == poll.id or (ref.title is not None and ref.title == poll.title):
                return model
        return None

    def poll_of(self, model: ScoringModel) -> Poll | None:
        """The survey a model names: by id, or the one poll with exactly that title."""
        surveys = self.client.surveys
        if model.survey.poll_id:
            return surveys.poll(model.survey.poll_id)
        title = model.survey.title or ""
        matches = [p for p in surveys.polls(q=title) if p.title == title]
        if len(matches) > 1:
            log.warning("several surveys share a model's title; scoring the first")
        return surveys.poll(matches[0].id) if matches else None

    def _poll_id_of_run(self, run_id: str) -> str | None:
        surveys = self.client.surveys
        key = (*self.client.graphql.cache_scope, run_id)

        def load() -> str | None:
            try:
                return surveys.run(run_id).survey_id
            except NotFoundError:
                return None

        poll_id = _run_polls.get_or_load(key, load, 24 * 3600.0, self._clock)
        if poll_id is None:
            _run_polls.pop(key)  # a run just created may 404 once: do not remember the miss
        return poll_id

    # --- scoring -------------------------------------------------------------------------------

    def score_result_id(self, result_id: str, *, run_id: str | None = None) -> ResultOutcome:
        """Fetch one result by id and score it (the webhook path)."""
        try:
            result = self.client.surveys.result(result_id, run_id=run_id)
        except MalformedResponseError:
            # Retrying would meet the same answer: reported, and left to the timer's next look.
            return ResultOutcome(result_id, "skipped", reason="LeanIX's result is not readable")
        if result is None:
            return ResultOutcome(result_id, "gone", reason="the result no longer exists")
        run = result.poll_run_id or run_id
        poll_id = self._poll_id_of_run(run) if run else None
        poll = self.client.surveys.poll(poll_id) if poll_id else None
        if poll is None:
            return ResultOutcome(result_id, "skipped", reason="its survey could not be read")
        return self.score_guarded(result, poll)

    def score_run(self, run_id: str, *, reserve_seconds: float = 2.0) -> Summary:
        """The results of one run not scored as they are now (a finished-run event). Stops
        near the deadline; the timer watches the run once more and finishes it."""
        poll_id = self._poll_id_of_run(run_id)
        poll = self.client.surveys.poll(poll_id) if poll_id else None
        summary = Summary()
        model = self.model_for(poll) if poll is not None else None
        if poll is None or model is None:
            return summary
        for result in self.client.surveys.results(run_id):
            if deadline.remaining() < reserve_seconds:
                summary.stopped_early = True
                break
            if self.needs_scoring(model, result):
                summary.outcomes.append(self.score_guarded(result, poll))
        return summary

    def score_result(self, result: PollResult, poll: Poll) -> ResultOutcome:
        model = self.model_for(poll)
        fs = result.fact_sheet
        fs_id, fs_name = (fs.id, fs.name or "") if fs else ("", "")

        def skipped(status: Status, reason: str) -> ResultOutcome:
            return ResultOutcome(result.id, status, fs_id, fs_name, reason=reason)

        if model is None:
            return skipped("skipped", "no scoring model names its survey")
        if not result.done:
            return skipped("skipped", "not submitted yet")
        if fs is None or not fs.type or not _TYPE_NAME.match(fs.type):
            return skipped("skipped", "the result names no fact sheet")
        adapted = adapt(result.answers, poll.options())
        scored = (
            Scored(model.version, None, None, (), reason=adapted.reason)
            if adapted.reason
            else score(model, adapted.answers)
        )
        try:
            writes = self._apply(model, scored, fs_id, fs.type)
        except _FactSheetGoneError:
            return skipped("gone", "the fact sheet no longer exists")
        status: Status = (
            "unscorable" if not scored.scorable else "changed" if writes else "unchanged"
        )
        outcome = ResultOutcome(
            result.id,
            status,
            fs_id,
            fs_name,
            score=scored.score,
            band=scored.band,
            reason=scored.reason,
            writes=writes,
            model_version=model.version,
        )
        self._record(model, result, outcome)
        return outcome

    # --- targets -------------------------------------------------------------------------------

    def _selection(self, model: ScoringModel, fs_type: str) -> str:
        parts = ["id rev type status tags { id }"]
        if model.targets.field is not None:
            parts.append(f"... on {fs_type} {{ {model.targets.field.name} }}")
        if model.targets.comment is not None and model.targets.comment.enabled:
            parts.append(COMMENTS_SELECTION)
        return " ".join(parts)

    def _tag_choice(self, model: ScoringModel, scored: Scored) -> TagChoice | None:
        target = model.targets.tag
        if target is None:
            return None
        specs = [TagSpec(name=model.band_tag(b.name)) for b in model.bands]
        if self.dry_run:
            group = self._tags.group(target.group)
        else:
            group = self._tags.ensure_group(target.group, mode="SINGLE", restrict_to=(), tags=specs)
        if group is None:  # dry run against a workspace without the group yet
            return TagChoice(None, frozenset())
        wanted = group.tags.get(model.band_tag(scored.band)) if scored.band else None
        return TagChoice(
            wanted.id if wanted else None, frozenset(t.id for t in group.tags.values())
        )

    def _now(self, model: ScoringModel, node: dict[str, Any]) -> FactSheetNow:
        field_target = model.targets.field
        return FactSheetNow(
            id=str(node.get("id")),
            archived=node.get("status") == "ARCHIVED",
            field_value=node.get(field_target.name) if field_target else None,
            tag_ids=tuple(str(t["id"]) for t in node.get("tags") or () if t and t.get("id")),
            last_comment=score_targets.newest_own_comment(model, comment_messages(node)),
        )

    def _apply(
        self, model: ScoringModel, scored: Scored, fs_id: str, fs_type: str
    ) -> tuple[str, ...]:
        gql = self.client.graphql
        selection = self._selection(model, fs_type)
        tag = self._tag_choice(model, scored)
        decided: list[Plan] = []

        def decide(node: dict[str, Any]) -> Sequence[Any]:
            plan = score_targets.plan(model, scored, self._now(model, node), tag)
            decided.append(plan)
            return () if self.dry_run else plan.patches

        if self.dry_run:
            node = gql.get_fact_sheet(fs_id, selection)
            if node is None:
                raise _FactSheetGoneError
            decide(node)
            plan = decided[-1]
            return (*plan.writes, *(("metric",) if plan.metric is not None else ()))
        try:
            read_modify_write(
                gql, fs_id, selection, decide, comment=f"Survey score, model v{model.version}"
            )
        except NotFoundError:
            raise _FactSheetGoneError from None
        plan = decided[-1]
        writes = list(plan.writes)
        if plan.comment is not None:
            post_comment(gql, fs_id, plan.comment)
        if plan.metric is not None:
            points = self._points(model)
            put = points.put(self._today(), fs_id, plan.metric, rewrite=self.rewrite_metrics)
            if put.outcome != "unchanged":
                writes.append("metric")
        return tuple(writes)

    def _points(self, model: ScoringModel) -> DayPoints:
        target = model.targets.metric
        if target is None:
            raise ValueError("the model has no metric target")
        if self.store is None:
            raise store_required("the metric target's day ledger is kept")
        name = target.schema_name
        metrics = self.client.metrics

        def load() -> str:
            return metrics.ensure_schema(
                name,
                metrics=["score"],
                dimensions=["factSheetId", "band"],
                description="Survey scores per fact sheet (lx-functions)",
            ).uuid

        key = (*self.client.graphql.cache_scope, "metrics-schema", name)
        uuid = _schemas.get_or_load(key, load, 24 * 3600.0, self._clock)
        return DayPoints(self.store, metrics, uuid)

    # --- many results ---------------------------------------------------------------------------

    def tick(self, *, reserve_seconds: float = 5.0) -> Summary:
        """The timer: every result of the watched runs that is new or changed since it was
        last scored. A run is watched while open, and for one more tick once it has finished
        (also when it opened and finished between two ticks: its end is after the last tick).
        Stops when the deadline comes near; nothing left is recorded, so the next tick finds it.
        One result that cannot be written is reported ``failed`` and the others go on."""
        summary = Summary()
        started = datetime.now(UTC).isoformat()
        try:
            for model in self.models:
                self._tick_model(model, summary, reserve_seconds)
        except _TickStoppedError:
            summary.stopped_early = True
        except DeadlineExceededError:
            summary.stopped_early = True
        else:
            if self.store is not None:
                self.store.upsert("survey-ticks", "last", {"startedAt": started})
        return summary

    def _tick_model(self, model: ScoringModel, summary: Summary, reserve: float) -> None:
        poll = self.poll_of(model)
        if poll is None:
            log.warning("no survey matches a scoring model", extra={"lx_survey": model.key})
            return
        watched = _runs_partition(model)
        seen = {row.key for row in self.store.list(watched)} if self.store else set()
        last = self.store.get("survey-ticks", "last") if self.store else None
        since = str(last.data.get("startedAt")) if last else ""
        last_tick = parse_timestamp(since) if since else None
        for run in self.client.surveys.runs(poll.id):
            if not run.open and run.id not in seen and not _ended_since(run, last_tick):
                continue
            if self.store is not None and run.open and run.id not in seen:
                # Watched before its results are read: a tick that stops early still comes back.
                self.store.upsert(watched, run.id, {"open": True})
            for result in self.client.surveys.results(run.id):
                if deadline.remaining() < reserve:
                    raise _TickStoppedError
                if self.needs_scoring(model, result):
                    summary.outcomes.append(self.score_guarded(result, poll))
            if self.store is not None and not run.open:
                self.store.delete(watched, run.id)
        if model.targets.metric is not None and self.store is not None:
            points = self._points(model)
            today = self._today()
            for day in (today - timedelta(days=1), today):  # rewrites left to the timer
                points.repair(day)

    def score_guarded(self, result: PollResult, poll: Poll) -> ResultOutcome:
        """``score_result``, with a LeanIX refusal that retrying cannot fix (a field of the
        wrong type, a missing mutation) reported as ``failed`` instead of stopping the rest."""
        try:
            return self.score_result(result, poll)
        except LxError as exc:
            if exc.retryable:
                raise
            fs = result.fact_sheet
            log.warning(
                "survey result not written: %s", type(exc).__name__, extra={"lx_result": result.id}
            )
            return ResultOutcome(
                result.id,
                "failed",
                fs.id if fs else "",
                (fs.name or "") if fs else "",
                reason=f"LeanIX refused the write ({type(exc).__name__})",
            )

    def run_tick(self, *, budget_seconds: float, owner: str) -> Summary | None:
        """``tick`` within ``budget_seconds`` under the survey lease; None when another
        instance holds it (two ticks would score the same results side by side)."""
        if self.store is None:
            with deadline.within(budget_seconds):
                return self.tick()
        lease = Lease(self.store, LEASE_NAME, owner=owner, duration=budget_seconds + 60.0)
        if not lease.acquire():
            return None
        try:
            with deadline.within(budget_seconds):
                return self.tick()
        finally:
            lease.release()

    def rescore(
        self,
        model: ScoringModel,
        *,
        run_id: str | None = None,
        progress: Callable[[ResultOutcome], None] | None = None,
    ) -> Summary:
        """Every result of the survey (or of one run), open and finished runs alike, whatever
        the ledger says: ``lx surveys score``. Writes only what changed, like every path."""
        summary = Summary()
        poll = self.poll_of(model)
        if poll is None:
            raise NotFoundError(f"no survey matches the scoring model for {model.key}")
        runs = [r.id for r in self.client.surveys.runs(poll.id)] if run_id is None else [run_id]
        for run in runs:
            for result in self.client.surveys.results(run):
                outcome = self.score_result(result, poll)
                summary.outcomes.append(outcome)
                if progress is not None:
                    progress(outcome)
        return summary

    # --- the ledger the timer diffs against ------------------------------------------------------

    def _record(self, model: ScoringModel, result: PollResult, outcome: ResultOutcome) -> None:
        if self.store is None or self.dry_run:
            return
        self.store.upsert(
            _partition(model),
            result.id,
            {
                "digest": answers_digest(result, model),
                "status": outcome.status,
                "score": outcome.score,
                "band": outcome.band,
                "factSheetId": outcome.fact_sheet_id,
            },
        )

    def needs_scoring(self, model: ScoringModel, result: PollResult) -> bool:
        """Whether ``result`` is new or changed (answers, status, model version) since it was
        last scored."""
        if self.store is None:
            return True
        row = self.store.get(_partition(model), result.id)
        return row is None or row.data.get("digest") != answers_digest(result, model)
