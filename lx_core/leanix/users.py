"""Workspace users over MTM REST: is this id a person in the workspace, or a technical user?

The endpoint and its fields are [U] (``assumptions.WORKSPACE_USER_PATH``): the reference only
verifies MTM's token endpoint. A 404 means "not a user of this workspace".
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lx_core import assumptions
from lx_core.errors import MalformedResponseError, NotFoundError
from lx_core.leanix._mapping import json_of, path_only
from lx_core.leanix.transport import HttpTransport


class WorkspaceUser(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    id: str
    email: str | None = None
    user_name: str | None = Field(None, alias="userName")
    first_name: str | None = Field(None, alias="firstName")
    last_name: str | None = Field(None, alias="lastName")
    technical: bool = Field(False, alias="technicalUser")
    status: str | None = None

    @property
    def display(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.email or self.user_name or self.id


class UsersClient:
    def __init__(self, transport: HttpTransport) -> None:
        self.transport = transport

    def workspace_user(self, user_id: str) -> WorkspaceUser | None:
        """The user if they belong to this workspace, else None."""
        workspace = self.transport.claims.workspace_id or ""
        path = assumptions.WORKSPACE_USER_PATH.format(
            workspace=quote(workspace, safe=""), user=quote(user_id, safe="")
        )
        try:
            response = self.transport.request("GET", path, idempotent=True, expect_json=True)
        except NotFoundError:
            return None
        body = json_of(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            return None
        try:
            return WorkspaceUser.model_validate(data)
        except ValidationError:
            raise MalformedResponseError(
                "LeanIX answered but the user is not in the expected shape",
                method="GET",
                path=path_only(path),
                status=response.status_code,
            ) from None
