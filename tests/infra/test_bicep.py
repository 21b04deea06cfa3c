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
MAIN_BICEPPARAM = INFRA_DIR / "main.bicepparam"

Json = dict[str, Any]

API_VERSIONS = {
    "Microsoft.Web/sites": "2024-04-01",
    "Microsoft.Web/sites/config": "2024-04-01",
    "Microsoft.Web/serverfarms": "2024-04-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
}

# Built-in role definition ids, and the resource (by type) each must be scoped to.
REQUIRED_ROLES = {
    "Storage Blob Data Owner": ("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "storageAccounts"),
    "Storage Queue Data Contributor": (
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "storageAccounts",
    ),
    "Storage Table Data Contributor": (
        "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        "storageAccounts",
    ),
    "Monitoring Metrics Publisher": ("3913510d-42f4-4e42-8a64-420c390055eb", "components"),
    "Key Vault Secrets User": ("4633458b-17de-408a-b874-0445c86b69e6", "vaults"),
}

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
    "TIME_TAG_GROUP",
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
}

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


def test_storage_account_hardening(template: Json) -> None:
    name, storage = only(template, "Microsoft.Storage/storageAccounts")
    props = storage["properties"]
    assert storage["kind"] == "StorageV2"
    assert props["allowSharedKeyAccess"] is False
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True
    assert props["allowBlobPublicAccess"] is False

    containers = resources_of_type(
        template, "Microsoft.Storage/storageAccounts/blobServices/containers"
    )
    assert len(containers) == 1, "expected one deployment blob container"
    ((container_name, container),) = containers.items()
    assert body(container)["properties"]["publicAccess"] == "None"
    blob_service = parent_symbol(container_name, container)
    assert blob_service is not None
    assert parent_symbol(blob_service, template["resources"][blob_service]) == name

    # Storage names: 3-24 lowercase letters and digits. The name is computed, so check the
    # construction (checkov's CKV_AZURE_43 is skipped for this reason).
    name_var = template["variables"][storage["name"]]["value"]["function"]
    assert name_var["type"] == "take"
    assert name_var["parameters"]["number_to_take"] == 24
    assert name_var["parameters"]["original_value"]["function"]["type"] == "to_lower"


def test_flex_consumption_plan(template: Json) -> None:
    _, plan = only(template, "Microsoft.Web/serverfarms")
    assert plan["sku"]["name"] == "FC1"
    assert plan["sku"]["tier"] == "FlexConsumption"
    assert plan["properties"]["reserved"] is True


def test_function_app_site(template: Json) -> None:
    plan_name, _ = only(template, "Microsoft.Web/serverfarms")
    identity_name, _ = only(template, "Microsoft.ManagedIdentity/userAssignedIdentities")
    storage_name, _ = only(template, "Microsoft.Storage/storageAccounts")
    _, site = only(template, "Microsoft.Web/sites")
    props = site["properties"]

    assert site["kind"] == "functionapp,linux"
    assert site["identity"]["type"] == "UserAssigned"
    assert props["httpsOnly"] is True
    assert accessor_path(props["serverFarmId"]) == [plan_name, "id"]
    assert accessor_path(props["keyVaultReferenceIdentity"]) == [identity_name, "id"]
    assert props["siteConfig"]["minTlsVersion"] == "1.2"
    assert props["siteConfig"]["ftpsState"] == "Disabled"

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
    storage_name, _ = only(template, "Microsoft.Storage/storageAccounts")
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
    ref = params["resource_name_1"]
    if isinstance(ref, str):
        return str(variables[ref]["value"]) if ref in variables else ref
    path = accessor_path(ref)
    assert path is not None and len(path) == 2, f"unsupported role id expression {ref!r}"
    return str(variables[path[0]]["value"][path[1]])


def test_role_assignments_for_app_identity(template: Json) -> None:
    identity_name, _ = only(template, "Microsoft.ManagedIdentity/userAssignedIdentities")
    assignments = resources_of_type(template, "Microsoft.Authorization/roleAssignments")
    by_role: dict[str, list[Json]] = {}
    for res in assignments.values():
        config = body(res)
        role = _role_id(config["properties"]["roleDefinitionId"], template["variables"])
        assert role is not None, f"roleDefinitionId not a role definition: {config}"
        assert config["name"]["function"]["type"] == "guid", "use guid() names"
        by_role.setdefault(role, []).append(config)

    for label, (role_id, scope_type) in REQUIRED_ROLES.items():
        configs = [
            c
            for c in by_role.get(role_id, [])
            if accessor_path(c["properties"]["principalId"])
            == [identity_name, "properties", "principalId"]
        ]
        assert len(configs) == 1, f"{label} ({role_id}) not granted once to {identity_name}"
        config = configs[0]
        assert config["properties"]["principalType"] == "ServicePrincipal", label
        scope = config["scope"]
        assert template["resources"][scope]["type"].endswith(f"/{scope_type}"), (
            f"{label} scoped to {scope}, expected a {scope_type} resource"
        )


def test_outputs(template: Json) -> None:
    outputs = template["outputs"]
    missing = REQUIRED_OUTPUTS - set(outputs)
    assert not missing, f"missing outputs: {sorted(missing)}"
    assert outputs["webhookUrlBase"]["value"].startswith("https://")


# ---------------------------------------------------------------------------------------------
# main.bicepparam
# ---------------------------------------------------------------------------------------------


def test_bicepparam_example(template: Json, tmp_path: Path) -> None:
    """pycep does not read .bicepparam: check its `using`, names and values by hand.

    The two param-file-only constructs (`using ...` and untyped `param x = value`) are rewritten
    to template syntax so that every value still passes the pycep syntax gate.
    """
    text = MAIN_BICEPPARAM.read_text(encoding="utf-8")
    assert re.search(r"^using '\./main\.bicep'$", text, re.MULTILINE)

    rewritten = re.sub(r"^using .*$", "", text, flags=re.MULTILINE)
    rewritten = re.sub(r"^param (\w+) =", r"param \1 object =", rewritten, flags=re.MULTILINE)
    as_template = tmp_path / "main.bicepparam.bicep"
    as_template.write_text(rewritten, encoding="utf-8")
    try:
        values = {k: v.get("default") for k, v in parse_bicep(as_template)["parameters"].items()}
    except BicepSyntaxError as exc:
        pytest.fail(f"{MAIN_BICEPPARAM}: {exc}", pytrace=False)

    declared = template["parameters"]
    unknown = set(values) - set(declared)
    assert not unknown, f"bicepparam sets undeclared params: {sorted(unknown)}"
    required = {name for name, p in declared.items() if "default" not in p or p["default"] is None}
    assert required <= set(values), f"bicepparam misses required params: {required - set(values)}"
    assert values["leanixHost"]
    assert len(str(values.get("timeReconcileSchedule", "0 30 2 * * *")).split()) == 6

    offenders = [f"{w}: {r}" for w, v in walk_strings(values) if (r := looks_like_secret(v))]
    assert not offenders, "literal secrets in main.bicepparam:\n" + "\n".join(offenders)
