"""Call user functions with real ``azure.functions`` objects and map results back to WSGI.

Using the library's own ``HttpRequest``/``HttpResponse``/``TimerRequest`` (not look-alikes)
means handler code behaves locally exactly as it will under the Python worker.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import uuid
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions._abc import RetryContext, RpcException, TraceContext
from werkzeug.wrappers import Request, Response

from lx_sandbox.funchost.routes import FunctionSpec

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


class _TraceContext(TraceContext):
    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return ""

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _NoException(RpcException):
    @property
    def source(self) -> str:
        return ""

    @property
    def stack_trace(self) -> str:
        return ""

    @property
    def message(self) -> str:
        return ""


class _RetryContext(RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> RpcException:
        return _NoException()  # first attempt: nothing failed yet


class LocalContext(func.Context):
    """A minimal ``func.Context`` for handlers that ask for one (no retries, no tracing)."""

    _thread_local = threading.local

    def __init__(self, spec: FunctionSpec) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._name = spec.name
        source = inspect.getsourcefile(spec.user_function)
        self._directory = str(Path(source).parent) if source else ""

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> type[threading.local]:
        return self._thread_local

    @property
    def function_name(self) -> str:
        return self._name

    @property
    def function_directory(self) -> str:
        return self._directory

    @property
    def trace_context(self) -> TraceContext:
        return _TraceContext()

    @property
    def retry_context(self) -> RetryContext:
        return _RetryContext()


def call(spec: FunctionSpec, trigger_value: Any) -> Any:
    """Invoke ``spec``'s user function with its trigger (and Context); await coroutines."""
    kwargs: dict[str, Any] = {spec.trigger_arg: trigger_value}
    if spec.context_arg:
        kwargs[spec.context_arg] = LocalContext(spec)
    result = spec.user_function(**kwargs)
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


def to_http_request(request: Request, route_params: dict[str, str]) -> func.HttpRequest:
    """Build the ``func.HttpRequest`` the worker would pass for this WSGI request."""
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        lower = key.lower()
        headers[lower] = f"{headers[lower]}, {value}" if lower in headers else value
    return func.HttpRequest(
        method=request.method,
        url=request.url,
        headers=headers,
        params=dict(request.args.items()),
        route_params=route_params,
        body=request.get_data(),
    )


def to_wsgi_response(result: Any) -> Response:
    """Map a handler's return value (``HttpResponse``, ``str`` or ``bytes``) to werkzeug."""
    if isinstance(result, str | bytes):
        result = func.HttpResponse(result)
    if not isinstance(result, func.HttpResponse):
        raise TypeError(f"HTTP function returned {type(result).__name__}, not HttpResponse")
    response = Response(result.get_body(), status=result.status_code)
    has_content_type = False
    for key, value in result.headers.items():
        response.headers[key] = value
        has_content_type = has_content_type or key.lower() == "content-type"
    if not has_content_type:
        mimetype = result.mimetype or "text/plain"
        charset = result.charset
        if charset and (mimetype.startswith(_TEXT_TYPES) or mimetype.endswith(("+json", "+xml"))):
            response.headers["Content-Type"] = f"{mimetype}; charset={charset}"
        else:
            response.headers["Content-Type"] = mimetype
    return response
