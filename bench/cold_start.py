"""Cold start: the cost of `import function_app` against `import azure.functions, requests`.

Each import runs in a fresh interpreter (what a cold worker pays); both are timed inside the
child, around the import statement only, and interleaved so drift hits both equally.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent
_TIMER = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
BASELINE = "import azure.functions, requests"
SUBJECT = "import function_app"


@dataclass(frozen=True)
class ColdStart:
    baseline_ms: float
    subject_ms: float
    runs: int

    @property
    def ratio(self) -> float:
        return self.subject_ms / self.baseline_ms


def _import_seconds(stmt: str) -> float:
    out = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-c", _TIMER.format(stmt=stmt)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(runs: int = 15) -> ColdStart:
    """Median import time of both statements over ``runs`` interleaved fresh interpreters."""
    base: list[float] = []
    subj: list[float] = []
    _import_seconds(SUBJECT)  # warm the filesystem and bytecode caches for both
    _import_seconds(BASELINE)
    for _ in range(runs):
        base.append(_import_seconds(BASELINE))
        subj.append(_import_seconds(SUBJECT))
    return ColdStart(statistics.median(base) * 1000, statistics.median(subj) * 1000, runs)


def table(r: ColdStart) -> report.Table:
    row = report.Row(
        "import time (median, fresh interpreter)",
        f"{r.subject_ms:.1f} ms",
        f"{r.baseline_ms:.1f} ms",
        report.ratio(r.ratio),
        "≤ 1.3x",
        report.check(r.ratio <= 1.3),
    )
    notes = [
        f"subject `{SUBJECT}` vs baseline `{BASELINE}` (the floor any such app pays), "
        f"{r.runs} interleaved runs each."
    ]
    return report.Table("cold_start", "1. Cold start", [row], notes)
