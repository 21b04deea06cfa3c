"""Index a v2 ``FunctionApp`` into HTTP routes and timers.

Everything is derived from ``app.get_functions()`` (the same indexing the Python worker does),
so the local host can never drift from the app's decorators. Functions the host cannot run are
reported per function in ``AppIndex.errors`` instead of failing the whole host, mirroring how
one broken function does not take down the others on Azure.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.functions.decorators.function_app import Function, FunctionRegister

from lx_sandbox.funchost.ncrontab import Schedule

HTTP_TRIGGER = "httpTrigger"
TIMER_TRIGGER = "timerTrigger"

# {name}, {*rest}, {id:int}, {id:regex(..)}, {id?}, {id=default}
_PARAM = re.compile(
    r"\{(?P<star>\*{1,2})?(?P<name>[A-Za-z_]\w*)(?::(?P<cons>[^}=?]*))?(?P<opt>\?|=[^}]*)?\}"
)
_CONVERTERS = {"int": "int", "long": "int"}


def convert_route(template: str) -> list[str]:
    """Turn an ASP.NET-style route template into werkzeug rules (without the leading ``/``).

    ``{name}`` -> ``<name>``, ``{*rest}`` -> ``<path:rest>``, ``{id:int}`` -> ``<int:id>``;
    other constraints are dropped. An optional trailing parameter (``{id?}``, ``{id=x}`` or a
    catch-all, which also matches nothing) yields a second, shorter rule.
    """
    template = template.strip("/")
    rules: list[str] = []
    segments = template.split("/") if template else []
    out: list[str] = []
    for index, segment in enumerate(segments):
        optional = False

        def _sub(match: re.Match[str]) -> str:
            nonlocal optional
            name = match.group("name")
            if match.group("star"):
                optional = True
                return f"<path:{name}>"
            if match.group("opt"):
                optional = True
            converter = _CONVERTERS.get((match.group("cons") or "").strip().lower())
            return f"<{converter}:{name}>" if converter else f"<{name}>"

        converted = _PARAM.sub(_sub, segment)
        if optional and index == len(segments) - 1:
            rules.append("/".join(out))
        out.append(converted)
    rules.insert(0, "/".join(out))
    return rules


@dataclass(frozen=True)
class FunctionSpec:
    """What the host needs to invoke one function."""

    name: str
    trigger: Mapping[str, Any]
    user_function: Callable[..., Any]
    context_arg: str | None = None

    @property
    def trigger_type(self) -> str:
        return str(self.trigger["type"])

    @property
    def trigger_arg(self) -> str:
        return str(self.trigger["name"])


@dataclass(frozen=True)
class HttpRoute:
    """One HTTP function: its werkzeug rules, methods (``None`` = any) and auth level."""

    spec: FunctionSpec
    rules: tuple[str, ...]
    methods: tuple[str, ...] | None
    auth_level: str


@dataclass(frozen=True)
class TimerFunction:
    """One timer function with its resolved schedule."""

    spec: FunctionSpec
    schedule: Schedule
    run_on_startup: bool


@dataclass
class AppIndex:
    """The indexed app: runnable routes and timers plus per-function errors."""

    routes: list[HttpRoute] = field(default_factory=list)
    timers: dict[str, TimerFunction] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    disabled: list[str] = field(default_factory=list)


def find_function_app(module: Any) -> FunctionRegister:
    """Return the module's ``FunctionApp`` (``app`` first, else the only instance)."""
    candidate = getattr(module, "app", None)
    if isinstance(candidate, FunctionRegister):
        return candidate
    found = [v for v in vars(module).values() if isinstance(v, FunctionRegister)]
    if len(found) != 1:
        raise LookupError(
            f"module {module.__name__!r} must define exactly one FunctionApp, found {len(found)}"
        )
    return found[0]


def _context_arg(fn: Function, trigger: Mapping[str, Any], bindings: list[Any]) -> str | None:
    """Find an optional Context parameter; reject bindings this host does not implement."""
    for binding in bindings:
        if binding is trigger or binding.get("type") == "http":
            continue
        raise ValueError(
            f"binding {binding.get('name')!r} of type {binding.get('type')!r} "
            "is not supported by the local functions host"
        )
    context: str | None = None
    params = inspect.signature(fn.get_user_function()).parameters
    for pname, param in params.items():
        if pname == trigger["name"]:
            continue
        annotation = param.annotation
        is_context = pname == "context" or (
            isinstance(annotation, type) and annotation.__name__ == "Context"
        )
        if is_context:
            context = pname
        elif param.default is inspect.Parameter.empty:
            raise ValueError(f"parameter {pname!r} has no binding")
    return context


def index_app(app: FunctionRegister, route_prefix: str, environ: Mapping[str, str]) -> AppIndex:
    """Index ``app`` into routes and timers; ``environ`` resolves ``%SETTING%`` references."""
    index = AppIndex()
    prefix = route_prefix.strip("/")
    for fn in app.get_functions():
        name = fn.get_function_name() or fn.get_user_function().__name__
        if environ.get(f"AzureWebJobs.{name}.Disabled", "").lower() in {"true", "1"}:
            index.disabled.append(name)
            continue
        bindings: list[Any] = json.loads(fn.get_function_json())["bindings"]
        trigger_obj = fn.get_trigger()
        if trigger_obj is None:  # get_functions() already rejects this; keep mypy honest
            index.errors[name] = f"{name}: no trigger"
            continue
        trigger = next(b for b in bindings if b.get("type") == trigger_obj.get_binding_name())
        try:
            spec = FunctionSpec(
                name, trigger, fn.get_user_function(), _context_arg(fn, trigger, bindings)
            )
            if spec.trigger_type == HTTP_TRIGGER:
                index.routes.append(_http_route(spec, prefix))
            elif spec.trigger_type == TIMER_TRIGGER:
                schedule = Schedule.parse(str(trigger["schedule"]), environ)
                index.timers[name] = TimerFunction(
                    spec, schedule, bool(trigger.get("runOnStartup"))
                )
            else:
                raise ValueError(f"trigger type {spec.trigger_type!r} is not supported")
        except ValueError as exc:  # includes ScheduleError
            index.errors[name] = f"{name}: {exc}"
    return index


def _http_route(spec: FunctionSpec, prefix: str) -> HttpRoute:
    template = str(spec.trigger.get("route") or spec.name)
    rules = tuple(
        "/" + "/".join(part for part in (prefix, rule) if part) for rule in convert_route(template)
    )
    raw_methods = spec.trigger.get("methods")
    methods = tuple(str(m).upper() for m in raw_methods) if raw_methods else None
    return HttpRoute(spec, rules, methods, str(spec.trigger.get("authLevel", "FUNCTION")).upper())
