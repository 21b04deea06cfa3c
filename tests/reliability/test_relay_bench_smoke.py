"""Smoke test of ``bench/relay.py`` at a toy size: every item is delivered, the burst is packed
and drained, the backlog drains, and the table renders. Timings are never asserted here (they
are `make bench`'s job)."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from bench import relay, report
from bench.__main__ import NAMES, parse_args

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


def test_the_relay_bench_delivers_everything_at_a_toy_size() -> None:
    result = relay.measure(items=60, burst=98, backlog=200)
    # measure() itself refuses a run that lost an item, so these are the packing figures.
    assert result.relay_messages == 2  # 60 items: 49 + 11 per Slack message
    assert result.burst_messages == 2 and result.burst_max_blocks <= 50
    assert result.burst_429 == 0
    assert result.memory_small > 0 and result.memory_large > 0
    table = relay.table(result)
    assert table.name in NAMES and parse_args(["--only", "relay"]).only == ["relay"]
    buffer = io.StringIO()
    report.render([table], Console(file=buffer, width=140))
    json.dumps(report.to_json({"relay": result}, [table]), default=str)
    assert "Notification relay" in buffer.getvalue()
