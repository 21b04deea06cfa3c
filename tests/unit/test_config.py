"""Settings: errors that name the setting (never its value), host normalisation, the cache."""

from __future__ import annotations

import pytest

from lx_core.config import LeanIXSettings, TimeSettings, WebhookSettings, cached, load
from lx_core.decisions.time_model import TimeClass
from lx_core.errors import ConfigurationError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("LEANIX_", "TIME_", "LX_WEBHOOK_")):
            monkeypatch.delenv(name)


def test_missing_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError) as info:
        load(LeanIXSettings)
    assert info.value.settings == ("LEANIX_API_TOKEN",)
    assert "LEANIX_API_TOKEN" in str(info.value)


def test_malformed_values_are_named_without_echoing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANIX_API_TOKEN", "CANARY-token-value")
    monkeypatch.setenv("LEANIX_REQUESTS_PER_MINUTE", "5000")
    monkeypatch.setenv("LEANIX_HOST", "ftp://CANARY-host")
    with pytest.raises(ConfigurationError) as info:
        load(LeanIXSettings)
    assert set(info.value.settings) == {"LEANIX_REQUESTS_PER_MINUTE", "LEANIX_HOST"}
    assert "CANARY" not in str(info.value) and "5000" not in str(info.value)


def test_unresolved_key_vault_reference_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION", "@Microsoft.KeyVault(SecretUri=https://v/s/x)")
    with pytest.raises(ConfigurationError, match=r"LX_WEBHOOK_AUTHORIZATION.*Key Vault"):
        load(WebhookSettings)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("app.leanix.net", "https://app.leanix.net"),
        ("https://acme.leanix.net/", "https://acme.leanix.net"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_host_is_normalised(monkeypatch: pytest.MonkeyPatch, host: str, url: str) -> None:
    monkeypatch.setenv("LEANIX_API_TOKEN", "t")
    monkeypatch.setenv("LEANIX_HOST", host)
    assert load(LeanIXSettings).base_url == url


def test_host_with_a_path_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANIX_API_TOKEN", "t")
    monkeypatch.setenv("LEANIX_HOST", "https://acme.leanix.net/acme")
    with pytest.raises(ConfigurationError, match="LEANIX_HOST"):
        load(LeanIXSettings)


def test_time_tag_names_json_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TIME_TAG_NAMES",
        '{"tolerate": "T", "invest": "I", "migrate": "M", "eliminate": "E"}',
    )
    assert load(TimeSettings).tag_names[TimeClass.MIGRATE] == "M"
    monkeypatch.setenv("TIME_TAG_NAMES", '{"tolerate": "T"}')
    with pytest.raises(ConfigurationError, match="TIME_TAG_NAMES"):
        load(TimeSettings)
    monkeypatch.setenv("TIME_TAG_NAMES", "{oops")
    with pytest.raises(ConfigurationError, match="TIME_TAG_NAMES: not valid JSON"):
        load(TimeSettings)


def test_cached_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANIX_API_TOKEN", "first")
    a = cached(LeanIXSettings)
    assert cached(LeanIXSettings) is a
    monkeypatch.setenv("OTHER_VARIABLE", "x")  # not ours: still the same object
    assert cached(LeanIXSettings) is a
    monkeypatch.setenv("LEANIX_API_TOKEN", "rotated")
    b = cached(LeanIXSettings)
    assert b is not a and b.api_token.get_secret_value() == "rotated"


def test_cached_does_not_remember_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError):
        cached(WebhookSettings)
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION", "Bearer s")
    assert cached(WebhookSettings).authorization.get_secret_value() == "Bearer s"


@pytest.mark.parametrize("value", ['{"invest": "CANARY-77"', '["CANARY-77"]', '{"invest": 1}'])
def test_an_invalid_json_setting_is_named_without_echoing_its_value(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TIME_TAG_NAMES", value)
    with pytest.raises(ConfigurationError) as info:
        load(TimeSettings)
    assert "TIME_TAG_NAMES" in str(info.value)
    assert "CANARY" not in str(info.value) and value not in str(info.value)


def test_a_blank_setting_keeps_its_default_and_a_blank_required_one_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The templates declare every setting; a blank one means "not set", never an empty value."""
    from lx_core.config import SmtpSettings

    monkeypatch.setenv("LX_SMTP_HOST", "")
    monkeypatch.setenv("LX_SMTP_PORT", "")
    monkeypatch.setenv("LX_SMTP_FROM_ADDRESS", "")
    smtp = load(SmtpSettings)
    assert (smtp.host, smtp.port, smtp.from_address) == (None, 587, "lx-functions@localhost")
    monkeypatch.setenv("LEANIX_API_TOKEN", "")
    with pytest.raises(ConfigurationError) as caught:
        load(LeanIXSettings)
    assert list(caught.value.settings) == ["LEANIX_API_TOKEN"]
