"""WebhooksClient: subscriptions CRUD, PULL events and cursor, and the PUSH delivery log.

Every answer is unwrapped from LeanIX's REST envelope, and a non-empty ``errors`` list is an error
even with a 2xx status. GET, PUT and DELETE are idempotent; POST (create) is not, so a 5xx on
create is not replayed (it might have created the subscription). A PULL with ``autoCommit`` moves
the cursor, so it is not replayed either.

Secrets: ``authorizationHeader`` is a SecretStr, and ``targetUrl`` (which usually carries the
function key as ``?code=``) is kept out of ``repr``.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal
from urllib.parse import quote

import requests
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lx_core import assumptions
from lx_core.errors import BadRequestError
from lx_core.leanix._mapping import messages_from_body
from lx_core.leanix.transport import HttpTransport

logger = logging.getLogger(__name__)

_SUBSCRIPTIONS = assumptions.WEBHOOKS_PATH + "/subscriptions"
_LONG_POLL_SLACK_SECONDS = 10.0


class Subscription(BaseModel):
    """A webhook subscription (§4.2). Unknown fields LeanIX sends are kept and sent back on
    update, so a PUT of the full object never erases what this model does not know."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str | None = None
    identifier: str | None = Field(None, max_length=255)  # optional in LeanIX (§4.2)
    delivery_type: Literal["PUSH", "PULL"] = Field(alias="deliveryType")
    tag_sets: list[list[str]] = Field(default_factory=list, alias="tagSets")
    workspace_id: str | None = Field(None, alias="workspaceId")
    workspace_constraint: Literal["WORKSPACE", "NO_WORKSPACE", "ANY"] | None = Field(
        None, alias="workspaceConstraint"
    )
    target_url: str | None = Field(None, alias="targetUrl", repr=False)
    target_method: str | None = Field(None, alias="targetMethod")
    authorization_header: SecretStr | None = Field(None, alias="authorizationHeader", repr=False)
    callback: str | None = None
    ignore_error: bool = Field(False, alias="ignoreError")
    max_batch_size: int | None = Field(None, alias="maxBatchSize", ge=1, le=51200)
    active: bool = True
    payload_mode: Literal["DEFAULT", "WRAPPED_EVENT", "NO_PAYLOAD"] | None = Field(
        None, alias="payloadMode"
    )
    # read-only, set by LeanIX
    user_id: str | None = Field(None, alias="userId")
    created_at: str | None = Field(None, alias="createdAt")
    last_delivery_status: int | None = Field(None, alias="lastDeliveryStatus")
    error_count: int | None = Field(None, alias="errorCount")
    first_time_delivery_failed: str | None = Field(None, alias="firstTimeDeliveryFailed")

    def to_api(self, *, include_id: bool = True) -> dict[str, Any]:
        """The JSON body LeanIX expects: camelCase, secrets revealed, read-only fields left out."""
        body = self.model_dump(by_alias=True, exclude_none=True, mode="python")
        if self.authorization_header is not None:
            body["authorizationHeader"] = self.authorization_header.get_secret_value()
        if not include_id:
            body.pop("id", None)
        return {k: v for k, v in body.items() if k not in assumptions.SUBSCRIPTION_READ_ONLY_FIELDS}


class PulledEvent(BaseModel):
    """One PULL event with its cursor offset."""

    offset: int
    event: dict[str, Any]


class PullBatch(BaseModel):
    """A PULL batch; commit ``next_offset`` after processing (None: nothing new)."""

    events: list[PulledEvent] = Field(default_factory=list)
    next_offset: int | None = None


def _event_object(raw: Any) -> dict[str, Any]:
    """PullEvent.event is typed string in LeanIX's spec but shown as an object: accept both."""
    if isinstance(raw, str) and assumptions.PULL_EVENT_MAY_BE_JSON_STRING:
        try:
            raw = json.loads(raw)
        except ValueError:
            logger.warning("PULL event is not JSON; passing it on unparsed")
            return {"_unparsed": raw}
    return raw if isinstance(raw, dict) else {"_unparsed": raw}


def _offset(cursor: Any) -> int | None:
    value = cursor.get("offset") if isinstance(cursor, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class WebhooksClient:
    """The Webhooks REST API (``/services/webhooks/v1``)."""

    def __init__(self, transport: HttpTransport) -> None:
        self.transport = transport

    def _call(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> Any:
        response = self.transport.request(
            method, path, json=json_body, params=params, idempotent=idempotent, timeout=timeout
        )
        return self._unwrap(response, method, path)

    @staticmethod
    def _unwrap(response: requests.Response, method: str, path: str) -> Any:
        """The envelope's ``data``; BadRequestError naming LeanIX's messages if ``errors``."""
        if not response.content:
            return None
        try:
            body = response.json()
        except ValueError as exc:
            raise BadRequestError(
                "LeanIX webhooks answer is not JSON",
                method=method,
                path=path,
                status=response.status_code,
            ) from exc
        if not isinstance(body, dict):
            return body
        if body.get("errors"):
            raise BadRequestError(
                "LeanIX webhooks API reported errors",
                method=method,
                path=path,
                status=response.status_code,
                leanix_message=messages_from_body(body),
            )
        return body.get("data")

    @staticmethod
    def _path(subscription_id: str, suffix: str = "") -> str:
        if not subscription_id:
            raise ValueError("subscription id must not be empty")
        return f"{_SUBSCRIPTIONS}/{quote(subscription_id, safe='')}{suffix}"

    # --- subscriptions -------------------------------------------------------------------------

    def list_subscriptions(
        self, identifier: str | None = None, *, workspace_id: str | None = None
    ) -> list[Subscription]:
        params = {k: v for k, v in (("identifier", identifier), ("workspaceId", workspace_id)) if v}
        data = self._call("GET", _SUBSCRIPTIONS, idempotent=True, params=params or None)
        return [Subscription.model_validate(item) for item in data or ()]

    def get(self, subscription_id: str) -> Subscription:
        data = self._call("GET", self._path(subscription_id), idempotent=True)
        return Subscription.model_validate(data)

    def create(self, subscription: Subscription) -> Subscription:
        """POST: not replayed on 5xx, because the first attempt may have created it."""
        data = self._call(
            "POST",
            _SUBSCRIPTIONS,
            idempotent=False,
            json_body=subscription.to_api(include_id=False),
        )
        return Subscription.model_validate(data)

    def update(self, subscription: Subscription) -> Subscription:
        """PUT of the full object (LeanIX replaces the subscription)."""
        if not subscription.id:
            raise ValueError("update needs the subscription's id")
        data = self._call(
            "PUT", self._path(subscription.id), idempotent=True, json_body=subscription.to_api()
        )
        return Subscription.model_validate(data)

    def delete(self, subscription_id: str) -> None:
        self._call("DELETE", self._path(subscription_id), idempotent=True)

    # --- PULL ----------------------------------------------------------------------------------

    def pull_events(
        self, subscription_id: str, *, timeout_seconds: int = 10, auto_commit: bool = False
    ) -> PullBatch:
        """The next batch (long poll up to ``timeout_seconds``). The read timeout is stretched
        past the long poll so an empty wait is not mistaken for a dead connection."""
        settings = self.transport.settings
        read_timeout = max(settings.read_timeout, timeout_seconds + _LONG_POLL_SLACK_SECONDS)
        idempotent = not auto_commit or assumptions.PULL_WITH_AUTO_COMMIT_IS_IDEMPOTENT
        data = self._call(
            "GET",
            self._path(subscription_id, "/events"),
            idempotent=idempotent,
            params={"autoCommit": "true" if auto_commit else "false", "timeout": timeout_seconds},
            timeout=(settings.connect_timeout, read_timeout),
        )
        if not isinstance(data, dict):
            return PullBatch()
        events: list[PulledEvent] = []
        for item in data.get("events") or ():
            if not isinstance(item, dict):
                continue
            offset = _offset(item.get("cursor"))
            events.append(PulledEvent(offset=offset or 0, event=_event_object(item.get("event"))))
        return PullBatch(events=events, next_offset=_offset(data.get("nextCursor")))

    def commit_cursor(self, subscription_id: str, offset: int) -> None:
        """Move the cursor past a processed batch (no way back afterwards)."""
        self._call(
            "PUT",
            self._path(subscription_id, "/cursor"),
            idempotent=True,
            json_body={"offset": offset},
        )

    # --- PUSH delivery log ---------------------------------------------------------------------

    def deliveries(
        self, subscription_id: str, page: int = 1, size: int = 30
    ) -> list[dict[str, Any]]:
        """One page of the delivery log, newest first."""
        if page < 1 or not 1 <= size <= assumptions.MAX_DELIVERIES_PAGE_SIZE:
            raise ValueError(
                f"page must be >= 1 and size 1..{assumptions.MAX_DELIVERIES_PAGE_SIZE}"
            )
        data = self._call(
            "GET",
            self._path(subscription_id, "/deliveries"),
            idempotent=True,
            params={"page": page, "size": size},
        )
        return [d for d in data or () if isinstance(d, dict)]
