"""A tiny v2 app for the local functions host tests (FUNCTION is the default auth level)."""

from __future__ import annotations

import json
import os

import azure.functions as func

from tests.sandbox.funchost_app.blueprints import http_bp, timer_bp

# Read at import time on purpose: proves local.settings.json is applied before the import.
IMPORT_TIME_GREETING = os.environ.get("FUNCHOST_GREETING")

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(http_bp)
app.register_functions(timer_bp)


@app.route(route="settings", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def settings(req: func.HttpRequest) -> func.HttpResponse:
    body = {"import_time": IMPORT_TIME_GREETING, "call_time": os.environ.get("FUNCHOST_GREETING")}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
