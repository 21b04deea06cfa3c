"""`lx`: the operator CLI. Run a job now, reconcile, plan and apply config, run the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lx_cli.sandbox import sandbox_app
from lx_cli.settings_file import load_settings_file

if TYPE_CHECKING:
    from lx_core.decisions.subscriptions import SubscriptionChange
    from lx_core.jobs.subscriptions import SubscriptionManager

app = typer.Typer(
    help="Operate lx-functions: LeanIX automation on Azure Functions.", no_args_is_help=True
)
time_app = typer.Typer(help="Gartner TIME classification of Applications.", no_args_is_help=True)
app.add_typer(time_app, name="time")
config_app = typer.Typer(
    help="The LeanIX side as code: webhook subscriptions.", no_args_is_help=True
)
app.add_typer(config_app, name="config")
app.add_typer(sandbox_app, name="sandbox")

console = Console(stderr=True)
out = Console()


@app.callback()
def _global(
    settings: Annotated[
        Path,
        typer.Option(help="A local.settings.json-style file; its Values fill unset variables."),
    ] = Path("local.settings.json"),
) -> None:
    load_settings_file(settings)


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code=2)


@app.command()
def whoami() -> None:
    """Exchange the API token and show which workspace and user it belongs to."""
    from lx_core import runtime
    from lx_core.errors import LeanIXError

    try:
        claims = runtime.leanix_client().claims
    except LeanIXError as exc:
        raise _fail(exc) from None
    out.print_json(
        json.dumps(
            {
                "instanceUrl": claims.instance_url,
                "workspaceId": claims.workspace_id,
                "workspaceName": claims.workspace_name,
                "principalId": claims.principal_id,
            }
        )
    )


@time_app.command("reconcile")
def time_reconcile(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute, but write nothing.")] = False,
    fact_sheet_type: Annotated[
        str | None, typer.Option("--type", help="Fact sheet type (default: TIME_FACT_SHEET_TYPE).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Walk every Application, classify it and write only the ones that changed."""
    from lx_core import runtime
    from lx_core.config import TimeSettings, load
    from lx_core.errors import LeanIXError
    from lx_core.jobs.time_tagging import ReconcileSummary, TimeTagger

    try:
        settings = load(TimeSettings)
        if fact_sheet_type:
            settings = settings.model_copy(update={"fact_sheet_type": fact_sheet_type})
        tagger = TimeTagger(runtime.leanix_client(), settings)
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

            summary = tagger.reconcile(dry_run=dry_run, on_progress=show)
    except LeanIXError as exc:
        raise _fail(exc) from None
    if as_json:
        out.print_json(json.dumps({**summary.as_dict(), "failures": summary.failures}))
    else:
        table = Table(title="TIME reconcile" + (" (dry run: nothing written)" if dry_run else ""))
        for column in ("examined", "changed", "unchanged", "unclassifiable", "skipped", "failed"):
            table.add_column(column, justify="right")
        d = summary.as_dict()
        table.add_row(
            *(
                str(d[c])
                for c in ("examined", "changed", "unchanged", "unclassifiable", "skipped", "failed")
            )
        )
        out.print(table)
        for fs_id, error in summary.failures:
            console.print(f"[yellow]failed[/yellow] {fs_id}: {error}")
    if summary.failed:
        raise typer.Exit(code=1)


@time_app.command("tag")
def time_tag(fact_sheet_id: Annotated[str, typer.Argument(help="The Application's id.")]) -> None:
    """Classify one Application now (what the webhook does)."""
    from lx_core import runtime
    from lx_core.errors import LeanIXError

    try:
        result = runtime.time_tagger().tag_one(fact_sheet_id)
    except LeanIXError as exc:
        raise _fail(exc) from None
    out.print_json(
        json.dumps(
            {
                "factSheetId": result.fact_sheet_id,
                "status": result.status,
                "classification": result.classification.value if result.classification else None,
                "written": result.written,
            }
        )
    )


ConfigFile = Annotated[Path, typer.Option("--file", help="Subscriptions config (JSON).")]
ResendSecrets = Annotated[
    bool,
    typer.Option(
        "--resend-secrets",
        help="Send authorizationHeader even where LeanIX's read does not return it to compare.",
    ),
]


def _plan_table(changes: list[SubscriptionChange], title: str) -> Table:
    table = Table(title=title)
    for column in ("identifier", "action", "changed fields", "not verifiable"):
        table.add_column(column)
    for change in changes:
        table.add_row(
            change.identifier,
            change.action.value,
            ", ".join(change.changed_fields) or "-",
            ", ".join(change.unverifiable_fields) or "-",
        )
    return table


def _manager_and_plan(
    file: Path, resend_secrets: bool
) -> tuple[SubscriptionManager, list[SubscriptionChange]]:
    import os

    from lx_core import runtime
    from lx_core.jobs.subscriptions import SubscriptionManager

    manager = SubscriptionManager(runtime.leanix_client())
    desired = manager.load(file, os.environ)
    return manager, manager.plan(desired, resend_secrets=resend_secrets)


@config_app.command("plan")
def config_plan(
    file: ConfigFile = Path("infra/leanix/webhooks.json"), resend_secrets: ResendSecrets = False
) -> None:
    """Show what `apply` would create or update (by identifier); writes nothing."""
    from lx_core.errors import LeanIXError

    try:
        _, changes = _manager_and_plan(file, resend_secrets)
    except LeanIXError as exc:
        raise _fail(exc) from None
    out.print(_plan_table(changes, "webhook subscriptions: plan"))


@config_app.command("apply")
def config_apply(
    file: ConfigFile = Path("infra/leanix/webhooks.json"), resend_secrets: ResendSecrets = False
) -> None:
    """Create or update the subscriptions in the file; unchanged ones are not written."""
    from lx_core.errors import LeanIXError

    try:
        manager, changes = _manager_and_plan(file, resend_secrets)
        applied = manager.apply(changes)
    except LeanIXError as exc:
        raise _fail(exc) from None
    out.print(_plan_table([a.change for a in applied], "webhook subscriptions: applied"))


def main() -> None:
    app()
