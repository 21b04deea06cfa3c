"""Routes of the Webhooks API v1: subscriptions, PULL events/cursor, deliveries, events (§4)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lx_sandbox.emulator.events import matches, workspace_ok
from lx_sandbox.emulator.http_util import json_body, rest, rest_error, unauthorized
from lx_sandbox.emulator.state import User, new_id, now_iso
from lx_sandbox.emulator.subscriptions import Subscription, validate

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator

JsonDict = dict[str, Any]
PREFIX = "/services/webhooks/v1"
#: ASSUMPTION [I] §4.3: upper bound for the PULL long-poll ``timeout`` (seconds).
MAX_PULL_TIMEOUT = 60


def _bool_param(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes")


def routes(emu: Emulator) -> list[Route]:
    """The Webhooks API routes bound to ``emu``."""

    def auth(request: Request) -> User | None:
        return emu.user_for_bearer(request.headers.get("authorization"))

    def find(request: Request) -> Subscription | None:
        sub = emu.subscriptions.items.get(request.path_params["id"])
        if sub is None or sub.data["workspaceId"] != emu.ws.id:
            return None
        return sub

    def not_found() -> Response:
        return rest_error(404, "Subscription not found")

    async def valid_fields(request: Request) -> tuple[dict[str, Any], Response | None]:
        """The validated subscription of a create/update body, or the error to answer."""
        body, problem = await json_body(request)
        if problem is not None:
            return {}, problem
        fields, errors = validate(body, token_workspace=emu.ws.id)
        if errors:
            return {}, rest_error(400, "Invalid subscription", errors)
        if fields["workspaceId"] != emu.ws.id:
            # ASSUMPTION [I] §4.2: a token may manage subscriptions of its own workspace only.
            return {}, rest_error(403, "Not permitted for this workspace")
        return fields, None

    async def create(request: Request) -> Response:
        user = auth(request)
        if user is None:
            return unauthorized()
        fields, problem = await valid_fields(request)
        if problem is not None:
            return problem
        sub = emu.subscriptions.create(fields, user_id=user.id, start_offset=emu.events.end_offset)
        return rest(sub.data, "Subscription")

    async def list_all(request: Request) -> Response:
        if auth(request) is None:
            return unauthorized()
        identifier = request.query_params.get("identifier")
        workspace = request.query_params.get("workspaceId")
        items = [
            s.data
            for s in emu.subscriptions.items.values()
            if s.data["workspaceId"] == emu.ws.id
            and (identifier is None or s.data.get("identifier") == identifier)
            and (workspace is None or s.data["workspaceId"] == workspace)
        ]
        return rest(items, "Subscription")

    async def get_one(request: Request) -> Response:
        if auth(request) is None:
            return unauthorized()
        sub = find(request)
        return rest(sub.data, "Subscription") if sub else not_found()

    async def update(request: Request) -> Response:
        if auth(request) is None:
            return unauthorized()
        sub = find(request)
        if sub is None:
            return not_found()
        fields, problem = await valid_fields(request)
        if problem is not None:
            return problem
        emu.subscriptions.replace(sub, fields)
        return rest(sub.data, "Subscription")

    async def delete(request: Request) -> Response:
        if auth(request) is None:
            return unauthorized()
        sub = find(request)
        if sub is None:
            return not_found()
        del emu.subscriptions.items[sub.id]
        # [V3] §4.1: DELETE answers with the deleted object (S-TF reads data.id).
        return rest(sub.data, "Subscription")

    def collect(sub: Subscription, start: int) -> tuple[list[JsonDict], int]:
        """Matching events from ``start`` up to about ``maxBatchSize`` kiB; returns next offset."""
        data = sub.data
        budget = int(data.get("maxBatchSize") or 512) * 1024
        used = 0
        batch: list[JsonDict] = []
        offset = start
        for event in emu.events.events[start:]:
            if workspace_ok(
                data["workspaceConstraint"], data["workspaceId"], event.workspace_id
            ) and (matches(data["tagSets"], event.tags)):
                size = len(json.dumps(event.envelope))
                # [V] §4.2: approximate; one event larger than the limit is still returned.
                if batch and used + size > budget:
                    break
                used += size
                # ASSUMPTION [I] §4.3/§4.6: ``event`` is the whole envelope, as a JSON object
                # (the generated models type it as a string).
                batch.append({"cursor": {"offset": event.offset}, "event": event.envelope})
            offset = event.offset + 1
        return batch, offset

    async def pull(request: Request) -> Response:
        if auth(request) is None:
            return unauthorized()
        sub = find(request)
        if sub is None:
            return not_found()
        if sub.data["deliveryType"] != "PULL":
            return rest_error(400, "Events can only be pulled for PULL subscriptions")
        auto_commit = _bool_param(request.query_params.get("autoCommit"), False)
        try:
            timeout = float(request.query_params.get("timeout", "10"))
        except ValueError:
            return rest_error(400, "timeout must be a number of seconds")
        deadline = time.monotonic() + max(0.0, min(timeout, MAX_PULL_TIMEOUT))
        start = sub.cursor
        batch: list[JsonDict] = []
        next_offset = start
        while True:
            found, next_offset = collect(sub, next_offset)
            batch += found
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or await request.is_disconnected():
                break
            await emu.events.wait_for_new(min(remaining, 1.0))
        if auto_commit:
            sub.cursor = max(sub.cursor, next_offset)
        return rest(
            {"events": batch, "nextCursor": {"offset": next_offset}}, "PullResult", total=len(batch)
        )

    async def commit(request: Request) -> Response:
        if auth(request) is None:
            return unauthorized()
        sub = find(request)
        if sub is None:
            return not_found()
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        offset = body.get("offset") if isinstance(body, dict) else None
        if not isinstance(offset, int) or isinstance(offset, bool):
            return rest_error(
                400, "offset is required", [{"value": "offset", "messages": ["must not be null"]}]
            )
        if offset > emu.events.end_offset or offset < sub.cursor:
            # ASSUMPTION [I] §4.3: "you cannot go back", nor beyond the end of the stream.
            return rest_error(
                400, f"offset must be between {sub.cursor} and {emu.events.end_offset}"
            )
        sub.cursor = offset
        return rest(None, "BasicResponse")

    async def deliveries(request: Request) -> Response:
        if auth(request) is None:
            return unauthorized()
        sub = find(request)
        if sub is None:
            return not_found()
        try:
            page = int(request.query_params.get("page", "1"))
            size = int(request.query_params.get("size", "30"))
        except ValueError:
            return rest_error(400, "page and size must be integers")
        if page < 1 or not 1 <= size <= 100:
            # [V] §4.1: size max 100 (ASSUMPTION [I]: larger values are rejected, not clamped).
            return rest_error(400, "page must be >= 1 and size between 1 and 100")
        sort = request.query_params.get("sort", "createdAt-desc")
        if sort not in ("createdAt-desc", "createdAt-asc"):
            return rest_error(400, "sort must be createdAt-desc or createdAt-asc")
        items = list(sub.deliveries)
        if sort == "createdAt-desc":
            items.reverse()
        chunk = items[(page - 1) * size : page * size]
        return rest(chunk, "Delivery", total=len(items))

    def make_event(body: Any, user: User) -> tuple[JsonDict | None, str | None]:
        if not isinstance(body, dict):
            return None, "expected an event object"
        tags = body.get("tags")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return None, "tags must be a list of strings"
        envelope: JsonDict = {
            "id": body.get("id") or new_id(),
            "createdAt": body.get("createdAt") or now_iso(),
            "type": body.get("type"),
            # ASSUMPTION [I] §4.6: custom events default to sourceName "CUSTOM" and the
            # caller's workspace and user.
            "sourceName": body.get("sourceName") or "CUSTOM",
            "sourceId": body.get("sourceId"),
            "sourceUrl": body.get("sourceUrl"),
            "workspaceId": body.get("workspaceId", emu.ws.id),
            "userId": body.get("userId") or user.id,
            "tags": tags,
            "payload": body.get("payload"),
        }
        return envelope, None

    async def publish(request: Request) -> Response:
        user = auth(request)
        if user is None:
            return unauthorized()
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        envelope, error = make_event(body, user)
        if envelope is None:
            return rest_error(400, error or "invalid event")
        emu.events.append(envelope)
        return rest(envelope, "Event")

    async def publish_batch(request: Request) -> Response:
        user = auth(request)
        if user is None:
            return unauthorized()
        body, problem = await json_body(request)
        if problem is not None:
            return problem
        raw = body.get("events") if isinstance(body, dict) else None
        if not isinstance(raw, list):
            return rest_error(400, 'expected {"events": [...]}')
        envelopes: list[JsonDict] = []
        for item in raw:
            envelope, error = make_event(item, user)
            if envelope is None:
                return rest_error(400, error or "invalid event")
            envelopes.append(envelope)
        for envelope in envelopes:
            emu.events.append(envelope)
        await asyncio.sleep(0)
        return rest(envelopes, "Event")

    return [
        Route(f"{PREFIX}/subscriptions", create, methods=["POST"]),
        Route(f"{PREFIX}/subscriptions", list_all, methods=["GET"]),
        Route(f"{PREFIX}/subscriptions/{{id}}", get_one, methods=["GET"]),
        Route(f"{PREFIX}/subscriptions/{{id}}", update, methods=["PUT"]),
        Route(f"{PREFIX}/subscriptions/{{id}}", delete, methods=["DELETE"]),
        Route(f"{PREFIX}/subscriptions/{{id}}/events", pull, methods=["GET"]),
        Route(f"{PREFIX}/subscriptions/{{id}}/cursor", commit, methods=["PUT"]),
        Route(f"{PREFIX}/subscriptions/{{id}}/deliveries", deliveries, methods=["GET"]),
        Route(f"{PREFIX}/events", publish, methods=["POST"]),
        Route(f"{PREFIX}/events/batch", publish_batch, methods=["POST"]),
    ]
