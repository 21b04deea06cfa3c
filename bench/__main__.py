"""``python -m bench`` (``make bench``): run the benchmarks, print one table each, write JSON.

Every speed and memory figure is a ratio against a baseline measured in the same run, so the
tables compare like with like on any machine; nothing here is a timed test assertion.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from bench import (
    burst,
    cold_start,
    event_cost,
    integration,
    memory,
    reconcile,
    relay,
    report,
    snapshot,
    surveys,
    throughput,
)


@dataclass(frozen=True)
class Benchmark:
    name: str
    run: Callable[[argparse.Namespace], Any]
    table: Callable[[Any], report.Table]


BENCHMARKS = (
    Benchmark("cold_start", lambda a: cold_start.measure(a.cold_runs), cold_start.table),
    Benchmark("event_cost", lambda a: event_cost.measure(a.events), event_cost.table),
    Benchmark(
        "reconcile",
        lambda a: reconcile.measure(a.apps, a.naive_sample, a.latency_ms),
        reconcile.table,
    ),
    Benchmark("throughput", lambda a: throughput.measure(a.events), throughput.table),
    Benchmark("memory", lambda a: memory.measure(a.apps), memory.table),
    Benchmark("burst", lambda a: burst.measure(a.burst), burst.table),
    Benchmark(
        "integration",
        lambda a: integration.measure((a.ldif_items // 10, a.ldif_items)),
        integration.table,
    ),
    Benchmark(
        "relay",
        lambda a: relay.measure(a.relay_items, a.burst, a.relay_backlog),
        relay.table,
    ),
    Benchmark("surveys", lambda a: surveys.measure(a.survey_rate, a.survey_results), surveys.table),
    Benchmark("snapshot", lambda a: snapshot.measure(a.apps, a.snapshot_sample), snapshot.table),
)
NAMES = [b.name for b in BENCHMARKS]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--only", action="append", default=[], metavar="NAME", help=f"one of {', '.join(NAMES)}"
    )
    p.add_argument("--apps", type=int, default=10_000, help="Applications for reconcile/memory")
    p.add_argument(
        "--naive-sample",
        type=int,
        default=1000,
        help="Applications the naive reconcile examines, scaled to --apps (0 = all)",
    )
    p.add_argument("--events", type=int, default=300, help="events for event_cost/throughput")
    p.add_argument("--burst", type=int, default=1000, help="changes arriving at once for burst")
    p.add_argument("--latency-ms", type=int, default=20, help="latency added by the emulator")
    p.add_argument(
        "--ldif-items", type=int, default=1_000_000, help="largest LDIF for integration (÷10 too)"
    )
    p.add_argument("--cold-runs", type=int, default=15, help="fresh interpreters per import")
    p.add_argument("--relay-items", type=int, default=2000, help="PULL events for relay overhead")
    p.add_argument(
        "--relay-backlog", type=int, default=10_000, help="largest relay backlog (÷10 too)"
    )
    p.add_argument("--survey-rate", type=int, default=20_000, help="answer sets for the rate")
    p.add_argument("--survey-results", type=int, default=50, help="results scored for calls")
    p.add_argument(
        "--snapshot-sample", type=int, default=500, help="fact sheets the naive snapshot reads"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = p.parse_args(argv)
    wanted = [n for item in args.only for n in item.split(",") if n]
    unknown = sorted(set(wanted) - set(NAMES))
    if unknown:
        p.error(f"unknown benchmark(s) {unknown}; choose from {NAMES}")
    if args.apps < 5 or args.events < 2 or args.naive_sample < 0 or args.cold_runs < 1:
        p.error("--apps ≥ 5, --events ≥ 2, --naive-sample ≥ 0, --cold-runs ≥ 1")
    if args.burst < 1 or args.relay_items < 1 or args.relay_backlog < 10:
        p.error("--burst ≥ 1, --relay-items ≥ 1, --relay-backlog ≥ 10")
    args.only = wanted or NAMES
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=args.json, width=None if sys.stdout.isatty() else 120)
    results: dict[str, Any] = {}
    tables: list[report.Table] = []
    for bench in BENCHMARKS:
        if bench.name not in args.only:
            continue
        started = time.perf_counter()
        with console.status(f"running {bench.name} …"):
            results[bench.name] = bench.run(args)
        tables.append(bench.table(results[bench.name]))
        console.log(f"{bench.name} done in {time.perf_counter() - started:.1f} s")
    doc = report.to_json(results, tables)
    path = report.write_json(doc)
    if args.json:
        print(json.dumps(doc, indent=2, default=str))
    else:
        console.print()
        report.render(tables, console)
        console.print(f"[dim]results: {path}[/]")
    return 0  # a MISS is reported in the tables and as "passed": false in the JSON


if __name__ == "__main__":
    raise SystemExit(main())
