"""POST /api/leanix/<handler>: one route per webhook handler declared in lx_core.handlers.specs.

Each adapter authenticates (the function key and LeanIX's Authorization header), parses the
event, and hands it to lx_core, which filters, de-duplicates, guards order and acts. Answers:
200 with what happened (also for events a handler does not act on: "ignored"), 400/401/413 for
bad input, 503 with Retry-After when trying again later helps. The specs are read from a
standard-library module, so indexing the app imports neither pydantic nor requests.
"""

from __future__ import annotations

from collections.abc import Callable

import azure.functions as func

from functions._http import json_response, read_json, require_authorization, webhook_endpoint
from lx_core.handlers.specs import SPECS, HandlerSpec, validate_specs

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions 1.x lacks a hint


def _serve(spec: HandlerSpec, req: func.HttpRequest) -> func.HttpResponse:
    from lx_core import deadline, runtime
    from lx_core.events import parse_event

    settings = runtime.webhook_settings()
    with deadline.within(settings.deadline_seconds):
        require_authorization(req, settings.accepted_authorizations())
        event = parse_event(read_json(req, settings.max_body_bytes))
        result = runtime.dispatch(spec.name, event)
    return json_response(200, result.to_json())


def _register(spec: HandlerSpec) -> None:
    def endpoint(req: func.HttpRequest) -> func.HttpResponse:
        return _serve(spec, req)

    endpoint.__name__ = endpoint.__qualname__ = spec.function_name
    endpoint.__doc__ = f"LeanIX webhook for the {spec.name} handler."
    wrapped = webhook_endpoint(endpoint)
    routed: Callable[..., func.HttpResponse] = bp.route(
        route=spec.route, methods=["POST"], auth_level=func.AuthLevel.FUNCTION
    )(wrapped)
    bp.function_name(spec.function_name)(routed)


for _spec in validate_specs(SPECS):  # an unsafe handler stops the app here, at start-up
    _register(_spec)
