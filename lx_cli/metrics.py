"""`lx metrics`: take the data-quality snapshot now; draw a schema's last 30 days."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from lx_cli._output import JsonOption, console, fail, out

READS = "Reads LEANIX_*, LX_METRICS_* (types, schema names), TIME_* and LX_STATE_* (the ledger)."
metrics_app = typer.Typer(
    help="Metrics v2: the daily data-quality snapshot and its trend.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
_BARS = "▁▂▃▄▅▆▇█"


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--date") from None


@metrics_app.command("snapshot", epilog=READS)
def snapshot(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Measure and show; write no point.")
    ] = False,
    day: Annotated[
        str | None, typer.Option("--date", help="The day the points carry (YYYY-MM-DD, UTC).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Measure every configured type in one paged read each and write today's points."""
    from lx_core import runtime
    from lx_core.errors import LxError

    when = _day(day)
    try:
        with console.status("measuring", spinner="dots") if not as_json else _Quiet():
            report = runtime.metrics_snapshot(dry_run=dry_run).run(day=when)
    except LxError as exc:
        raise fail(exc) from None
    body = report.to_json()
    body["dryRun"] = dry_run
    if as_json:
        out.print_json(json.dumps(body))
        return
    if report.busy:
        out.print("another run holds the snapshot's lease; nothing written")
        raise typer.Exit(code=1)
    table = Table("type", "count", "completion %", "broken seal", "no owner", "past EOL")
    for item in body["types"]:
        table.add_row(
            item["factSheetType"],
            str(item["count"]),
            f"{item['meanCompletion']:g}",
            str(item["brokenQualitySeal"]),
            str(item["withoutOwner"]),
            str(item["pastEndOfLife"]),
        )
    out.print(table)
    for name, outcomes in body["written"].items():
        counts: dict[str, int] = defaultdict(int)
        for outcome in outcomes.values():
            counts[outcome] += 1
        shown = ", ".join(f"{n} {o}" for o, n in sorted(counts.items())) or "no points"
        out.print(f"{name} for {body['day']}: {shown}", highlight=False)


class _Quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


def spark(values: list[float | None]) -> str:
    """One character per day: a bar scaled between the smallest and largest value; a space
    for a day without a point."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    out_chars = []
    for value in values:
        if value is None:
            out_chars.append(" ")
        else:
            index = 0 if span == 0 else round((value - low) / span * (len(_BARS) - 1))
            out_chars.append(_BARS[index])
    return "".join(out_chars)


@metrics_app.command("show", epilog=READS)
def show(
    schema: Annotated[str, typer.Argument(help="The schema's name.")],
    metric: Annotated[
        str | None, typer.Option("--metric", help="Which metric (default: the first).")
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=366)] = 30,
    as_json: JsonOption = False,
) -> None:
    """The last days of one metric as a small chart, one row per dimension value."""
    from lx_core import runtime
    from lx_core.errors import LxError
    from lx_core.leanix.metrics import parse_timestamp

    client = runtime.leanix_client()
    try:
        found = client.metrics.schema(schema)
        if found is None:
            raise fail(ValueError(f"no metrics schema named {schema!r}"))
        metrics = sorted(found.names("metric"))
        chosen = metric or (metrics[0] if metrics else "")
        if chosen not in metrics:
            raise fail(ValueError(f"the schema has no metric {chosen!r}; it has {metrics}"))
        today = datetime.now(UTC).date()
        first = today - timedelta(days=days - 1)
        start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        points = client.metrics.points(found.uuid, start=start, end=start + timedelta(days=days))
    except LxError as exc:
        raise fail(exc) from None
    dimensions = sorted(found.names("dimension"))
    series: dict[str, dict[date, float]] = defaultdict(dict)
    for point in points:
        moment = parse_timestamp(str(point.get("timestamp", "")))
        value = point.get(chosen)
        if moment is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        label = " ".join(str(point.get(d, "")) for d in dimensions) or chosen
        series[label][moment.date()] = float(value)
    axis = [first + timedelta(days=i) for i in range(days)]
    if as_json:
        body: dict[str, Any] = {
            "schema": schema,
            "metric": chosen,
            "days": [d.isoformat() for d in axis],
            "series": {k: [v.get(d) for d in axis] for k, v in sorted(series.items())},
        }
        out.print_json(json.dumps(body))
        return
    if not series:
        out.print(f"{schema}.{chosen}: no points in the last {days} days", highlight=False)
        return
    table = Table("", f"{chosen}, {axis[0]} … {axis[-1]}", "last")
    for label, by_day in sorted(series.items()):
        values = [by_day.get(d) for d in axis]
        last = next((v for v in reversed(values) if v is not None), None)
        table.add_row(label, spark(values), "-" if last is None else f"{last:g}")
    out.print(table)
