"""Offline gate for infra/azure: Bicep syntax (pycep-parser) plus rule asserts.

No Bicep compiler can run offline, so this proves syntax and our own rules only: no type or
symbol checking (``az deployment group what-if`` does that, with Azure access).

pycep's output shape, as used below: ``resources[<symbol>]`` is
``{"type", "api_version", "existing", "config": {...}}``; a conditional resource nests its body
one level deeper (``config: {"condition": ..., "config": {...}}``); a nested child resource is
flattened to ``<parent>__<child>``; a reference (``plan.id``) is
``{"operator": {"type": "property_accessor", "operands": {"operand_1": "plan", ...}}}`` and a bare
symbol (a parameter or variable name) is a plain string, as is a string literal.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra" / "azure"
MAIN_BICEP = INFRA_DIR / "main.bicep"

Json = dict[str, Any]

API_VERSIONS = {
    "Microsoft.Storage/storageAccounts": "2023-05-01",
    "Microsoft.Storage/storageAccounts/tableServices": "2023-05-01",
    "Microsoft.Storage/storageAccounts/tableServices/tables": "2023-05-01",
    "Microsoft.Storage/storageAccounts/blobServices": "2023-05-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2023-05-01",
    "Microsoft.Web/sites": "2024-04-01",
    "Microsoft.Web/sites/config": "2024-04-01",
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "2024-04-01",
    "Microsoft.Web/serverfarms": "2024-04-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
}

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
TABLE_SERVICE = "Microsoft.Storage/storageAccounts/tableServices"
TABLE = "Microsoft.Storage/storageAccounts/tableServices/tables"
BLOB_SERVICE = "Microsoft.Storage/storageAccounts/blobServices"
CONTAINER = "Microsoft.Storage/storageAccounts/blobServices/containers"

# Built-in role definition ids (identical in every tenant).
BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"

# The app identity's role assignments, EXACTLY: label -> (role id, where it is scoped). Scopes are
# resolved by ``_scope_symbols``: the host account is the one AzureWebJobsStorage names, the state
# table the one under the account LX_STATE_TABLE_ENDPOINT names.
REQUIRED_ROLES = {
    "Storage Blob Data Owner on host storage": (BLOB_DATA_OWNER, "host storage"),
    "Storage Table Data Contributor on host storage (host diagnostic events)": (
        TABLE_DATA_CONTRIBUTOR,
        "host storage",
    ),
    "Storage Table Data Contributor on the state table": (TABLE_DATA_CONTRIBUTOR, "state table"),
    "Storage Blob Data Contributor on the results container": (
        BLOB_DATA_CONTRIBUTOR,
        "results container",
    ),
    "Storage Blob Data Reader on the sources container": (BLOB_DATA_READER, "sources container"),
    "Monitoring Metrics Publisher": (METRICS_PUBLISHER, "application insights"),
    "Key Vault Secrets User": (SECRETS_USER, "key vault"),
}

# Granted to nobody: the host's queues serve blob/queue triggers and Durable Functions only, and
# this app has HTTP and timer triggers (see the comment on the host roles in main.bicep).
FORBIDDEN_ROLES = {"Storage Queue Data Contributor": QUEUE_DATA_CONTRIBUTOR}

REQUIRED_APP_SETTINGS = {
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "LEANIX_HOST",
    "LEANIX_API_TOKEN",
    "LX_WEBHOOK_AUTHORIZATION",
    "TIME_RECONCILE_SCHEDULE",
    "TIME_RECONCILE_RESUME_SCHEDULE",
    "TIME_TAG_GROUP",
    "LX_WEBHOOK_DEADLINE_SECONDS",
    "LX_STATE_TABLE_ENDPOINT",
    "LX_STATE_TABLE_NAME",
    "LX_STATE_CLIENT_ID",
    "LEANIX_PACE_SCOPE",
    "LEANIX_PACE_FALLBACK_INSTANCES",
    "LX_BLOB_ACCOUNT_URL",
    "LX_BLOB_CLIENT_ID",
    "LX_BLOB_RESULTS_CONTAINER",
}

# App setting -> Key Vault secret name it must reference.
SECRET_SETTINGS = {
    "LEANIX_API_TOKEN": "leanix-api-token",
    "LX_WEBHOOK_AUTHORIZATION": "lx-webhook-authorization",
}

REQUIRED_OUTPUTS = {
    "functionAppName",
    "defaultHostName",
    "webhookUrlBase",
    "keyVaultName",
    "identityClientId",
    "storageAccountName",
    "dataStorageAccountName",
    "stateTableEndpoint",
    "blobEndpoint",
    "resultsContainerName",
    "sourcesContainerName",
}

# Azure Table names: 3-63 letters and digits, starting with a letter.
TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")
# Storage account names: 3-24 lowercase letters and digits.
STORAGE_NAME = re.compile(r"[a-z0-9]{3,24}")

KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("


# ---------------------------------------------------------------------------------------------
# The parse gate
# ---------------------------------------------------------------------------------------------


class BicepSyntaxError(AssertionError):
    """A Bicep file that pycep-parser rejects."""


def parse_bicep(path: Path) -> Json:
    """Parse one Bicep file or raise BicepSyntaxError naming the file and pycep's error."""
    try:
        parsed: object = BicepParser().parse(file_path=path)
    except Exception as exc:  # lark's UnexpectedInput and anything else pycep raises
        raise BicepSyntaxError(f"{path}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(parsed, dict):
        raise BicepSyntaxError(f"{path}: pycep returned {type(parsed).__name__}, not a mapping")
    return dict(parsed)


def bicep_files() -> list[Path]:
    return sorted(INFRA_DIR.rglob("*.bicep"))


@pytest.fixture(scope="module")
def template() -> Json:
    return parse_bicep(MAIN_BICEP)


# ---------------------------------------------------------------------------------------------
# Helpers over pycep's output
# ---------------------------------------------------------------------------------------------


def body(resource: Json) -> Json:
    """The resource body, unwrapping a conditional resource (``= if (...) {...}``)."""
    config: Json = resource["config"]
    if "condition" in config and isinstance(config.get("config"), dict):
        inner: Json = config["config"]
        return inner
    return config


def resources_of_type(template: Json, resource_type: str) -> dict[str, Json]:
    return {
        name: res
        for name, res in template["resources"].items()
        if res["type"].lower() == resource_type.lower()
    }


def only(template: Json, resource_type: str) -> tuple[str, Json]:
    found = resources_of_type(template, resource_type)
    assert len(found) == 1, f"expected exactly one {resource_type}, found {sorted(found)}"
    ((name, res),) = found.items()
    return name, body(res)


def accessor_path(expr: Any) -> list[Any] | None:
    """``a.b.c`` as ["a", "b", "c"]; None when expr is not a property access."""
    if not isinstance(expr, dict):
        return None
    operator = expr.get("operator")
    if not isinstance(operator, dict) or operator.get("type") != "property_accessor":
        return None
    first = operator["operands"]["operand_1"]
    rest = operator["operands"]["operand_2"]
    tail = accessor_path(rest)
    return [first, *(tail if tail is not None else [rest])]


def parent_symbol(name: str, res: Json) -> str | None:
    parent = body(res).get("parent")
    if isinstance(parent, str):
        return parent
    return name.rsplit("__", 1)[0] if "__" in name else None


def children(template: Json, parent: str, resource_type: str) -> dict[str, Json]:
    """The resources of ``resource_type`` whose parent is the resource symbol ``parent``."""
    return {
        name: res
        for name, res in resources_of_type(template, resource_type).items()
        if parent_symbol(name, res) == parent
    }


def _storage_account(template: Json, symbol: Any, setting: str) -> tuple[str, Json]:
    res = template["resources"].get(symbol) if isinstance(symbol, str) else None
    assert res is not None and res["type"] == STORAGE_ACCOUNT, (
        f"{setting} must name a storage account resource, not {symbol!r}"
    )
    return symbol, body(res)


def host_storage(template: Json) -> tuple[str, Json]:
    """The account the Functions host uses: the one ``AzureWebJobsStorage__accountName`` names."""
    path = accessor_path(_app_settings(template)["AzureWebJobsStorage__accountName"])
    assert path is not None and path[1:] == ["name"], f"AzureWebJobsStorage__accountName: {path}"
    return _storage_account(template, path[0], "AzureWebJobsStorage__accountName")


def data_storage(template: Json) -> tuple[str, Json]:
    """The application's account: the one whose Table endpoint ``LX_STATE_TABLE_ENDPOINT`` is."""
    path = accessor_path(_app_settings(template)["LX_STATE_TABLE_ENDPOINT"])
    assert path is not None and path[1:] == ["properties", "primaryEndpoints", "table"], (
        f"LX_STATE_TABLE_ENDPOINT must be <account>.properties.primaryEndpoints.table, not {path}"
    )
    return _storage_account(template, path[0], "LX_STATE_TABLE_ENDPOINT")


def state_table(template: Json) -> tuple[str, Json]:
    """The one table, in the ``default`` Table service of the data account."""
    data_name, _ = data_storage(template)
    services = children(template, data_name, TABLE_SERVICE)
    assert len(services) == 1, f"expected one tableServices under {data_name}: {sorted(services)}"
    ((service_name, service),) = services.items()
    assert body(service)["name"] == "default", "the Table service of an account is 'default'"
    tables = children(template, service_name, TABLE)
    assert len(tables) == 1, f"expected one table under {service_name}: {sorted(tables)}"
    ((table_name, table),) = tables.items()
    return table_name, body(table)


def account_containers(template: Json, account: str) -> dict[str, Json]:
    """The blob containers in the ``default`` Blob service of ``account``."""
    found: dict[str, Json] = {}
    for service_name, service in children(template, account, BLOB_SERVICE).items():
        assert body(service)["name"] == "default", "the Blob service of an account is 'default'"
        found.update(children(template, service_name, CONTAINER))
    return found


def data_blob_containers(template: Json) -> dict[str, str]:
    """``{"results": symbol, "sources": symbol}``: the data account's containers, told apart by
    the parameter that names them (``LX_BLOB_RESULTS_CONTAINER`` must name the results one)."""
    data_name, _ = data_storage(template)
    by_param = {
        body(res)["name"]: name for name, res in account_containers(template, data_name).items()
    }
    assert set(by_param) == {"resultsContainerName", "sourcesContainerName"}, by_param
    return {
        "results": by_param["resultsContainerName"],
        "sources": by_param["sourcesContainerName"],
    }


def evaluate_storage_name(template: Json, variable: str, base_name: str, suffix: str) -> str:
    """The value of a ``take(toLower('...${...}...'), n)`` name variable for given inputs.

    Only the interpolations the template is known to use are substituted; any other one fails,
    so a changed construction is noticed instead of being evaluated wrongly.
    """
    function = template["variables"][variable]["value"]["function"]
    assert function["type"] == "take", f"{variable}: not take(...)"
    number = function["parameters"]["number_to_take"]
    inner = function["parameters"]["original_value"]["function"]
    assert inner["type"] == "to_lower", f"{variable}: not take(toLower(...), n)"
    text: str = inner["parameters"]["string_to_change"]
    known = {"${replace(baseName, '-', '')}": base_name.replace("-", ""), "${suffix}": suffix}
    for placeholder, value in known.items():
        text = text.replace(placeholder, value)
    assert "${" not in text, f"{variable}: unknown interpolation left in {text!r}"
    return text.lower()[:number]


def walk_strings(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a parsed structure (keys too), with a path for messages."""
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield f"{where}.{key}", str(key)
            yield from walk_strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_strings(value, f"{where}[{i}]")


# ---------------------------------------------------------------------------------------------
# Literal-secret detector (tested on its own below, so it is known to be able to fail)
# ---------------------------------------------------------------------------------------------

_SECRET_MARKERS = re.compile(
    r"AccountKey=|SharedAccessKey=|SharedAccessSignature=|InstrumentationKey=|[?&]sig=|"
    r"\bLXT_|-----BEGIN [A-Z ]*PRIVATE KEY|\bBearer\s+[A-Za-z0-9._\-]{16,}|"
    r"\bpassword\s*[=:]\s*\S",
    re.IGNORECASE,
)
_TOKEN_CANDIDATE = re.compile(r"[A-Za-z0-9+/_\-]{32,}={0,2}")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_like_secret(value: str) -> str | None:
    """Why ``value`` looks like a literal credential, or None."""
    marker = _SECRET_MARKERS.search(value)
    if marker:
        return f"contains {marker.group(0)!r}"
    for token in _TOKEN_CANDIDATE.findall(value):
        if _GUID.match(token):
            continue  # role definition ids and the like are public constants
        has_digit = any(c.isdigit() for c in token)
        has_alpha = any(c.isalpha() for c in token)
        if has_digit and has_alpha and _entropy(token) >= 3.5:
            return f"contains a long random-looking string ({len(token)} chars)"
    return None


# ---------------------------------------------------------------------------------------------
# Syntax gate
# ---------------------------------------------------------------------------------------------


def test_infra_has_main_bicep() -> None:
    assert MAIN_BICEP in bicep_files()


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(Path(p).relative_to(REPO_ROOT)))
def test_bicep_file_parses(path: Path) -> None:
    try:
        parsed = parse_bicep(path)
    except BicepSyntaxError as exc:
        pytest.fail(f"Bicep syntax gate failed: {exc}", pytrace=False)
    assert parsed.get("resources") or parsed.get("modules"), f"{path}: declares nothing"


def test_parse_gate_rejects_broken_bicep(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bicep"
    broken.write_text(
        "resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n"
        "  name: 'stbroken'\n"
        "  properties: {\n"
        "    minimumTlsVersion: 'TLS1_2'\n"
        "  \n"  # the closing brace of `properties` is missing
        "}\n"
        "param = =\n",
        encoding="utf-8",
    )
    with pytest.raises(BicepSyntaxError, match=r"broken\.bicep"):
        parse_bicep(broken)


def test_no_registry_modules_or_key_listing() -> None:
    """Raw resources only (checkov cannot expand `br:` modules offline) and no key fetching."""
    for path in bicep_files():
        text = path.read_text(encoding="utf-8")
        assert "br:" not in text and "br/public:" not in text, f"{path}: registry module"
        assert not re.search(r"\blist(Keys|ConnectionStrings|AccountSas|Secrets)\(", text), (
            f"{path}: fetches keys or secrets at deploy time"
        )


# ---------------------------------------------------------------------------------------------
# Rules on main.bicep
# ---------------------------------------------------------------------------------------------


def test_api_versions(template: Json) -> None:
    for resource_type, version in API_VERSIONS.items():
        found = resources_of_type(template, resource_type)
        assert found, f"no {resource_type} resource"
        for name, res in found.items():
            assert res["api_version"] == version, f"{name}: {res['api_version']} != {version}"


STORAGE_ACCOUNTS = {"host": host_storage, "data": data_storage}


@pytest.mark.parametrize("account", sorted(STORAGE_ACCOUNTS))
def test_storage_account_hardening(template: Json, account: str) -> None:
    _, storage = STORAGE_ACCOUNTS[account](template)
    props = storage["properties"]
    assert storage["kind"] == "StorageV2"
    assert props["allowSharedKeyAccess"] is False
    assert props["defaultToOAuthAuthentication"] is True
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True
    assert props["allowBlobPublicAccess"] is False
    assert props["allowCrossTenantReplication"] is False

    # The SKU is a parameter whose allowed values are all Standard (GPv2) redundancy options.
    sku_param = template["parameters"][storage["sku"]["name"]]
    allowed = next(d["argument"] for d in sku_param["decorators"] if d["type"] == "allowed")
    assert sku_param["default"] == "Standard_ZRS"
    assert set(allowed) <= {"Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS"}


def test_host_and_data_storage_are_separate(template: Json) -> None:
    host_name, host = host_storage(template)
    data_name, data = data_storage(template)
    assert host_name != data_name, "AzureWebJobsStorage and the state store share an account"
    assert set(resources_of_type(template, STORAGE_ACCOUNT)) == {host_name, data_name}
    assert host["name"] != data["name"], "both accounts are named by the same variable"

    # The host account holds no application table or blob; the data account no deployment
    # package: the host's one container is the deployment package's.
    assert not children(template, host_name, TABLE_SERVICE)
    host_containers = account_containers(template, host_name)
    assert len(host_containers) == 1, f"expected one deployment container: {host_containers}"
    ((_, container),) = host_containers.items()
    assert body(container)["properties"]["publicAccess"] == "None"
    deployment = template["resources"][only(template, "Microsoft.Web/sites")[0]]
    assert body(container)["name"] in str(body(deployment)["properties"]["functionAppConfig"])
    data_containers = account_containers(template, data_name)
    assert set(data_containers) == set(data_blob_containers(template).values())
    assert len(data_containers) + 1 == len(resources_of_type(template, CONTAINER))


@pytest.mark.parametrize("base_length", ["min_length", "max_length"])
def test_storage_account_names(template: Json, base_length: str) -> None:
    """Both names are 3-24 lowercase letters/digits, differ, and keep enough of the suffix.

    The names are computed (checkov's CKV_AZURE_43 is skipped for this reason), so the
    construction is evaluated for the shortest and the longest allowed baseName.
    """
    decorators = {
        d["type"]: d.get("argument") for d in template["parameters"]["baseName"]["decorators"]
    }
    base_name = "abcdefghijklmnop"[: decorators[base_length]]
    suffix = "z9y8x7w6v5u4t"  # uniqueString(): 13 lowercase letters and digits
    _, host = host_storage(template)
    _, data = data_storage(template)
    host_value = evaluate_storage_name(template, host["name"], base_name, suffix)
    data_value = evaluate_storage_name(template, data["name"], base_name, suffix)
    for value in (host_value, data_value):
        assert STORAGE_NAME.fullmatch(value), f"invalid storage account name {value!r}"
        assert suffix[:8] in value, f"{value!r} keeps too little of the unique suffix"
    assert host_value != data_value


def test_state_table_in_data_account(template: Json) -> None:
    _, table = state_table(template)
    assert len(resources_of_type(template, TABLE_SERVICE)) == 1
    assert len(resources_of_type(template, TABLE)) == 1

    param = template["parameters"][table["name"]]
    assert param["type"] == "string"
    assert param["default"] == "lxstate"
    assert TABLE_NAME.fullmatch(param["default"])
    decorators = {d["type"]: d.get("argument") for d in param.get("decorators", [])}
    assert decorators.get("min_length") == 3
    assert decorators.get("max_length") == 63


def test_flex_consumption_plan(template: Json) -> None:
    _, plan = only(template, "Microsoft.Web/serverfarms")
    assert plan["sku"]["name"] == "FC1"
    assert plan["sku"]["tier"] == "FlexConsumption"
    assert plan["properties"]["reserved"] is True


def test_function_app_site(template: Json) -> None:
    plan_name, _ = only(template, "Microsoft.Web/serverfarms")
    identity_name, _ = only(template, "Microsoft.ManagedIdentity/userAssignedIdentities")
    storage_name, _ = host_storage(template)
    site_name, site = only(template, "Microsoft.Web/sites")
    props = site["properties"]

    assert site["kind"] == "functionapp,linux"
    assert site["identity"]["type"] == "UserAssigned"
    assert props["httpsOnly"] is True
    assert accessor_path(props["serverFarmId"]) == [plan_name, "id"]
    assert accessor_path(props["keyVaultReferenceIdentity"]) == [identity_name, "id"]
    assert props["siteConfig"]["minTlsVersion"] == "1.2"
    assert props["siteConfig"]["scmMinTlsVersion"] == "1.2"
    assert props["siteConfig"]["ftpsState"] == "Disabled"
    assert props["clientCertEnabled"] is False  # LeanIX cannot present one (see .checkov.yaml)
    # CORS closed: no browser origin, no credentials.
    assert props["siteConfig"]["cors"] == {"allowedOrigins": [], "supportCredentials": False}
    policies = {
        body(res)["name"]: body(res)
        for name, res in resources_of_type(
            template, "Microsoft.Web/sites/basicPublishingCredentialsPolicies"
        ).items()
        if parent_symbol(name, res) == site_name
    }
    assert set(policies) == {"ftp", "scm"}, "basic-auth publishing must be off for FTP and SCM"
    assert all(p["properties"]["allow"] is False for p in policies.values())

    fac = props["functionAppConfig"]
    assert fac["runtime"] == {"name": "python", "version": "3.11"}
    deployment = fac["deployment"]["storage"]
    assert deployment["type"] == "blobContainer"
    assert deployment["value"].startswith(f"${{{storage_name}.properties.primaryEndpoints.blob}}")
    assert deployment["authentication"]["type"] == "UserAssignedIdentity"
    assert accessor_path(deployment["authentication"]["userAssignedIdentityResourceId"]) == [
        identity_name,
        "id",
    ]
    assert {"maximumInstanceCount", "instanceMemoryMB"} <= set(fac["scaleAndConcurrency"])


def _app_settings(template: Json) -> dict[str, Any]:
    site_name, _ = only(template, "Microsoft.Web/sites")
    configs = {
        name: res
        for name, res in resources_of_type(template, "Microsoft.Web/sites/config").items()
        if body(res).get("name") == "appsettings"
    }
    assert len(configs) == 1, f"expected one config/appsettings child, found {sorted(configs)}"
    ((name, res),) = configs.items()
    assert parent_symbol(name, res) == site_name
    settings: dict[str, Any] = body(res)["properties"]
    return settings


def test_required_app_settings(template: Json) -> None:
    settings = _app_settings(template)
    identity_name, _ = only(template, "Microsoft.ManagedIdentity/userAssignedIdentities")
    storage_name, _ = host_storage(template)
    params = template["parameters"]

    missing = REQUIRED_APP_SETTINGS - set(settings)
    assert not missing, f"missing app settings: {sorted(missing)}"
    assert "AzureWebJobsStorage" not in settings, "use identity-based AzureWebJobsStorage__*"

    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert accessor_path(settings["AzureWebJobsStorage__accountName"]) == [storage_name, "name"]
    client_id = [identity_name, "properties", "clientId"]
    assert accessor_path(settings["AzureWebJobsStorage__clientId"]) == client_id
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        f"ClientId=${{{identity_name}.properties.clientId}};Authorization=AAD"
    )

    for setting in ("LEANIX_HOST", "TIME_RECONCILE_SCHEDULE", "TIME_TAG_GROUP"):
        assert settings[setting] in params, f"{setting} must come from a parameter"
    schedule = params[settings["TIME_RECONCILE_SCHEDULE"]]["default"]
    assert schedule == "0 30 2 * * *"
    assert len(schedule.split()) == 6, "NCRONTAB needs 6 fields (with seconds)"
    assert params[settings["TIME_TAG_GROUP"]]["default"] == "TIME Model"


def test_state_and_resume_app_settings(template: Json) -> None:
    settings = _app_settings(template)
    identity_name, _ = only(template, "Microsoft.ManagedIdentity/userAssignedIdentities")
    host_name, _ = host_storage(template)
    data_name, _ = data_storage(template)
    table_name, _ = state_table(template)
    params = template["parameters"]

    assert accessor_path(settings["LX_STATE_TABLE_ENDPOINT"]) == [
        data_name,
        "properties",
        "primaryEndpoints",
        "table",
    ]
    assert accessor_path(settings["LX_STATE_TABLE_NAME"]) == [table_name, "name"]
    assert accessor_path(settings["LX_STATE_CLIENT_ID"]) == [
        identity_name,
        "properties",
        "clientId",
    ]
    # Identity only: no key-based way into the state store in Azure.
    assert "LX_STATE_CONNECTION_STRING" not in settings
    # The host settings keep pointing at the host account, never the data account.
    host_settings = {k: v for k, v in settings.items() if k.startswith("AzureWebJobsStorage")}
    assert data_name not in str(host_settings) and host_name in str(host_settings)

    resume = settings["TIME_RECONCILE_RESUME_SCHEDULE"]
    assert resume in params, "TIME_RECONCILE_RESUME_SCHEDULE must come from a parameter"
    assert resume != settings["TIME_RECONCILE_SCHEDULE"]
    assert params[resume]["default"] == "0 */5 * * * *"
    assert len(params[resume]["default"].split()) == 6, "NCRONTAB needs 6 fields (with seconds)"

    deadline = settings["LX_WEBHOOK_DEADLINE_SECONDS"]
    assert deadline in params, "LX_WEBHOOK_DEADLINE_SECONDS must come from a parameter"
    assert params[deadline]["type"] == "string", "app settings are strings"
    assert params[deadline]["default"] == "5"
    assert 0 < float(params[deadline]["default"]) < 230, "HTTP responses are cut off at 230 s"


def test_the_pace_is_shared_and_its_fallback_follows_the_instance_count(template: Json) -> None:
    """LeanIX's limit is per user across every instance: the app paces the deployment as a
    whole, and the fallback share comes from the same parameter that caps the instances."""
    settings = _app_settings(template)
    assert settings["LEANIX_PACE_SCOPE"] == "deployment"
    fallback = str(settings["LEANIX_PACE_FALLBACK_INSTANCES"])
    assert "maximumInstanceCount" in fallback
    _, site = only(template, "Microsoft.Web/sites")
    assert "maximumInstanceCount" in str(site)


def test_secret_settings_are_key_vault_references(template: Json) -> None:
    settings = _app_settings(template)
    vault_name, _ = only(template, "Microsoft.KeyVault/vaults")
    variables = template["variables"]
    for setting, secret_name in SECRET_SETTINGS.items():
        value = settings[setting]
        assert isinstance(value, str) and value.startswith(KEY_VAULT_REFERENCE), setting
        match = re.fullmatch(
            r"@Microsoft\.KeyVault\(VaultName=\$\{(\w+)\.name\};SecretName=\$\{(\w+)\}\)", value
        )
        assert match, f"{setting}: unexpected Key Vault reference {value!r}"
        assert match.group(1) == vault_name
        assert variables[match.group(2)]["value"] == secret_name


def test_no_secret_resources_or_secure_defaults(template: Json) -> None:
    """Secret values never live in Bicep: no vault secrets, no defaults on secure params."""
    assert not resources_of_type(template, "Microsoft.KeyVault/vaults/secrets")
    for name, param in template["parameters"].items():
        decorators = {d["type"] for d in param.get("decorators", [])}
        if "secure" in decorators:
            assert param.get("default") is None, f"@secure() param {name} has a default"


def test_no_literal_secrets_in_template(template: Json) -> None:
    offenders = [
        f"{where}: {reason}"
        for where, value in walk_strings(template)
        if (reason := looks_like_secret(value))
    ]
    assert not offenders, "literal secrets in main.bicep:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "value",
    [
        "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=abc",
        "InstrumentationKey=00000000-0000-0000-0000-000000000000",
        "LXT_aVeryRealLookingLeanIXToken",
        "https://st.blob.core.windows.net/c?sv=2022&sig=abcdef",
        "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0",
    ],
)
def test_secret_detector_flags(value: str) -> None:
    assert looks_like_secret(value)


@pytest.mark.parametrize(
    "value",
    [
        "4633458b-17de-408a-b874-0445c86b69e6",
        "@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=${leanixApiTokenSecretName})",
        "ClientId=${identity.properties.clientId};Authorization=AAD",
        "Microsoft.Authorization/roleDefinitions",
        "storageTableDataContributor",
    ],
)
def test_secret_detector_passes(value: str) -> None:
    assert looks_like_secret(value) is None


def test_key_vault_rbac_and_purge_protection(template: Json) -> None:
    _, vault = only(template, "Microsoft.KeyVault/vaults")
    props = vault["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert props["enablePurgeProtection"] is True
    assert not props.get("accessPolicies"), "RBAC vault: no access policies"


def test_application_insights_entra_only(template: Json) -> None:
    workspace_name, _ = only(template, "Microsoft.OperationalInsights/workspaces")
    _, insights = only(template, "Microsoft.Insights/components")
    assert insights["properties"]["DisableLocalAuth"] is True
    assert accessor_path(insights["properties"]["WorkspaceResourceId"]) == [workspace_name, "id"]


def _role_id(expr: Any, variables: Json) -> str | None:
    """The role GUID in ``subscriptionResourceId('...roleDefinitions', <id>)``."""
    if not isinstance(expr, dict) or "function" not in expr:
        return None
    function = expr["function"]
    if function["type"] != "subscription_resource_id":
        return None
    params = function["parameters"]
    assert params["resource_type"] == "Microsoft.Authorization/roleDefinitions"
    return _role_ref(params["resource_name_1"], variables)


def _role_ref(ref: Any, variables: Json) -> str:
    """A role GUID given as a literal, a variable, or ``roleIds.<name>``."""
    if isinstance(ref, str):
        return str(variables[ref]["value"]) if ref in variables else ref
    path = accessor_path(ref)
    assert path is not None and len(path) == 2, f"unsupported role id expression {ref!r}"
    return str(variables[path[0]]["value"][path[1]])


def _scope_symbols(template: Json) -> dict[str, str]:
    return {
        "host storage": host_storage(template)[0],
        "state table": state_table(template)[0],
        "results container": data_blob_containers(template)["results"],
        "sources container": data_blob_containers(template)["sources"],
        "application insights": only(template, "Microsoft.Insights/components")[0],
        "key vault": only(template, "Microsoft.KeyVault/vaults")[0],
    }


def _identity_assignments(template: Json) -> dict[str, Json]:
    identity_name, _ = only(template, "Microsoft.ManagedIdentity/userAssignedIdentities")
    return {
        name: body(res)
        for name, res in resources_of_type(
            template, "Microsoft.Authorization/roleAssignments"
        ).items()
        if accessor_path(body(res)["properties"]["principalId"])
        == [identity_name, "properties", "principalId"]
    }


def test_role_assignments_for_app_identity(template: Json) -> None:
    identity_name, _ = only(template, "Microsoft.ManagedIdentity/userAssignedIdentities")
    variables = template["variables"]
    for res in resources_of_type(template, "Microsoft.Authorization/roleAssignments").values():
        config = body(res)
        role = _role_id(config["properties"]["roleDefinitionId"], variables)
        assert role is not None, f"roleDefinitionId not a role definition: {config}"
        assert config["name"]["function"]["type"] == "guid", "use guid() names"
        assert role not in FORBIDDEN_ROLES.values(), f"{role} must not be granted: {config}"

    scopes = _scope_symbols(template)
    granted: dict[tuple[str, str], str] = {}
    for name, config in _identity_assignments(template).items():
        role = _role_id(config["properties"]["roleDefinitionId"], variables)
        assert role is not None
        key = (role, config["scope"])
        assert key not in granted, f"{name} duplicates {granted.get(key)}"
        granted[key] = name

        assert config["properties"]["principalType"] == "ServicePrincipal", name
        # guid(<scope>.id, identity.id, <role>): stable, and unique per scope and role.
        guid_args = config["name"]["function"]["parameters"]
        assert accessor_path(guid_args["base_string"]) == [config["scope"], "id"], name
        assert accessor_path(guid_args["extra_string_1"]) == [identity_name, "id"], name
        assert _role_ref(guid_args["extra_string_2"], variables) == role, name

    expected = {
        (role_id, scopes[scope]): label for label, (role_id, scope) in REQUIRED_ROLES.items()
    }
    missing = [label for key, label in expected.items() if key not in granted]
    extra = [name for key, name in granted.items() if key not in expected]
    assert not missing, f"roles not granted to {identity_name}: {missing}"
    assert not extra, f"role assignments for {identity_name} beyond the required set: {extra}"


def test_state_table_role_is_scoped_to_the_table(template: Json) -> None:
    """The data account's table role reaches the state table only, not the account or host."""
    table_name, _ = state_table(template)
    host_name, _ = host_storage(template)
    data_name, _ = data_storage(template)
    variables = template["variables"]
    table_roles = {
        name: config["scope"]
        for name, config in _identity_assignments(template).items()
        if _role_id(config["properties"]["roleDefinitionId"], variables) == TABLE_DATA_CONTRIBUTOR
    }
    assert sorted(table_roles.values()) == sorted([host_name, table_name]), table_roles
    assert data_name not in table_roles.values(), "scope the role to the table, not the account"
    # No assignment of any role for anyone on the data account as a whole.
    for name, res in resources_of_type(template, "Microsoft.Authorization/roleAssignments").items():
        assert body(res)["scope"] != data_name, f"{name} is scoped to the whole data account"


def test_data_account_blob_containers(template: Json) -> None:
    """A private results container and a private sources container in the data account, named
    by parameters whose defaults the app's defaults match (lx_core.storage.blob)."""
    from lx_core.storage.blob import RESULTS_CONTAINER, SOURCES_CONTAINER, check_container

    data_name, _ = data_storage(template)
    services = children(template, data_name, BLOB_SERVICE)
    assert len(services) == 1
    ((_, service),) = services.items()
    retention = body(service)["properties"]
    assert retention["deleteRetentionPolicy"]["enabled"] is True
    assert retention["containerDeleteRetentionPolicy"]["enabled"] is True

    params = template["parameters"]
    expected = {"results": RESULTS_CONTAINER, "sources": SOURCES_CONTAINER}
    for label, symbol in data_blob_containers(template).items():
        container = body(template["resources"][symbol])
        assert container["properties"]["publicAccess"] == "None", label
        param = params[container["name"]]
        assert param["type"] == "string" and param["default"] == expected[label]
        check_container(param["default"])
        decorators = {d["type"]: d.get("argument") for d in param.get("decorators", [])}
        assert (decorators.get("min_length"), decorators.get("max_length")) == (3, 63)


def _assignments_with_role(template: Json, role: str) -> dict[str, Json]:
    variables = template["variables"]
    return {
        name: body(res)
        for name, res in resources_of_type(
            template, "Microsoft.Authorization/roleAssignments"
        ).items()
        if _role_id(body(res)["properties"]["roleDefinitionId"], variables) == role
    }


@pytest.mark.parametrize(
    ("role", "container"),
    [(BLOB_DATA_CONTRIBUTOR, "results"), (BLOB_DATA_READER, "sources")],
    ids=["contributor-on-results", "reader-on-sources"],
)
def test_each_blob_role_is_scoped_to_its_container_only(
    template: Json, role: str, container: str
) -> None:
    """One assignment of the role, for the app identity, on its container: not the account,
    not the Blob service, not the other container."""
    identity_name, _ = only(template, "Microsoft.ManagedIdentity/userAssignedIdentities")
    containers = data_blob_containers(template)
    data_name, _ = data_storage(template)
    found = _assignments_with_role(template, role)
    assert len(found) == 1, f"expected one assignment of {role}: {sorted(found)}"
    ((name, config),) = found.items()
    assert config["scope"] == containers[container], f"{name} scoped to {config['scope']}"
    assert config["scope"] not in (data_name, *children(template, data_name, BLOB_SERVICE))
    principal = accessor_path(config["properties"]["principalId"])
    assert principal == [identity_name, "properties", "principalId"]
    # The role id in the template is the documented built-in one.
    assert (
        template["variables"]["roleIds"]["value"][
            "storageBlobDataContributor"
            if role == BLOB_DATA_CONTRIBUTOR
            else "storageBlobDataReader"
        ]
        == role
    )


def test_no_broader_blob_role_on_the_data_account(template: Json) -> None:
    """Blob Data Owner stays on the host account; nothing reaches the data account's blobs
    except the two container-scoped roles."""
    host_name, _ = host_storage(template)
    (owner,) = _assignments_with_role(template, BLOB_DATA_OWNER).values()
    assert owner["scope"] == host_name
    containers = set(data_blob_containers(template).values())
    for role in (BLOB_DATA_CONTRIBUTOR, BLOB_DATA_READER):
        for name, config in _assignments_with_role(template, role).items():
            assert config["scope"] in containers, f"{name} reaches beyond a data container"


def test_blob_app_settings(template: Json) -> None:
    settings = _app_settings(template)
    identity_name, _ = only(template, "Microsoft.ManagedIdentity/userAssignedIdentities")
    data_name, _ = data_storage(template)
    results = data_blob_containers(template)["results"]
    assert accessor_path(settings["LX_BLOB_ACCOUNT_URL"]) == [
        data_name,
        "properties",
        "primaryEndpoints",
        "blob",
    ]
    assert accessor_path(settings["LX_BLOB_CLIENT_ID"]) == [identity_name, "properties", "clientId"]
    assert accessor_path(settings["LX_BLOB_RESULTS_CONTAINER"]) == [results, "name"]
    assert "LX_BLOB_CONNECTION_STRING" not in settings, "identity only, no key-based way in"
    outputs = template["outputs"]
    assert accessor_path(outputs["blobEndpoint"]["value"]) == accessor_path(
        settings["LX_BLOB_ACCOUNT_URL"]
    )


def test_app_settings_wait_for_the_identity_roles(template: Json) -> None:
    """The host starts when the settings land: every role it needs must exist by then."""
    configs = [
        body(res)
        for res in resources_of_type(template, "Microsoft.Web/sites/config").values()
        if body(res).get("name") == "appsettings"
    ]
    assert len(configs) == 1
    depends_on = set(configs[0].get("dependsOn", []))
    missing = set(_identity_assignments(template)) - depends_on
    assert not missing, f"config/appsettings does not depend on {sorted(missing)}"


def test_outputs(template: Json) -> None:
    outputs = template["outputs"]
    missing = REQUIRED_OUTPUTS - set(outputs)
    assert not missing, f"missing outputs: {sorted(missing)}"
    assert outputs["webhookUrlBase"]["value"].startswith("https://")
    host_name, _ = host_storage(template)
    data_name, _ = data_storage(template)
    assert accessor_path(outputs["storageAccountName"]["value"]) == [host_name, "name"]
    assert accessor_path(outputs["dataStorageAccountName"]["value"]) == [data_name, "name"]
    assert accessor_path(outputs["stateTableEndpoint"]["value"]) == [
        data_name,
        "properties",
        "primaryEndpoints",
        "table",
    ]


# ---------------------------------------------------------------------------------------------
# main.bicepparam
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("param_file", sorted(INFRA_DIR.glob("*.bicepparam")), ids=lambda p: p.name)
def test_bicepparam_example(template: Json, tmp_path: Path, param_file: Path) -> None:
    """pycep does not read .bicepparam: check its `using`, names and values by hand.

    The two param-file-only constructs (`using ...` and untyped `param x = value`) are rewritten
    to template syntax so that every value still passes the pycep syntax gate.
    """
    text = param_file.read_text(encoding="utf-8")
    assert re.search(r"^using '\./main\.bicep'$", text, re.MULTILINE)

    rewritten = re.sub(r"^using .*$", "", text, flags=re.MULTILINE)
    rewritten = re.sub(r"^param (\w+) =", r"param \1 object =", rewritten, flags=re.MULTILINE)
    as_template = tmp_path / "main.bicepparam.bicep"
    as_template.write_text(rewritten, encoding="utf-8")
    try:
        values = {k: v.get("default") for k, v in parse_bicep(as_template)["parameters"].items()}
    except BicepSyntaxError as exc:
        pytest.fail(f"{param_file}: {exc}", pytrace=False)

    declared = template["parameters"]
    unknown = set(values) - set(declared)
    assert not unknown, f"bicepparam sets undeclared params: {sorted(unknown)}"
    required = {name for name, p in declared.items() if "default" not in p or p["default"] is None}
    assert required <= set(values), f"bicepparam misses required params: {required - set(values)}"
    assert values["leanixHost"]
    assert len(str(values.get("timeReconcileSchedule", "0 30 2 * * *")).split()) == 6

    offenders = [f"{w}: {r}" for w, v in walk_strings(values) if (r := looks_like_secret(v))]
    assert not offenders, "literal secrets in main.bicepparam:\n" + "\n".join(offenders)
