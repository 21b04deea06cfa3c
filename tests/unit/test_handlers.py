"""The handler contract: specs refused at start-up, shared filters, claims by event id, the
sequence guard, and the creator-subscription decision (pure)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from lx_core.decisions.creator_subscription import decide_creator
from lx_core.errors import ConfigurationError
from lx_core.events import LeanIXEvent, parse_event
from lx_core.handlers.base import Handler, HandlerResult
from lx_core.handlers.dispatch import Dispatcher
from lx_core.handlers.idempotency import EventClaims, EventInProgressError
from lx_core.handlers.registry import build_handler, handler_class
from lx_core.handlers.specs import SPECS, HandlerSpec, spec_named, validate_specs
from lx_core.leanix.fact_sheet_subscriptions import Subscriber
from lx_core.leanix.users import WorkspaceUser
from lx_core.state.memory import MemoryStore


def test_every_shipped_spec_is_valid_and_its_class_agrees() -> None:
    assert validate_specs(SPECS) == SPECS
    for spec in SPECS:
        assert handler_class(spec).spec == spec


def test_a_handler_neither_idempotent_nor_keyed_on_the_event_id_is_refused_at_start_up() -> None:
    unsafe = dataclasses.replace(spec_named("archive-notice"), idempotency="none")
    with pytest.raises(ConfigurationError, match="neither idempotent by re-reading nor keyed"):
        validate_specs([*SPECS[:2], unsafe])
    with pytest.raises(ConfigurationError, match="refusing"):
        build_handler("archive-notice", [unsafe])


def test_two_handlers_on_one_route_are_refused() -> None:
    clash = dataclasses.replace(spec_named("archive-notice"), name="x", function_name="x")
    with pytest.raises(ConfigurationError, match="share the route"):
        validate_specs([*SPECS, clash])


SPEC = HandlerSpec(
    name="probe",
    function_name="probe",
    route="leanix/probe",
    impl="tests.unit.test_handlers:Probe",
    event_types=frozenset({"SUBSCRIPTION_DELETED"}),
    tag_sets=(("pathfinder", "SUBSCRIPTION_DELETED"),),
    subscription="probe",
    idempotency="event_id",
    acts_on_contents=True,
)


class Probe(Handler):
    spec: ClassVar[HandlerSpec] = SPEC

    def __init__(self, fail: bool = False) -> None:
        self.seen: list[str | None] = []
        self.fail = fail

    def fact_sheet_types(self) -> frozenset[str]:
        return frozenset({"Application"})

    def handle(self, event: LeanIXEvent) -> HandlerResult:
        self.seen.append(event.event_id)
        if self.fail:
            raise RuntimeError("boom")
        return HandlerResult("recorded", event.fact_sheet.id if event.fact_sheet else "")


def _event(
    event_id: str, seq: int, *, fs_type: str = "Application", user: str = "u1"
) -> LeanIXEvent:
    return parse_event(
        {
            "id": event_id,
            "type": "SUBSCRIPTION_DELETED",
            "userId": user,
            "payload": {
                "type": "SubscriptionDeletedEvent",
                "transactionSequenceNumber": seq,
                "factSheet": {"id": "fs-1", "type": fs_type},
                "subscription": {"id": "s1", "type": "RESPONSIBLE", "user": {"id": "u2"}},
            },
        }
    )


def _dispatcher(handler: Handler, store: MemoryStore, own: str | None = "me") -> Dispatcher:
    return Dispatcher(handler, store=store, own_user_id=lambda: own)


def test_shared_filters_answer_ignored_before_any_work() -> None:
    probe, store = Probe(), MemoryStore()
    d = _dispatcher(probe, store)
    assert d.dispatch(_event("e1", 1, fs_type="ITComponent")).reason == (
        "fact sheet type ITComponent is not Application"
    )
    assert d.dispatch(_event("e2", 1, user="me")).reason == "event caused by this app's own write"
    assert probe.seen == [] and store.writes == []


def test_a_second_delivery_of_an_event_is_a_duplicate_and_does_nothing() -> None:
    probe, store = Probe(), MemoryStore()
    d = _dispatcher(probe, store)
    assert d.dispatch(_event("e1", 5)).status == "recorded"
    again = d.dispatch(_event("e1", 5))
    assert again.status == "duplicate" and probe.seen == ["e1"]


def test_an_older_event_is_dropped_by_the_sequence_guard() -> None:
    probe, store = Probe(), MemoryStore()
    d = _dispatcher(probe, store)
    assert d.dispatch(_event("e-new", 10)).status == "recorded"
    late = d.dispatch(_event("e-old", 9))
    assert late.status == "stale" and probe.seen == ["e-new"]
    assert d.dispatch(_event("e-newer", 11)).status == "recorded"


def test_a_failed_attempt_gives_its_claim_back_so_the_redelivery_works() -> None:
    store = MemoryStore()
    with pytest.raises(RuntimeError):
        _dispatcher(Probe(fail=True), store).dispatch(_event("e1", 1))
    probe = Probe()
    assert _dispatcher(probe, store).dispatch(_event("e1", 1)).status == "recorded"
    assert probe.seen == ["e1"]


def test_a_live_claim_of_another_instance_asks_for_a_redelivery_and_a_dead_one_is_taken() -> None:
    store, now = MemoryStore(), [1000.0]
    claims = EventClaims(store, "probe", lifetime_seconds=60, clock=lambda: now[0])
    state, _ = claims.claim("e1")
    assert state == "claimed"
    with pytest.raises(EventInProgressError):
        claims.claim("e1")
    now[0] += 61
    assert claims.claim("e1")[0] == "claimed"


USER = WorkspaceUser(id="u1", email="ann@example.com", status="ACTIVE")


@pytest.mark.parametrize(
    ("creator", "user", "subscribers", "status", "action", "reason"),
    [
        ("u1", USER, (), "ACTIVE", "subscribe", None),
        (
            "u1",
            USER,
            (Subscriber(user_id="u1", type="RESPONSIBLE"),),
            "ACTIVE",
            "unchanged",
            "the creator is RESPONSIBLE already",
        ),
        ("u1", USER, (Subscriber(user_id="u1", type="OBSERVER"),), "ACTIVE", "subscribe", None),
        (
            "u1",
            None,
            (),
            "ACTIVE",
            "skip",
            "not a user: the creator is not a user of this workspace",
        ),
        (
            "u1",
            USER.model_copy(update={"technical": True}),
            (),
            "ACTIVE",
            "skip",
            "the creator is a technical user",
        ),
        (None, None, (), "ACTIVE", "skip", "the event names no creator"),
        ("u1", USER, (), "ARCHIVED", "skip", "the fact sheet is archived"),
        (
            "u1",
            USER.model_copy(update={"status": "ARCHIVED"}),
            (),
            "ACTIVE",
            "skip",
            "the creator's account is ARCHIVED",
        ),
    ],
)
def test_the_creator_decision(
    creator: str | None,
    user: WorkspaceUser | None,
    subscribers: tuple[Subscriber, ...],
    status: str,
    action: str,
    reason: str | None,
) -> None:
    verdict = decide_creator(
        creator, status=status, subscribers=subscribers, subscription_type="RESPONSIBLE", user=user
    )
    assert (verdict.action, verdict.reason) == (action, reason)


def test_a_removed_subscription_notice_goes_to_the_remaining_accountable_people_only() -> None:
    from lx_core.decisions.fact_sheet_notices import subscription_removed_notice
    from lx_core.leanix.fact_sheet_subscriptions import SubscribedFactSheet

    event = _event("e9", 3)
    fact_sheet = SubscribedFactSheet(
        id="fs-1",
        name="CRM",
        type="Application",
        subscribers=(
            Subscriber(user_id="u2", type="ACCOUNTABLE", email="leaving@example.com"),
            Subscriber(user_id="u3", type="ACCOUNTABLE", email="boss@example.com"),
            Subscriber(user_id="u4", type="RESPONSIBLE", email="dev@example.com"),
            Subscriber(user_id="u5", type="ACCOUNTABLE", email="bot@example.com", technical=True),
        ),
    )
    notice = subscription_removed_notice(
        event,
        fact_sheet,
        removed_user="Leaving Person",
        workspace_url="https://app.leanix.net/acme",
        recipient_types=("ACCOUNTABLE",),
    )
    assert notice.recipients == ("boss@example.com",)
    assert (notice.kind, notice.role, notice.actor, notice.fact_sheet_name) == (
        "subscription_removed",
        "RESPONSIBLE",
        "Leaving Person",
        "CRM",
    )
    assert notice.id == "unsubscribed-e9"


def test_done_claims_are_pruned_after_their_retention_and_live_ones_kept() -> None:
    store, now = MemoryStore(), [1000.0]
    claims = EventClaims(store, "probe", clock=lambda: now[0])
    _, old = claims.claim("old")
    assert old is not None
    claims.done(old)
    now[0] += 10
    claims.claim("working")
    assert claims.prune(before=now[0]) == 1
    assert [r.key for r in store.list(claims.partition)] == ["working"]
