"""The handler contract: specs refused at start-up, shared filters, claims by event id, the
sequence guard, and the creator-subscription decision (pure)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from lx_core.config import NoticeHandlerSettings
from lx_core.decisions.creator_subscription import decide_creator
from lx_core.errors import ConfigurationError
from lx_core.events import LeanIXEvent, parse_event
from lx_core.handlers.base import Handler, HandlerResult
from lx_core.handlers.dispatch import Dispatcher
from lx_core.handlers.idempotency import EventClaims, EventInProgressError
from lx_core.handlers.registry import build_handler, handler_class
from lx_core.handlers.specs import SPECS, HandlerSpec, spec_named, validate_specs
from lx_core.handlers.subscription_removed import SubscriptionRemovedHandler
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
    assert [r.key for r in store.list(claims.partition)] == ["working", "~prune"]


def test_pruning_moves_on_past_a_front_of_young_claims() -> None:
    store, now = MemoryStore(), [1000.0]
    claims = EventClaims(store, "probe", clock=lambda: now[0])
    for name in ("a-old", "b-old"):
        _, row = claims.claim(name)
        assert row is not None
        claims.done(row)
    now[0] += 100
    for name in ("0-young", "1-young"):  # sort before the old ones
        _, row = claims.claim(name)
        assert row is not None
        claims.done(row)
    pruned = [claims.prune(before=now[0] - 50, limit=2) for _ in range(3)]
    assert sum(pruned) == 2
    assert [r.key for r in store.list(claims.partition)] == ["0-young", "1-young", "~prune"]


def test_event_ids_that_need_escaping_never_share_a_claim() -> None:
    from lx_core.handlers.idempotency import event_key

    assert (
        event_key("8f14e45f-ceea-467f-a0e6-1c9f7b2a1e01") == "8f14e45f-ceea-467f-a0e6-1c9f7b2a1e01"
    )
    assert event_key("a/b") != event_key("a_b") and event_key("a/b") != event_key("a?b")
    assert len(event_key("x" * 500)) <= 200 and event_key("x" * 500) != event_key("x" * 501)


def _removal(
    event_id: str, seq: int, *, removed_user: str, kind: str = "RESPONSIBLE"
) -> LeanIXEvent:
    return parse_event(
        {
            "id": event_id,
            "type": "SUBSCRIPTION_DELETED",
            "userId": removed_user,
            "payload": {
                "type": "SubscriptionDeletedEvent",
                "transactionSequenceNumber": seq,
                "factSheet": {"id": "fs-1", "type": "Application"},
                "subscription": {
                    "id": f"s-{removed_user}",
                    "type": kind,
                    "user": {"id": removed_user},
                },
            },
        }
    )


class RecordingRemoved(SubscriptionRemovedHandler):
    """The subscription-removed handler's own filters and ordering, with its work recorded."""

    def __init__(self) -> None:  # no LeanIX context: handle() below does not read
        self.settings = NoticeHandlerSettings()
        self.seen: list[str | None] = []

    def handle(self, event: LeanIXEvent) -> HandlerResult:
        self.seen.append(event.event_id)
        return HandlerResult("recorded", "fs-1")


def test_two_people_leaving_one_fact_sheet_out_of_order_are_both_reported() -> None:
    """The subscription-removed guard orders events per fact sheet *and* person."""
    handler, store = RecordingRemoved(), MemoryStore()
    d = _dispatcher(handler, store)
    assert d.dispatch(_removal("e-b", 11, removed_user="bob")).status == "recorded"
    assert d.dispatch(_removal("e-a", 10, removed_user="ann")).status == "recorded"
    # Bob's own older event is still stale.
    assert d.dispatch(_removal("e-b0", 9, removed_user="bob")).status == "stale"
    assert handler.seen == ["e-b", "e-a"]


def test_an_unreported_removal_is_ignored_before_any_claim_and_orders_nothing() -> None:
    handler, store = RecordingRemoved(), MemoryStore()
    d = _dispatcher(handler, store)
    ignored = d.dispatch(_removal("e-o", 50, removed_user="bob", kind="OBSERVER"))
    assert ignored.status == "ignored" and store.writes == []  # no claim, no sequence row
    assert d.dispatch(_removal("e-r", 10, removed_user="bob")).status == "recorded"


def test_an_ignored_result_does_not_move_the_sequence_guard() -> None:
    class Skipping(Probe):
        def handle(self, event: LeanIXEvent) -> HandlerResult:
            self.seen.append(event.event_id)
            return HandlerResult("ignored", "fs-1", "nothing to do")

    store = MemoryStore()
    assert _dispatcher(Skipping(), store).dispatch(_event("e-new", 10)).status == "ignored"
    probe = Probe()
    assert _dispatcher(probe, store).dispatch(_event("e-old", 9)).status == "recorded"


def test_the_own_user_is_looked_up_only_when_the_cheap_filters_pass() -> None:
    asked: list[int] = []

    def own() -> str | None:
        asked.append(1)
        return "me"

    d = Dispatcher(Probe(), store=MemoryStore(), own_user_id=own)
    d.dispatch(_event("e1", 1, fs_type="ITComponent"))
    assert asked == []
    d.dispatch(_event("e2", 1))
    assert asked == [1]


def test_a_claim_lives_as_long_as_its_owners_deadline_and_says_when_to_come_back() -> None:
    from lx_core import deadline

    store, now = MemoryStore(), [1000.0]
    claims = EventClaims(store, "probe", clock=lambda: now[0])
    with deadline.within(20):
        assert claims.claim("e1")[0] == "claimed"
        assert 29 <= claims.lifetime() <= 30  # the deadline plus a 10-second margin
    now[0] += 25
    with pytest.raises(EventInProgressError) as busy:
        claims.claim("e1")
    assert busy.value.retry_after is not None and 4 <= busy.value.retry_after <= 5
    now[0] += 6  # a redelivery after the owner's crash, half a minute later, takes it over
    assert claims.claim("e1")[0] == "claimed"


def test_a_lost_race_for_a_claim_is_in_progress_not_an_error() -> None:
    from lx_core.errors import StateConflictError
    from lx_core.state.base import Row

    class RacingStore(MemoryStore):
        def replace(self, partition: str, key: str, data: Mapping[str, Any], *, etag: str) -> Row:
            raise StateConflictError("lost the race", partition=partition, key=key)

    store, now = RacingStore(), [1000.0]
    claims = EventClaims(store, "probe", lifetime_seconds=10, clock=lambda: now[0])
    claims.claim("e1")
    now[0] += 60
    with pytest.raises(EventInProgressError):
        claims.claim("e1")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("userId", "../../admin"),
        ("userId", "a?b=c"),
        ("transactionSequenceNumber", 2**60),
        ("transactionSequenceNumber", -1),
    ],
)
def test_ids_that_could_reach_a_path_and_absurd_sequence_numbers_are_refused(
    field: str, value: object
) -> None:
    from lx_core.errors import EventParseError

    payload: dict[str, object] = {
        "type": "SubscriptionDeletedEvent",
        "factSheet": {"id": "fs-1", "type": "Application"},
        field: value,
    }
    with pytest.raises(EventParseError, match=field):
        parse_event({"id": "e", "type": "SUBSCRIPTION_DELETED", "payload": payload})
