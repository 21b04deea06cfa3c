"""notifications.json: the shipped file loads, and every broken form is refused whole, naming
the file, the JSON path and the rule (never the value: a webhook URL is a secret)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lx_core.errors import DocumentError
from lx_core.notify.rules import DEFAULT_FILE, EmailChannel, SlackChannel, load_rules

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    "LX_NOTIFY_SLACK_URL": "https://hooks.slack.com/services/T/B/secret-token",
    "LX_NOTIFY_TEAMS_URL": "https://example.api.powerplatform.com/flow?sig=secret",
    "LX_NOTIFY_EMAIL_TO": "ea@example.com",
}


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "notifications.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _minimal(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "channels": {"ops": {"type": "slack", "url": "${LX_NOTIFY_SLACK_URL}"}},
        "routes": [{"channels": ["ops"]}],
    }
    doc.update(changes)
    return doc


def test_the_shipped_file_loads_with_its_placeholders_filled() -> None:
    rules = load_rules(ROOT / DEFAULT_FILE, ENV)
    slack = rules.channels["ops-slack"]
    assert isinstance(slack, SlackChannel)
    assert slack.url.get_secret_value() == ENV["LX_NOTIFY_SLACK_URL"]
    assert "secret-token" not in repr(rules)
    mail = rules.channels["ea-mail"]
    assert isinstance(mail, EmailChannel) and mail.to == ("ea@example.com",)
    assert [s.subscription for s in rules.sources.pull] == ["lx-functions-relay"]


@pytest.mark.parametrize(
    ("doc", "path", "rule"),
    [
        ("{", "$", "json-syntax"),
        (_minimal(extra=1), "$.extra", "unknown-key"),
        (
            _minimal(channels={"ops": {"type": "slack", "url": "${UNSET_VAR}"}}),
            "$.channels.ops.url",
            "unset-placeholder",
        ),
        (
            _minimal(channels={"ops": {"type": "pager", "url": "x"}}),
            "$.channels.ops.type",
            "enum",
        ),
        (
            _minimal(
                channels={"ops": {"type": "slack", "url": "https://h.example/x", "maxItems": 60}}
            ),
            "$.channels.ops.maxItems",
            "range",
        ),
        (
            _minimal(channels={"Bad Name": {"type": "slack", "url": "x"}}),
            '$.channels["Bad Name"]["[key]"]',
            "pattern",
        ),
        (_minimal(routes=[{"channels": ["nowhere"]}]), "$", "invalid"),
        (
            _minimal(routes=[{"kinds": ["exploded"], "channels": ["ops"]}]),
            "$.routes[0].kinds[0]",
            "enum",
        ),
        (_minimal(routes=[]), "$.routes", "length"),
        (
            _minimal(channels={"m": {"type": "email"}}, routes=[{"channels": ["m"]}]),
            "$.channels.m",
            "invalid",
        ),
        (_minimal(deadLetter={"fallbackChannel": "nowhere"}), "$", "invalid"),
    ],
)
def test_a_broken_file_is_refused_naming_file_path_and_rule(
    tmp_path: Path, doc: Any, path: str, rule: str
) -> None:
    file = _write(tmp_path, doc)
    with pytest.raises(DocumentError) as caught:
        load_rules(file, ENV)
    error = caught.value
    assert (error.file, error.path, error.rule) == (str(file), path, rule), str(error)
    assert "secret" not in str(error)


def test_a_placeholder_error_names_the_variable_not_a_value(tmp_path: Path) -> None:
    file = _write(tmp_path, _minimal())
    with pytest.raises(DocumentError, match=r"\$\{LX_NOTIFY_SLACK_URL\} has no value"):
        load_rules(file, {})


def test_an_unresolved_key_vault_reference_is_refused_naming_the_variable(tmp_path: Path) -> None:
    """App Service passes a reference it could not resolve on as its own text; sending to that
    text would fail later and less clearly."""
    file = _write(tmp_path, _minimal())
    unresolved = "@Microsoft.KeyVault(VaultName=kv;SecretName=notify-slack-url)"
    with pytest.raises(DocumentError) as caught:
        load_rules(file, {"LX_NOTIFY_SLACK_URL": unresolved})
    error = caught.value
    assert (error.path, error.rule) == ("$.channels.ops.url", "unresolved-secret")
    assert "${LX_NOTIFY_SLACK_URL}" in str(error) and "Key Vault" in str(error)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://hooks.slack.com/services/T/B/secret", "must use https"),
        ("http://hooks.slack.com/services/T/B/secret", "must use https"),
        ("https:///services/T/B/secret", "has no host"),
        ("https://hooks.slack.com/services/T/B/se cret", "holds whitespace"),
        ("https://[::1/services/T/B/secret", "does not parse"),
    ],
)
def test_a_bad_webhook_url_is_refused_by_field_without_repeating_it(
    tmp_path: Path, url: str, problem: str
) -> None:
    doc = _minimal(channels={"ops": {"type": "slack", "url": url}})
    with pytest.raises(DocumentError) as refused:
        load_rules(_write(tmp_path, doc), {})
    assert refused.value.path == "$.channels.ops.url" and problem in str(refused.value)
    assert "secret" not in str(refused.value)
