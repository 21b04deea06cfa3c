"""Smoke test of ``bench/burst.py`` at a toy size: it runs, converges and renders its table.
Timings are never asserted here (they are `make bench`'s job)."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from bench import burst, report
from bench.__main__ import NAMES, parse_args

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


def test_burst_converges_at_a_toy_size() -> None:
    result = burst.measure(events=6, concurrency=4, timeout=60)
    assert result.converged and result.right == result.events == 6
    assert result.reads == result.writes == 6  # every change moves its Application's class
    assert result.calls >= 12 and result.bound_s > 0
    table = burst.table(result)
    assert table.name in NAMES and "burst" in parse_args(["--only", "burst"]).only
    buffer = io.StringIO()
    report.render([table], Console(file=buffer, width=120))
    json.dumps(report.to_json({"burst": result}, [table]), default=str)
    assert "burst of changes" in buffer.getvalue()
