"""`lx surveys`: the surveys with their runs and result counts; (re)score one survey now."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lx_cli._output import JsonOption, console, fail, out

if TYPE_CHECKING:
    from lx_core.jobs.survey_scoring import SurveyScorer
    from lx_core.surveys.model import ScoringModel


READS = (
    "Reads LEANIX_* (the workspace), LX_SURVEY_MODELS_DIR (the scoring models) and, for the "
    "metric target and the timer's ledger, LX_STATE_*."
)
surveys_app = typer.Typer(
    help="Survey scoring: scores, bands and explanations on fact sheets from survey answers.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _scorer(*, dry_run: bool = False) -> SurveyScorer:
    from lx_core import runtime

    return runtime.survey_scorer(dry_run=dry_run)


@surveys_app.command("list", epilog=READS)
def list_surveys(as_json: JsonOption = False) -> None:
    """Every survey with its runs: status and results submitted of all."""
    from lx_core.errors import LxError

    try:
        scorer = _scorer()
        surveys = scorer.client.surveys
        rows: list[dict[str, Any]] = []
        for poll in surveys.polls():
            model = scorer.model_for(poll)
            runs = []
            for run in surveys.runs(poll.id):
                results = surveys.results(run.id)
                runs.append(
                    {
                        "id": run.id,
                        "status": run.status,
                        "results": len(results),
                        "submitted": sum(1 for r in results if r.done),
                    }
                )
            rows.append(
                {
                    "id": poll.id,
                    "title": poll.title,
                    "model": None if model is None else model.version,
                    "runs": runs,
                }
            )
    except LxError as exc:
        raise fail(exc) from None
    if as_json:
        out.print_json(json.dumps({"surveys": rows}))
        return
    table = Table("survey", "id", "model", "run", "status", "submitted")
    from lx_cli.main import one_line

    for row in rows:
        shown = "-" if row["model"] is None else f"v{row['model']}"
        if not row["runs"]:
            table.add_row(one_line(row["title"], 60), row["id"], shown, "-", "-", "-")
        for i, run in enumerate(row["runs"]):
            table.add_row(
                one_line(row["title"], 60) if i == 0 else "",
                row["id"] if i == 0 else "",
                shown if i == 0 else "",
                run["id"],
                str(run["status"]),
                f"{run['submitted']} of {run['results']}",
            )
    out.print(table)


def _model_named(scorer: SurveyScorer, survey: str) -> ScoringModel:
    from lx_core.errors import ConfigurationError

    for model in scorer.models:
        if survey in (model.survey.poll_id, model.survey.title):
            return model
    known = sorted(m.survey.poll_id or m.survey.title or "" for m in scorer.models)
    raise ConfigurationError(f"no scoring model names the survey {survey!r}; models: {known}")


@surveys_app.command("score", epilog=READS)
def score_survey(
    survey: Annotated[
        str, typer.Argument(help="The survey: its poll id or title, as a model names it.")
    ],
    run: Annotated[str | None, typer.Option("--run", help="Only this run's results.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Score and show what would change; write nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """(Re)score every result of a survey: after a model change, or to repair by hand."""
    from lx_core.errors import LxError
    from lx_core.jobs.survey_scoring import ResultOutcome

    try:
        scorer = _scorer(dry_run=dry_run)
        model = _model_named(scorer, survey)
        with Progress(
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as progress:
            task = progress.add_task("results", total=None)

            def tick(_outcome: ResultOutcome) -> None:
                progress.advance(task)

            summary = scorer.rescore(model, run_id=run, progress=tick)
    except LxError as exc:
        raise fail(exc) from None
    report = summary.to_json()
    report["dryRun"] = dry_run
    if as_json:
        report["outcomes"] = [o.to_json() for o in summary.outcomes]
        out.print_json(json.dumps(report))
        return
    from lx_cli.main import one_line

    verb = "would change" if dry_run else "changed"
    out.print(
        f"{report['results']} results under model v{model.version}: {report['changed']} {verb}, "
        f"{report['unchanged']} unchanged, {report['unscorable']} unscorable, "
        f"{report['skipped']} skipped, {report['gone']} gone",
        highlight=False,
    )
    changed = [o for o in summary.outcomes if o.status in ("changed", "unscorable")]
    if changed:
        table = Table("fact sheet", "status", "score", "band", "writes", "reason")
        for o in changed:
            table.add_row(
                one_line(o.fact_sheet_name or o.fact_sheet_id, 50),
                o.status,
                "-" if o.score is None else f"{o.score:g}",
                o.band or "-",
                ", ".join(o.writes) or "-",
                one_line(o.reason or "", 80),
            )
        out.print(table)
