"""Lease over both backends: one owner at a time, expiry on an injected clock, and a race of
eight threads that exactly one wins."""

from __future__ import annotations

import pytest

from lx_core.errors import LeaseLostError
from lx_core.leanix.testing import FakeClock
from lx_core.state.base import StateStore
from lx_core.state.lease import PARTITION, Lease
from tests.state.racing import race

DURATION = 60.0


def lease(store: StateStore, clock: FakeClock, owner: str, name: str = "reconcile") -> Lease:
    return Lease(store, name, owner=owner, duration=DURATION, clock=clock)


def test_acquire_a_free_lease(store: StateStore, clock: FakeClock) -> None:
    a = lease(store, clock, "a")
    assert a.acquire() and a.held
    holder = a.holder()
    assert holder is not None
    assert (holder.owner, holder.expires_at, holder.acquired_at) == (
        "a",
        clock.now + DURATION,
        clock.now,
    )
    assert [r.key for r in store.list(PARTITION)] == ["reconcile"]


def test_a_second_owner_is_blocked_and_told_by_whom(store: StateStore, clock: FakeClock) -> None:
    a, b = lease(store, clock, "a"), lease(store, clock, "b")
    assert a.acquire()
    assert not b.acquire()
    assert not b.held
    assert b.blocked_by is not None
    assert (b.blocked_by.owner, b.blocked_by.expires_at) == ("a", clock.now + DURATION)


def test_renew_pushes_the_expiry_out_and_keeps_others_blocked(
    store: StateStore, clock: FakeClock
) -> None:
    a, b = lease(store, clock, "a"), lease(store, clock, "b")
    start = clock.now
    assert a.acquire()
    clock.advance(DURATION - 1)
    a.renew()
    clock.advance(DURATION - 1)  # past the first expiry, within the renewed one
    assert not b.acquire()
    holder = a.holder()
    assert holder is not None
    assert (holder.acquired_at, holder.expires_at) == (start, start + 2 * DURATION - 1)


def test_acquiring_again_keeps_the_lease_and_its_start(store: StateStore, clock: FakeClock) -> None:
    a = lease(store, clock, "a")
    start = clock.now
    assert a.acquire()
    clock.advance(5)
    again = lease(store, clock, "a")
    assert again.acquire()
    holder = again.holder()
    assert holder is not None and (holder.acquired_at, holder.owner) == (start, "a")


def test_expired_lease_is_taken_over_and_the_old_owner_learns_at_renewal(
    store: StateStore, clock: FakeClock
) -> None:
    a, b = lease(store, clock, "a"), lease(store, clock, "b")
    assert a.acquire()
    clock.advance(DURATION + 1)  # a paused past its expiry
    assert b.acquire()
    with pytest.raises(LeaseLostError):
        a.renew()
    assert not a.held
    assert a.blocked_by is not None and a.blocked_by.owner == "b"
    with pytest.raises(LeaseLostError):
        a.renew()  # still lost: not held any more
    a.release()  # a no-op: must not remove b's row
    holder = b.holder()
    assert holder is not None and holder.owner == "b"


def test_release_frees_the_lease_at_once(store: StateStore, clock: FakeClock) -> None:
    a, b = lease(store, clock, "a"), lease(store, clock, "b")
    with a:
        assert a.acquire()
        assert not b.acquire()
    assert not a.held
    assert a.holder() is None
    assert b.acquire()


def test_release_of_a_lease_taken_over_leaves_the_new_owner(
    store: StateStore, clock: FakeClock
) -> None:
    a, b = lease(store, clock, "a"), lease(store, clock, "b")
    assert a.acquire()
    clock.advance(DURATION + 1)
    assert b.acquire()
    a.release()  # a still has its old ETag: the conditional delete must fail quietly
    holder = b.holder()
    assert holder is not None and holder.owner == "b"
    b.renew()


@pytest.mark.parametrize("round_", range(3))
def test_eight_threads_racing_for_one_lease_one_wins(
    store: StateStore, clock: FakeClock, round_: int
) -> None:
    contenders = [lease(store, clock, f"w{i}", name=f"race{round_}") for i in range(8)]
    results = race([c.acquire for c in contenders])
    winners = [c.owner for c, won in zip(contenders, results, strict=True) if won]
    assert len(winners) == 1
    holder = contenders[0].holder()
    assert holder is not None and holder.owner == winners[0]
    for loser in (c for c in contenders if c.owner != winners[0]):
        assert not loser.held
        assert loser.blocked_by is not None and loser.blocked_by.owner == winners[0]
