"""WebhooksClient: subscriptions CRUD, PULL and cursor, delivery log, envelope errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import responses
from responses import matchers

from lx_core.errors import BadRequestError, ServerError
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.webhooks import Subscription

SUBS = "https://acme.leanix.net/services/webhooks/v1/subscriptions"
SECRET_HEADER = "Bearer shared-secret-xyz"
FUNCTION_URL = "https://fn.azurewebsites.net/api/leanix/time?code=function-key-abc"

pytestmark = pytest.mark.usefixtures("wh_ready")


@pytest.fixture
def wh_ready(leanix_token: Callable[..., str]) -> None:
    leanix_token()


def _api_sub(**extra: Any) -> dict[str, Any]:
    return {
        "id": "s1",
        "identifier": "time-tagger",
        "deliveryType": "PUSH",
        "tagSets": [["pathfinder", "FACT_SHEET_CREATED"], ["pathfinder", "FACT_SHEET_UPDATED"]],
        "workspaceId": "ws-1",
        "workspaceConstraint": "WORKSPACE",
        "targetUrl": FUNCTION_URL,
        "targetMethod": "POST",
        "authorizationHeader": SECRET_HEADER,
        "ignoreError": False,
        "payloadMode": "DEFAULT",
        "active": True,
        "userId": "tu-1",
        "createdAt": "2024-01-01T00:00:00Z",
        "errorCount": 0,
        **extra,
    }


def _envelope(data: Any) -> dict[str, Any]:
    return {"status": "OK", "type": "x", "message": None, "errors": [], "data": data}


def _sent(rsps: responses.RequestsMock, index: int) -> dict[str, Any]:
    return dict(json.loads(rsps.calls[index].request.body or b"{}"))


def test_list_filters_by_identifier_and_parses(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.GET,
        SUBS,
        json=_envelope([_api_sub()]),
        match=[matchers.query_param_matcher({"identifier": "time-tagger"})],
    )
    [sub] = leanix_client.webhooks.list_subscriptions("time-tagger")
    assert sub.id == "s1"
    assert sub.delivery_type == "PUSH"
    assert sub.tag_sets[1] == ["pathfinder", "FACT_SHEET_UPDATED"]
    assert sub.authorization_header is not None
    assert sub.authorization_header.get_secret_value() == SECRET_HEADER
    assert sub.error_count == 0


def test_repr_hides_authorization_header_and_function_key() -> None:
    sub = Subscription.model_validate(_api_sub())
    assert "shared-secret-xyz" not in repr(sub)
    assert "function-key-abc" not in repr(sub)
    assert "shared-secret-xyz" not in str(sub)


def test_create_posts_without_read_only_fields_and_is_not_retried_on_5xx(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    sub = Subscription(
        identifier="time-tagger",
        delivery_type="PUSH",
        tag_sets=[["pathfinder", "FACT_SHEET_CREATED"]],
        target_url=FUNCTION_URL,
        target_method="POST",
        authorization_header=SECRET_HEADER,
        workspace_constraint="WORKSPACE",
    )
    leanix_http.add(responses.POST, SUBS, status=503)
    with pytest.raises(ServerError):
        leanix_client.webhooks.create(sub)
    assert len(leanix_http.calls) == 2  # token + one POST

    leanix_http.replace(responses.POST, SUBS, json=_envelope(_api_sub()))
    created = leanix_client.webhooks.create(sub)
    assert created.id == "s1"
    body = _sent(leanix_http, 2)
    assert body == {
        "identifier": "time-tagger",
        "deliveryType": "PUSH",
        "tagSets": [["pathfinder", "FACT_SHEET_CREATED"]],
        "workspaceConstraint": "WORKSPACE",
        "targetUrl": FUNCTION_URL,
        "targetMethod": "POST",
        "authorizationHeader": SECRET_HEADER,
        "ignoreError": False,
        "active": True,
    }


def test_update_puts_the_full_object_keeping_unknown_fields(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, SUBS + "/s1", json=_envelope(_api_sub(futureField=7)))
    leanix_http.add(responses.PUT, SUBS + "/s1", status=502)
    leanix_http.add(responses.PUT, SUBS + "/s1", json=_envelope(_api_sub(active=False)))
    sub = leanix_client.webhooks.get("s1")
    updated = leanix_client.webhooks.update(sub.model_copy(update={"active": False}))
    assert updated.active is False
    body = _sent(leanix_http, 3)  # token, GET, PUT(502), PUT: PUT is idempotent, so retried
    assert body["id"] == "s1"
    assert body["active"] is False
    assert body["futureField"] == 7
    assert body["authorizationHeader"] == SECRET_HEADER
    assert not {"userId", "createdAt", "errorCount"} & set(body)


def test_delete(leanix_client: LeanIXClient, leanix_http: responses.RequestsMock) -> None:
    leanix_http.add(responses.DELETE, SUBS + "/s%2F1", json=_envelope(_api_sub()))
    leanix_client.webhooks.delete("s/1")  # ids are path-quoted
    assert leanix_http.calls[1].request.method == "DELETE"


def test_envelope_errors_raise_bad_request_with_leanix_messages(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.GET,
        SUBS + "/s1",
        json={
            "status": "ERROR",
            "errors": [{"value": "targetUrl", "messages": ["must not be null"]}],
            "data": None,
        },
    )
    with pytest.raises(BadRequestError, match="must not be null") as info:
        leanix_client.webhooks.get("s1")
    assert info.value.path == "/services/webhooks/v1/subscriptions/s1"


@pytest.mark.parametrize("as_string", [True, False])
def test_pull_events_accepts_event_as_string_or_object(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, as_string: bool
) -> None:
    event = {"id": 42, "type": "FactSheetUpdatedEvent", "factSheet": {"id": "fs"}}
    leanix_http.add(
        responses.GET,
        SUBS + "/s1/events",
        json=_envelope(
            {
                "events": [
                    {"cursor": {"offset": 178}, "event": json.dumps(event) if as_string else event}
                ],
                "nextCursor": {"offset": 179},
            }
        ),
        match=[matchers.query_param_matcher({"autoCommit": "false", "timeout": "25"})],
    )
    batch = leanix_client.webhooks.pull_events("s1", timeout_seconds=25)
    assert [(e.offset, e.event) for e in batch.events] == [(178, event)]
    assert batch.next_offset == 179
    # the read timeout outlasts the long poll
    assert leanix_http.calls[1].request.req_kwargs["timeout"] == (5.0, 35.0)  # type: ignore[attr-defined]


def test_pull_with_no_events(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, SUBS + "/s1/events", body="")
    batch = leanix_client.webhooks.pull_events("s1")
    assert batch.events == []
    assert batch.next_offset is None


def test_pull_with_auto_commit_is_not_replayed(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.GET, SUBS + "/s1/events", status=503)
    with pytest.raises(ServerError):
        leanix_client.webhooks.pull_events("s1", auto_commit=True)
    assert len(leanix_http.calls) == 2


def test_commit_cursor_puts_the_offset(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.PUT, SUBS + "/s1/cursor", json=_envelope(None))
    leanix_client.webhooks.commit_cursor("s1", 182)
    assert _sent(leanix_http, 1) == {"offset": 182}


def test_deliveries_page(leanix_client: LeanIXClient, leanix_http: responses.RequestsMock) -> None:
    leanix_http.add(
        responses.GET,
        SUBS + "/s1/deliveries",
        json=_envelope([{"id": "d1", "httpStatus": 200, "success": True}]),
        match=[matchers.query_param_matcher({"page": "2", "size": "50"})],
    )
    assert leanix_client.webhooks.deliveries("s1", page=2, size=50)[0]["id"] == "d1"
    with pytest.raises(ValueError, match="size"):
        leanix_client.webhooks.deliveries("s1", size=101)
