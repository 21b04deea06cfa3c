"""Memory: does the batched reconcile stream? Peak Python memory (tracemalloc) at two workspace
sizes, 5x apart, without injected latency. A streaming reconcile holds one page and one write
batch at a time, so its peak must not grow with the workspace (goal: ≤ 2x for 5x the apps).
The emulator runs in its own process, so only the client side is traced.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import report
from bench.common import EmulatorProcess, hermetic_env
from bench.reconcile import Run, run_batched


@dataclass
class MemoryResult:
    small: Run
    large: Run

    @property
    def apps_ratio(self) -> float:
        return self.large.examined / self.small.examined

    @property
    def peak_ratio(self) -> float:
        return self.large.peak_bytes / self.small.peak_bytes


def measure(apps: int = 10_000) -> MemoryResult:
    """Reconcile ``apps // 5`` then ``apps`` Applications in one emulator, reseeded each time."""
    small_apps = max(1, apps // 5)
    with hermetic_env(), EmulatorProcess(f"generated:{small_apps}") as emu:
        _, small = run_batched(emu, small_apps, 0)
        _, large = run_batched(emu, apps, 0)
    return MemoryResult(small, large)


def table(r: MemoryResult) -> report.Table:
    s, g = r.small, r.large
    rows = [
        report.Row(
            f"peak memory, {g.examined:,} apps (baseline: {s.examined:,})",
            report.mib(g.peak_bytes),
            report.mib(s.peak_bytes),
            report.ratio(r.peak_ratio),
            f"≤ 2x for {r.apps_ratio:.0f}x the apps",
            report.check(r.peak_ratio <= 2.0),
        ),
        report.Row(
            "peak bytes per Application examined",
            report.count(round(g.peak_bytes / g.examined)),
            report.count(round(s.peak_bytes / s.examined)),
            report.ratio((g.peak_bytes / g.examined) / (s.peak_bytes / s.examined)),
            "falls as the workspace grows",
            report.check(g.peak_bytes / g.examined < s.peak_bytes / s.examined),
        ),
        report.Row(
            "wall time (no latency, pace 1,800/min)",
            report.secs(g.wall_s),
            report.secs(s.wall_s),
            report.ratio(g.wall_s / s.wall_s),
        ),
        report.Row(
            "LeanIX calls",
            report.count(g.emulator_calls),
            report.count(s.emulator_calls),
            report.ratio(g.emulator_calls / s.emulator_calls),
        ),
    ]
    notes = [
        "tracemalloc peak of everything allocated in this process during the reconcile "
        "(client, decisions, JSON); the emulator runs in a child process.",
    ]
    return report.Table("memory", "5. Memory: reconcile peak vs workspace size", rows, notes)
