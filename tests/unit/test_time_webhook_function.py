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


def call_full(body: dict[str, Any]) -> func.HttpResponse:
    req = func.HttpRequest(
        method="POST",
        url="http://localhost/api/leanix/time",
        headers={"content-type": "application/json", "Authorization": SECRET},
        body=json.dumps(body).encode(),
    )
    response: func.HttpResponse = indexed_functions()["time_webhook"].get_user_function()(req)
    return response


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_leanix_outage_is_503_with_the_default_retry_after(
    fake_leanix: FakeLeanIX, status: int
) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate")
    fake_leanix.fail_graphql_status = status
    response = call_full(event())
    assert response.status_code == 503
    assert "unavailable" in json.loads(response.get_body())["error"]
    assert response.headers["Retry-After"] == "30"


def test_leanix_retry_after_is_passed_on(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate")
    fake_leanix.fail_graphql_status = 503
    fake_leanix.fail_graphql_headers = {"Retry-After": "17"}
    response = call_full(event())
    assert (response.status_code, response.headers["Retry-After"]) == (503, "17")


def test_a_429_that_outlasts_the_retries_is_503_not_502(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate")
    fake_leanix.fail_graphql_status = 429
    fake_leanix.fail_graphql_headers = {"Retry-After": "3"}
    response = call_full(event())
    assert (response.status_code, response.headers["Retry-After"]) == (503, "3")


def test_repeated_revision_clashes_are_503(fake_leanix: FakeLeanIX) -> None:
    """Concurrent writers that keep clashing past the bound: LeanIX should redeliver."""
    fake_leanix.add_app("a1", "perfect", "adequate")
    original = fake_leanix._apply

    def always_moved(app_id: str, rev: int | None, patches: Any, alias: str | None) -> Any:
        fake_leanix.clash_next_write = True
        return original(app_id, rev, patches, alias)

    fake_leanix._apply = always_moved  # type: ignore[method-assign]
    response = call_full(event())
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert fake_leanix.count("lxUpdateFactSheet") >= 2


def test_the_webhook_deadline_turns_a_slow_leanix_into_a_quick_503(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With retries allowed, a LeanIX that keeps failing would cost the whole retry budget
    (60 s); the delivery's deadline answers first."""
    import time

    monkeypatch.setenv("LEANIX_MAX_RETRIES", "10")
    monkeypatch.setenv("LX_WEBHOOK_DEADLINE_SECONDS", "1")
    fake_leanix.add_app("a1", "perfect", "adequate")
    fake_leanix.fail_graphql_status = 503
    fake_leanix.fail_graphql_headers = {"Retry-After": "0.3"}
    started = time.monotonic()
    response = call_full(event())
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert elapsed < 1.5


@pytest.mark.parametrize("depth", [100, 1000, 100_000])
def test_any_nesting_depth_is_400(fake_leanix: FakeLeanIX, depth: int) -> None:
    deep = ("[" * depth + "]" * depth).encode()
    status, answer = call(deep)
    assert status == 400 and "nested" in answer["error"]
    wrapped = json.dumps({"id": "1", "type": "x", "payload": "[" * depth + "]" * depth})
    status, answer = call(wrapped.encode())
    assert status == 400 and "nested" in answer["error"]
    assert fake_leanix.ops == []


def test_every_time_write_carries_the_comment(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIME_COMMENT", "set by lx-functions test")
    fake_leanix.add_app("a1", "perfect", "adequate")
    assert call(event())[0] == 200
    fake_leanix.add_app("a2", "unreasonable", "inappropriate")
    from lx_core import runtime

    runtime.time_tagger().reconcile()
    bodies = [
        json.loads(c.request.body or b"{}")
        for c in fake_leanix.rsps.calls
        if "/graphql" in str(c.request.url)
    ]
    comments = [
        value
        for body in bodies
        if str(body.get("operationName", "")).startswith("lxUpdateFactSheet")
        for name, value in body["variables"].items()
        if name.startswith("comment")
    ]
    ops = [b.get("operationName") for b in bodies]
    assert "lxUpdateFactSheet" in ops and "lxUpdateFactSheets" in ops
    assert comments and set(comments) == {"set by lx-functions test"}


def test_tag_names_match_case_insensitively(
    fake_leanix: FakeLeanIX, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "TIME_TAG_NAMES",
        json.dumps(
            {
                "invest": "INVEST",
                "tolerate": "tolerate",
                "migrate": "Migrate",
                "eliminate": "ELIMINATE",
            }
        ),
    )
    monkeypatch.setenv("TIME_CREATE_MISSING_TAGS", "false")
    fake_leanix.add_app("a1", "perfect", "adequate")
    status, answer = call(event())
    assert (status, answer["classification"]) == (200, "invest")
    assert fake_leanix.apps["a1"].tags == [fake_leanix.tag("Invest")]


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


def test_skipped_always_says_why(fake_leanix: FakeLeanIX) -> None:
    fake_leanix.add_app("a1", "perfect", "adequate")
    fake_leanix.apps["a1"].status = "ARCHIVED"
    status, answer = call(event("a1"))
    assert (status, answer["status"], answer["reason"]) == (200, "skipped", "archived")
    assert fake_leanix.count("lxUpdateFactSheet") == 0


def test_a_failed_data_model_read_is_503_never_a_silent_fallback(
    fake_leanix: FakeLeanIX,
) -> None:
    """Storm cause 4: one 500 on the schema read must not classify with the default order."""
    fake_leanix.add_app("a1", "perfect", "adequate")
    fake_leanix.fail_ops["lxType"] = 500
    status, _ = call(event("a1"))
    assert status == 503
    assert fake_leanix.count("lxUpdateFactSheet") == 0
    fake_leanix.fail_ops.clear()
    assert call(event("a1"))[0] == 200
