"""race(): start callables at the same instant on threads; their results, or the first error."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def race(calls: Sequence[Callable[[], T]], *, timeout: float = 30.0) -> list[T]:
    """Run every call on its own thread, released together by a barrier; results in order."""
    results: dict[int, T] = {}
    failures: list[BaseException] = []
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        try:
            start.wait(timeout=timeout)
            results[index] = calls[index]()
        except BaseException as exc:  # re-raised on the caller's thread below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if failures:
        raise failures[0]
    if len(results) != len(calls):
        raise TimeoutError(f"{len(calls) - len(results)} racers did not finish in {timeout} s")
    return [results[i] for i in range(len(calls))]
