"""The Function App: one Blueprint per functions/ module. Nothing else belongs here."""

import azure.functions as func

from functions.integration_runs import bp as integration_runs_bp
from functions.leanix_webhooks import bp as leanix_webhooks_bp
from functions.metrics import bp as metrics_bp
from functions.quality import bp as quality_bp
from functions.relay import bp as relay_bp
from functions.surveys import bp as surveys_bp
from functions.time_reconcile import bp as time_reconcile_bp

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(leanix_webhooks_bp)
app.register_functions(time_reconcile_bp)
app.register_functions(integration_runs_bp)
app.register_functions(relay_bp)
app.register_functions(surveys_bp)
app.register_functions(metrics_bp)
app.register_functions(quality_bp)
