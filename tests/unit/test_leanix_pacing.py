"""TokenBucket: bursts are smoothed to the configured rate; buckets are shared per user."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import responses

from lx_core.config import LeanIXSettings
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.pacing import TokenBucket, shared_bucket
from lx_core.leanix.testing import FakeClock

GQL = "https://acme.leanix.net/services/pathfinder/v1/graphql"


def test_burst_is_paced_to_the_rate() -> None:
    clock = FakeClock(start=0)
    bucket = TokenBucket(600, clock=clock, sleep=clock.sleep)  # 10/s, burst of 10
    waits = [bucket.acquire() for _ in range(30)]
    assert waits[:10] == [0] * 10
    assert all(w == pytest.approx(0.1) for w in waits[10:])
    assert clock.now == pytest.approx(2.0)  # 20 beyond the burst at 10/s


def test_idle_time_refills_but_never_beyond_the_burst() -> None:
    clock = FakeClock(start=0)
    bucket = TokenBucket(60, clock=clock, sleep=clock.sleep)  # 1/s, burst of 1
    assert bucket.acquire() == 0
    clock.advance(100)
    assert bucket.acquire() == 0
    assert bucket.acquire() == pytest.approx(1.0)


def test_rate_never_exceeds_the_limit_over_a_minute() -> None:
    clock = FakeClock(start=0)
    bucket = TokenBucket(1800, clock=clock, sleep=clock.sleep)
    for _ in range(1830):
        bucket.acquire()
    assert clock.now >= 59.9  # 1830 calls - 30 burst at 30/s


def test_concurrent_reservations_queue_up() -> None:
    clock = FakeClock(start=0)
    lock = threading.Lock()
    waits: list[float] = []
    bucket = TokenBucket(60, clock=clock, sleep=lambda s: None)  # time does not move

    def worker() -> None:
        w = bucket.acquire()
        with lock:
            waits.append(-1.0 if w is None else w)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == pytest.approx([0, 1, 2, 3, 4])


def test_rate_is_checked() -> None:
    with pytest.raises(ValueError, match="requests_per_minute"):
        TokenBucket(1801)


@pytest.mark.usefixtures("leanix_reset")
def test_buckets_are_shared_per_host_and_token() -> None:
    a = shared_bucket("https://h", "hash-a", 100)
    assert shared_bucket("https://h", "hash-a", 1500) is a
    assert shared_bucket("https://h", "hash-b", 100) is not a
    assert shared_bucket("https://other", "hash-a", 100) is not a


def test_clients_sharing_a_token_share_the_pace(
    leanix_make_client: Callable[..., LeanIXClient],
    leanix_settings_factory: Callable[..., LeanIXSettings],
    leanix_http: responses.RequestsMock,
    leanix_token: Callable[..., str],
    leanix_clock: FakeClock,
) -> None:
    settings = leanix_settings_factory(requests_per_minute=60)  # 1/s, burst 1
    one, two = leanix_make_client(settings), leanix_make_client(settings)
    leanix_token()
    leanix_http.add(responses.POST, GQL, json={"data": {}})
    one.graphql.execute("{ a }")  # token exchange + call: the second waits 1 s
    two.graphql.execute("{ a }")
    assert leanix_clock.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]
    assert one.stats.snapshot().paced_seconds + two.stats.snapshot().paced_seconds == 2.0
