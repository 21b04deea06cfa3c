"""The templates and the code in lockstep: the settings the app reads against the app settings
``infra/azure/main.bicep`` declares, name by name and secret by secret.

What the app reads comes from the code itself, never from a list kept here:
- every field of the pydantic settings models in ``lx_core/config.py`` (prefix + field name);
- every ``%SETTING%`` a function binding resolves through the host (``functions/*.py``);
- every ``${NAME}`` placeholder of the LeanIX-side files the deployed app loads
  (``infra/leanix/``, without ``webhooks.json``, which only ``lx config apply`` reads).

Then: every setting the deployed app needs is declared; every declared setting is read, or stands
on ``NOT_READ_BY_THE_APP`` with its reason; every secret is a Key Vault reference to this
template's vault; and the declared values, with the defaults and with each example parameter
file, pass the app's own settings validation.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from lx_core import config
from lx_core.errors import ConfigurationError
from lx_core.handlers.specs import SPECS
from lx_sandbox.funchost.ncrontab import ScheduleError, to_croniter
from tests.infra.test_bicep import (
    INFRA_DIR,
    REPO_ROOT,
    _app_settings,
    accessor_path,
    only,
    parse_bicep,
)

Json = dict[str, Any]

# Declared in the template, read by the Functions host or the platform rather than by our code.
NOT_READ_BY_THE_APP = {
    "AzureWebJobsStorage__accountName": "the host's own storage, through the identity",
    "AzureWebJobsStorage__credential": "the host's own storage, through the identity",
    "AzureWebJobsStorage__clientId": "the host's own storage, through the identity",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "Application Insights: the host and the worker",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Entra ingestion: the host and the exporter",
    "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY": "the Python worker configures the exporter",
}

# Optional in the code (they have a default, or the feature waits without them) but required in
# the deployment, because the deployed features keep state and results there.
REQUIRED_IN_AZURE = {
    "LX_STATE_TABLE_ENDPOINT": "timers, notices, the relay and runs keep state in the table",
    "LX_STATE_TABLE_NAME": "the table the template creates and scopes the role to",
    "LX_STATE_CLIENT_ID": "the state store authenticates as the app's identity",
    "LX_BLOB_ACCOUNT_URL": "Integration API results go to the data account's Blob service",
    "LX_BLOB_CLIENT_ID": "result uploads authenticate as the app's identity",
    "LX_BLOB_RESULTS_CONTAINER": "the one container the app's blob role is scoped to",
    "LEANIX_PACE_SCOPE": "many Flex instances share the one LeanIX budget",
    "LEANIX_PACE_FALLBACK_INSTANCES": "follows the plan's maximum instance count",
}

# Read by the code, but never in a deployment: keys are disabled, and crash points are a test aid.
NEVER_IN_AZURE = {
    "LX_STATE_CONNECTION_STRING": "shared keys are disabled; the identity is the way in",
    "LX_BLOB_CONNECTION_STRING": "shared keys are disabled; the identity is the way in",
    "LX_RELAY_CRASH_POINTS": "kills the process on purpose: tests only",
}

# ``webhooks.json`` is read by ``lx config apply`` on an operator's machine or in the deploy
# workflow, and ``examples/`` are never loaded.
CLI_ONLY_FILES = {"webhooks.json"}

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_KEY_VAULT_REFERENCE = re.compile(
    r"@Microsoft\.KeyVault\(VaultName=\$\{(\w+)\.name\};SecretName=\$\{(\w+)\}\)"
)
_CANARY = "canary-7f3d-not-a-real-secret"


# ---------------------------------------------------------------------------------------------
# What the app reads, from the code
# ---------------------------------------------------------------------------------------------


def settings_models() -> list[type[BaseSettings]]:
    return [
        cls
        for _, cls in inspect.getmembers(config, inspect.isclass)
        if issubclass(cls, BaseSettings) and cls.__module__ == config.__name__
    ]


def model_settings() -> dict[str, tuple[bool, bool]]:
    """Every environment variable a settings model reads: name -> (required, secret)."""
    found: dict[str, tuple[bool, bool]] = {}
    for cls in settings_models():
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        for name, field in cls.model_fields.items():
            secret = "SecretStr" in str(field.annotation) or field.annotation is SecretStr
            found[prefix + name.upper()] = (field.is_required(), secret)
    return found


def host_bindings() -> dict[str, bool]:
    """``%SETTING%`` the host resolves in a binding: name -> required (no default in code)."""
    found: dict[str, bool] = {}
    for path in sorted((REPO_ROOT / "functions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for name in re.findall(r"\bschedule\(\s*\"(\w+)\"", text):
            found.setdefault(name, False)  # functions/_timer.schedule: the code has a default
        for name in re.findall(r"\"%(\w+)%\"", text):
            found[name] = True
    return found


def _walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path)
    elif isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("$"):  # "$comment" is prose
                yield from _walk(value, (*path, key))


def file_placeholders() -> dict[str, bool]:
    """``${NAME}`` in the LeanIX-side files the deployed app loads: name -> secret. A chat
    channel's ``url`` carries its own credential, so it is a secret."""
    found: dict[str, bool] = {}
    leanix = REPO_ROOT / "infra" / "leanix"
    for path in sorted(leanix.rglob("*.json")):
        if path.name in CLI_ONLY_FILES or "examples" in path.relative_to(leanix).parts:
            continue
        for where, text in _walk(json.loads(path.read_text(encoding="utf-8"))):
            for name in _PLACEHOLDER.findall(text):
                secret = where[:1] == ("channels",) and where[-1:] == ("url",)
                found[name] = found.get(name, False) or secret
    return found


def secret_names() -> set[str]:
    from_models = {name for name, (_, secret) in model_settings().items() if secret}
    return from_models | {name for name, secret in file_placeholders().items() if secret}


def read_by_the_app() -> set[str]:
    return set(model_settings()) | set(host_bindings()) | set(file_placeholders())


def required_by_the_app() -> set[str]:
    required = {name for name, (req, _) in model_settings().items() if req}
    required |= {name for name, req in host_bindings().items() if req}
    return required | set(file_placeholders()) | set(REQUIRED_IN_AZURE)


# ---------------------------------------------------------------------------------------------
# What the template declares, evaluated
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> Json:
    return parse_bicep(INFRA_DIR / "main.bicep")


@pytest.fixture(scope="module")
def declared(template: Json) -> dict[str, Any]:
    return _app_settings(template)


def branches(expr: Any) -> list[Any]:
    """The values an expression can take: both sides of ``cond ? a : b``, else itself."""
    if isinstance(expr, dict) and expr.get("operator", {}).get("type") == "conditional":
        operands = expr["operator"]["operands"]
        return [*branches(operands["true_value"]), *branches(operands["false_value"])]
    return [expr]


class Evaluator:
    """Just enough of Bicep to compute the app settings from parameter values: literals with
    ``${...}`` interpolation, parameters, variables, ``string()``, ``empty()``, ``!``, ``?:``.
    A resource property becomes a plausible stand-in (an endpoint, a client id, a name)."""

    def __init__(self, template: Json, values: dict[str, Any]) -> None:
        self.params = template["parameters"]
        self.variables = template["variables"]
        self.values = values

    def symbol(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.params:
            return self.params[name].get("default")
        return self.eval(self.variables[name]["value"])

    def eval(self, expr: Any) -> Any:
        if isinstance(expr, bool | int | float) or expr is None:
            return expr
        if isinstance(expr, str):
            if expr in self.params or expr in self.variables:
                return self.symbol(expr)
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.interpolate(m.group(1))), expr)
        path = accessor_path(expr)
        if path is not None:
            return self.property(path)
        if "function" in expr:
            function = expr["function"]
            args = [self.eval(a) for a in function.get("parameters", {}).values()]
            if function["type"] == "string":
                return str(args[0]).lower() if isinstance(args[0], bool) else str(args[0])
            if function["type"] == "empty":
                return not args[0]
            raise NotImplementedError(f"Bicep function {function['type']}() in an app setting")
        operator = expr.get("operator", {})
        if operator.get("type") == "conditional":
            operands = operator["operands"]
            chosen = "true_value" if self.eval(operands["condition"]) else "false_value"
            return self.eval(operands[chosen])
        if operator.get("type") == "logical_not":
            return not self.eval(next(iter(operator["operands"].values())))
        raise NotImplementedError(f"Bicep expression {expr!r} in an app setting")

    def interpolate(self, inner: str) -> Any:
        if inner in self.params or inner in self.variables:
            return self.symbol(inner)
        return self.property(inner.split("."))

    @staticmethod
    def property(path: list[Any]) -> str:
        last = str(path[-1])
        if last == "clientId":
            return "00000000-0000-4000-8000-000000000001"
        if last in ("table", "blob"):
            return f"https://stlxfndata.{last}.core.windows.net/"
        if last == "name" and path[0] == "resultsContainer":
            return "lx-results"
        if last == "name" and path[0] == "stateTable":
            return "lxstate"
        return f"{path[0]}-{last}".lower()


def environment(template: Json, values: dict[str, Any]) -> dict[str, str]:
    """The app settings as the app would see them, Key Vault references resolved to a canary."""
    evaluator = Evaluator(template, values)
    env: dict[str, str] = {}
    for name, expr in _app_settings(template).items():
        value = evaluator.eval(expr)
        text = value if isinstance(value, str) else json.dumps(value)
        env[name] = _CANARY if text.startswith(config.KEY_VAULT_PREFIX) else text
    return env


def bicepparam_values(path: Path, tmp_path: Path) -> dict[str, Any]:
    """A .bicepparam's values (pycep reads templates only: rewritten into one)."""
    text = path.read_text(encoding="utf-8")
    rewritten = re.sub(r"^using .*$", "", text, flags=re.MULTILINE)
    rewritten = re.sub(r"^param (\w+) =", r"param \1 object =", rewritten, flags=re.MULTILINE)
    as_template = tmp_path / f"{path.stem}.bicep"
    as_template.write_text(rewritten, encoding="utf-8")
    return {k: v.get("default") for k, v in parse_bicep(as_template)["parameters"].items()}


# ---------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------


def test_the_code_is_read_the_way_this_test_assumes() -> None:
    """A guard on the discovery above: it must find what we know is there."""
    models = model_settings()
    assert models["LEANIX_API_TOKEN"] == (True, True)
    assert models["LX_WEBHOOK_AUTHORIZATION_NEXT"] == (False, True)
    assert models["LX_SMTP_HOST"] == (False, False)
    assert host_bindings()["TIME_RECONCILE_SCHEDULE"] is True
    assert host_bindings()["LX_RELAY_SCHEDULE"] is False
    assert file_placeholders()["LX_NOTIFY_SLACK_URL"] is True
    assert file_placeholders()["LX_NOTIFY_EMAIL_TO"] is False
    assert "LX_FUNCTION_KEY" not in file_placeholders()  # webhooks.json is the CLI's


def test_every_setting_the_deployed_app_needs_is_declared(declared: dict[str, Any]) -> None:
    missing = sorted(required_by_the_app() - set(declared))
    assert not missing, f"required by the app, not declared in main.bicep: {missing}"


def test_every_declared_setting_is_read_by_the_app_or_allowlisted(
    declared: dict[str, Any],
) -> None:
    unread = sorted(set(declared) - read_by_the_app() - set(NOT_READ_BY_THE_APP))
    assert not unread, f"declared in main.bicep, read by nothing: {unread}"
    stale = sorted(set(NOT_READ_BY_THE_APP) & read_by_the_app())
    assert not stale, f"allowlisted as not read, but the app reads them: {stale}"


def test_settings_that_must_never_be_deployed_are_absent(declared: dict[str, Any]) -> None:
    assert NEVER_IN_AZURE.keys() <= read_by_the_app(), "the list names settings that are gone"
    present = sorted(set(declared) & set(NEVER_IN_AZURE))
    assert not present, f"must not be in a deployment: {present}"


def test_every_secret_is_a_key_vault_reference_to_this_vault(
    template: Json, declared: dict[str, Any]
) -> None:
    vault, _ = only(template, "Microsoft.KeyVault/vaults")
    secrets = secret_names()
    assert {"LEANIX_API_TOKEN", "LX_WEBHOOK_AUTHORIZATION", "LX_SMTP_PASSWORD"} <= secrets
    seen: set[str] = set()
    for name, expr in declared.items():
        for value in branches(expr):
            is_reference = isinstance(value, str) and value.startswith(config.KEY_VAULT_PREFIX)
            if name not in secrets:
                assert not is_reference, f"{name} is no secret, yet a Key Vault reference"
                continue
            if value == "":
                continue  # a secret that is off (feature unused) stays blank, never a literal
            match = _KEY_VAULT_REFERENCE.fullmatch(value) if isinstance(value, str) else None
            assert match, f"{name}: a secret must be a Key Vault reference, not {value!r}"
            assert match.group(1) == vault, f"{name}: references another vault"
            secret = template["variables"][match.group(2)]["value"]
            assert re.fullmatch(r"[0-9a-zA-Z-]{1,127}", secret), f"{name}: bad secret name"
            assert secret not in seen, f"{name}: secret {secret} is used twice"
            seen.add(secret)


def _load_all(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith(("LEANIX_", "LX_", "TIME_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config.clear_settings_cache()
    problems: list[str] = []
    for cls in settings_models():
        try:
            config.load(cls)
        except ConfigurationError as exc:
            problems.append(str(exc))
    for name in host_bindings():  # the host refuses to index a timer with a bad schedule
        if env.get(name):
            try:
                to_croniter(env[name])
            except ScheduleError as exc:
                problems.append(f"{name}: {exc}")
    assert not problems, "\n".join(problems)


def test_the_template_defaults_pass_the_apps_validation(
    template: Json, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(template, {"leanixHost": "acme.leanix.net", "notifyEmailTo": "ea@x.org"})
    assert env["LX_WEBHOOK_AUTHORIZATION_NEXT"] == ""  # no rotation by default
    assert env["LEANIX_PACE_FALLBACK_INSTANCES"] == "40"
    _load_all(env, monkeypatch)


@pytest.mark.parametrize("name", ["main", "production", "test"])
def test_each_example_parameter_file_passes_the_apps_validation(
    template: Json, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = INFRA_DIR / f"{name}.bicepparam"
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^using '\./main\.bicep'$", text, re.MULTILINE), path
    values = bicepparam_values(path, tmp_path)
    declared_params = template["parameters"]
    unknown = sorted(set(values) - set(declared_params))
    assert not unknown, f"{path.name} sets parameters main.bicep lacks: {unknown}"
    needed = {n for n, p in declared_params.items() if p.get("default") is None}
    assert needed <= set(values), f"{path.name} misses {sorted(needed - set(values))}"
    _load_all(environment(template, values), monkeypatch)


def test_a_broken_parameter_value_is_caught_by_the_same_check(
    template: Json, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validation above can fail: a bad address and a 5-field schedule are refused."""
    base = {"leanixHost": "acme.leanix.net", "notifyEmailTo": "ea@x.org"}
    env = environment(template, {**base, "smtpFromAddress": "nobody"})
    with pytest.raises(AssertionError, match="LX_SMTP_FROM_ADDRESS"):
        _load_all(env, monkeypatch)
    env = environment(template, {**base, "qualitySchedule": "0 7 * * 1"})
    with pytest.raises(AssertionError, match="LX_QUALITY_SCHEDULE: NCRONTAB"):
        _load_all(env, monkeypatch)


def test_the_rotation_parameter_switches_the_next_secret_on(template: Json) -> None:
    on = environment(
        template,
        {"leanixHost": "h", "notifyEmailTo": "e@x.org", "webhookAuthorizationRotation": True},
    )
    assert on["LX_WEBHOOK_AUTHORIZATION_NEXT"] == _CANARY
    off = environment(
        template, {"leanixHost": "h", "notifyEmailTo": "e@x.org", "slackChannel": False}
    )
    assert off["LX_NOTIFY_SLACK_URL"] == "" and off["LX_NOTIFY_TEAMS_URL"] == _CANARY
    assert off["LX_SMTP_PASSWORD"] == ""  # no user name, no password


def test_webhook_routes_and_outputs_follow_the_handlers(template: Json) -> None:
    def unquoted(mapping: Json) -> Json:  # pycep keeps the quotes of a quoted key
        return {key.strip("'"): value for key, value in mapping.items()}

    routes = {spec.name: spec.route for spec in SPECS}
    assert unquoted(template["variables"]["webhookRoutes"]["value"]) == routes
    urls = unquoted(template["outputs"]["webhookUrls"]["value"])
    assert set(urls) == set(routes)
    base = "https://${functionApp.properties.defaultHostName}/api/"
    for name, url in urls.items():
        accessor = f"webhookRoutes.{name}" if name.isidentifier() else f"webhookRoutes['{name}']"
        assert url == base + "${" + accessor + "}", f"webhookUrls.{name}: {url}"
    outputs = template["outputs"]
    for needed in ("functionAppName", "defaultHostName", "functionsBaseUrl", "keyVaultName"):
        assert needed in outputs, needed
