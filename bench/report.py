"""Tables: one per benchmark, each row a measured value, its same-run baseline, the ratio and the
goal with PASS/MISS; rendered with rich, or as JSON (also written to bench/results/latest.json).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    """``ok`` None means informational (no goal)."""

    metric: str
    value: str
    baseline: str = ""
    ratio: str = ""
    goal: str = ""
    ok: bool | None = None


@dataclass
class Table:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.ok is not False for r in self.rows)


def check(ok: bool) -> bool:
    """A goal's verdict (named so call sites read as a goal, not as an assertion)."""
    return bool(ok)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def us(micros: float) -> str:
    return f"{micros:,.0f} µs"


def secs(seconds: float) -> str:
    return f"{seconds:,.1f} s"


def count(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.2f}"


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.2f} MiB"


def ratio(x: float, suffix: str = "x") -> str:
    return f"{x:,.2f}{suffix}"


def render(tables: Sequence[Table], console: Console | None = None) -> None:
    """Print every table, then a one-line summary."""
    console = console or Console()
    for table in tables:
        rich = RichTable(title=table.title, title_justify="left", show_lines=False)
        for name, justify in (
            ("metric", "left"),
            ("measured", "right"),
            ("baseline", "right"),
            ("ratio", "right"),
            ("goal", "left"),
            ("", "left"),
        ):
            rich.add_column(name, justify=justify)  # type: ignore[arg-type]
        for r in table.rows:
            status = "" if r.ok is None else ("[green]PASS[/]" if r.ok else "[red]MISS[/]")
            rich.add_row(r.metric, r.value, r.baseline, r.ratio, r.goal, status)
        console.print(rich)
        for note in table.notes:
            console.print(f"  [dim]• {note}[/]")
        console.print()
    goals = [r for t in tables for r in t.rows if r.ok is not None]
    missed = [f"{t.name}: {r.metric}" for t in tables for r in t.rows if r.ok is False]
    console.print(f"goals: {len(goals) - len(missed)}/{len(goals)} PASS")
    for name in missed:
        console.print(f"  [red]MISS[/] {name}")


def to_json(results: dict[str, Any], tables: Sequence[Table]) -> dict[str, Any]:
    """Raw results (dataclasses as dicts) plus the rendered tables."""
    return {
        "results": {
            k: dataclasses.asdict(v)
            if dataclasses.is_dataclass(v) and not isinstance(v, type)
            else v
            for k, v in results.items()
        },
        "tables": [dataclasses.asdict(t) for t in tables],
        "passed": all(t.passed for t in tables),
    }


def write_json(doc: dict[str, Any], path: Path = RESULTS_DIR / "latest.json") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    return path
