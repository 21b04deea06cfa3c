"""The deploy smoke test (`python -m lx_cli.smoke`, run by deploy.yml) as a subprocess.

Against the local functions host serving function_app.py it passes, listing the functions through
the host's `GET /admin/functions`. It fails, within a short timeout, when a function did not load
or is disabled. Against a stand-in host it fails at once on a route that answers without a key,
and at the deadline on a route that is not there. It also reads an `az`-style listing from a
command. The expected names and routes are read here through tests/indexed_app.py, not through
the script, so a script that expected too little would fail these tests too.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from lx_sandbox.funchost import FunctionsHost
from tests.indexed_app import indexed_functions

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_KEY = "smoke-test-function-key"
MASTER_KEY = "smoke-test-master-key"
KEY_ENV = "LX_SMOKE_TEST_MASTER_KEY"
#: The timer schedules the deployed app gets as app settings (main.bicep).
APP_SETTINGS = {
    "TIME_RECONCILE_SCHEDULE": "0 30 2 * * *",
    "TIME_RECONCILE_RESUME_SCHEDULE": "0 */5 * * * *",
}
#: Quick runs: the script's defaults (600 s, 10 s) are for a real deployment.
FAST = ("--timeout", "2", "--interval", "0.2")


def _names() -> list[str]:
    return sorted(indexed_functions())


def _routes() -> list[str]:
    """``/api/<route>`` of every HTTP function (all of this app's are POST)."""
    routes = []
    for function in indexed_functions().values():
        if function.is_http_function():
            trigger = function.get_trigger()
            assert trigger is not None
            routes.append("/api/" + str(trigger.get_dict_repr()["route"]))
    return sorted(routes)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    seconds: float


def _smoke(*args: str, env: Mapping[str, str] | None = None) -> Ran:
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - this interpreter and fixed arguments
        [sys.executable, "-m", "lx_cli.smoke", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def _against(host: FunctionsHost, *args: str) -> Ran:
    return _smoke(
        "--base-url",
        host.url,
        "--functions-url",
        f"{host.url}/admin/functions",
        "--admin-key-env",
        KEY_ENV,
        *args,
        env={KEY_ENV: MASTER_KEY},
    )


@contextmanager
def _local_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **changes: str | None
) -> Iterator[FunctionsHost]:
    """The local host serving function_app.py with the deployed app's timer settings, changed
    by ``changes`` (``None`` removes a setting)."""
    for name, value in {**APP_SETTINGS, **changes}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with FunctionsHost(
        "function_app",
        app_dir=ROOT,
        settings_file=tmp_path / "absent-local.settings.json",
        function_key=FUNCTION_KEY,
        master_key=MASTER_KEY,
        run_timers=False,
    ) as host:
        yield host


# -- the host's listing ----------------------------------------------------------------------


def test_admin_functions_lists_every_loaded_function_to_the_master_key_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with _local_host(monkeypatch, tmp_path) as host:
        base = host.url
        url = f"{base}/admin/functions"
        assert requests.get(url, timeout=5).status_code == 401
        for key in (FUNCTION_KEY, "wrong"):
            assert requests.get(url, headers={"x-functions-key": key}, timeout=5).status_code == 401
        response = requests.get(url, headers={"x-functions-key": MASTER_KEY}, timeout=5)
        assert requests.get(url, params={"code": MASTER_KEY}, timeout=5).json() == response.json()
    assert response.status_code == 200
    listing = response.json()
    assert [entry["name"] for entry in listing] == _names()
    assert all(entry["isDisabled"] is False for entry in listing)
    assert all(entry["language"] == "python" for entry in listing)
    invoke = {e["name"]: e.get("invoke_url_template") for e in listing}
    assert invoke["time_webhook"] == f"{base}/api/leanix/time"
    assert invoke["relay"] is None  # timers have no URL
    time_webhook = next(e for e in listing if e["name"] == "time_webhook")
    assert time_webhook["config"]["bindings"][0]["type"] == "httpTrigger"


def test_admin_functions_marks_a_disabled_function(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with _local_host(monkeypatch, tmp_path, **{"AzureWebJobs.relay.Disabled": "true"}) as host:
        listing = requests.get(
            f"{host.url}/admin/functions", headers={"x-functions-key": MASTER_KEY}, timeout=5
        ).json()
    disabled = {e["name"]: e["isDisabled"] for e in listing}
    assert disabled.pop("relay") is True
    assert set(disabled.values()) == {False}


# -- the smoke script against the local host -------------------------------------------------


def test_smoke_passes_against_the_local_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with _local_host(monkeypatch, tmp_path) as host:
        ran = _against(host, *FAST)
    assert ran.code == 0, ran.out + ran.err
    lines = ran.out.splitlines()
    for name in _names():
        assert f"ok   function {name}" in lines
    for path in _routes():
        assert f"ok   route POST {path}: 401" in lines
    assert len(_routes()) == 6
    assert lines[-1] == (
        f"smoke: OK: {len(_names())}/{len(_names())} functions listed, "
        "6/6 routes answer 401 without credentials"
    )
    assert "FAIL" not in ran.out
    assert MASTER_KEY not in ran.out + ran.err


def test_smoke_fails_when_a_function_did_not_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Without its schedule setting the reconcile timer cannot be indexed, as on Azure.
    with _local_host(monkeypatch, tmp_path, TIME_RECONCILE_SCHEDULE=None) as host:
        assert set(host.errors) == {"time_reconcile"}
        ran = _against(host, *FAST)
    assert ran.code == 1, ran.out + ran.err
    assert "FAIL function time_reconcile: not listed" in ran.out
    assert "ok   function time_reconcile_resume" in ran.out
    assert ran.out.splitlines()[-1].startswith(
        f"smoke: FAILED: {len(_names()) - 1}/{len(_names())} functions listed"
    )
    assert "wait " in ran.out  # it polled before giving up
    assert ran.seconds < 15


def test_smoke_fails_when_a_function_is_disabled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with _local_host(monkeypatch, tmp_path, **{"AzureWebJobs.relay.Disabled": "true"}) as host:
        ran = _against(host, *FAST)
    assert ran.code == 1, ran.out + ran.err
    assert "FAIL function relay: listed but disabled" in ran.out
    assert ran.seconds < 15


def test_smoke_fails_when_the_listing_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with _local_host(monkeypatch, tmp_path) as host:
        ran = _smoke(
            "--base-url", host.url, "--functions-url", f"{host.url}/admin/functions", *FAST
        )
    assert ran.code == 1, ran.out + ran.err
    assert "not listed (http://127.0.0.1:" in ran.out
    assert "/admin/functions answered 401)" in ran.out


# -- the smoke script against a stand-in host ------------------------------------------------


@contextmanager
def _stand_in(statuses: Mapping[str, int]) -> Iterator[str]:
    """A host that lists every function of the app and answers POST to a path with
    ``statuses[path]`` (default 401); yields its base URL."""
    listing = json.dumps([{"name": name, "isDisabled": False} for name in _names()]).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(200 if self.path == "/admin/functions" else 404, listing)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(statuses.get(self.path, 401), b"{}")

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_smoke_fails_at_once_on_a_route_open_without_credentials() -> None:
    with _stand_in({"/api/leanix/survey": 200}) as url:
        ran = _smoke(
            "--base-url", url, "--functions-url", f"{url}/admin/functions", "--timeout", "30"
        )
    assert ran.code == 1, ran.out + ran.err
    assert (
        "FAIL route POST /api/leanix/survey: answered 200 without credentials, not 401" in ran.out
    )
    assert "ok   route POST /api/leanix/time: 401" in ran.out
    assert ran.out.splitlines()[-1].endswith("5/6 routes answer 401 without credentials")
    assert ran.seconds < 10  # not retried until the 30 s deadline


def test_smoke_retries_a_missing_route_until_the_deadline() -> None:
    with _stand_in({"/api/leanix/time": 404}) as url:
        ran = _smoke("--base-url", url, "--functions-url", f"{url}/admin/functions", *FAST)
    assert ran.code == 1, ran.out + ran.err
    assert "FAIL route POST /api/leanix/time: answered 404 without credentials" in ran.out
    assert 2 <= ran.seconds < 15


def _listing_command(tmp_path: Path, body: str) -> str:
    script = tmp_path / "list_functions.py"
    script.write_text(body, encoding="utf-8")
    return shlex.join([sys.executable, str(script)])


def test_smoke_reads_the_az_listing_from_a_command(tmp_path: Path) -> None:
    # `az functionapp function list -o json` names each function "<app>/<function>".
    listing = [{"name": f"func-lxfn-abc/{name}", "isDisabled": False} for name in _names()]
    command = _listing_command(tmp_path, f"print({json.dumps(json.dumps(listing))})")
    with _stand_in({}) as url:
        ran = _smoke("--base-url", url, "--functions-command", command, *FAST)
    assert ran.code == 0, ran.out + ran.err
    assert "ok   function time_webhook" in ran.out


def test_smoke_fails_when_the_listing_command_fails(tmp_path: Path) -> None:
    command = _listing_command(
        tmp_path,
        "import sys\nprint('ERROR: (AuthorizationFailed) no access', file=sys.stderr)\n"
        "sys.exit(3)\n",
    )
    with _stand_in({}) as url:
        ran = _smoke("--base-url", url, "--functions-command", command, *FAST)
    assert ran.code == 1, ran.out + ran.err
    assert "exited 3: ERROR: (AuthorizationFailed) no access" in ran.out
    assert "FAIL function time_webhook: not listed" in ran.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--functions-url", "http://127.0.0.1:9/x", "--admin-key-env", "LX_SMOKE_UNSET"),
            "not set",
        ),
        (("--functions-url", "http://127.0.0.1:9/x", "--timeout", "0"), "must be positive"),
        (
            ("--functions-command", "az functionapp function list", "--admin-key-env", KEY_ENV),
            "goes with --functions-url",
        ),
        (
            ("--functions-url", "http://127.0.0.1:9/x", "--expect-from", "no_such_app"),
            "cannot import 'no_such_app'",
        ),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    ran = _smoke("--base-url", "http://127.0.0.1:9", *args, env={"LX_SMOKE_UNSET": ""})
    assert ran.code == 2, ran.out + ran.err
    assert message in ran.err


def test_base_url_must_be_http() -> None:
    ran = _smoke("--base-url", "func-lxfn.azurewebsites.net", "--functions-url", "http://x/y")
    assert ran.code == 2
    assert "--base-url must be an http(s) URL" in ran.err
