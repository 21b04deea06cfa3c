"""`lx webhooks` (subscriptions as code), `lx handlers list`, and `lx config` (webhooks and
processors in one go)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from lx_core.decisions.webhook_subscriptions import SubscriptionChange
    from lx_core.jobs.webhook_subscriptions import SubscriptionManager

console = Console(stderr=True)
out = Console()

READS_LEANIX = "Reads LEANIX_API_TOKEN and LEANIX_HOST (and the other LEANIX_* settings)."
READS_CONFIG = READS_LEANIX + " The file's ${...} placeholders come from the environment."
DEFAULT_FILE = Path("infra/leanix/webhooks.json")
PRUNE_PREFIX = "lx-functions-"

webhooks_app = typer.Typer(
    help="Webhook subscriptions as code, checked against the handlers.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
handlers_app = typer.Typer(
    help="The webhook handlers this app serves.", no_args_is_help=True, rich_markup_mode=None
)

ConfigFile = Annotated[Path, typer.Option("--file", help="Subscriptions config (JSON).")]
ResendSecrets = Annotated[
    bool,
    typer.Option(
        "--resend-secrets",
        help="Send authorizationHeader even where LeanIX's read does not return it to compare.",
    ),
]
Prune = Annotated[
    bool,
    typer.Option(
        "--prune",
        help="Also delete subscriptions the file does not declare whose identifier starts with "
        "--prune-prefix. Without it nothing is ever deleted.",
    ),
]
PrunePrefix = Annotated[
    str,
    typer.Option("--prune-prefix", help='Only these are pruned ("" prunes every undeclared one).'),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _fail(exc: Exception, code: int = 2) -> typer.Exit:
    from lx_cli.main import one_line

    console.print(f"[red]error:[/red] {one_line(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


def plan_table(changes: list[SubscriptionChange], title: str) -> Table:
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


def manager_and_plan(
    file: Path, *, resend_secrets: bool, prune_prefix: str | None
) -> tuple[SubscriptionManager, list[SubscriptionChange]]:
    """The file loaded, checked against the handlers, and planned against the workspace."""
    import os

    from lx_core import runtime
    from lx_core.jobs.webhook_subscriptions import SubscriptionManager, check_coverage

    manager = SubscriptionManager(runtime.leanix_client())
    desired = manager.load(file, os.environ)
    check_coverage(file, desired)
    changes = manager.plan(desired, resend_secrets=resend_secrets, prune_prefix=prune_prefix)
    return manager, changes


@webhooks_app.command("plan", epilog=READS_CONFIG)
def webhooks_plan(
    file: ConfigFile = DEFAULT_FILE,
    resend_secrets: ResendSecrets = False,
    prune: Prune = False,
    prune_prefix: PrunePrefix = PRUNE_PREFIX,
) -> None:
    """Show what `apply` would create, repair or (with --prune) delete; writes nothing."""
    from lx_core.errors import LxError

    try:
        _, changes = manager_and_plan(
            file, resend_secrets=resend_secrets, prune_prefix=prune_prefix if prune else None
        )
    except LxError as exc:
        raise _fail(exc) from None
    out.print(plan_table(changes, "webhook subscriptions: plan"))


@webhooks_app.command("apply", epilog=READS_CONFIG)
def webhooks_apply(
    file: ConfigFile = DEFAULT_FILE,
    resend_secrets: ResendSecrets = False,
    prune: Prune = False,
    prune_prefix: PrunePrefix = PRUNE_PREFIX,
) -> None:
    """Create or repair the declared subscriptions (a second apply writes nothing)."""
    from lx_core.errors import LxError

    try:
        manager, changes = manager_and_plan(
            file, resend_secrets=resend_secrets, prune_prefix=prune_prefix if prune else None
        )
        applied = manager.apply(changes)
    except LxError as exc:
        raise _fail(exc) from None
    out.print(plan_table([a.change for a in applied], "webhook subscriptions: applied"))


@webhooks_app.command("status", epilog=READS_CONFIG)
def webhooks_status(file: ConfigFile = DEFAULT_FILE, as_json: JsonOption = False) -> None:
    """Last delivery status, error count and first failed delivery of each declared
    subscription, from LeanIX; exit 1 if one is missing or failing."""
    import os

    from lx_core import runtime
    from lx_core.errors import LxError
    from lx_core.jobs.webhook_subscriptions import SubscriptionManager

    try:
        manager = SubscriptionManager(runtime.leanix_client())
        rows = manager.status(manager.load(file, os.environ))
    except LxError as exc:
        raise _fail(exc) from None
    bad = [r for r in rows if not r.exists or (r.error_count or 0) > 0 or r.active is False]
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "identifier": r.identifier,
                        "exists": r.exists,
                        "deliveryType": r.delivery_type,
                        "active": r.active,
                        "lastDeliveryStatus": r.last_delivery_status,
                        "errorCount": r.error_count,
                        "firstFailedDelivery": r.first_failed_delivery,
                        "latestDelivery": r.latest_delivery,
                    }
                    for r in rows
                ]
            )
        )
    else:
        table = Table("identifier", "type", "active", "last status", "errors", "first failure")
        for r in rows:
            if not r.exists:
                table.add_row(r.identifier, "-", "missing", "-", "-", "-")
                continue
            table.add_row(
                r.identifier,
                r.delivery_type or "-",
                str(r.active),
                str(r.last_delivery_status or "-"),
                str(r.error_count or 0),
                r.first_failed_delivery or "-",
            )
        out.print(table)
    if bad:
        raise typer.Exit(code=1)


@handlers_app.command("list")
def handlers_list(as_json: JsonOption = False) -> None:
    """Every handler: its route, events, LeanIX-side filter and how it stays idempotent."""
    from lx_core.handlers.specs import SPECS, validate_specs

    specs = validate_specs(SPECS)
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "name": s.name,
                        "route": "/api/" + s.route,
                        "function": s.function_name,
                        "events": sorted(s.event_types),
                        "tagSets": [list(t) for t in s.tag_sets],
                        "subscription": s.subscription,
                        "idempotency": s.idempotency,
                        "sequenceGuard": s.acts_on_contents,
                        "reconciles": s.reconciles,
                        "settings": s.settings,
                    }
                    for s in specs
                ]
            )
        )
        return
    table = Table("handler", "route", "events", "idempotent by", "guard", "reconciles")
    for s in specs:
        table.add_row(
            s.name,
            "/api/" + s.route,
            ", ".join(sorted(s.event_types)),
            "re-reading" if s.idempotency == "rereads" else "event id",
            "sequence" if s.acts_on_contents else "-",
            "yes" if s.reconciles else "no",
        )
    out.print(table)
