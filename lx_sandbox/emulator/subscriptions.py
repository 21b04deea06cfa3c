"""Webhook subscriptions: validation, storage and PULL cursors (§4.1-4.3).

Subscriptions are kept in their JSON form (the documented field names) because that is what
every endpoint returns; only the PULL cursor lives beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.state import new_id, now_iso

JsonDict = dict[str, Any]

DELIVERY_TYPES = ("PUSH", "PULL")
WORKSPACE_CONSTRAINTS = ("WORKSPACE", "NO_WORKSPACE", "ANY")
PAYLOAD_MODES = ("DEFAULT", "WRAPPED_EVENT", "NO_PAYLOAD")
#: Fields a client may set ([V] §4.2); the rest are read-only.
WRITABLE = (
    "identifier",
    "deliveryType",
    "tagSets",
    "workspaceId",
    "workspaceConstraint",
    "targetUrl",
    "targetMethod",
    "authorizationHeader",
    "callback",
    "ignoreError",
    "maxBatchSize",
    "active",
    "payloadMode",
)


def validate(body: Any, *, token_workspace: str) -> tuple[JsonDict, list[JsonDict]]:
    """Normalise a create/update body; returns ``(fields, errors)`` in the REST error form."""
    errors: list[JsonDict] = []

    def err(name: str, message: str) -> None:
        # ASSUMPTION [I] §0.2: ``errors[].value`` names the offending field.
        errors.append({"value": name, "messages": [message]})

    if not isinstance(body, dict):
        return {}, [{"value": "body", "messages": ["expected a JSON object"]}]
    out: JsonDict = {k: body.get(k) for k in WRITABLE}
    identifier = out["identifier"]
    if identifier is not None and (not isinstance(identifier, str) or len(identifier) > 255):
        err("identifier", "size must be between 0 and 255")
    if out["deliveryType"] not in DELIVERY_TYPES:
        err("deliveryType", "must be one of PUSH, PULL")
    if not isinstance(out["ignoreError"], bool):
        # [V] §4.2: ignoreError is required.
        err("ignoreError", "must not be null")
    tag_sets = out["tagSets"]
    if tag_sets is None:
        out["tagSets"] = []
    elif not (
        isinstance(tag_sets, list)
        and all(isinstance(s, list) and all(isinstance(t, str) for t in s) for s in tag_sets)
    ):
        err("tagSets", "must be a list of lists of strings")
    if out["workspaceId"] is None:
        # ASSUMPTION [I] §4.2: a missing workspaceId means the caller's workspace.
        out["workspaceId"] = token_workspace
    # ASSUMPTION [I] §4.2: workspaceConstraint defaults to WORKSPACE.
    out["workspaceConstraint"] = out["workspaceConstraint"] or "WORKSPACE"
    if out["workspaceConstraint"] not in WORKSPACE_CONSTRAINTS:
        err("workspaceConstraint", "must be one of WORKSPACE, NO_WORKSPACE, ANY")
    out["payloadMode"] = out["payloadMode"] or "DEFAULT"
    if out["payloadMode"] not in PAYLOAD_MODES:
        err("payloadMode", "must be one of DEFAULT, WRAPPED_EVENT, NO_PAYLOAD")
    if out["deliveryType"] == "PUSH":
        if not isinstance(out["targetUrl"], str) or not out["targetUrl"]:
            err("targetUrl", "must not be empty for PUSH subscriptions")
        # ASSUMPTION [I] §4.2: the spec validator requires targetMethod, so the emulator does too.
        if not isinstance(out["targetMethod"], str) or not out["targetMethod"]:
            err("targetMethod", "must not be empty for PUSH subscriptions")
    auth = out["authorizationHeader"]
    if auth is not None and (not isinstance(auth, str) or len(auth) > 4096):
        err("authorizationHeader", "size must be between 0 and 4096")
    batch = out["maxBatchSize"]
    if batch is None:
        out["maxBatchSize"] = 512
    elif not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 51200:
        err("maxBatchSize", "must be between 1 and 51200")
    out["active"] = True if out["active"] is None else out["active"]
    if not isinstance(out["active"], bool):
        err("active", "must be a boolean")
    if out["callback"] is not None and not isinstance(out["callback"], str):
        err("callback", "must be a string")
    return out, errors


@dataclass(slots=True)
class Subscription:
    """A stored subscription: its JSON form plus the committed PULL offset."""

    data: JsonDict
    cursor: int = 0
    deliveries: list[JsonDict] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The server-assigned id."""
        sub_id: str = self.data["id"]
        return sub_id


class SubscriptionStore:
    """Subscriptions by id, in creation order."""

    def __init__(self) -> None:
        self.items: dict[str, Subscription] = {}

    def create(self, fields: JsonDict, *, user_id: str, start_offset: int) -> Subscription:
        """Store a validated subscription.

        # ASSUMPTION [I] §4.3: a new PULL subscription starts at the current end of the event
        # stream (it does not see older events).
        """
        data: JsonDict = {"id": new_id(), **fields}
        data.update(
            {
                "userId": user_id,
                "createdAt": now_iso(),
                "lastDeliveryStatus": None,
                "errorCount": 0,
                "firstTimeDeliveryFailed": None,
            }
        )
        sub = Subscription(data=data, cursor=start_offset)
        self.items[sub.id] = sub
        return sub

    def replace(self, sub: Subscription, fields: JsonDict) -> None:
        """PUT semantics: the writable fields are replaced, read-only ones kept."""
        sub.data.update(fields)
