"""`lx quality`: the data-quality gaps the weekly reminders would send, aggregated; nothing is
sent."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

import typer
from rich.table import Table

from lx_cli._output import console, fail, out

READS = "Reads LEANIX_* and LX_QUALITY_FILE (the checkers, default infra/leanix/quality.json)."
quality_app = typer.Typer(
    help="Data quality: the gaps the weekly reminders report, per owner or organization.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@quality_app.command("report", epilog=READS)
def report(
    by: Annotated[
        Literal["owner", "organization"],
        typer.Option("--by", help="Group by owner or organization."),
    ] = "owner",
    fmt: Annotated[
        Literal["table", "csv", "md"], typer.Option("--format", help="table, csv or md.")
    ] = "table",
) -> None:
    """Every fact sheet's gaps under the checkers, counted per owner (or organization)."""
    from lx_cli.main import one_line
    from lx_core import runtime
    from lx_core.errors import LxError
    from lx_core.jobs.quality_reminders import aggregate

    try:
        reminders = runtime.quality_reminders()
        with console.status("checking", spinner="dots"):
            findings = reminders.run(send=False, organizations=by == "organization").findings
    except LxError as exc:
        raise fail(exc) from None
    checkers = [c.id for c in reminders.config.checkers]
    rows = aggregate(findings, by)
    header = [by, "fact sheets", *checkers]
    lines = [[r["who"], r["factSheets"], *(r["gaps"].get(c, 0) for c in checkers)] for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(lines)
        typer.echo(buffer.getvalue(), nl=False)
        return
    if fmt == "md":
        typer.echo("| " + " | ".join(header) + " |")
        typer.echo("|" + "---|" * len(header))
        for line in lines:
            cells = [str(c).replace("|", "\\|") for c in line]
            typer.echo("| " + " | ".join(cells) + " |")
        return
    table = Table(*header, title=f"data-quality gaps by {by}: {len(findings)} fact sheets")
    for line in lines:
        table.add_row(*(one_line(str(c), 60) for c in line))
    out.print(table)
