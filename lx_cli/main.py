"""`lx`: the operator CLI. Run a job now, reconcile, plan and apply config, run the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lx_cli.integration import connectors_app, processors_app, sync_app
from lx_cli.metrics import metrics_app
from lx_cli.quality import quality_app
from lx_cli.relay import relay_app
from lx_cli.sandbox import sandbox_app
from lx_cli.settings_file import SettingsFileError, load_settings_file
from lx_cli.surveys import surveys_app
from lx_cli.webhooks import (
    DEFAULT_FILE as DEFAULT_WEBHOOKS,
)
from lx_cli.webhooks import (
    PRUNE_PREFIX,
    ConfigFile,
    Prune,
    PrunePrefix,
    ResendSecrets,
    handlers_app,
    webhooks_app,
)

if TYPE_CHECKING:
    from lx_core.jobs.reconcile_summary import ReconcileSummary

app = typer.Typer(
    help="Operate lx-functions: LeanIX automation on Azure Functions.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)
time_app = typer.Typer(
    help="Gartner TIME classification of Applications.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(time_app, name="time")
config_app = typer.Typer(
    help="The LeanIX side as code: webhook subscriptions and processor configurations.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(config_app, name="config")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(sync_app, name="sync")
app.add_typer(processors_app, name="processors")
app.add_typer(connectors_app, name="connectors")
app.add_typer(relay_app, name="relay")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(handlers_app, name="handlers")
app.add_typer(surveys_app, name="surveys")
app.add_typer(metrics_app, name="metrics")
app.add_typer(quality_app, name="quality")

console = Console(stderr=True)
out = Console()

#: What each command reads, shown at the end of its help.
READS_LEANIX = "Reads LEANIX_API_TOKEN and LEANIX_HOST (and the other LEANIX_* settings)."
READS_TIME = READS_LEANIX + " Also TIME_* and, to resume and guard the run, LX_STATE_*."
READS_CONFIG = READS_LEANIX + " The file's ${...} placeholders come from the environment."


@app.callback()
def _global(
    settings: Annotated[
        Path,
        typer.Option(help="A local.settings.json-style file; its Values fill unset variables."),
    ] = Path("local.settings.json"),
) -> None:
    try:
        load_settings_file(settings)
    except SettingsFileError as exc:
        raise _fail(exc) from None


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace and clip: an error is one line, however LeanIX worded it. Escaped
    for rich markup, so a ``[partition/key]`` or ``[pathfinder, ...]`` in it is printed, not
    swallowed as a style tag."""
    from rich.markup import escape

    flat = " ".join(str(text).split())
    return escape(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def short_id(fact_sheet_id: str) -> str:
    """The first block of a UUID (enough to find it, short enough for a table)."""
    head, sep, _ = fact_sheet_id.partition("-")
    return head + "…" if sep and len(head) >= 8 else fact_sheet_id


def _fail(exc: Exception, code: int = 2) -> typer.Exit:
    console.print(f"[red]error:[/red] {one_line(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


@app.command(epilog=READS_LEANIX)
def whoami(
    as_json: Annotated[bool, typer.Option("--json", help="Print the identity as JSON.")] = False,
) -> None:
    """Exchange the API token and show which workspace and user it belongs to."""
    from lx_core import runtime
    from lx_core.errors import LxError

    try:
        claims = runtime.leanix_client().claims
    except LxError as exc:
        raise _fail(exc) from None
    info = {
        "instanceUrl": claims.instance_url,
        "workspaceId": claims.workspace_id,
        "workspaceName": claims.workspace_name,
        "principalId": claims.principal_id,
        "principalName": claims.principal_name,
        "workspaceRole": claims.workspace_role,
        "tokenExpiresAt": datetime.fromtimestamp(claims.expires_at, UTC).isoformat(),
    }
    if as_json:
        out.print_json(json.dumps(info))
        return
    out.print(
        f"workspace  {claims.workspace_name or '?'} ({claims.workspace_id or 'no id in token'})\n"
        f"instance   {claims.instance_url}\n"
        f"user       {claims.principal_name or '?'} ({claims.principal_id or 'no id in token'})"
        + (f", role {claims.workspace_role}" if claims.workspace_role else "")
        + f"\ntoken      valid until {info['tokenExpiresAt']}",
        highlight=False,
        soft_wrap=True,
    )


_COUNTS = ("examined", "changed", "unchanged", "unclassifiable", "skipped", "failed")


def _summary_table(summary: ReconcileSummary) -> Table:
    dry = summary.dry_run
    table = Table(title="TIME reconcile" + (" (dry run: nothing written)" if dry else ""))
    for column in _COUNTS:
        table.add_column("would change" if dry and column == "changed" else column, justify="right")
    d = summary.as_dict()
    table.add_row(*(str(d[c]) for c in _COUNTS))
    return table


def _would_change_table(summary: ReconcileSummary) -> Table:
    table = Table(title="would change")
    for column in ("id", "name", "from", "to"):
        table.add_column(column)
    for change in summary.would_change:
        table.add_row(
            short_id(change.fact_sheet_id),
            change.name or "",
            change.before or "-",
            change.after or "(none)",
        )
    return table


@time_app.command("reconcile", epilog=READS_TIME)
def time_reconcile(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would change; write nothing.")
    ] = False,
    fact_sheet_type: Annotated[
        str | None, typer.Option("--type", help="Fact sheet type (default: TIME_FACT_SHEET_TYPE).")
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard an unfinished run's checkpoint first.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Walk every Application, classify it and write only the ones that changed.

    An unfinished run (paused or killed) is resumed from its checkpoint; a run already going
    elsewhere (the timer, another shell) is not disturbed.
    """
    from lx_core import runtime
    from lx_core.config import TimeSettings, load
    from lx_core.errors import LxError
    from lx_core.jobs.time_reconcile import ReconcileRun
    from lx_core.jobs.time_tagging import TimeTagger

    try:
        settings = load(TimeSettings)
        if fact_sheet_type:
            settings = settings.model_copy(update={"fact_sheet_type": fact_sheet_type})
        store = None if dry_run else runtime.state_store()
        if store is None and not dry_run:
            console.print(
                "[yellow]note:[/yellow] LX_STATE_* not set: this run cannot be resumed and is "
                "not guarded against a concurrent one",
                highlight=False,
            )
        run = ReconcileRun(TimeTagger(runtime.leanix_client(), settings), store)
        with Progress(
            TextColumn("[bold]TIME reconcile[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("changed {task.fields[changed]}  failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            console=console,
            transient=as_json,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("reconcile", total=None, changed=0, failed=0)

            def show(summary: ReconcileSummary) -> None:
                progress.update(
                    task,
                    total=summary.total,
                    completed=summary.examined,
                    changed=summary.changed,
                    failed=summary.failed,
                )

            summary = run.run(dry_run=dry_run, on_progress=show, restart=restart)
    except LxError as exc:
        raise _fail(exc) from None
    if summary.state == "busy":
        console.print(
            f"[yellow]busy:[/yellow] another TIME reconcile is running ({summary.blocked_by}); "
            "nothing done",
            highlight=False,
        )
        raise typer.Exit(code=3)
    if as_json:
        out.print_json(json.dumps(summary.report()))
    else:
        out.print(_summary_table(summary))
        if summary.would_change:
            out.print(_would_change_table(summary))
        for reason, count in sorted(summary.skipped_reasons.items()):
            console.print(f"skipped {count}: {reason}", highlight=False)
        for fs_id, error in summary.failures:
            console.print(
                f"[yellow]failed[/yellow] {short_id(fs_id)}: {one_line(error)}", highlight=False
            )
    if summary.failed:
        raise typer.Exit(code=1)


@time_app.command("tag", epilog=READS_TIME)
def time_tag(fact_sheet_id: Annotated[str, typer.Argument(help="The Application's id.")]) -> None:
    """Classify one Application now (what the webhook does)."""
    from lx_core import runtime
    from lx_core.errors import LxError

    try:
        result = runtime.time_tagger().tag_one(fact_sheet_id)
    except LxError as exc:
        raise _fail(exc) from None
    body: dict[str, object] = {
        "factSheetId": result.fact_sheet_id,
        "status": result.status,
        "classification": result.classification.value if result.classification else None,
        "written": result.written,
    }
    if result.reason:
        body["reason"] = result.reason
    out.print_json(json.dumps(body))


@config_app.command(
    "plan", epilog=READS_CONFIG + " Connector files: LX_INTEGRATION_CONNECTORS_DIR."
)
def config_plan(
    file: ConfigFile = DEFAULT_WEBHOOKS,
    resend_secrets: ResendSecrets = False,
    prune: Prune = False,
    prune_prefix: PrunePrefix = PRUNE_PREFIX,
) -> None:
    """Show what `apply` would change: webhook subscriptions, then processor configurations."""
    from lx_cli.integration import print_processor_plans, processor_plans
    from lx_cli.webhooks import manager_and_plan, plan_table
    from lx_core.errors import LxError

    try:
        _, changes = manager_and_plan(
            file, resend_secrets=resend_secrets, prune_prefix=prune_prefix if prune else None
        )
        _, plans = processor_plans(None, None)
    except LxError as exc:
        raise _fail(exc) from None
    out.print(plan_table(changes, "webhook subscriptions: plan"))
    print_processor_plans(plans, applied=False)


@config_app.command(
    "apply", epilog=READS_CONFIG + " Connector files: LX_INTEGRATION_CONNECTORS_DIR."
)
def config_apply(
    file: ConfigFile = DEFAULT_WEBHOOKS,
    resend_secrets: ResendSecrets = False,
    prune: Prune = False,
    prune_prefix: PrunePrefix = PRUNE_PREFIX,
) -> None:
    """Apply the LeanIX side: webhook subscriptions, then processor configurations. Only what
    differs is written; a second apply writes nothing."""
    from lx_cli.integration import print_processor_plans, processor_plans
    from lx_cli.webhooks import manager_and_plan, plan_table
    from lx_core.errors import LxError

    try:
        manager, changes = manager_and_plan(
            file, resend_secrets=resend_secrets, prune_prefix=prune_prefix if prune else None
        )
        applied = manager.apply(changes)
        processors, plans = processor_plans(None, None)
        processors.apply(plans)
    except LxError as exc:
        raise _fail(exc) from None
    out.print(plan_table([a.change for a in applied], "webhook subscriptions: applied"))
    print_processor_plans(plans, applied=True)


def main() -> None:
    app()
