"""`lx sync`, `lx processors` and `lx connectors`: Integration API runs and their files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from lx_core.decisions.processor_lint import Finding
    from lx_core.integration.connectors import Registry
    from lx_core.jobs.processors_apply import ProcessorPlan, ProcessorsManager
    from lx_core.jobs.sync_state import OutcomeRecord
    from lx_core.leanix.integration_api import RunProgress, RunStatus

console = Console(stderr=True)
out = Console()

READS_LEANIX = "Reads LEANIX_API_TOKEN and LEANIX_HOST (and the other LEANIX_* settings)."
READS_DIR = "Connector files come from --dir (default LX_INTEGRATION_CONNECTORS_DIR)."
READS_SYNC = READS_LEANIX + " Also LX_STATE_* (run state), LX_BLOB_* (results). " + READS_DIR

sync_app = typer.Typer(
    help="Integration API runs of the connectors as code.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
processors_app = typer.Typer(
    help="Processor configurations as code: plan, apply, lint.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
connectors_app = typer.Typer(
    help="Connector files: validate them.", no_args_is_help=True, rich_markup_mode=None
)

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir", help="Folder of connector files (default: LX_INTEGRATION_CONNECTORS_DIR)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _fail(exc: Exception, code: int = 2) -> typer.Exit:
    from lx_cli.main import one_line

    console.print(f"[red]error:[/red] {one_line(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


def _registry(directory: Path | None) -> Registry:
    from lx_core import runtime
    from lx_core.integration.connectors import load_registry

    return load_registry(directory or runtime.connectors_dir())


def _print_errors(registry: Registry) -> None:
    for error in registry.errors:
        console.print(f"[red]invalid:[/red] {error}", highlight=False, soft_wrap=True)


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


# -- connectors -----------------------------------------------------------------------------


@connectors_app.command("validate", epilog=READS_DIR)
def connectors_validate(directory: DirOption = None, as_json: JsonOption = False) -> None:
    """Validate every connector file and its processor file; exit 1 if any is invalid."""
    registry = _registry(directory)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "valid": sorted(registry.connectors),
                    "invalid": [
                        {"file": e.file, "path": e.path, "rule": e.rule, "message": str(e)}
                        for e in registry.errors
                    ],
                }
            )
        )
    else:
        for name in sorted(registry.connectors):
            connector = registry.connectors[name]
            out.print(f"ok       {name}  ({connector.file})", highlight=False, soft_wrap=True)
        _print_errors(registry)
    if registry.errors:
        raise typer.Exit(code=1)


# -- processors -----------------------------------------------------------------------------


def _finding_line(finding: Finding) -> str:
    return (
        f"{finding.severity:7}  {finding.file}: {finding.path}: {finding.message} ({finding.rule})"
    )


@processors_app.command("lint", epilog=READS_DIR)
def processors_lint(
    directory: DirOption = None,
    strict: Annotated[bool, typer.Option(help="Fail on warnings too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Check processor files against LeanIX's best practices; exit 1 on errors."""
    from lx_core.jobs.processors_apply import lint_registry

    registry = _registry(directory)
    findings = lint_registry(registry)
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "file": f.file,
                        "path": f.path,
                        "rule": f.rule,
                        "severity": f.severity,
                        "message": f.message,
                    }
                    for f in findings
                ]
                + [  # a file that does not load is an error finding too
                    {
                        "file": e.file,
                        "path": e.path,
                        "rule": e.rule,
                        "severity": "error",
                        "message": str(e),
                    }
                    for e in registry.errors
                ]
            )
        )
    else:
        _print_errors(registry)
        for finding in findings:
            out.print(_finding_line(finding), highlight=False, soft_wrap=True)
        errors = sum(f.severity == "error" for f in findings)
        console.print(f"{errors} errors, {len(findings) - errors} warnings", highlight=False)
    failing = [f for f in findings if strict or f.severity == "error"]
    if failing or registry.errors:
        raise typer.Exit(code=1)


def processor_plans(
    directory: Path | None, name: str | None
) -> tuple[ProcessorsManager, list[ProcessorPlan]]:
    from lx_core import runtime
    from lx_core.jobs.processors_apply import ProcessorsManager

    registry = _registry(directory)
    _print_errors(registry)
    connectors = [c for n, c in sorted(registry.connectors.items()) if name is None or n == name]
    if name is not None and not connectors:
        raise _fail(ValueError(f"no valid connector named {name!r}"))
    manager = ProcessorsManager(runtime.leanix_client().integration)
    return manager, manager.plan(connectors)


def print_processor_plans(plans: list[ProcessorPlan], *, applied: bool) -> None:
    for plan in plans:
        key = plan.connector.identity.key
        if not plan.changed:
            out.print(f"= {plan.connector.name} ({key}): no change", highlight=False)
            continue
        verb = "written" if applied else "would change"
        out.print(f"~ {plan.connector.name} ({key}): {verb}", highlight=False, soft_wrap=True)
        for line in plan.diff.lines():
            out.print(f"    {line}", highlight=False, soft_wrap=True)


ConnectorArg = Annotated[str | None, typer.Argument(help="Only this connector.")]


@processors_app.command("plan", epilog=READS_LEANIX + " " + READS_DIR)
def processors_plan(name: ConnectorArg = None, directory: DirOption = None) -> None:
    """Show, per connector, how the workspace differs from the files; writes nothing."""
    from lx_core.errors import LxError

    try:
        _, plans = processor_plans(directory, name)
    except LxError as exc:
        raise _fail(exc) from None
    print_processor_plans(plans, applied=False)


@processors_app.command("apply", epilog=READS_LEANIX + " " + READS_DIR)
def processors_apply(name: ConnectorArg = None, directory: DirOption = None) -> None:
    """Upsert the configurations that differ; a second apply writes nothing."""
    from lx_core.errors import LxError

    try:
        manager, plans = processor_plans(directory, name)
        written = manager.apply(plans)
    except LxError as exc:
        raise _fail(exc) from None
    print_processor_plans(plans, applied=True)
    console.print(f"{len(written)} written, {len(plans) - len(written)} unchanged", highlight=False)


# -- sync -----------------------------------------------------------------------------------


def _outcome_line(record: OutcomeRecord | None) -> str:
    if record is None:
        return "-"
    verdict = "FAILED" if record.failed else "ok"
    return (
        f"{record.status} ({verdict}) {_when(record.finished_at)}, "
        f"{record.processed if record.processed is not None else '?'} processed, "
        f"{record.errors or 0} errors, {record.warnings or 0} warnings"
    )


@sync_app.command("list", epilog=READS_SYNC)
def sync_list(directory: DirOption = None, as_json: JsonOption = False) -> None:
    """Each connector: its schedule, its last outcome and any open run."""
    from lx_core import runtime
    from lx_core.errors import LxError
    from lx_core.jobs.sync_state import SyncStates

    registry = _registry(directory)
    try:
        store = runtime.state_store()
        states = SyncStates(store) if store is not None else None
        rows = []
        for name in sorted(registry.connectors):
            connector = registry.connectors[name]
            state = states.get(name)[0] if states is not None else None
            rows.append((connector, state))
    except LxError as exc:
        raise _fail(exc) from None
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "name": c.name,
                        "schedule": c.spec.schedule,
                        "direction": c.identity.processing_direction,
                        "phase": s.phase if s else None,
                        "runId": s.run_id if s and s.open else None,
                        "lastOutcome": s.last_outcome.model_dump(mode="json")
                        if s and s.last_outcome
                        else None,
                    }
                    for c, s in rows
                ]
            )
        )
        return
    table = Table(title="connectors")
    for column in ("name", "schedule", "direction", "open run", "last outcome"):
        table.add_column(column)
    for connector, state in rows:
        open_run = f"{state.phase} {state.run_id or ''}".strip() if state and state.open else "-"
        table.add_row(
            connector.name,
            connector.spec.schedule,
            connector.identity.processing_direction,
            open_run,
            _outcome_line(state.last_outcome if state else None),
        )
    out.print(table)
    _print_errors(registry)


@sync_app.command("run", epilog=READS_SYNC)
def sync_run(
    name: Annotated[str, typer.Argument(help="The connector's name.")],
    test: Annotated[bool, typer.Option(help="A test run: LeanIX changes nothing.")] = False,
    wait: Annotated[bool, typer.Option(help="Watch the run to its end, with progress.")] = False,
    timeout: Annotated[
        float, typer.Option(help="With --wait: give up watching after this many seconds.")
    ] = 3600.0,
    directory: DirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run one connector now (or keep watching its open run). Exit 1 if it failed by its
    policy, 3 if another instance holds it, 4 if --wait ran out of time."""
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from lx_core import runtime
    from lx_core.errors import LxError

    if directory is not None:
        os.environ["LX_INTEGRATION_CONNECTORS_DIR"] = str(directory)
    try:
        ticker = runtime.sync_ticker(name, owner=f"lx-cli-{os.getpid()}")
        budget = runtime.integration_settings().tick_invocation_seconds
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            console=console,
            transient=True,
            disable=as_json or not wait,
        )
        with progress:
            task = progress.add_task(f"{name}", total=None, detail="")

            def show(status: RunStatus, report: RunProgress | None) -> None:
                done = report.processed_content_count if report else None
                total = report.items_in_scope_count if report else None
                detail = (
                    f"{status.status}  warnings {(report.warnings_count if report else 0) or 0}"
                    f"  errors {(report.error_count if report else 0) or 0}"
                )
                progress.update(task, completed=done or 0, total=total, detail=detail)

            if wait:
                report = ticker.run_to_end(timeout_seconds=timeout, test=test, on_progress=show)
            else:
                report = ticker.tick(
                    start=True, test=test, trigger="manual", budget_seconds=min(budget, timeout)
                )
    except LxError as exc:
        raise _fail(exc) from None
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        line = f"{name}: {report.action}"
        if report.run_id:
            line += f", run {report.run_id}"
        if report.message:
            line += f" ({report.message})"
        out.print(line, highlight=False, soft_wrap=True)
        if report.outcome is not None:
            out.print(_outcome_line(report.outcome), highlight=False, soft_wrap=True)
            for reason in report.outcome.reasons:
                out.print(f"  failed: {reason}", highlight=False)
            if report.outcome.result_blob is not None:
                blob = report.outcome.result_blob
                out.print(f"  results: {blob.container}/{blob.name}", highlight=False)
    if report.action == "busy":
        raise typer.Exit(code=3)
    if report.outcome is not None and report.outcome.failed:
        raise typer.Exit(code=1)
    if wait and report.outcome is None:
        raise typer.Exit(code=4)


RunIdArg = Annotated[str, typer.Argument(help="The synchronization run's id.")]


@sync_app.command("status", epilog=READS_LEANIX)
def sync_status(run_id: RunIdArg, as_json: JsonOption = False) -> None:
    """One run's status and progress counts, read from LeanIX."""
    from lx_core import runtime
    from lx_core.errors import LxError

    try:
        api = runtime.leanix_client().integration
        status = api.status(run_id)
        progress = api.progress(run_id)
    except LxError as exc:
        raise _fail(exc) from None
    counts = progress.model_dump(mode="json", by_alias=True, exclude_none=True)
    info = {
        "id": status.id,
        "status": str(status.status),
        "description": status.description,
        "progress": counts,
    }
    if as_json:
        out.print_json(json.dumps(info))
        return
    out.print(f"{run_id}: {info['status']}", highlight=False)
    for key, value in counts.items():
        out.print(f"  {key}: {value}", highlight=False)


@sync_app.command("stop", epilog=READS_LEANIX)
def sync_stop(run_id: RunIdArg) -> None:
    """Ask LeanIX to stop a pending or running run; the watch tick records how it ended."""
    from lx_core import runtime
    from lx_core.errors import LxError

    try:
        runtime.leanix_client().integration.stop_run(run_id)
    except LxError as exc:
        raise _fail(exc) from None
    out.print(f"{run_id}: stop requested", highlight=False)
