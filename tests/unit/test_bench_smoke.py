"""Smoke test of bench/: every benchmark runs at a toy size and yields a well-formed result and
table. Structure and correctness only; timings are never asserted (they are `make bench`'s job,
as ratios against a baseline measured in the same run)."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from bench import cold_start, event_cost, memory, reconcile, report, throughput
from bench.__main__ import NAMES, parse_args


def _rendered(table: report.Table) -> str:
    assert table.rows and table.name in NAMES
    buffer = io.StringIO()
    report.render([table], Console(file=buffer, width=120))
    json.dumps(report.to_json({table.name: None}, [table]))
    return buffer.getvalue()


def test_cli_options_parse() -> None:
    args = parse_args(["--only", "reconcile,memory", "--apps", "50", "--naive-sample", "0"])
    assert args.only == ["reconcile", "memory"] and args.apps == 50 and args.naive_sample == 0
    assert parse_args([]).only == NAMES
    with pytest.raises(SystemExit):
        parse_args(["--only", "nope"])


def test_cold_start() -> None:
    result = cold_start.measure(runs=1)
    assert result.runs == 1 and result.baseline_ms > 0 and result.subject_ms > 0
    assert "Cold start" in _rendered(cold_start.table(result))


def test_event_cost_counts_one_read_and_one_write_per_relevant_event() -> None:
    result = event_cost.measure(events=4, warmup=1)
    assert result.reads_per_event == 1 and result.max_writes == 1 and result.max_other == 0
    assert result.ignored_calls == 0 and result.statuses == {"changed": 4}
    assert result.cold_ops["lxFactSheet"] == 1 and result.cold_token_exchanges == 1
    assert result.ratio > 0
    _rendered(event_cost.table(result))


def test_reconcile_batched_and_naive_end_in_the_same_state() -> None:
    result = reconcile.measure(apps=40, naive_sample=10, latency_ms=0)
    assert result.batched.examined == 40 and result.naive.examined == 10
    assert result.compared == 10 and result.mismatched == 0
    assert result.wrong_vs_expected == 0 and result.failed == 0
    assert result.naive_scale == pytest.approx(4.0)
    assert result.batched.client_calls == result.batched.emulator_calls
    assert result.batched.peak_bytes > 0 and result.call_ratio > 0
    assert "SCALED" in _rendered(reconcile.table(result))


def test_memory_runs_two_sizes() -> None:
    result = memory.measure(apps=25)
    assert (result.small.examined, result.large.examined) == (5, 25)
    assert result.peak_ratio > 0
    _rendered(memory.table(result))


def test_throughput_tags_every_edited_application() -> None:
    result = throughput.measure(events=3, concurrency=4)
    subject, baseline = result.subject, result.baseline
    assert result.correct == 3 and subject.idle and baseline.idle
    assert subject.failed == baseline.failed == 0
    assert subject.reads == 3 and subject.writes <= 3 and subject.other_calls == 0
    assert baseline.reads == baseline.writes == baseline.other_calls == 0
    assert baseline.succeeded == 3 and subject.succeeded == 3 + subject.writes
    _rendered(throughput.table(result))


def test_surveys_scores_every_result_with_one_read_of_it_and_of_its_fact_sheet() -> None:
    from bench import surveys

    result = surveys.measure(rate_items=200, results=4)
    assert result.statuses == {"changed": 4}
    assert result.per_result_calls["GET /services/survey/v1/pollResults/{id}"] == 1
    assert result.per_result_calls["graphql lxFactSheet"] == 1
    assert "Survey scoring" in _rendered(surveys.table(result))


def test_snapshot_paged_and_naive_give_the_same_figures() -> None:
    from bench import snapshot

    result = snapshot.measure(fact_sheets=150, naive_sample=20)
    assert result.sample_equal and result.paged_calls < result.naive_calls_scaled
    assert "paged vs per fact sheet" in _rendered(snapshot.table(result))
