"""The local functions host over real loopback HTTP: routes, auth, invocation, settings."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from lx_sandbox.funchost import FunctionsHost
from lx_sandbox.funchost.routes import convert_route
from tests.sandbox.funchost_app.harness import (
    APP_MODULE,
    FUNCTION_KEY,
    MASTER_KEY,
    RARE_SCHEDULE,
    restored_environ,
    running_host,
    write_settings,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def funchost_env() -> Iterator[None]:
    with restored_environ():
        os.environ.pop("FUNCHOST_GREETING", None)
        os.environ["TEST_TIMER_SCHEDULE"] = RARE_SCHEDULE
        yield


@pytest.fixture
def funchost_settings(tmp_path: Path) -> Path:
    return write_settings(tmp_path / "local.settings.json", {"FUNCHOST_GREETING": "from-file"})


@pytest.fixture
def funchost(funchost_settings: Path) -> Iterator[FunctionsHost]:
    with running_host(funchost_settings) as host:
        yield host


# -- routes --------------------------------------------------------------------------------


def test_routes_are_built_from_get_functions(funchost: FunctionsHost) -> None:
    # get_functions() is single-use per app object, so index a freshly imported copy.
    sys.modules.pop(APP_MODULE)
    app = importlib.import_module(APP_MODULE).app
    http_names = {f.get_function_name() for f in app.get_functions() if f.is_http_function()}
    assert {name for _, _, name in funchost.routes} == http_names
    assert sorted(funchost.routes) == sorted(
        [
            (("GET",), "/api/hello", "hello"),
            (("POST",), "/api/items/<item_id>", "echo"),
            (("GET",), "/api/admin-only", "admin_only"),
            (("*",), "/api/boom", "boom"),
            (("*",), "/api/rendezvous", "rendezvous"),
            (("GET",), "/api/settings", "settings"),
        ]
    )
    assert funchost.timers == ["tick", "warmup"]
    assert funchost.errors == {}


def test_route_prefix_comes_from_host_json(funchost_settings: Path, tmp_path: Path) -> None:
    host_json = tmp_path / "host.json"
    host_json.write_text(json.dumps({"extensions": {"http": {"routePrefix": "hooks"}}}))
    with running_host(funchost_settings, host_json=host_json) as host:
        assert requests.get(f"{host.url}/hooks/hello", timeout=5).status_code == 200
        assert requests.get(f"{host.url}/api/hello", timeout=5).status_code == 404


@pytest.mark.parametrize(
    ("template", "rules"),
    [
        ("hello", ["hello"]),
        ("callbacks/{vendor}", ["callbacks/<vendor>"]),
        ("items/{id:int}", ["items/<int:id>"]),
        ("items/{id:alpha}/x", ["items/<id>/x"]),
        ("files/{*rest}", ["files/<path:rest>", "files"]),
        ("things/{id?}", ["things/<id>", "things"]),
        ("/", [""]),
    ],
)
def test_convert_route(template: str, rules: list[str]) -> None:
    assert convert_route(template) == rules


def test_unknown_path_is_404_and_wrong_method_is_405(funchost: FunctionsHost) -> None:
    missing = requests.get(f"{funchost.url}/api/nope", timeout=5)
    assert missing.status_code == 404
    wrong = requests.get(f"{funchost.url}/api/items/1", params={"code": FUNCTION_KEY}, timeout=5)
    assert wrong.status_code == 405


# -- auth ----------------------------------------------------------------------------------


def test_anonymous_route_needs_no_key(funchost: FunctionsHost) -> None:
    response = requests.get(f"{funchost.url}/api/hello", params={"name": "lx"}, timeout=5)
    assert (response.status_code, response.text) == (200, "hello lx")


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_function_route_rejects_missing_or_wrong_key(
    funchost: FunctionsHost, key: str | None
) -> None:
    headers = {"x-functions-key": key} if key else {}
    response = requests.post(f"{funchost.url}/api/items/1", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.content == b""


@pytest.mark.parametrize("key", [FUNCTION_KEY, MASTER_KEY])
def test_function_route_accepts_code_param_and_header(funchost: FunctionsHost, key: str) -> None:
    url = f"{funchost.url}/api/items/1"
    assert requests.post(url, params={"code": key}, timeout=5).status_code == 201
    assert requests.post(url, headers={"x-functions-key": key}, timeout=5).status_code == 201


def test_admin_route_needs_master_key(funchost: FunctionsHost) -> None:
    url = f"{funchost.url}/api/admin-only"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, params={"code": FUNCTION_KEY}, timeout=5).status_code == 401
    response = requests.get(url, headers={"x-functions-key": MASTER_KEY}, timeout=5)
    assert (response.status_code, response.text) == (200, "admin ok")


def test_keys_come_from_environment_or_are_generated(funchost_settings: Path) -> None:
    os.environ["LX_LOCAL_FUNCTION_KEY"] = "env-fkey"
    os.environ["LX_LOCAL_MASTER_KEY"] = "env-mkey"
    env_host = FunctionsHost(APP_MODULE, settings_file=funchost_settings, run_timers=False)
    assert (env_host.function_key, env_host.master_key) == ("env-fkey", "env-mkey")
    del os.environ["LX_LOCAL_FUNCTION_KEY"], os.environ["LX_LOCAL_MASTER_KEY"]
    generated = FunctionsHost(APP_MODULE, settings_file=funchost_settings, run_timers=False)
    assert len(generated.function_key) >= 20
    assert generated.function_key != generated.master_key


# -- invocation ----------------------------------------------------------------------------


def test_request_reaches_handler_and_response_round_trips(funchost: FunctionsHost) -> None:
    response = requests.post(
        f"{funchost.url}/api/items/42",
        params={"x": "1", "y": "two"},
        headers={"x-functions-key": FUNCTION_KEY, "X-Test": "hi"},
        data=b'{"a": 1}',
        timeout=5,
    )
    assert response.status_code == 201
    assert response.headers["X-Echo"] == "yes"
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "method": "POST",
        "route_params": {"item_id": "42"},
        "params": {"x": "1", "y": "two"},
        "x_test": "hi",
        "body": '{"a": 1}',
        "function_name": "echo",
    }


def test_handler_exception_is_500_without_traceback(funchost: FunctionsHost) -> None:
    response = requests.get(f"{funchost.url}/api/boom", timeout=5)
    assert response.status_code == 500
    for leak in ("Traceback", "secret-detail-xyz", "RuntimeError", "File "):
        assert leak not in response.text


def test_requests_are_served_concurrently(funchost: FunctionsHost) -> None:
    # The handler waits on a two-party barrier: a serial server would time it out (500).
    url = f"{funchost.url}/api/rendezvous"
    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(lambda _: requests.get(url, timeout=10).status_code, range(2)))
    assert codes == [200, 200]


# -- settings ------------------------------------------------------------------------------


def test_local_settings_are_loaded_before_the_app_is_imported(funchost: FunctionsHost) -> None:
    body = requests.get(f"{funchost.url}/api/settings", timeout=5).json()
    assert body == {"import_time": "from-file", "call_time": "from-file"}
    assert funchost.applied_settings == {"FUNCHOST_GREETING": "from-file"}


def test_process_environment_wins_over_local_settings(funchost_settings: Path) -> None:
    os.environ["FUNCHOST_GREETING"] = "from-env"
    with running_host(funchost_settings) as host:
        body = requests.get(f"{host.url}/api/settings", timeout=5).json()
    assert body == {"import_time": "from-env", "call_time": "from-env"}
    assert host.applied_settings == {}


def test_missing_settings_file_is_fine(tmp_path: Path) -> None:
    with running_host(tmp_path / "absent.json") as host:
        body = requests.get(f"{host.url}/api/settings", timeout=5).json()
    assert body == {"import_time": None, "call_time": None}


# -- CLI -----------------------------------------------------------------------------------


def test_cli_prints_routes_and_keys_and_serves(tmp_path: Path) -> None:
    env = {**os.environ, "LX_LOCAL_FUNCTION_KEY": "cli-f", "LX_LOCAL_MASTER_KEY": "cli-m"}
    argv = [sys.executable, "-m", "lx_sandbox.funchost", "--app", APP_MODULE, "--port", "0"]
    argv += ["--app-dir", str(REPO_ROOT), "--settings", str(tmp_path / "none.json"), "--no-timers"]
    proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
        argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        output = "".join(lines)
        assert "Function key: cli-f" in output
        assert "Master key:   cli-m" in output
        url = next(line.split()[-1] for line in lines if line.startswith("Functions host on"))
        assert f"hello: [GET] {url}/api/hello" in output
        assert requests.get(f"{url}/api/hello", timeout=5).text == "hello world"
    finally:
        proc.terminate()
        proc.wait(10)
