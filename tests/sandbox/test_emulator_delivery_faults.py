"""PUSH delivery faults: delay, duplicates, reordering, and redelivery honouring Retry-After."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.sandbox.conftest import WEBHOOKS, Api

JsonDict = dict[str, Any]
RENAME = """mutation ($id: ID!, $n: String) { updateFactSheet(id: $id,
  patches: [{op: replace, path: "/name", value: $n}]) { factSheet { rev } } }"""


@dataclass
class Scripted:
    """A PUSH target that answers from a script of (status, headers), then 200; with times."""

    url: str = ""
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    arrivals: list[tuple[float, JsonDict, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def names(self) -> list[str]:
        """Fact sheet names of the requests answered with 2xx, in arrival order."""
        return [body["factSheet"]["name"] for _, body, status in self.arrivals if status < 300]

    def wait(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.01)


@pytest.fixture
def target() -> Iterator[Scripted]:
    scripted = Scripted()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            with scripted.lock:
                status, headers = scripted.script.pop(0) if scripted.script else (200, {})
                scripted.arrivals.append((time.monotonic(), body, status))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scripted.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield scripted
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _subscribe(api: Api, url: str) -> None:
    body = {
        "identifier": "faults",
        "deliveryType": "PUSH",
        "tagSets": [["pathfinder", "FACT_SHEET_UPDATED"]],
        "targetUrl": url,
        "targetMethod": "POST",
        "ignoreError": False,
        "payloadMode": "DEFAULT",
    }
    assert api.rest("POST", f"{WEBHOOKS}/subscriptions", json=body).status_code == 200


def _rename(api: Api, name: str) -> float:
    app_id = api.admin("GET", "/factsheets?type=Application&limit=1")["factSheets"][0]["id"]
    api.data(RENAME, {"id": app_id, "n": name})
    return time.monotonic()


def _idle(api: Api) -> list[JsonDict]:
    assert api.admin("POST", "/deliveries/wait?timeout=10")["idle"] is True
    log: list[JsonDict] = api.admin("GET", "/deliveries")["deliveries"]
    return log


def test_delay_holds_the_first_attempt(emu: Api, target: Scripted) -> None:
    _subscribe(emu, target.url)
    emu.admin("PUT", "/faults", json={"delivery": {"delayMs": 300, "delayJitterMs": 100}})
    sent = _rename(emu, "late")
    log = _idle(emu)
    arrived = target.arrivals[0][0]
    assert 0.3 <= arrived - sent < 1.0
    assert len(log) == 1 and log[0]["fault"] == "delay" and log[0]["faults"] == ["delay"]
    assert 300 <= log[0]["heldMs"] <= 400
    assert emu.admin("GET", "/stats")["deliveries"]["delayed"] == 1


def test_duplicates_deliver_the_same_event_twice(emu: Api, target: Scripted) -> None:
    _subscribe(emu, target.url)
    emu.admin("PUT", "/faults", json={"delivery": {"duplicateNext": 1}})
    _rename(emu, "twice")
    _rename(emu, "once")
    log = _idle(emu)
    assert sorted(target.names()) == ["once", "twice", "twice"]
    twice = [b for _, b, _ in target.arrivals if b["factSheet"]["name"] == "twice"]
    assert twice[0] == twice[1]  # the same payload, same id: a true duplicate
    assert sorted(d["fault"] or "" for d in log) == ["", "", "duplicate"]
    assert emu.admin("GET", "/stats")["deliveries"]["duplicated"] == 1
    emu.admin("PUT", "/faults", json={"delivery": {"duplicateRate": 1.0}})
    _rename(emu, "always")
    _idle(emu)
    assert target.names().count("always") == 2


def test_reorder_lets_later_events_overtake(emu: Api, target: Scripted) -> None:
    _subscribe(emu, target.url)
    emu.admin("PUT", "/faults", json={"delivery": {"reorderNext": 1, "reorderWindowMs": 400}})
    _rename(emu, "first")
    _rename(emu, "second")
    _rename(emu, "third")
    log = _idle(emu)
    names = target.names()  # the two unheld ones race each other (concurrent workers)
    assert names[-1] == "first" and sorted(names[:2]) == ["second", "third"]
    held = next(d for d in log if d["fault"] == "reorder")
    assert held["payload"]["factSheet"]["name"] == "first" and held["heldMs"] == 400
    assert emu.admin("GET", "/stats")["deliveries"]["reordered"] == 1


def test_reorder_by_rate_is_reproducible_by_seed(emu: Api, target: Scripted) -> None:
    faults = {"seed": 5, "delivery": {"reorderRate": 0.5, "reorderWindowMs": 200}}

    def run() -> list[str]:
        emu.admin("POST", "/reset")
        target.arrivals.clear()
        _subscribe(emu, target.url)
        emu.admin("PUT", "/faults", json=faults)
        for i in range(8):
            _rename(emu, f"n{i}")
        log = _idle(emu)
        return [str(d["heldMs"] > 0) for d in sorted(log, key=lambda d: d["payload"]["id"])]

    first = run()
    assert run() == first
    assert 1 <= first.count("True") <= 7


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_redelivery_waits_for_the_targets_retry_after(
    emu: Api, target: Scripted, form: str
) -> None:
    emu.admin("PUT", "/config", json={"delivery": {"maxBackoffSeconds": 5}})
    _subscribe(emu, target.url)
    # An HTTP-date has whole seconds, and the 503 is answered some time after it
    # is written: leave room for both, then check the wait matches the date.
    value = "1" if form == "seconds" else formatdate(math.ceil(time.time()) + 3, usegmt=True)
    most = 1.0 if form == "seconds" else 4.0
    target.script = [(503, {"Retry-After": value})]
    _rename(emu, "wait for me")
    target.wait(2)
    log = _idle(emu)
    gap = target.arrivals[1][0] - target.arrivals[0][0]
    assert [d["httpStatus"] for d in log] == [503, 200]
    assert log[0]["retryAfterHonoured"] is True
    wait = log[0]["retryInSeconds"]
    assert 0.9 <= wait <= most and wait - 0.1 <= gap < wait + 1.5
    assert log[0]["retryInSeconds"] == log[0]["retryAfterSeconds"]
    assert log[1]["retryAfterSeconds"] is None  # a 200 asks for nothing
    assert emu.admin("GET", "/stats")["deliveries"]["retryAfterHonoured"] == 1


def test_retry_after_is_capped_and_never_shortens_the_backoff(emu: Api, target: Scripted) -> None:
    emu.admin(
        "PUT", "/config", json={"delivery": {"backoffSeconds": 0.3, "maxBackoffSeconds": 0.4}}
    )
    _subscribe(emu, target.url)
    target.script = [(503, {"Retry-After": "30"}), (503, {"Retry-After": "0"})]
    _rename(emu, "capped")
    target.wait(3)
    log = _idle(emu)
    assert [d["httpStatus"] for d in log] == [503, 503, 200]
    assert log[0]["retryInSeconds"] == 0.4 and log[0]["retryAfterHonoured"] is True
    assert log[0]["retryAfterSeconds"] == 30 and log[1]["retryAfterSeconds"] == 0
    assert log[1]["retryInSeconds"] == 0.4 and log[1]["retryAfterHonoured"] is False  # 0.6 capped
    assert log[2]["retryInSeconds"] is None


def test_default_cap_keeps_a_real_world_retry_after_short(
    emu_private: Callable[..., Api], target: Scripted
) -> None:
    """A target's "Retry-After: 60" (what a function answers during an outage) is honoured up
    to ``delivery.maxBackoffSeconds``, 5 s by default, so end-to-end tests stay fast."""
    api = emu_private()
    _subscribe(api, target.url)
    target.script = [(503, {"Retry-After": "60"})]
    _rename(api, "outage")
    target.wait(1)
    deadline = time.monotonic() + 5
    log: list[JsonDict] = []
    while not log and time.monotonic() < deadline:
        log = api.admin("GET", "/deliveries")["deliveries"]
    assert log[0]["httpStatus"] == 503 and log[0]["retryAfterSeconds"] == 60
    assert log[0]["retryInSeconds"] == 5.0 and log[0]["retryAfterHonoured"] is True
