"""`lx sandbox demo` and `lx sandbox up`: the TIME job end to end on a laptop."""

from __future__ import annotations

import errno
import itertools
import logging
import shlex
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from lx_sandbox.funchost import FunctionsHost
    from lx_sandbox.stack import SandboxStack

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


#: The demo's relay tick reads events that are there already: no long poll for more.
_DEMO_SETTINGS = {"LX_RELAY_PULL_TIMEOUT_SECONDS": "0"}


def _quiet_servers() -> None:
    for name in ("werkzeug", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)


@sandbox_app.command("demo")
def demo(
    edits: Annotated[int, typer.Option(help="How many Applications the 'human' edits.")] = 8,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for webhooks.")] = 30.0,
) -> None:
    """Start everything, let webhooks and the reconcile tag Applications, show before/after,
    then run the example Integration API connectors and one notification relay tick."""
    from lx_core import runtime
    from lx_core.leanix.graphql import Patch
    from lx_sandbox.stack import SandboxStack, StackOptions

    _quiet_servers()
    started = time.monotonic()
    options = StackOptions(integration=True, notify=True, app_settings=dict(_DEMO_SETTINGS))
    with SandboxStack(options) as stack:
        console.print(f"[bold]1.[/bold] LeanIX emulator at {stack.emulator_url}")
        console.print(f"   functions host at {stack.host_url} (serving function_app.py)")
        applied = stack.register_subscriptions()
        console.print("[bold]2.[/bold] webhook subscriptions (infra/leanix/webhooks.json)")
        for a in applied:
            desired = a.change.desired
            how = (
                f"PUSH → {str(desired.get('targetUrl', '')).split('?')[0]}"
                if desired.get("deliveryType") == "PUSH"
                else "PULL, read by the notification relay"
            )
            console.print(
                f"   [cyan]{a.change.identifier}[/cyan]: {a.change.action.value} ({how})",
                soft_wrap=True,
            )
        before = _snapshot(stack)

        chosen = dict(_edits(before, edits))
        human = stack.human_client()
        console.print(
            f"[bold]3.[/bold] a human user changes the fits of {len(chosen)} Applications"
        )
        for fs_id, (functional, technical) in chosen.items():
            current = human.graphql.get_fact_sheet(fs_id, "id rev")
            if current is None:
                raise RuntimeError(f"the demo's Application {fs_id} is gone")
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
            f"LeanIX calls seen by the emulator for TIME: {stats['total']} requests, "
            f"{stats['graphql']['updateFactSheet']} fact sheet writes (human edits included)."
        )
        synced = _integration_demo(stack, timeout)
        relayed = _relay_demo(stack)
        handled = _handlers_demo(stack, timeout)
        scored = _survey_demo(stack, timeout)
        measured = _metrics_demo()
        reminded = _quality_demo(stack)
        console.print(f"{time.monotonic() - started:.1f} s in all.")
    console.print("Everything the demo started has stopped.")
    steps = (synced, relayed, handled, scored, measured, reminded)
    if not ok or summary.failed or not all(steps):
        raise typer.Exit(code=1)


def _integration_demo(stack: SandboxStack, timeout: float) -> bool:
    """Step 5: the example connectors (processors as code, a run per connector, watched to its
    end, export results in Blob storage); True if every run finished by its policy."""
    import json

    from lx_core import runtime
    from lx_core.jobs.processors_apply import ProcessorsManager

    registry = runtime.integration_registry()
    # Inbound first, so the export shows what the import brought in.
    connectors = sorted(
        registry.connectors.values(),
        key=lambda c: (c.spec.connector.processing_direction != "inbound", c.name),
    )
    console.print(
        f"[bold]5.[/bold] Integration API: {len(connectors)} example connectors "
        "(infra/leanix/examples/connectors)"
    )
    manager = ProcessorsManager(runtime.leanix_client().integration)
    written = manager.apply(manager.plan(connectors))
    console.print(
        f"   processor configurations applied as code: {len(written)} written; "
        f"applied again: {len(manager.apply(manager.plan(connectors)))} written"
    )
    ok = True
    for connector in connectors:
        report = runtime.sync_ticker(connector.name, owner="lx-demo").run_to_end(
            timeout_seconds=timeout
        )
        outcome = report.outcome
        if outcome is None:
            console.print(f"   [red]{connector.name}: {report.action}[/red]")
            ok = False
            continue
        ok = ok and not outcome.failed
        line = (
            f"   {connector.name} ({connector.spec.connector.processing_direction}): "
            f"{outcome.status}, {outcome.processed} processed, {outcome.warnings or 0} warnings, "
            f"{outcome.errors or 0} errors"
        )
        if outcome.result_blob is not None:
            store = runtime.blob_store()
            if store is not None:
                location = outcome.result_blob
                body = b"".join(store.open_chunks(location.container, location.name))
                count = len(json.loads(body).get("content") or [])
                line += f"; results in Blob storage: {count} fact sheets"
        console.print(line, highlight=False)
    imported = [a for a in stack.applications() if str(a.get("externalId", "")).startswith("app-")]
    console.print(f"   Applications imported from the source API: {len(imported)}")
    return ok


def _sink_messages(stack: SandboxStack, kind: str) -> list[dict[str, Any]]:
    """What the sink accepted on the sandbox's ``ops`` channel of ``kind`` (its admin API)."""
    import requests

    from lx_sandbox.stack import NOTIFY_CHANNEL

    if stack.sink is None:
        return []
    response = requests.get(
        f"{stack.sink.url}/_sink/messages",
        params={"kind": kind, "channel": NOTIFY_CHANNEL},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json()["messages"])


def _slack_headlines(message: dict[str, Any]) -> list[str]:
    """The bold first line of each section of a Slack message (one per notification)."""
    sections = [b for b in message["body"].get("blocks", []) if b.get("type") == "section"]
    return [str(b["text"]["text"]).split("\n", 1)[0].strip("*") for b in sections]


def _relay_demo(stack: SandboxStack) -> bool:
    """Step 6: one notification relay tick after the runs: LeanIX's statistics events (PULL)
    and the outcome rows of the same runs become one notification per run, delivered to the
    sink as Slack; True if the tick had no error and Slack got every run."""
    from lx_core import runtime
    from lx_sandbox.stack import NOTIFY_CHANNEL

    console.print("[bold]6.[/bold] notification relay: one tick (infra/leanix/notifications.json)")
    job = runtime.relay(owner="lx-demo")
    try:
        report = job.tick()
    finally:
        job.close()
    console.print(
        f"   {report.pulled} statistics events pulled from LeanIX (PULL) → "
        f"{report.queued} notifications queued in the outbox",
        highlight=False,
    )
    slack = _sink_messages(stack, "slack")
    headlines = sorted(h for m in slack for h in _slack_headlines(m))
    plural = "" if len(slack) == 1 else "s"
    console.print(
        f"   relay: {len(slack)} message{plural} in Slack #{NOTIFY_CHANNEL}, "
        f"{len(headlines)} notifications:",
        highlight=False,
    )
    for headline in headlines:
        console.print(f"     {headline}", highlight=False)
    teams = _sink_messages(stack, "teams")
    mails = len(stack.mail.messages) if stack.mail is not None else 0
    console.print(
        f"   Teams #{NOTIFY_CHANNEL}: {len(teams)} (failed runs only); e-mail: {mails} "
        "(fact sheet notices only)",
        highlight=False,
    )
    for error in report.errors:
        console.print(f"   [red]{error}[/red]", highlight=False)
    return not report.errors and bool(headlines)


_CREATE = """
mutation ($input: BaseFactSheetInput!) { createFactSheet(input: $input) { factSheet { id } } }
"""


def _handlers_demo(stack: SandboxStack, timeout: float) -> bool:
    """Step 7: a human creates an Application (the creator-subscription handler subscribes
    them), then archives it (the archive-notice handler records a notice, and the relay mails
    it to the team and the subscribers); True if both happened."""
    from lx_core import runtime
    from lx_core.leanix.graphql import Patch

    console.print("[bold]7.[/bold] webhook handlers: creator subscription and archive notice")
    human = stack.human_client()
    name = "Demo Expense Tracker"
    created = human.graphql.execute(_CREATE, {"input": {"name": name, "type": "Application"}})
    fs_id = str(created["createFactSheet"]["factSheet"]["id"])
    stack.wait_for_deliveries(timeout)
    fact_sheet = runtime.leanix_client().fact_sheet_subscriptions.fact_sheet(fs_id)
    subscribers = fact_sheet.subscribers if fact_sheet else ()
    for sub in subscribers:
        console.print(
            f"   {name} created by a human: {sub.email or sub.user_id} subscribed as {sub.type}",
            highlight=False,
        )
    current = human.graphql.get_fact_sheet(fs_id, "rev")
    human.graphql.update_fact_sheet(
        fs_id,
        [Patch(op="add", path="/status", value="ARCHIVED")],
        rev=current["rev"] if current else None,
        comment="demo: retired",
    )
    stack.wait_for_deliveries(timeout)
    job = runtime.relay(owner="lx-demo")
    try:
        report = job.tick()
    finally:
        job.close()
    mails = [m for m in (stack.mail.messages if stack.mail else []) if name in (m.text or "")]
    for mail in sorted(mails, key=lambda m: m.rcpt_tos):
        console.print(
            f"   e-mail to {', '.join(mail.rcpt_tos)}: {mail.subject}"
            f"{' (STARTTLS)' if mail.tls else ''}",
            highlight=False,
        )
    for error in report.errors:
        console.print(f"   [red]{error}[/red]", highlight=False)
    return bool(subscribers) and len(mails) >= 2 and not report.errors


#: The demo survey: question ids as infra/leanix/scoring/cloud-readiness.json names them.
_DEMO_QUESTIONS = [
    {
        "id": "containerised",
        "type": "SINGLE_CHOICE",
        "label": "Is it containerised?",
        "options": [{"id": f"c-{n.lower()}", "label": n} for n in ("Yes", "Partly", "No")],
    },
    {
        "id": "statefulness",
        "type": "SINGLE_CHOICE",
        "label": "Where does it keep its state?",
        "options": [
            {"id": f"s-{i}", "label": n}
            for i, n in enumerate(("Stateless", "External state", "Local state"))
        ],
    },
    {"id": "dependencies", "type": "NUMBER", "label": "How many hard dependencies?"},
]
_SCORED = """query ($id: ID!) { factSheet(id: $id) { name tags { name tagGroup { name } }
  ... on Application { cloudReadinessScore } comments { edges { node { message } } } } }"""


def _survey_demo(stack: SandboxStack, timeout: float) -> bool:
    """Step 8: a survey answer is submitted; its event reaches the survey handler, which writes
    the score, the band tag and an explanation on the fact sheet; True if all three landed."""
    from lx_core import runtime

    console.print("[bold]8.[/bold] survey scoring (infra/leanix/scoring/cloud-readiness.json)")
    poll = stack.admin(
        "POST", "/surveys/polls", json={"title": "Cloud Readiness", "questions": _DEMO_QUESTIONS}
    )
    app = next(a for a in stack.applications() if a["name"] == "E-Shop")
    run = stack.admin(
        "POST", "/surveys/runs", json={"pollId": poll["id"], "factSheetIds": [app["id"]]}
    )
    answers = {"containerised": "c-yes", "statefulness": "s-1", "dependencies": 4}
    stack.admin(
        "POST",
        "/surveys/results",
        json={
            "pollRunId": run["id"],
            "factSheetId": app["id"],
            "answers": [{"questionId": q, "value": v} for q, v in answers.items()],
        },
    )
    console.print("   a survey answer for E-Shop is submitted: Yes, External state, 4 dependencies")
    stack.wait_for_deliveries(timeout)
    node = runtime.leanix_client().graphql.execute(_SCORED, {"id": app["id"]})["factSheet"]
    bands = [t["name"] for t in node["tags"] if t["tagGroup"]["name"] == "Cloud Readiness"]
    comments = [e["node"]["message"] for e in node["comments"]["edges"]]
    score = node.get("cloudReadinessScore")
    console.print(
        f"   E-Shop: cloudReadinessScore {score}, tag Cloud Readiness: {', '.join(bands) or '-'}",
        highlight=False,
    )
    for line in comments[0].splitlines() if comments else []:
        console.print(f"   | {line}", highlight=False)
    return score is not None and bool(bands) and bool(comments)


def _metrics_demo() -> bool:
    """Step 9: the daily data-quality snapshot (one paged read per type), written as today's
    Metrics v2 points, and `lx metrics show` drawing them; True if the points landed."""
    from lx_cli.metrics import show
    from lx_core import runtime

    console.print("[bold]9.[/bold] data-quality snapshot → Metrics v2 (lx metrics snapshot)")
    report = runtime.metrics_snapshot().run(owner="lx-demo")
    for figures in report.figures:
        point = figures.point()
        console.print(
            f"   {figures.fact_sheet_type}: {point['count']} fact sheets, "
            f"{point['meanCompletion']:g}% complete on average, "
            f"{point['brokenQualitySeal']} broken seals, {point['withoutOwner']} without owner, "
            f"{point['pastEndOfLife']} past end of life",
            highlight=False,
        )
    written = sum(1 for o in report.written.values() for v in o.values() if v != "unchanged")
    again = runtime.metrics_snapshot().run(owner="lx-demo")
    unchanged = all(v == "unchanged" for o in again.written.values() for v in o.values())
    console.print(
        f"   {written} points written in {report.graphql_pages} GraphQL pages; "
        f"run again: {'nothing written' if unchanged else 'points rewritten'}",
        highlight=False,
    )
    console.print("   lx metrics show lxDataQuality --metric count --days 7")
    show("lxDataQuality", metric="count", days=7, as_json=False)
    return written > 0 and unchanged


def _quality_demo(stack: SandboxStack) -> bool:
    """Step 10: the weekly data-quality reminders (infra/leanix/quality.json): one digest per
    person, through the relay's owner-mail channel into the SMTP server; a second run this
    week enqueues nothing. True if the digest landed once."""
    from lx_core import runtime

    console.print("[bold]10.[/bold] data-quality reminders (infra/leanix/quality.json)")
    first = runtime.quality_reminders().run(owner="lx-demo")
    again = runtime.quality_reminders().run(owner="lx-demo")
    owned = sum(1 for f in first.findings if f.owners)
    console.print(
        f"   {len(first.findings)} fact sheets with gaps ({owned} with an owner), "
        f"{len(first.digests)} digest(s) for week {first.week}; run again: "
        f"{', '.join(sorted(set(again.digests.values()))) or 'nothing'}",
        highlight=False,
    )
    job = runtime.relay(owner="lx-demo")
    try:
        report = job.tick()
    finally:
        job.close()
    mails = [
        m
        for m in (stack.mail.messages if stack.mail else [])
        if "Data quality" in (m.subject or "")
    ]
    for mail in mails:
        console.print(f"   e-mail to {', '.join(mail.rcpt_tos)}: {mail.subject}", highlight=False)
    return len(mails) == len(first.digests) and not report.errors


@sandbox_app.command("up")
def up(
    seed: Annotated[str, typer.Option(help="demo, empty or generated:N")] = "demo",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="LeanIX emulator port (0: a free port).")
    ] = 0,
    host_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Functions host port (0: a free port).")
    ] = 0,
    duration: Annotated[
        float | None, typer.Option("--for", help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
) -> None:
    """Start the emulator and the functions host and keep them running for exploring by hand."""
    from lx_sandbox.funchost.activity import printed_to
    from lx_sandbox.stack import SandboxStack, StackOptions

    _quiet_servers()
    options = StackOptions(
        seed=seed,
        run_timers=True,
        emulator={"port": port},
        host_port=host_port,
        integration=True,
        notify=True,
    )
    stack = _start_or_explain(SandboxStack(options))  # started: `with stack` would start again
    try:
        with printed_to(_plain):
            stack.register_subscriptions()
            _print_up_banner(stack)
            deadline = None if duration is None else time.monotonic() + duration
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    console.print("stopped")


# Settings whose values are credentials: labelled when `up` prints them (sandbox values only).
_SECRET_WORDS = ("TOKEN", "KEY", "AUTHORIZATION", "SECRET", "PASSWORD", "CONNECTION_STRING")
# Incoming-webhook URLs carry their credential in the path (Slack, Teams): secrets too.
_SECRET_NAMES = ("LX_NOTIFY_SLACK_URL", "LX_NOTIFY_TEAMS_URL")


def _plain(text: str) -> None:
    """Print ``text`` as is: no markup, no highlighting, no wrapping, so it pastes whole."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _start_or_explain(stack: SandboxStack) -> SandboxStack:
    """Start ``stack``; a fixed port that is taken ends in one line naming the option to change."""
    from lx_sandbox.funchost import PortInUseError

    try:
        return stack.start()
    except PortInUseError as exc:
        _port_taken("functions host", exc.port, "--host-port", "HOST_PORT")
    except OSError as exc:
        port = stack.options.emulator.get("port")
        if exc.errno != errno.EADDRINUSE or not port:
            raise  # not the emulator's fixed port: let the error say what it is
        _port_taken("LeanIX emulator", port, "--port", "PORT")


def _port_taken(what: str, port: object, option: str, make_var: str) -> NoReturn:
    console.print(
        f"[red]error:[/red] {what}: port {port} is already in use (another `lx sandbox up`?). "
        f"Stop that, or choose another {option} (make up {make_var}=...), 0 for a free port."
    )
    raise typer.Exit(code=2)


def _running_host(stack: SandboxStack) -> FunctionsHost:
    if stack.host is None:
        raise RuntimeError("the sandbox stack is not running")
    return stack.host


def cli_exports(stack: SandboxStack) -> dict[str, str]:
    """Every variable the lx CLI needs against ``stack``: the app settings (LEANIX_*, the
    webhook secret, ...) plus the host wiring `lx config plan` fills infra/leanix/webhooks.json
    with (``LX_FUNCTIONS_BASE_URL``, ``LX_FUNCTION_KEY``)."""
    host = _running_host(stack)
    return {
        **stack.app_settings(),
        "LX_FUNCTIONS_BASE_URL": host.url,
        "LX_FUNCTION_KEY": host.function_key,
    }


def _venv_dir(root: Path) -> str:
    """The virtual environment running this CLI, relative to ``root`` when inside it."""
    prefix = Path(sys.prefix)
    if not (prefix / "bin" / "lx").exists():
        return ".venv"  # what `make` creates
    try:
        return str(prefix.relative_to(root))
    except ValueError:
        return str(prefix)


def cli_shell_lines(stack: SandboxStack, example_id: str | None = None) -> list[str]:
    """Shell lines that make `lx whoami`, `lx time ...` and `lx config plan` work elsewhere."""
    from lx_sandbox.stack import ROOT

    venv = shlex.quote(_venv_dir(ROOT))
    lines = [
        f"cd {shlex.quote(str(ROOT))}",
        f"source {venv}/bin/activate    # or run {venv}/bin/lx",
    ]
    for name, value in cli_exports(stack).items():
        line = f"export {name}={shlex.quote(value)}"
        if name in _SECRET_NAMES or any(word in name for word in _SECRET_WORDS):
            line += "    # sandbox-only secret"
        lines.append(line)
    lines += [
        "lx whoami",
        "lx time reconcile --dry-run",
        f"lx time tag {example_id or '<factSheetId>'}",
    ]
    if stack.source is not None:  # the example connectors are deployed
        lines += ["lx sync list", "lx sync run applications-import --wait"]
    if stack.sink is not None:  # the relay's channels are wired
        lines.append("lx relay status")
    lines.append("lx config plan")
    return lines


def _example_application(stack: SandboxStack) -> str | None:
    active = [a for a in stack.applications() if a.get("status") == "ACTIVE"]
    return str(min(active, key=lambda a: str(a["name"]))["id"]) if active else None


def _print_up_banner(stack: SandboxStack) -> None:
    from lx_sandbox.emulator import HUMAN_TOKEN

    host = _running_host(stack)
    url = host.url
    console.print(f"LeanIX emulator : {stack.emulator_url}  (admin API: /_sandbox/...)")
    console.print(f"functions host  : {url}  (serving function_app.py)")
    _plain(f"  webhook   : POST {url}/api/leanix/time?code={host.function_key}")
    _plain("              with header Authorization: $LX_WEBHOOK_AUTHORIZATION (below)")
    _plain(
        f"  timer now : curl -X POST -H 'x-functions-key: {host.master_key}' "
        f"-H 'Content-Type: application/json' -d '{{}}' {url}/admin/functions/time_reconcile"
    )
    if stack.source is not None:
        _plain(
            f"  sync now  : same with {url}/admin/functions/sync_applications_import "
            "(the example connectors' timers; results in Azurite's Blob service)"
        )
    if stack.sink is not None:
        _plain(
            f"  relay now : same with {url}/admin/functions/relay "
            "(the notification relay's timer; it also runs every minute)"
        )
    _plain(f"  human user token (for edits the app reacts to): {HUMAN_TOKEN}")
    if stack.sink is not None and stack.mail is not None:
        _plain(
            f"chat sink       : {stack.sink.url}  (Slack and Teams incoming webhooks with their "
            "rate limits; what arrived: GET /_sink/messages)"
        )
        _plain(
            f"SMTP server     : {stack.mail.url}  (STARTTLS only; its certificate: "
            f"{stack.mail.cert_file})"
        )
    console.print(
        "\nUse the lx CLI against the sandbox from another shell "
        "(every secret below is a sandbox-only value):"
    )
    for line in cli_shell_lines(stack, _example_application(stack)):
        _plain(f"  {line}")
    console.print("\nOne line per webhook delivery and timer run follows. Ctrl-C stops everything.")
