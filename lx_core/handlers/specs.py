"""What each webhook handler declares. Standard library only: the Function App reads these at
indexing time to register one route per handler, and cold start must not import pydantic or
requests for that.

A handler is either idempotent by re-reading (it acts on LeanIX's current state, as TIME does)
or keyed on the event id (the idempotency store drops a second delivery). A handler that is
neither is refused when the app starts (``validate_specs``), and so is a clash of names or
routes. A handler that acts on the event's contents rather than re-reading also runs behind the
sequence guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lx_core.errors import ConfigurationError

Idempotency = Literal["rereads", "event_id", "none"]


@dataclass(frozen=True)
class HandlerSpec:
    #: Short name, used in routes, state partitions, logs and ``lx handlers list``.
    name: str
    #: The Azure function's name (letters, digits, underscores).
    function_name: str
    #: HTTP route under /api.
    route: str
    #: ``module:Class`` of the implementation, imported on first use.
    impl: str
    event_types: frozenset[str]
    #: The LeanIX-side filter its webhook subscription must carry.
    tag_sets: tuple[tuple[str, ...], ...]
    #: The webhook subscription's identifier in infra/leanix/webhooks.json.
    subscription: str
    idempotency: Idempotency
    #: Acts on the event's contents (not only its ids): behind the sequence guard.
    acts_on_contents: bool = False
    #: Whether a timer can reconcile everything it would have done from events.
    reconciles: bool = False
    #: Drop events whose fact sheet the payload shows as archived.
    skip_archived: bool = True
    #: ``module:Class`` of its settings model (environment variables), if any.
    settings: str | None = None
    #: An optional callback file next to webhooks.json.
    callback_file: str | None = None
    #: Events without a fact sheet are ignored (a survey event may name only a run).
    needs_fact_sheet: bool = True


SPECS: tuple[HandlerSpec, ...] = (
    HandlerSpec(
        name="time",
        function_name="time_webhook",
        route="leanix/time",
        impl="lx_core.handlers.time:TimeHandler",
        event_types=frozenset({"FACT_SHEET_CREATED", "FACT_SHEET_UPDATED"}),
        tag_sets=(("pathfinder", "FACT_SHEET_CREATED"), ("pathfinder", "FACT_SHEET_UPDATED")),
        subscription="lx-functions-time",
        idempotency="rereads",
        reconciles=True,
        skip_archived=False,  # TIME re-reads and reports an archived Application as skipped
        settings="lx_core.config:TimeSettings",
        callback_file="callbacks/time_filter.js",
    ),
    HandlerSpec(
        name="creator-subscription",
        function_name="creator_subscription_webhook",
        route="leanix/creator-subscription",
        impl="lx_core.handlers.creator_subscription:CreatorSubscriptionHandler",
        event_types=frozenset({"FACT_SHEET_CREATED"}),
        tag_sets=(("pathfinder", "FACT_SHEET_CREATED"),),
        subscription="lx-functions-creator-subscription",
        idempotency="rereads",
        settings="lx_core.config:CreatorSubscriptionSettings",
    ),
    HandlerSpec(
        name="archive-notice",
        function_name="archive_notice_webhook",
        route="leanix/archive-notice",
        impl="lx_core.handlers.archive_notice:ArchiveNoticeHandler",
        event_types=frozenset({"FACT_SHEET_ARCHIVED"}),
        tag_sets=(("pathfinder", "FACT_SHEET_ARCHIVED"),),
        subscription="lx-functions-archive-notice",
        idempotency="event_id",
        skip_archived=False,
        settings="lx_core.config:NoticeHandlerSettings",
    ),
    HandlerSpec(
        name="quality-seal-notice",
        function_name="quality_seal_notice_webhook",
        route="leanix/quality-seal-notice",
        impl="lx_core.handlers.archive_notice:QualitySealNoticeHandler",
        event_types=frozenset({"QUALITY_SEAL_BROKEN"}),
        # [U] the tag set is the public automation client's, not in the event list (§4.5).
        tag_sets=(("pathfinder", "QUALITY_SEAL_BROKEN"),),
        subscription="lx-functions-quality-seal-notice",
        idempotency="event_id",
        settings="lx_core.config:NoticeHandlerSettings",
    ),
    HandlerSpec(
        name="survey",
        function_name="survey_webhook",
        route="leanix/survey",
        impl="lx_core.handlers.survey:SurveyHandler",
        event_types=frozenset({"POLL_RESULT_UPDATED", "POLL_FINISHED"}),
        # [U] §6.5: the tag sets a public automation client lists (assumptions.
        # SURVEY_EVENT_TAG_SETS); the handler reads only ids and fetches the result.
        tag_sets=(("pollResult", "POLL_RESULT_UPDATED"), ("poll", "POLL_FINISHED")),
        subscription="lx-functions-survey",
        idempotency="rereads",
        reconciles=True,
        needs_fact_sheet=False,
        settings="lx_core.config:SurveySettings",
    ),
    HandlerSpec(
        name="subscription-removed",
        function_name="subscription_removed_webhook",
        route="leanix/subscription-removed",
        impl="lx_core.handlers.subscription_removed:SubscriptionRemovedHandler",
        event_types=frozenset({"SUBSCRIPTION_DELETED"}),
        tag_sets=(("pathfinder", "SUBSCRIPTION_DELETED"),),
        subscription="lx-functions-subscription-removed",
        idempotency="event_id",
        acts_on_contents=True,
        settings="lx_core.config:NoticeHandlerSettings",
    ),
)


def validate_specs(specs: Sequence[HandlerSpec]) -> tuple[HandlerSpec, ...]:
    """``specs`` if every handler can run safely; ConfigurationError naming the first that
    cannot."""
    seen: dict[str, set[str]] = {"name": set(), "route": set(), "function": set()}
    for spec in specs:
        if spec.idempotency not in ("rereads", "event_id"):
            raise ConfigurationError(
                f"handler {spec.name!r} is neither idempotent by re-reading nor keyed on the "
                "event id: a redelivered event would act twice; refusing to start"
            )
        if not spec.event_types or not spec.tag_sets:
            raise ConfigurationError(f"handler {spec.name!r} declares no events or tag sets")
        for kind, value in (
            ("name", spec.name),
            ("route", spec.route),
            ("function", spec.function_name),
        ):
            if value in seen[kind]:
                raise ConfigurationError(f"two handlers share the {kind} {value!r}")
            seen[kind].add(value)
    return tuple(specs)


def spec_named(name: str, specs: Sequence[HandlerSpec] = SPECS) -> HandlerSpec:
    for spec in specs:
        if spec.name == name:
            return spec
    raise ConfigurationError(f"no handler named {name!r}")
