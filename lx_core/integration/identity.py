"""The five fields that bind an LDIF to a stored processor configuration (§5.3, §5.4 [V])."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Direction = Literal["inbound", "outbound"]
Mode = Literal["partial", "full"]

#: LDIF header strings are limited to 500 characters each [V] §5.3.
MAX_HEADER_CHARS = 500


class ConnectorIdentity(BaseModel):
    """``connectorType``, ``connectorId``, ``connectorVersion``, direction and mode.

    The Integration API matches an LDIF to a configuration on exactly these fields; the
    configuration endpoints take them as query parameters. Versions are plain strings here;
    whether they are ``x.y.z`` is the lint's concern.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    connector_type: str = Field(alias="connectorType", min_length=1, max_length=MAX_HEADER_CHARS)
    connector_id: str = Field(alias="connectorId", min_length=1, max_length=MAX_HEADER_CHARS)
    connector_version: str = Field(
        alias="connectorVersion", min_length=1, max_length=MAX_HEADER_CHARS
    )
    processing_direction: Direction = Field(alias="processingDirection")
    processing_mode: Mode = Field("partial", alias="processingMode")

    def params(self) -> dict[str, str]:
        """The query parameters of ``GET``/``DELETE /configurations``."""
        return self.model_dump(by_alias=True)

    @property
    def key(self) -> str:
        """A stable, readable key for logs and state rows."""
        return "/".join(
            (
                self.connector_type,
                self.connector_id,
                self.connector_version,
                self.processing_direction,
                self.processing_mode,
            )
        )
