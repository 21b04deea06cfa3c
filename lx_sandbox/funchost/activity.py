"""One log line per delivery, timer run and refused request, for whoever watches the host.

In the first hour with ``lx sandbox up`` the question is always "did my webhook arrive, and what
did the function make of it?". Each line answers that without a debugger: function, HTTP status
(or timer outcome), the ``factSheetId`` and ``status`` the function put in its JSON answer, and
the elapsed time. The same facts go into the record's ``extra`` fields for log processors.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

ACTIVITY_LOGGER = "lx_sandbox.funchost.activity"
log = logging.getLogger(ACTIVITY_LOGGER)

LINE_FORMAT = "%(asctime)s.%(msecs)03d %(message)s"
TIME_FORMAT = "%H:%M:%S"
_MAX_JSON_BYTES = 1 << 20  # bigger answers are not parsed just for a log line
_MAX_TEXT = 160
_KEY_IN_QUERY = re.compile(r"([?&]code=)[^&\s\"]*")


@dataclass(frozen=True)
class Outcome:
    """What a function's JSON answer says happened; every field is optional."""

    fact_sheet_id: str | None = None
    status: str | None = None
    detail: str | None = None  # "reason" (ignored events) or "error"


def read_outcome(body: bytes) -> Outcome:
    """``factSheetId``/``status``/``reason``/``error`` of a JSON object body; never raises."""
    if not body or len(body) > _MAX_JSON_BYTES:
        return Outcome()
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return Outcome()
    if not isinstance(data, dict):
        return Outcome()
    return Outcome(
        fact_sheet_id=one_line(data.get("factSheetId")),
        status=one_line(data.get("status", data.get("outcome"))),
        detail=one_line(data.get("reason", data.get("error"))),
    )


def one_line(value: object) -> str | None:
    """``value`` as short single-line text, so a client cannot forge extra log lines."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def redact(path: str) -> str:
    """Mask ``?code=`` function keys, as Azure's own logs do."""
    return _KEY_IN_QUERY.sub(r"\1***", path)


def log_delivery(
    function: str, http_status: int, body: bytes, elapsed_s: float, detail: str | None = None
) -> None:
    """Log one HTTP invocation of ``function`` from its answer ``body`` (JSON or not)."""
    outcome = read_outcome(body)
    elapsed_ms = round(elapsed_s * 1000)
    line = (
        f"{function}  HTTP {http_status}  status={outcome.status or '-'}  "
        f"factSheetId={outcome.fact_sheet_id or '-'}  {elapsed_ms} ms"
    )
    why = outcome.detail or detail
    if why:
        line += f"  ({why})"
    log.log(
        logging.WARNING if http_status >= 500 else logging.INFO,
        "%s",
        line,
        extra={
            "function": function,
            "http_status": http_status,
            "fact_sheet_id": outcome.fact_sheet_id,
            "outcome": outcome.status,
            "elapsed_ms": elapsed_ms,
        },
    )


def log_timer(
    function: str,
    outcome: str,
    trigger: str,
    elapsed_s: float,
    error: str | None = None,
    past_due: bool = False,
) -> None:
    """Log one timer run (``outcome`` is ok, error or skipped)."""
    elapsed_ms = round(elapsed_s * 1000)
    line = f"{function}  timer {outcome}  trigger={trigger}  {elapsed_ms} ms"
    if past_due:
        line += "  (past due)"
    if error:
        line += f"  ({one_line(error)})"
    log.log(
        logging.INFO if outcome == "ok" else logging.WARNING,
        "%s",
        line,
        extra={
            "function": function,
            "outcome": outcome,
            "trigger": trigger,
            "elapsed_ms": elapsed_ms,
        },
    )


def log_refusal(http_status: int, method: str, path: str, reason: str) -> None:
    """Log a request the host answered itself (no route, no key, bad framing, too slow)."""
    log.warning(
        "%s",
        f"-  HTTP {http_status}  {one_line(method)} {one_line(redact(path))}  ({one_line(reason)})",
        extra={"function": None, "http_status": http_status},
    )


class LineHandler(logging.Handler):
    """Hands each formatted record to ``write`` (a console's print, a list's append)."""

    def __init__(self, write: Callable[[str], None], level: int = logging.INFO) -> None:
        super().__init__(level)
        self._write = write
        self.setFormatter(logging.Formatter(LINE_FORMAT, datefmt=TIME_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(self.format(record))
        except Exception:
            self.handleError(record)


@contextmanager
def printed_to(write: Callable[[str], None]) -> Iterator[LineHandler]:
    """Send activity lines (INFO and up) to ``write`` only, while the block runs."""
    handler = LineHandler(write)
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]
