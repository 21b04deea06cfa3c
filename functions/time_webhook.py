"""POST /api/leanix/time: a LeanIX webhook (FACT_SHEET_CREATED/UPDATED) sets the TIME tag."""

from __future__ import annotations

import azure.functions as func

from functions._http import json_response, read_json, require_authorization, webhook_endpoint

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions 1.x lacks a hint


@bp.function_name("time_webhook")
@bp.route(route="leanix/time", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@webhook_endpoint
def time_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Authenticate, parse, and let lx_core bring the Application's TIME value in line."""
    from lx_core import deadline, runtime
    from lx_core.events import parse_event

    settings = runtime.webhook_settings()
    with deadline.within(settings.deadline_seconds):
        require_authorization(req, settings.authorization.get_secret_value())
        event = parse_event(read_json(req, settings.max_body_bytes))
        result = runtime.time_tagger().handle_event(event)
    body: dict[str, object] = {"status": result.status, "factSheetId": result.fact_sheet_id}
    if result.reason:
        body["reason"] = result.reason
    if result.classification:
        body["classification"] = result.classification.value
    return json_response(200, body)
