"""POST /api/leanix/time, called the way the worker calls it: a real func.HttpRequest into the
registered function, with LeanIX behind `responses`."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func
import pytest

from tests.indexed_app import indexed_functions
from tests.unit.fake_leanix import PRINCIPAL_ID, FakeLeanIX

SECRET = "Bearer hook-secret"


def event(fs_id: str = "a1", fs_type: str = "Application", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": 42844,
        "type": "FactSheetUpdatedEvent",
        "userId": "human-1",
        "workspaceId": "ws-1",
        "transactionSequenceNumber": 75086,
        "factSheet": {"id": fs_id, "type": fs_type, "rev": 3, "fields": []},
    }
    body.update(extra)
    return body


def call(
    body: bytes | dict[str, Any] | list[Any],
    *,
    auth: str | None = SECRET,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {"content-type": "application/json", **(headers or {})}
    if auth is not None:
        all_headers["Authorization"] = auth
    req = func.HttpRequest(
        method="POST", url="http://localhost/api/leanix/time", headers=all_headers, body=raw
    )
    handler = indexed_functions()["time_webhook"].get_user_function()
    resp = handler(req)
    text = resp.get_body().decode()
    assert "Traceback" not in text
    return resp.status_code, json.loads(text)


@pytest.mark.parametrize("auth", [None, "", "Bearer wrong", "bearer hook-secret", SECRET + " "])
def test_missing_or_wrong_secret_is_401_without_any_leanix_call(
    fake_leanix: FakeLeanIX, auth: str | None
) -> None:
    status, body = call(event(), auth=auth)
    assert status == 401 and "Authorization" in body["error"]
    assert fake_leanix.ops == []


def test_oversized_body_is_413(fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LX_WEBHOOK_MAX_BODY_BYTES", "2048")
    status, body = call(event(name="x" * 4096))
    assert status == 413 and "2048" in body["error"]
    status, _ = call(event(), headers={"content-length": "999999"})
    assert status == 413
    assert fake_leanix.ops == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (json.dumps({"factSheet": {"id": "a1", "type": "Application"}}).encode(), "type"),
        (json.dumps(event(factSheet={"id": 12, "type": "Application"})).encode(), "factSheet.id"),
    ],
)
def test_malformed_bodies_are_400_naming_the_problem(
    fake_leanix: FakeLeanIX, body: bytes, expected: str
) -> None:
    status, answer = call(body)
    assert status == 400 and expected in answer["error"]
    assert fake_leanix.ops == []


@pytest.mark.parametrize(
    "body",
    [
        event(fs_type="ITComponent"),
        event(type="FactSheetArchivedEvent"),
        {"type": "SomethingElseEvent"},
        event(factSheet=None),
    ],
)
def test_irrelevant_events_are_ignored_without_a_leanix_call(
    fake_leanix: FakeLeanIX, body: dict[str, Any]
) -> None:
    status, answer = call(body)
    assert status == 200 and answer["status"] == "ignored" and answer["reason"]
    assert fake_leanix.ops == []


def test_relevant_event_costs_one_read_and_one_write_with_the_right_tags(
    fake_leanix: FakeLeanIX,
) -> None:
    fake_leanix.add_group("Domain", ["Finance"])
    finance = fake_leanix.tag("Finance", "Domain")
    fake_leanix.add_app(
        "a1", "insufficient", "fullyAppropriate", finance, fake_leanix.tag("Eliminate")
    )
    status, answer = call(event())
    assert (status, answer["status"], answer["classification"]) == (200, "changed", "tolerate")
    assert fake_leanix.count("lxFactSheet") == 1
    assert fake_leanix.count("lxUpdateFactSheet") == 1
    assert fake_leanix.apps["a1"].tags == [finance, fake_leanix.tag("Tolerate")]
    # Warm instance: the next event costs exactly one read and one write, nothing else.
    fake_leanix.add_app("a2", "perfect", "inappropriate")
    fake_leanix.ops.clear()
    assert call(event("a2"))[1]["classification"] == "migrate"
    assert fake_leanix.ops == ["lxFactSheet", "lxUpdateFactSheet"]


def test_already_correct_event_costs_one_read_and_no_write(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate", fake_leanix.tag("Invest"))
    status, answer = call(event())
    assert (status, answer["status"]) == (200, "unchanged")
    assert fake_leanix.count("lxFactSheet") == 1
    assert fake_leanix.count("lxUpdateFactSheet") == 0


def test_own_write_event_ends_without_a_read_or_write(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate")
    _, answer = call(event(userId=PRINCIPAL_ID))
    assert answer["status"] == "ignored" and "own write" in answer["reason"]
    assert fake_leanix.count("lxFactSheet") == 0 and fake_leanix.count("lxUpdateFactSheet") == 0


def test_own_write_loop_ends_by_compare_first_when_own_events_are_not_ignored(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIME_IGNORE_OWN_EVENTS", "false")
    fake_leanix.add_app("a1", "perfect", "adequate")
    assert call(event())[1]["status"] == "changed"
    # LeanIX now fires FACT_SHEET_UPDATED for our own write; it must end with no write.
    assert call(event(userId=PRINCIPAL_ID))[1]["status"] == "unchanged"
    assert fake_leanix.count("lxUpdateFactSheet") == 1


def test_wrapped_event_mode_is_understood(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate")
    wrapped = {"id": 9, "type": "FACT_SHEET_UPDATED", "tags": ["pathfinder"], "payload": event()}
    assert call(wrapped)[1]["status"] == "changed"


def test_vanished_fact_sheet_is_ignored(fake_leanix: FakeLeanIX) -> None:
    status, answer = call(event("gone"))
    assert status == 200 and answer["reason"] == "fact sheet no longer exists"


def test_leanix_outage_is_503_with_retry_after(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate")
    fake_leanix.fail_graphql_status = 503
    req_status, answer = call(event())
    assert req_status == 503 and "unavailable" in answer["error"]


def test_missing_configuration_is_500_naming_nothing_secret(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("LEANIX_API_TOKEN")
    caplog.set_level(logging.DEBUG)
    status, answer = call(event())
    assert status == 500 and "misconfigured" in answer["error"]
    assert "LEANIX_API_TOKEN" in caplog.text
    assert fake_leanix.ops == []


def test_canary_secrets_never_reach_logs_or_answers(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    canary_token = "CANARY-api-token-7c1f"
    canary_hook = "Bearer CANARY-hook-9d2e"
    monkeypatch.setenv("LEANIX_API_TOKEN", canary_token)
    monkeypatch.setenv("LX_WEBHOOK_AUTHORIZATION", canary_hook)
    caplog.set_level(logging.DEBUG)
    fake_leanix.add_app("a1", "perfect", "adequate")
    answers = [call(event(), auth=canary_hook), call(event(), auth="Bearer wrong")]
    fake_leanix.fail_graphql_status = 401
    answers.append(call(event("a1"), auth=canary_hook))
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert "CANARY" not in text
    assert "CANARY" not in json.dumps(answers)
    assert answers[2][0] == 502
