"""`lx relay`: run a relay tick now, see what waits, list and replay dead letters."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lx_cli._output import JsonOption, console, fail, out

if TYPE_CHECKING:
    from lx_core.notify.outbox import Outbox


READS = (
    "Reads LX_RELAY_* (rules file), LX_STATE_* (outbox), LEANIX_* (PULL events), LX_SMTP_* "
    "(e-mail) and the rules file's ${...} placeholders from the environment."
)
relay_app = typer.Typer(
    help="The notification relay: Slack, Teams and e-mail from LeanIX events and our own notices.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _outbox() -> tuple[Outbox, list[str]]:
    """The outbox and the channel names of the rules file (validated in full first)."""
    import os

    from lx_core import runtime
    from lx_core.errors import ConfigurationError
    from lx_core.notify.outbox import Outbox
    from lx_core.notify.rules import load_rules

    rules = load_rules(runtime.relay_rules_file(), os.environ)
    store = runtime.state_store()
    if store is None:
        raise ConfigurationError("the relay's outbox is in the state store; set LX_STATE_*")
    return Outbox(store), list(rules.channels)


Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Break another tick's lease first: only after a killed run, when you know no "
        "other tick is running (two at once can send a message twice).",
    ),
]


@relay_app.command("tick", epilog=READS)
def tick(as_json: JsonOption = False, force: Force = False) -> None:
    """Run one relay tick now (the timer's work); exit 1 if a source or channel failed."""
    from lx_core import runtime
    from lx_core.errors import LxError

    try:
        with console.status("relay tick…"):
            job = runtime.relay()
            if force:
                job.break_lease()
            try:
                report = job.tick()
            finally:
                job.close()
    except LxError as exc:
        raise fail(exc) from None
    if as_json:
        out.print_json(json.dumps(report.to_json()))
    elif report.busy:
        out.print("busy: another relay tick holds the lease; try again shortly", highlight=False)
    else:
        out.print(
            f"pulled {report.pulled} (ignored {report.ignored}), queued {report.queued} "
            f"(duplicates {report.duplicates}), delivered {report.delivered}",
            highlight=False,
        )
        table = Table("channel", "status", "delivered", "messages", "refused", "dead", "detail")
        for name, channel in report.channels.items():
            table.add_row(
                name,
                channel.status,
                str(channel.delivered),
                str(channel.messages),
                str(channel.refused),
                str(channel.dead_lettered),
                channel.detail,
            )
        out.print(table)
        for error in report.errors:
            console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
    if report.errors:
        raise typer.Exit(code=1)


@relay_app.command("status", epilog=READS)
def status(as_json: JsonOption = False) -> None:
    """Items waiting per channel, and whether a channel is paused."""
    from lx_core.errors import LxError

    try:
        outbox, channels = _outbox()
        now = time.time()
        rows = []
        for name in channels:
            state = outbox.channel_state(name)
            rows.append(
                {
                    "channel": name,
                    "pending": outbox.count_pending(name),
                    "pausedSeconds": max(0.0, round(state.paused_until - now, 1)),
                    "lastError": state.last_error,
                }
            )
        dead = len(outbox.dead_letters())
    except LxError as exc:
        raise fail(exc) from None
    if as_json:
        out.print_json(json.dumps({"channels": rows, "deadLetters": dead}))
        return
    table = Table("channel", "pending", "paused (s)", "last error")
    for row in rows:
        table.add_row(
            str(row["channel"]),
            str(row["pending"]),
            str(row["pausedSeconds"] or "-"),
            str(row["lastError"] or "-"),
        )
    out.print(table)
    out.print(f"dead letters: {dead}", highlight=False)


@relay_app.command("dead-letters", epilog=READS)
def dead_letters(as_json: JsonOption = False) -> None:
    """Items set aside after too many refusals; replay one with `lx relay replay ID`."""
    from lx_core.errors import LxError

    try:
        outbox, _ = _outbox()
        letters = outbox.dead_letters()
    except LxError as exc:
        raise fail(exc) from None
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "id": ident,
                        "kind": row.item.get("kind"),
                        "attempts": row.attempts,
                        "reason": row.reason,
                        "deadAt": row.dead_at,
                    }
                    for ident, row in letters
                ]
            )
        )
        return
    if not letters:
        out.print("no dead letters", highlight=False)
        return
    table = Table("id", "kind", "attempts", "dead since", "reason")
    for ident, row in letters:
        when = datetime.fromtimestamp(row.dead_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        table.add_row(ident, str(row.item.get("kind")), str(row.attempts), when, row.reason)
    out.print(table)


@relay_app.command("replay", epilog=READS)
def replay(
    ident: Annotated[
        str, typer.Argument(metavar="ID", help="CHANNEL/ITEM, as dead-letters lists it.")
    ],
) -> None:
    """Queue a dead letter again; the next tick delivers it (with a clean attempt count)."""
    from lx_core.errors import LxError

    channel, sep, item = ident.partition("/")
    if not sep or not channel or not item:
        raise fail(ValueError("ID must be CHANNEL/ITEM, as `lx relay dead-letters` lists it"))
    try:
        outbox, channels = _outbox()
        if channel not in channels:
            raise fail(ValueError(f"no channel {channel!r} in the rules file"))
        found = outbox.replay(channel, item, now=time.time())
    except LxError as exc:
        raise fail(exc) from None
    if not found:
        raise fail(ValueError(f"no dead letter {ident}"), code=1)
    out.print(f"queued {ident} again; the next relay tick delivers it", highlight=False)
