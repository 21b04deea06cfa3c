"""What the Table and Blob backends share about the Azure SDK: the credential, quieter HTTP
logging, and reading an error's code. Imports azure.* lazily (cold start is measured)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.core.exceptions import AzureError
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential


def credential(client_id: str | None) -> ManagedIdentityCredential | DefaultAzureCredential:
    """The app's user-assigned identity in Azure, else azure-identity's default chain (the
    operator's ``az login`` for ``lx``)."""
    if client_id:
        from azure.identity import ManagedIdentityCredential

        return ManagedIdentityCredential(client_id=client_id)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def quiet_http_logging() -> None:
    """azure-core logs two INFO lines per HTTP call; a state read per page would drown the
    function's own log. Left alone if the operator configured that logger."""
    http_log = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
    if http_log.level == logging.NOTSET:
        http_log.setLevel(logging.WARNING)


def error_code(exc: AzureError) -> str | None:
    """The service's error code (``ContainerNotFound``, ...) from the exception or its answer;
    never its message, which can carry URLs and detail we do not control."""
    code = getattr(exc, "error_code", None)
    response = getattr(exc, "response", None)
    if code is None and response is not None:
        code = response.headers.get("x-ms-error-code")
    return None if code is None else str(getattr(code, "value", code))
