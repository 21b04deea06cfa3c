"""`lx sandbox demo` and `lx sandbox up`: the TIME job end to end on a laptop."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

sandbox_app = typer.Typer(
    help="Run the local LeanIX emulator and functions host.", no_args_is_help=True
)
console = Console()
if not console.is_terminal:
    console = Console(width=120)  # pipes and CI logs: wide enough for the before/after table

# Fit pairs a human might set, one per TIME class, tried in turn until the class changes.
_EDITS = [
    ("perfect", "fullyAppropriate"),  # invest
    ("insufficient", "adequate"),  # tolerate
    ("appropriate", "unreasonable"),  # migrate
    ("unreasonable", "inappropriate"),  # eliminate
]
_EXPECTED = {
    ("perfect", "fullyAppropriate"): "Invest",
    ("insufficient", "adequate"): "Tolerate",
    ("appropriate", "unreasonable"): "Migrate",
    ("unreasonable", "inappropriate"): "Eliminate",
}


@dataclass
class _Row:
    name: str
    functional: str | None
    technical: str | None
    time_tag: str | None


def _snapshot(stack: Any) -> dict[str, _Row]:
    names = stack.tag_names()
    rows = {}
    for app in stack.applications():
        if app["status"] != "ACTIVE":
            continue
        time_tags = [
            names[t][1] for t in app["tagIds"] if names.get(t, ("", ""))[0] == "TIME Model"
        ]
        rows[app["id"]] = _Row(
            app["name"],
            app["values"].get("functionalSuitability"),
            app["values"].get("technicalSuitability"),
            ", ".join(time_tags) or None,
        )
    return rows


def _edits(before: dict[str, _Row], count: int) -> Iterator[tuple[str, tuple[str, str]]]:
    """Pick ``count`` classifiable Applications and a fit pair that changes their class."""
    cycle = itertools.cycle(_EDITS)
    picked = 0
    for fs_id, row in sorted(before.items(), key=lambda item: item[1].name):
        if picked == count:
            return
        if not row.functional or not row.technical:
            continue
        for _ in range(len(_EDITS)):
            pair = next(cycle)
            if _EXPECTED[pair] != row.time_tag:
                yield fs_id, pair
                picked += 1
                break


def _quiet_servers() -> None:
    for name in ("werkzeug", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)


@sandbox_app.command("demo")
def demo(
    edits: Annotated[int, typer.Option(help="How many Applications the 'human' edits.")] = 8,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for webhooks.")] = 30.0,
) -> None:
    """Start everything, let webhooks and the reconcile tag Applications, show before/after."""
    from lx_core import runtime
    from lx_core.leanix.graphql import Patch
    from lx_sandbox.stack import SandboxStack

    _quiet_servers()
    started = time.monotonic()
    with SandboxStack() as stack:
        console.print(f"[bold]1.[/bold] LeanIX emulator at {stack.emulator_url}")
        console.print(f"   functions host at {stack.host_url} (serving function_app.py)")
        applied = stack.register_subscriptions()
        for a in applied:
            console.print(
                f"[bold]2.[/bold] webhook subscription [cyan]{a.change.identifier}[/cyan]: "
                f"{a.change.action.value} (PUSH → {stack.host_url}/api/leanix/time)"
            )
        before = _snapshot(stack)

        chosen = dict(_edits(before, edits))
        human = stack.human_client()
        console.print(
            f"[bold]3.[/bold] a human user changes the fits of {len(chosen)} Applications"
        )
        for fs_id, (functional, technical) in chosen.items():
            current = human.graphql.get_fact_sheet(fs_id, "id rev")
            assert current is not None
            human.graphql.update_fact_sheet(
                fs_id,
                [
                    Patch(op="replace", path="/functionalSuitability", value=functional),
                    Patch(op="replace", path="/technicalSuitability", value=technical),
                ],
                rev=current["rev"],
                comment="demo: a human re-assessed the fits",
            )

        def webhooks_done() -> bool:
            now = _snapshot(stack)
            return all(now[i].time_tag == _EXPECTED[pair] for i, pair in chosen.items())

        ok = stack.wait_until(webhooks_done, timeout=timeout)
        after_webhooks = _snapshot(stack)
        tagged = sum(after_webhooks[i].time_tag == _EXPECTED[p] for i, p in chosen.items())
        colour = "green" if ok else "red"
        console.print(
            f"   [{colour}]{tagged}/{len(chosen)} re-tagged by PUSH webhook → TIME function"
            f"[/{colour}]"
        )

        console.print("[bold]4.[/bold] nightly reconcile (run now) repairs everything else")
        summary = runtime.time_tagger().reconcile()
        stack.wait_for_deliveries(timeout)
        after = _snapshot(stack)

        table = Table(title="TIME tags: before → after")
        for column in (
            "Application",
            "functional fit",
            "technical fit",
            "before",
            "after",
            "set by",
        ):
            table.add_column(column)
        changed = 0
        for fs_id, row in sorted(after.items(), key=lambda item: item[1].name):
            old = before[fs_id]
            if old.time_tag == row.time_tag and fs_id not in chosen:
                continue
            changed += 1
            by = "webhook" if fs_id in chosen else "reconcile"
            table.add_row(
                row.name,
                row.functional or "-",
                row.technical or "-",
                old.time_tag or "-",
                row.time_tag or "-",
                by,
            )
        console.print(table)
        counts = Table(title="counts", show_header=False)
        counts.add_column("what")
        counts.add_column("n", justify="right")
        counts.add_row("active Applications", str(len(after)))
        counts.add_row("edited by the human user", str(len(chosen)))
        counts.add_row("re-tagged by the webhook", str(tagged))
        for key in ("examined", "changed", "unchanged", "unclassifiable", "skipped", "failed"):
            counts.add_row(f"reconcile: {key}", str(summary.as_dict()[key]))
        counts.add_row("TIME tag changed in all", str(changed))
        console.print(counts)
        stats = stack.admin("GET", "/stats")
        console.print(
            f"LeanIX calls seen by the emulator: {stats['total']} requests, "
            f"{stats['graphql']['updateFactSheet']} fact sheet writes "
            f"(human edits included); {time.monotonic() - started:.1f} s in all."
        )
    console.print("Everything the demo started has stopped.")
    if not ok or summary.failed:
        raise typer.Exit(code=1)


@sandbox_app.command("up")
def up(
    seed: Annotated[str, typer.Option(help="demo, empty or generated:N")] = "demo",
    duration: Annotated[
        float | None, typer.Option("--for", help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
) -> None:
    """Start the emulator and the functions host and keep them running for exploring by hand."""
    from lx_sandbox.emulator import HUMAN_TOKEN
    from lx_sandbox.stack import SandboxStack, StackOptions

    _quiet_servers()
    with SandboxStack(StackOptions(seed=seed, run_timers=True)) as stack:
        stack.register_subscriptions()
        assert stack.host is not None
        console.print(f"LeanIX emulator : {stack.emulator_url}  (admin API: /_sandbox/...)")
        console.print(f"functions host  : {stack.host_url}")
        console.print(f"  POST {stack.host_url}/api/leanix/time?code={stack.host.function_key}")
        console.print(
            f"  master key (POST /admin/functions/time_reconcile): {stack.host.master_key}"
        )
        console.print(f"human user token: {HUMAN_TOKEN}")
        console.print("\nUse the lx CLI against the sandbox from another shell:")
        for name, value in stack.app_settings().items():
            console.print(f"  export {name}='{value}'")
        console.print("  lx whoami; lx time reconcile --dry-run; lx config plan")
        console.print("\nCtrl-C stops everything.")
        deadline = None if duration is None else time.monotonic() + duration
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
    console.print("stopped")
