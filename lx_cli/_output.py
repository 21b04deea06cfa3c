"""What every `lx` command module shares: stdout for results, stderr for progress and errors,
the one way to fail with a message, and the ``--json`` option."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)
out = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def fail(exc: Exception, code: int = 2) -> typer.Exit:
    """Print ``exc`` as one red line (markup escaped) and return the Exit to raise."""
    from lx_cli.main import one_line

    console.print(f"[red]error:[/red] {one_line(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)
