"""ProcessCache: one load per key under concurrency, failures not cached, waits bounded."""

from __future__ import annotations

import threading
import time

import pytest

from lx_core import deadline
from lx_core.errors import DeadlineExceededError
from lx_core.leanix.cache import ProcessCache


def test_concurrent_callers_share_one_load_per_key() -> None:
    cache: ProcessCache[str] = ProcessCache()
    loads: list[str] = []
    start = threading.Barrier(16)

    def load(key: str) -> str:
        loads.append(key)
        time.sleep(0.05)  # long enough for every thread to arrive while it loads
        return key.upper()

    results: list[str] = []

    def worker(i: int) -> None:
        key = f"k{i % 2}"
        start.wait()
        results.append(cache.get_or_load(key, lambda: load(key), 60, time.monotonic))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(loads) == ["k0", "k1"]
    assert sorted(results) == ["K0"] * 8 + ["K1"] * 8


def test_a_failed_load_is_not_cached() -> None:
    cache: ProcessCache[int] = ProcessCache()
    calls: list[int] = []

    def failing() -> int:
        calls.append(1)
        raise RuntimeError("LeanIX said no")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            cache.get_or_load("k", failing, 60, time.monotonic)
    assert len(calls) == 2
    assert cache.get_or_load("k", lambda: 7, 60, time.monotonic) == 7


def test_waiting_for_another_loader_is_bounded_by_the_deadline() -> None:
    cache: ProcessCache[int] = ProcessCache()
    loading = threading.Event()
    release = threading.Event()

    def slow() -> int:
        loading.set()
        release.wait(5)
        return 1

    loader = threading.Thread(target=lambda: cache.get_or_load("k", slow, 60, time.monotonic))
    loader.start()
    loading.wait(5)
    started = time.monotonic()
    with deadline.within(0.2), pytest.raises(DeadlineExceededError):
        cache.get_or_load("k", lambda: 2, 60, time.monotonic)
    assert time.monotonic() - started < 1.0
    release.set()
    loader.join()
    assert cache.get_or_load("k", lambda: 3, 60, time.monotonic) == 1
