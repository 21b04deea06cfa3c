"""One activity line per delivery, timer run and host refusal, as `lx sandbox up` shows them."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from lx_sandbox.funchost import FunctionsHost, HostLimits
from lx_sandbox.funchost.activity import ACTIVITY_LOGGER, Outcome, printed_to, read_outcome
from tests.sandbox.funchost_app import blueprints
from tests.sandbox.funchost_app.harness import (
    FUNCTION_KEY,
    RARE_SCHEDULE,
    restored_environ,
    running_host,
)

# Answers shaped like functions/_http.py's and time_webhook's JSON, plus non-JSON ones.
WEBHOOK_APP = textwrap.dedent(
    """
    import json

    import azure.functions as func

    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


    def _json(body: object, status: int = 200) -> func.HttpResponse:
        return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


    @app.route(route="changed", methods=["POST"])
    def changed(req: func.HttpRequest) -> func.HttpResponse:
        return _json({"status": "changed", "factSheetId": "fs-1", "classification": "invest"})


    @app.route(route="ignored", methods=["POST"])
    def ignored(req: func.HttpRequest) -> func.HttpResponse:
        return _json({"status": "ignored", "factSheetId": "fs-2", "reason": "not\\nan App"})


    @app.route(route="refused", methods=["POST"])
    def refused(req: func.HttpRequest) -> func.HttpResponse:
        return _json({"error": "body is not valid JSON"}, 400)


    @app.route(route="text")
    def text(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("plain text, not JSON")


    @app.route(route="array")
    def array(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("[1, 2]", mimetype="application/json")


    @app.route(route="boom")
    def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("no")
    """
)
LINE = re.compile(
    r"(?P<fn>\S+)  HTTP (?P<code>\d{3})  status=(?P<status>\S+)  "
    r"factSheetId=(?P<fs>\S+)  (?P<ms>\d+) ms(?:  \((?P<detail>.*)\))?$"
)


@pytest.fixture(autouse=True)
def funchost_env() -> Iterator[None]:
    saved_path = list(sys.path)
    with restored_environ():
        os.environ["TEST_TIMER_SCHEDULE"] = RARE_SCHEDULE
        blueprints.TIMER_FAIL = False
        yield
        blueprints.TIMER_FAIL = False
    sys.path[:] = saved_path


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=ACTIVITY_LOGGER)
    return caplog


@pytest.fixture
def webhook_host(tmp_path: Path) -> Iterator[FunctionsHost]:
    (tmp_path / "activity_app.py").write_text(WEBHOOK_APP, encoding="utf-8")
    with FunctionsHost(
        "activity_app", app_dir=tmp_path, settings_file=tmp_path / "none.json", run_timers=False
    ) as host:
        yield host


def activity(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACTIVITY_LOGGER]


def only_line(caplog: pytest.LogCaptureFixture) -> re.Match[str]:
    records = activity(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    match = LINE.match(records[0].getMessage())
    assert match, records[0].getMessage()
    return match


def test_delivery_line_has_function_status_fact_sheet_and_time(
    webhook_host: FunctionsHost, lines: pytest.LogCaptureFixture
) -> None:
    assert requests.post(f"{webhook_host.url}/api/changed", data=b"{}", timeout=5).ok
    line = only_line(lines)
    assert line.group("fn", "code", "status", "fs") == ("changed", "200", "changed", "fs-1")
    record = activity(lines)[0]
    assert record.levelno == logging.INFO
    fields = {k: record.__dict__[k] for k in ("function", "http_status", "fact_sheet_id")}
    assert fields == {"function": "changed", "http_status": 200, "fact_sheet_id": "fs-1"}
    assert record.__dict__["outcome"] == "changed"
    assert isinstance(record.__dict__["elapsed_ms"], int)


def test_reason_is_shown_and_cannot_forge_a_second_line(
    webhook_host: FunctionsHost, lines: pytest.LogCaptureFixture
) -> None:
    requests.post(f"{webhook_host.url}/api/ignored", data=b"{}", timeout=5)
    line = only_line(lines)
    assert line.group("status", "fs", "detail") == ("ignored", "fs-2", "not an App")
    assert "\n" not in activity(lines)[0].getMessage()


def test_error_answer_shows_its_error(
    webhook_host: FunctionsHost, lines: pytest.LogCaptureFixture
) -> None:
    requests.post(f"{webhook_host.url}/api/refused", data=b"x", timeout=5)
    line = only_line(lines)
    assert line.group("code", "status", "detail") == ("400", "-", "body is not valid JSON")


@pytest.mark.parametrize("route", ["text", "array"])
def test_non_json_or_non_object_answers_are_logged_without_fields(
    webhook_host: FunctionsHost, lines: pytest.LogCaptureFixture, route: str
) -> None:
    assert requests.get(f"{webhook_host.url}/api/{route}", timeout=5).ok
    line = only_line(lines)
    assert line.group("fn", "code", "status", "fs") == (route, "200", "-", "-")


def test_failing_function_is_a_warning_line(
    webhook_host: FunctionsHost, lines: pytest.LogCaptureFixture
) -> None:
    assert requests.get(f"{webhook_host.url}/api/boom", timeout=5).status_code == 500
    assert only_line(lines).group("fn", "code") == ("boom", "500")
    assert activity(lines)[0].levelno == logging.WARNING


def test_missing_key_and_unknown_route_are_logged(
    tmp_path: Path, lines: pytest.LogCaptureFixture
) -> None:
    with running_host(tmp_path / "none.json") as host:
        requests.post(f"{host.url}/api/items/1", timeout=5)
        requests.get(f"{host.url}/api/nope?code={FUNCTION_KEY}", timeout=5)
    first, second = (r.getMessage() for r in activity(lines))
    assert LINE.match(first) and first.startswith("echo  HTTP 401")
    assert "(missing or wrong key)" in first
    assert second.startswith("-  HTTP 404  GET /api/nope")
    assert FUNCTION_KEY not in second


def test_host_refusals_are_logged_without_the_key(
    tmp_path: Path, lines: pytest.LogCaptureFixture
) -> None:
    with running_host(tmp_path / "none.json", limits=HostLimits(max_body_bytes=10)) as host:
        response = requests.post(
            f"{host.url}/api/items/1?code={FUNCTION_KEY}", data=b"x" * 11, timeout=5
        )
    assert response.status_code == 413
    (message,) = (r.getMessage() for r in activity(lines))
    assert message.startswith("-  HTTP 413  POST /api/items/1?code=***")
    assert FUNCTION_KEY not in message


def test_timer_runs_are_logged_with_their_outcome(
    tmp_path: Path, lines: pytest.LogCaptureFixture
) -> None:
    with running_host(tmp_path / "none.json") as host:
        host.fire("tick")
        blueprints.TIMER_FAIL = True
        host.fire("tick")
    ok, failed = (r.getMessage() for r in activity(lines))
    assert re.fullmatch(r"tick  timer ok  trigger=manual  \d+ ms", ok)
    assert re.fullmatch(
        r"tick  timer error  trigger=manual  \d+ ms  \(ValueError: tick failed on purpose\)",
        failed,
    )


def test_printed_lines_carry_the_time_and_the_logger_is_restored(
    webhook_host: FunctionsHost,
) -> None:
    logger = logging.getLogger(ACTIVITY_LOGGER)
    before = (logger.level, logger.propagate, list(logger.handlers))
    printed: list[str] = []
    with printed_to(printed.append):
        requests.post(f"{webhook_host.url}/api/changed", data=b"{}", timeout=5)
    assert len(printed) == 1
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} changed  HTTP 200  status=changed  factSheetId=fs-1  \d+ ms",
        printed[0],
    )
    assert (logger.level, logger.propagate, list(logger.handlers)) == before


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        (b'{"status": "unchanged", "factSheetId": "a"}', Outcome("a", "unchanged")),
        (b'{"status": "ignored", "reason": "own event"}', Outcome(None, "ignored", "own event")),
        (b'{"error": "x"}', Outcome(None, None, "x")),
        (b'{"outcome": "done"}', Outcome(None, "done")),
        (b"", Outcome()),
        (b"not json", Outcome()),
        (b"\xff\xfe", Outcome()),
        (b'"a string"', Outcome()),
        (b"[" * 100_000, Outcome()),
        (json.dumps({"status": "x" * 500}).encode(), Outcome(None, "x" * 159 + "…")),
    ],
    ids=[
        "webhook",
        "reason",
        "error",
        "outcome",
        "empty",
        "text",
        "bad-utf8",
        "string",
        "deep",
        "long",
    ],
)
def test_read_outcome(body: bytes, outcome: Outcome) -> None:
    assert read_outcome(body) == outcome
