"""open_store: the configured StateStore backend, imported lazily (cold start is measured)."""

from __future__ import annotations

from lx_core.config import StateSettings
from lx_core.errors import ConfigurationError
from lx_core.state.base import StateStore

NOT_CONFIGURED = (
    "no state store configured: set LX_STATE_TABLE_ENDPOINT (Azure, managed identity) or "
    "LX_STATE_CONNECTION_STRING (e.g. Azurite)"
)


def open_store(settings: StateSettings) -> StateStore:
    """The Azure Table backend for ``settings``; ConfigurationError if none is configured."""
    if not settings.configured:
        raise ConfigurationError(
            NOT_CONFIGURED, settings=["LX_STATE_TABLE_ENDPOINT", "LX_STATE_CONNECTION_STRING"]
        )
    from lx_core.state.azure_table import AzureTableStore

    return AzureTableStore.from_settings(settings)
