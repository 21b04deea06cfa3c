"""Blueprints for the funchost test app; module-level state lets tests steer and observe."""

from __future__ import annotations

import json
import threading

import azure.functions as func

# Blueprint.__init__ is unannotated in azure-functions 1.26.
http_bp = func.Blueprint()  # type: ignore[no-untyped-call]
timer_bp = func.Blueprint()  # type: ignore[no-untyped-call]

# Test hooks (reset by the tests): timer calls, an optional gate that blocks a run, failures.
TIMER_CALLS: list[bool] = []
TIMER_ENTERED = threading.Event()
TIMER_GATE: threading.Event | None = None
TIMER_FAIL = False
RENDEZVOUS = threading.Barrier(2, timeout=5)


@http_bp.route(route="hello", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"hello {req.params.get('name', 'world')}")


@http_bp.route(route="items/{item_id}", methods=["POST"])
def echo(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    payload = {
        "method": req.method,
        "route_params": dict(req.route_params),
        "params": dict(req.params),
        "x_test": req.headers.get("x-test"),
        "body": req.get_body().decode(),
        "function_name": context.function_name,
    }
    return func.HttpResponse(
        json.dumps(payload), status_code=201, headers={"X-Echo": "yes"}, mimetype="application/json"
    )


@http_bp.route(route="admin-only", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin ok")


@http_bp.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret-detail-xyz")


@http_bp.route(route="rendezvous", auth_level=func.AuthLevel.ANONYMOUS)
def rendezvous(req: func.HttpRequest) -> func.HttpResponse:
    RENDEZVOUS.wait()  # only returns if two requests are in flight at once
    return func.HttpResponse("met")


@timer_bp.timer_trigger(schedule="%TEST_TIMER_SCHEDULE%", arg_name="timer", run_on_startup=False)
def tick(timer: func.TimerRequest) -> None:
    TIMER_CALLS.append(timer.past_due)
    TIMER_ENTERED.set()
    if TIMER_GATE is not None:
        TIMER_GATE.wait(10)
    if TIMER_FAIL:
        raise ValueError("tick failed on purpose")


@timer_bp.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True)
def warmup(timer: func.TimerRequest) -> None:
    """Runs once at host start (run_on_startup) and otherwise only on 1 January."""
