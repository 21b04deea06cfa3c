"""``FunctionsHost``: serve a v2 ``function_app`` over HTTP and run its timers, locally.

A stand-in for Core Tools' ``func start`` (which cannot be installed here), built only on the
app's own indexing (``app.get_functions()``) so it stays generic: it imports the app module by
name at runtime and knows nothing about this project's packages. It is a development tool,
never deployed (``.funcignore`` excludes ``lx_sandbox/``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from lx_sandbox.funchost import activity, invoke
from lx_sandbox.funchost.auth import KEY_HEADER, KEY_PARAM, Keys, is_authorized, presented_key
from lx_sandbox.funchost.handler import handler_for
from lx_sandbox.funchost.limits import HostLimits
from lx_sandbox.funchost.listen import listen
from lx_sandbox.funchost.metadata import list_functions
from lx_sandbox.funchost.routes import AppIndex, HttpRoute, find_function_app, index_app
from lx_sandbox.funchost.settings import load_local_settings, read_route_prefix
from lx_sandbox.funchost.timers import InvocationRecord, TimerScheduler

log = logging.getLogger(__name__)

ANY_METHOD = "*"


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _empty(status: int) -> Response:
    return Response(b"", status=status)


class FunctionsHost:
    """Load settings, import ``app_module`` from ``app_dir``, then serve and schedule it.

    ``settings_file`` and ``host_json`` default to ``local.settings.json`` / ``host.json`` next
    to the app module. Settings already in ``os.environ`` win over the file. Keys default to
    ``LX_LOCAL_FUNCTION_KEY`` / ``LX_LOCAL_MASTER_KEY`` or are generated. The module is
    re-imported on every construction so tests get a fresh app. ``limits`` bound what one
    request may cost (Azure's 100 MiB body and 4 KB URL, and a request timeout).
    """

    def __init__(
        self,
        app_module: str = "function_app",
        *,
        app_dir: str | Path | None = None,
        settings_file: str | Path | None = None,
        host_json: str | Path | None = None,
        function_key: str | None = None,
        master_key: str | None = None,
        port: int = 0,
        run_timers: bool = True,
        bind: str = "127.0.0.1",
        limits: HostLimits | None = None,
    ) -> None:
        self._bind, self._port, self._run_timers = bind, port, run_timers
        self.limits = limits or HostLimits()
        module_dir = _prepare_import(app_module, Path(app_dir or Path.cwd()).resolve())
        self.settings_file = Path(settings_file or module_dir / "local.settings.json")
        self.host_json = Path(host_json or module_dir / "host.json")
        self.applied_settings = load_local_settings(self.settings_file)  # before the import
        self.keys = Keys.resolve(function_key, master_key)
        if self.keys.generated:
            log.info(
                "generated local keys: function=%s master=%s", self.function_key, self.master_key
            )
        self.module: ModuleType = _fresh_import(app_module)
        self.route_prefix = read_route_prefix(self.host_json)
        self.index: AppIndex = index_app(
            find_function_app(self.module), self.route_prefix, os.environ
        )
        for message in self.index.errors.values():
            log.error("function not loaded: %s", message)
        self._routes = {route.spec.name: route for route in self.index.routes}
        self._map = Map(
            [
                Rule(rule, endpoint=route.spec.name, methods=route.methods)
                for route in self.index.routes
                for rule in route.rules
            ],
            strict_slashes=False,
            merge_slashes=False,
        )
        self._admin_map = Map(
            [
                Rule("/admin/functions", endpoint="functions", methods=["GET"]),
                Rule("/admin/functions/<name>", endpoint="fire", methods=["POST"]),
                Rule("/admin/host/invocations", endpoint="invocations", methods=["GET"]),
                Rule("/admin/host/status", endpoint="status", methods=["GET"]),
            ]
        )
        self.scheduler = TimerScheduler(self.index.timers)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- public API -------------------------------------------------------------------------

    @property
    def function_key(self) -> str:
        return self.keys.function_key

    @property
    def master_key(self) -> str:
        return self.keys.master_key

    @property
    def errors(self) -> dict[str, str]:
        """Functions that could not be loaded, by name, with a readable reason."""
        return dict(self.index.errors)

    @property
    def routes(self) -> list[tuple[tuple[str, ...], str, str]]:
        """``(methods, url rule, function name)`` per rule; methods ``("*",)`` means any."""
        return [
            (route.methods or (ANY_METHOD,), rule, route.spec.name)
            for route in self.index.routes
            for rule in route.rules
        ]

    @property
    def timers(self) -> list[str]:
        return self.scheduler.names

    @property
    def invocations(self) -> list[InvocationRecord]:
        return self.scheduler.records()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("host not started")
        return int(self._server.port)

    @property
    def url(self) -> str:
        return f"http://{self._bind}:{self.port}"

    def fire(self, name: str) -> InvocationRecord:
        """Run timer ``name`` now (synchronously) and return its record."""
        if name in self.index.errors:
            raise RuntimeError(self.index.errors[name])
        if name not in self.index.timers:
            raise KeyError(f"no timer function named {name!r}")
        return self.scheduler.fire(name, trigger="manual")

    def start(self) -> FunctionsHost:
        """Serve on a background thread (threaded WSGI server) and start the timers.

        Raises ``PortInUseError`` (an ``OSError``) if a fixed ``port`` is taken; werkzeug would
        print to stderr and ``sys.exit(1)`` instead, so the socket is bound here.
        """
        if self._server is not None:
            return self
        sock = listen(self._bind, self._port)
        try:
            self._server = make_server(
                self._bind,
                sock.getsockname()[1],
                self.wsgi_app,
                threaded=True,
                request_handler=handler_for(self.limits),
                fd=sock.fileno(),  # werkzeug serves a duplicate of this descriptor
            )
        finally:
            sock.close()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits at most this long
            name="funchost-http",
            daemon=True,
        )
        self._thread.start()
        if self._run_timers:
            self.scheduler.start()
        return self

    def serve_forever(self) -> None:
        """Start and block until interrupted (used by the CLI)."""
        self.start()
        try:
            threading.Event().wait()
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the timers and the HTTP server; safe to call twice."""
        self.scheduler.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> FunctionsHost:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- WSGI ---------------------------------------------------------------------------------

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The WSGI entry point: admin API under ``/admin``, functions everywhere else."""
        request = Request(environ)
        if request.path == "/admin" or request.path.startswith("/admin/"):
            response = self._admin(request)
        else:
            response = self._function(request)
        return response(environ, start_response)

    def _key(self, request: Request) -> str | None:
        return presented_key(request.headers.get(KEY_HEADER), request.args.get(KEY_PARAM))

    def _function(self, request: Request) -> Response:
        began = time.monotonic()
        try:
            name, args = self._map.bind_to_environ(request.environ).match()
        except HTTPException as exc:  # 404 / 405, empty bodies as on Azure
            code = exc.code or 404
            why = "no function at this route" if code == 404 else "method not allowed here"
            activity.log_refusal(code, request.method, request.path, why)
            return _empty(code)
        route: HttpRoute = self._routes[str(name)]
        if not is_authorized(route.auth_level, self._key(request), self.keys):
            activity.log_delivery(
                route.spec.name, 401, b"", time.monotonic() - began, "missing or wrong key"
            )
            return _empty(401)
        response = self._invoke(route, request, {k: str(v) for k, v in args.items()})
        body = b"" if response.is_streamed else response.get_data()
        activity.log_delivery(route.spec.name, response.status_code, body, time.monotonic() - began)
        return response

    def _invoke(self, route: HttpRoute, request: Request, args: dict[str, str]) -> Response:
        try:
            req = invoke.to_http_request(request, args)
            return invoke.to_wsgi_response(invoke.call(route.spec, req))
        except Exception:  # never leak a traceback to the caller
            log.exception("function %s failed", route.spec.name)
            return Response("Internal Server Error", status=500, mimetype="text/plain")

    def _admin(self, request: Request) -> Response:
        if not is_authorized("ADMIN", self._key(request), self.keys):
            activity.log_refusal(
                401, request.method, request.path, "the admin API needs the master key"
            )
            return _empty(401)
        try:
            endpoint, args = self._admin_map.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return _empty(exc.code or 404)
        if endpoint == "invocations":
            return _json([record.to_dict() for record in self.invocations])
        if endpoint == "status":
            return _json({"state": "Running", "errors": self.errors, "timers": self.timers})
        if endpoint == "functions":
            return _json(list_functions(self.index, request.host_url.rstrip("/")))
        name = str(args["name"])
        if name in self.index.errors:
            return _json({"error": self.index.errors[name]}, status=409)
        if name not in self.index.timers:
            return _empty(404)
        self.scheduler.fire_in_background(name, trigger="manual")
        return _empty(202)


def _prepare_import(app_module: str, app_dir: Path) -> Path:
    """Put ``app_dir`` on ``sys.path`` and return the directory holding ``app_module``."""
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    importlib.invalidate_caches()
    spec = importlib.util.find_spec(app_module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"app module {app_module!r} not found (app_dir={app_dir})")
    return Path(spec.origin).resolve().parent


def _fresh_import(app_module: str) -> ModuleType:
    """Import ``app_module`` anew so module-level code sees the settings just loaded."""
    for loaded in [m for m in sys.modules if m == app_module or m.startswith(app_module + ".")]:
        del sys.modules[loaded]
    return importlib.import_module(app_module)
