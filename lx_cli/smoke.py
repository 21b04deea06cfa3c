"""Deploy smoke test: the host serves every function the app declares, and no HTTP route is open.

Run from the repository root, so that the app module is importable::

    python -m lx_cli.smoke --base-url https://<app>.azurewebsites.net \\
        --functions-command "az functionapp function list -g <rg> -n <app> -o json"
    python -m lx_cli.smoke --base-url http://127.0.0.1:7071 \\
        --functions-url http://127.0.0.1:7071/admin/functions --admin-key-env LX_LOCAL_MASTER_KEY

What is expected comes from indexing the app itself (``app.get_functions()``, as the Python
worker does), so the check cannot drift from the decorators. The listing is polled until every
expected function is in it and enabled, or ``--timeout`` passes. Then every HTTP route, with each
of its methods, is called without credentials and must answer 401 (the host refuses a missing
function key itself). A 404 (not deployed yet), a 5xx or no connection is retried until the same
deadline, since a new deployment takes a while to serve; any other answer fails at once (a 2xx
is an open route). One line per check, then a summary; exit status 1 on any failure, 2 on a
usage error.

No secret is needed or printed: the routes get no key, and the key of ``--functions-url``, if
any, comes from the environment variable named by ``--admin-key-env``. Stdlib and requests only;
never deployed (``.funcignore`` excludes ``lx_cli/``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import requests

DEFAULT_ROUTE_PREFIX = "api"
KEY_HEADER = "x-functions-key"
HTTP_TRIGGER = "httpTrigger"
#: What stands in for a route parameter (``{id}``, ``{*rest}``): digits satisfy ``:int`` too.
PARAMETER_VALUE = "0"
REQUEST_TIMEOUT_S = 15.0
COMMAND_TIMEOUT_S = 120.0
EXIT_FAILED = 1
EXIT_USAGE = 2

_PARAMETER = re.compile(r"\{[^}]*\}")


class SmokeError(Exception):
    """A usage or configuration problem: the smoke test cannot run at all (exit 2)."""


class ListingError(Exception):
    """One attempt to read the host's function list failed; the next poll tries again."""


class IndexedFunction(Protocol):
    """The part of ``azure.functions``' ``Function`` this module reads."""

    def get_function_name(self) -> str | None: ...

    def get_function_json(self) -> str: ...


@dataclass(frozen=True)
class Route:
    """One method of one HTTP function, at its path under the host's route prefix."""

    function: str
    method: str
    path: str


@dataclass(frozen=True)
class Expected:
    """What the app declares: every function name and every HTTP route."""

    functions: tuple[str, ...]
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class Check:
    """One line of the report: ``ok   <what>`` or ``FAIL <what>: <why>``."""

    ok: bool
    what: str
    why: str = ""

    def line(self) -> str:
        return f"ok   {self.what}" if self.ok else f"FAIL {self.what}: {self.why}"


@dataclass(frozen=True)
class Report:
    """Every check made: one per expected function, one per route and method."""

    functions: tuple[Check, ...]
    routes: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.functions + self.routes)

    def summary(self) -> str:
        listed = sum(check.ok for check in self.functions)
        closed = sum(check.ok for check in self.routes)
        return (
            f"smoke: {'OK' if self.ok else 'FAILED'}: "
            f"{listed}/{len(self.functions)} functions listed, "
            f"{closed}/{len(self.routes)} routes answer 401 without credentials"
        )


# -- what the app declares -------------------------------------------------------------------


def read_route_prefix(host_json: Path) -> str:
    """``extensions.http.routePrefix`` of ``host_json``; Azure's default ``api`` if unset."""
    if not host_json.is_file():
        return DEFAULT_ROUTE_PREFIX
    data = json.loads(host_json.read_text(encoding="utf-8"))
    prefix = data.get("extensions", {}).get("http", {}).get("routePrefix")
    return DEFAULT_ROUTE_PREFIX if prefix is None else str(prefix).strip("/")


def expected_from(functions: Sequence[IndexedFunction], route_prefix: str) -> Expected:
    """Names and HTTP routes from the indexed functions (the bindings the worker reports)."""
    names: list[str] = []
    routes: list[Route] = []
    for function in functions:
        name = function.get_function_name()
        if not name:
            raise SmokeError("an indexed function has no name")
        names.append(name)
        bindings = json.loads(function.get_function_json()).get("bindings", [])
        for binding in bindings:
            if binding.get("type") != HTTP_TRIGGER:
                continue
            template = str(binding.get("route") or name).strip("/")
            path = "/" + "/".join(part for part in (route_prefix, template) if part)
            path = _PARAMETER.sub(PARAMETER_VALUE, path)
            methods = [str(m).upper() for m in binding.get("methods") or ["POST"]]
            routes.extend(Route(name, method, path) for method in methods)
    if not names:
        raise SmokeError("the app declares no function")
    return Expected(tuple(names), tuple(routes))


def index_module(module_name: str) -> Sequence[IndexedFunction]:
    """Import ``module_name`` and index its ``app`` (a ``FunctionApp``)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SmokeError(f"cannot import {module_name!r}: {exc} (run from the repo root)") from exc
    app = getattr(module, "app", None)
    if app is None or not callable(getattr(app, "get_functions", None)):
        raise SmokeError(f"module {module_name!r} has no FunctionApp named 'app'")
    functions: list[IndexedFunction] = list(app.get_functions())
    return functions


# -- what the host lists ---------------------------------------------------------------------


def names_in_listing(data: object) -> dict[str, bool]:
    """Function name → disabled, from a JSON array of objects with ``name`` (and ``isDisabled``).

    The host's ``/admin/functions`` gives ``<function>``; ``az functionapp function list`` gives
    ``<app>/<function>``: the part after the last ``/`` is the function.
    """
    if not isinstance(data, list):
        raise ListingError("the listing is not a JSON array")
    listed: dict[str, bool] = {}
    for item in data:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise ListingError("a listed entry has no name")
        listed[name.rsplit("/", 1)[-1]] = item.get("isDisabled") is True
    return listed


def url_lister(url: str, key: str | None) -> Callable[[], dict[str, bool]]:
    """Read the listing from the host's admin API (with ``key`` in ``x-functions-key``)."""
    headers = {KEY_HEADER: key} if key else {}

    def listing() -> dict[str, bool]:
        try:
            response = requests.get(url, headers=headers, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as exc:
            raise ListingError(f"{_shown(url)}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise ListingError(f"{_shown(url)} answered {response.status_code}")
        try:
            return names_in_listing(response.json())
        except ValueError as exc:
            raise ListingError(f"{_shown(url)} answered no JSON") from exc

    return listing


def command_lister(argv: list[str], timeout_s: float) -> Callable[[], dict[str, bool]]:
    """Read the listing from a command's standard output (``az functionapp function list``)."""

    def listing() -> dict[str, bool]:
        try:
            # The operator's own command line, run without a shell.
            done = subprocess.run(  # noqa: S603
                argv, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ListingError(f"{argv[0]}: {type(exc).__name__}") from exc
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
            raise ListingError(f"{argv[0]} exited {done.returncode}: {last}")
        try:
            return names_in_listing(json.loads(done.stdout))
        except ValueError as exc:
            raise ListingError(f"{argv[0]} printed no JSON") from exc

    return listing


def _shown(url: str) -> str:
    """``url`` without its query, which may carry a ``code=`` key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# -- the checks ------------------------------------------------------------------------------


@dataclass
class Smoke:
    """The checks against one host, all bounded by one deadline (``time.monotonic``)."""

    expected: Expected
    base_url: str
    lister: Callable[[], dict[str, bool]]
    deadline: float
    interval_s: float
    say: Callable[[str], None] = print

    def run(self) -> Report:
        functions = self.check_listing()
        routes: list[Check] = []
        for route in self.expected.routes:
            routes.append(self.check_route(route))
            self.say(routes[-1].line())
        return Report(functions, tuple(routes))

    def check_listing(self) -> tuple[Check, ...]:
        """Poll the listing until every expected name is in it or the deadline passes."""
        wanted = self.expected.functions
        while True:
            problem = ""
            try:
                listed = self.lister()
            except ListingError as exc:
                listed, problem = {}, str(exc)
            missing = {name for name in wanted if name not in listed or listed[name]}
            left = self.deadline - time.monotonic()
            if not missing or left <= 0:
                break
            why = f" ({problem})" if problem else ""
            self.say(
                f"wait {len(wanted) - len(missing)}/{len(wanted)} functions listed{why}; "
                f"next look in {min(self.interval_s, left):.0f} s"
            )
            time.sleep(min(self.interval_s, left))
        checks = tuple(
            Check(name not in missing, f"function {name}", _absence(name, listed, problem))
            for name in wanted
        )
        for check in checks:
            self.say(check.line())
        extra = sorted(set(listed).difference(wanted))
        if extra:
            self.say(f"note: listed but not declared by the app: {', '.join(extra)}")
        return checks

    def check_route(self, route: Route) -> Check:
        """Call ``route`` without credentials until it answers 401, fails, or time is up."""
        what = f"route {route.method} {route.path}"
        while True:
            try:
                response = requests.request(
                    route.method,
                    self.base_url + route.path,
                    json={},
                    timeout=REQUEST_TIMEOUT_S,
                    allow_redirects=False,
                )
                status: int | None = response.status_code
                why = f"answered {status} without credentials, not 401"
            except requests.RequestException as exc:
                status, why = None, f"no answer ({type(exc).__name__})"
            if status == 401:
                return Check(True, f"{what}: 401")
            not_there_yet = status is None or status == 404 or status >= 500
            left = self.deadline - time.monotonic()
            if not not_there_yet or left <= 0:
                return Check(False, what, why)
            time.sleep(min(self.interval_s, left))


def _absence(name: str, listed: dict[str, bool], problem: str) -> str:
    if name in listed:
        return "listed but disabled"
    return f"not listed ({problem})" if problem else "not listed"


# -- command line ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lx_cli.smoke",
        description="Check that a deployed Function App serves every function the app declares "
        "and that each HTTP route refuses a call without a key (401).",
    )
    parser.add_argument(
        "--base-url", required=True, help="the host, e.g. https://<app>.azurewebsites.net"
    )
    parser.add_argument(
        "--expect-from",
        default="function_app",
        metavar="MODULE",
        help="app module whose functions are expected (default: %(default)s)",
    )
    parser.add_argument(
        "--host-json",
        type=Path,
        default=Path("host.json"),
        help="host.json with the route prefix (default: %(default)s; absent: 'api')",
    )
    listing = parser.add_mutually_exclusive_group(required=True)
    listing.add_argument("--functions-url", help="GET this URL: the host's /admin/functions")
    listing.add_argument(
        "--functions-command",
        help='run this (no shell), e.g. "az functionapp function list -g RG -n APP -o json"',
    )
    parser.add_argument(
        "--admin-key-env",
        metavar="NAME",
        help="environment variable holding the key sent with --functions-url",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds in all (default: %(default)s)"
    )
    parser.add_argument(
        "--interval", type=float, default=10.0, help="seconds between tries (default: %(default)s)"
    )
    return parser


def _lister(args: argparse.Namespace) -> Callable[[], dict[str, bool]]:
    if args.functions_command is not None:
        if args.admin_key_env:
            raise SmokeError("--admin-key-env goes with --functions-url")
        argv = shlex.split(args.functions_command)
        if not argv:
            raise SmokeError("--functions-command is empty")
        return command_lister(argv, min(args.timeout, COMMAND_TIMEOUT_S))
    key = None
    if args.admin_key_env:
        key = os.environ.get(args.admin_key_env)
        if not key:
            raise SmokeError(f"environment variable {args.admin_key_env} is not set")
    return url_lister(str(args.functions_url), key)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    base_url = str(args.base_url).rstrip("/")
    try:
        if urlsplit(base_url).scheme not in {"http", "https"} or not urlsplit(base_url).netloc:
            raise SmokeError(f"--base-url must be an http(s) URL, not {base_url!r}")
        if args.timeout <= 0 or args.interval <= 0:
            raise SmokeError("--timeout and --interval must be positive")
        lister = _lister(args)
        expected = expected_from(index_module(args.expect_from), read_route_prefix(args.host_json))
    except SmokeError as exc:
        print(f"smoke: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"smoke: {len(expected.functions)} functions, {len(expected.routes)} HTTP routes "
        f"expected from {args.expect_from}, at {base_url}"
    )
    report = Smoke(expected, base_url, lister, started + args.timeout, args.interval).run()
    print(report.summary())
    return 0 if report.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
