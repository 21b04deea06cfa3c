"""Survey API v1 and Poll API v2 over one survey model, the survey admin API and the survey
events (§6): envelope, auth, 404s, validation, PULL delivery of submissions, reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from lx_sandbox.emulator import SandboxConfig
from lx_sandbox.emulator.core import Emulator
from tests.sandbox.conftest import WEBHOOKS, Api

JsonDict = dict[str, Any]
V1 = "/services/survey/v1"
V2 = "/services/poll/v2"
SUBS = f"{WEBHOOKS}/subscriptions"
QUESTIONS: list[JsonDict] = [
    {"id": "q-text", "type": "TEXT", "label": "Why?"},
    {"id": "q-num", "type": "NUMBER", "label": "How many users?"},
    {
        "id": "q-one",
        "type": "SINGLE_CHOICE",
        "label": "Hosting",
        "options": [{"id": "o-cloud", "label": "Cloud"}, {"id": "o-prem", "label": "On premise"}],
    },
    {
        "type": "MULTIPLE_CHOICE",
        "label": "Regions",
        "options": [{"id": "o-eu", "label": "EU"}, {"id": "o-us", "label": "US"}, {"label": "X"}],
    },
]
ANSWERS: list[JsonDict] = [
    {"questionId": "q-text", "value": "Users are based in Australia."},
    {"questionId": "q-num", "value": 12.5},
    {"questionId": "q-one", "value": "o-cloud"},
]


def _apps(api: Api, count: int) -> list[str]:
    page = api.admin("GET", f"/factsheets?type=Application&limit={count}")["factSheets"]
    return [fs["id"] for fs in page]


def _poll(api: Api, title: str = "Cloud Readiness") -> JsonDict:
    poll: JsonDict = api.admin(
        "POST", "/surveys/polls", json={"title": title, "questions": QUESTIONS}
    )
    return poll


def _run(api: Api, poll_id: str, fs_ids: list[str]) -> JsonDict:
    run: JsonDict = api.admin(
        "POST", "/surveys/runs", json={"pollId": poll_id, "factSheetIds": fs_ids}
    )
    return run


def _data(response: requests.Response, type_name: str, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "OK" and body["type"] == type_name and body["errors"] == []
    expected = len(body["data"]) if isinstance(body["data"], list) else 1
    assert body["total"] == expected
    return body["data"]


def _error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "ERROR"
    message: str = body["message"]
    return message


def _user(api: Api, username: str) -> JsonDict:
    users = api.admin("GET", "/workspace")["users"]
    user: JsonDict = next(u for u in users if u["username"] == username)
    return user


def test_admin_poll_is_read_through_both_apis(emu: Api) -> None:
    poll = _poll(emu)
    questions = poll["questionnaire"]["questions"]
    assert poll["status"] == "ACTIVE" and poll["createdAt"]
    assert [q["type"] for q in questions] == ["TEXT", "NUMBER", "SINGLE_CHOICE", "MULTIPLE_CHOICE"]
    assert all(isinstance(q["options"], list) for q in questions)
    assert questions[0]["options"] == [] and questions[3]["id"]  # generated id
    assert questions[3]["options"][2]["id"] and questions[3]["options"][2]["label"] == "X"
    _poll(emu, "Security Check")
    for base in (V1, V2):
        assert len(_data(emu.rest("GET", f"{base}/polls"), "Poll")) == 2
        found = _data(emu.rest("GET", f"{base}/polls", params={"q": "cloud"}), "Poll")
        assert [p["id"] for p in found] == [poll["id"]]
        assert _data(emu.rest("GET", f"{base}/polls/{poll['id']}"), "Poll") == poll
        assert "not found" in _error(emu.rest("GET", f"{base}/polls/nope"), 404)


def test_v1_poll_crud_and_validation(emu: Api) -> None:
    body = {"title": "Ops", "questionnaire": {"questions": QUESTIONS[:1]}, "extra": 1}
    poll = _data(emu.rest("POST", f"{V1}/polls", json=body), "Poll")
    assert poll["title"] == "Ops" and poll["questionnaire"]["questions"][0]["id"] == "q-text"
    changed = _data(emu.rest("PUT", f"{V1}/polls/{poll['id']}", json={"title": "Ops 2"}), "Poll")
    assert changed["title"] == "Ops 2" and changed["questionnaire"] == poll["questionnaire"]
    bad_bodies = [
        {"questionnaire": {"questions": []}},
        {"title": "x", "questionnaire": {"questions": [{"type": "DATE", "label": "When"}]}},
        {"title": "x", "questionnaire": {"questions": [{"type": "SINGLE_CHOICE", "label": "y"}]}},
        {"title": "x", "questionnaire": {"questions": [{"type": "TEXT", "label": ""}]}},
        {"title": "x", "questionnaire": [1]},
        [1, 2],
    ]
    for bad in bad_bodies:
        _error(emu.rest("POST", f"{V1}/polls", json=bad), 400)
    _error(emu.rest("POST", f"{V1}/polls", data=b"{oops"), 400)
    _error(emu.rest("PUT", f"{V1}/polls/{poll['id']}", json={"title": 5}), 400)
    _error(emu.rest("PUT", f"{V1}/polls/nope", json={"title": "t"}), 404)
    deleted = emu.rest("DELETE", f"{V1}/polls/{poll['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    _error(emu.rest("GET", f"{V1}/polls/{poll['id']}"), 404)
    _error(emu.rest("DELETE", f"{V1}/polls/{poll['id']}"), 404)


def test_v1_runs_and_results(emu: Api) -> None:
    poll = _poll(emu)
    fs_ids = _apps(emu, 2)
    created = emu.rest(
        "POST",
        f"{V1}/pollRuns",
        json={"pollId": poll["id"], "resultView": "NEW", "factSheetIds": fs_ids},
    )
    run = _data(created, "PollRun")
    assert run["status"] == "STARTED" and run["endTime"] is None and run["startTime"]
    assert run["pollId"] == poll["id"] and run["poll"] == {"id": poll["id"], "title": poll["title"]}
    assert run["resultView"] == "NEW" and run["factSheetIds"] == fs_ids
    other = _data(emu.rest("POST", f"{V1}/pollRuns", json={"pollId": poll["id"]}), "PollRun")
    assert other["factSheetIds"] == []
    _error(emu.rest("POST", f"{V1}/pollRuns", json={"pollId": "nope"}), 404)
    _error(emu.rest("POST", f"{V1}/pollRuns", json={"resultView": "NEW"}), 400)
    bad_fs = {"pollId": poll["id"], "factSheetIds": ["no-such-fact-sheet"]}
    assert "no-such-fact-sheet" in _error(emu.rest("POST", f"{V1}/pollRuns", json=bad_fs), 400)

    results = _data(emu.rest("GET", f"{V1}/pollRuns/{run['id']}/pollResults"), "PollResult")
    assert sorted(r["factSheet"]["id"] for r in results) == sorted(fs_ids)
    tech = _user(emu, "lx-functions-technical-user")
    for result in results:
        assert set(result) == {
            "id",
            "pollRunId",
            "status",
            "answers",
            "users",
            "sender",
            "factSheet",
        }
        assert result["status"] == "PENDING" and result["answers"] == [] and result["users"] == []
        assert result["sender"]["id"] == tech["id"] and result["pollRunId"] == run["id"]
        assert set(result["factSheet"]) == {"id", "name", "displayName", "type"}
    alias = emu.rest("GET", f"{V1}/pollRuns/{run['id']}/poll_results")
    assert _data(alias, "PollResult") == results
    by_run = emu.rest("GET", f"{V1}/pollResults", params={"pollRunId": run["id"]})
    assert _data(by_run, "PollResult") == results
    assert len(_data(emu.rest("GET", f"{V1}/pollResults"), "PollResult")) == 2

    one = _data(emu.rest("GET", f"{V1}/pollResults/{results[0]['id']}"), "PollResult")
    assert one["requestingUser"] == {
        "id": tech["id"],
        "firstName": None,
        "lastName": None,
        "email": tech["email"],
    }
    _error(emu.rest("GET", f"{V1}/pollResults/nope"), 404)

    listed = _data(emu.rest("GET", f"{V1}/pollRuns", params={"pollId": poll["id"]}), "PollRun")
    assert [r["id"] for r in listed] == [run["id"], other["id"]]
    assert _data(emu.rest("GET", f"{V1}/pollRuns", params={"pollId": "x"}), "PollRun") == []
    finished = _data(
        emu.rest("PUT", f"{V1}/pollRuns/{run['id']}", json={"status": "FINISHED"}), "PollRun"
    )
    assert finished["status"] == "FINISHED" and finished["endTime"]
    only_started = emu.rest("GET", f"{V1}/pollRuns", params={"status": "STARTED"})
    assert [r["id"] for r in _data(only_started, "PollRun")] == [other["id"]]
    assert _data(emu.rest("GET", f"{V1}/pollRuns/{run['id']}"), "PollRun") == finished
    restart = emu.rest("PUT", f"{V1}/pollRuns/{run['id']}", json={"status": "STARTED"})
    _error(restart, 400)
    _error(emu.rest("PUT", f"{V1}/pollRuns/{run['id']}", json={"status": "DONE"}), 400)

    deleted = emu.rest("DELETE", f"{V1}/pollRuns/{run['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    _error(emu.rest("GET", f"{V1}/pollRuns/{run['id']}"), 404)
    _error(emu.rest("GET", f"{V1}/pollRuns/{run['id']}/pollResults"), 404)
    _error(emu.rest("GET", f"{V1}/pollResults/{results[0]['id']}"), 404)  # gone with its run
    _error(emu.rest("DELETE", f"{V1}/pollRuns/{run['id']}"), 404)


def test_submitted_answers_have_the_documented_shape(emu: Api) -> None:
    poll = _poll(emu)
    regions = poll["questionnaire"]["questions"][3]
    fs_id = _apps(emu, 1)[0]
    run = _run(emu, poll["id"], [fs_id])
    answers = [*ANSWERS, {"questionId": regions["id"], "value": ["o-eu", "o-us"]}]
    body = {"pollRunId": run["id"], "factSheetId": fs_id, "answers": answers}
    submitted = emu.admin("POST", "/surveys/results", json=body)
    jane = _user(emu, "jane.doe@example.com")
    assert submitted["status"] == "DONE"
    assert submitted["answers"] == [
        {"questionId": "q-text", "value": "Users are based in Australia.", "type": "TEXT"},
        {"questionId": "q-num", "value": 12.5, "type": "NUMBER"},
        {"questionId": "q-one", "value": "o-cloud", "type": "SINGLE_CHOICE"},
        {"questionId": regions["id"], "value": ["o-eu", "o-us"], "type": "MULTIPLE_CHOICE"},
    ]
    assert [u["id"] for u in submitted["users"]] == [jane["id"]]
    assert submitted["users"][0]["email"] == "jane.doe@example.com"
    assert submitted["users"][0]["firstName"] and submitted["users"][0]["lastName"]
    read = _data(emu.rest("GET", f"{V1}/pollRuns/{run['id']}/pollResults"), "PollResult")
    assert read == [submitted]
    # A second submission replaces the answers of the same result.
    again = emu.admin("POST", "/surveys/results", json={**body, "answers": ANSWERS[:1]})
    assert again["id"] == submitted["id"] and len(again["answers"]) == 1
    # A fact sheet outside the run gets a result of its own.
    extra = _apps(emu, 2)[1]
    added = emu.admin("POST", "/surveys/results", json={**body, "factSheetId": extra})
    assert added["id"] != submitted["id"]
    assert _data(emu.rest("GET", f"{V1}/pollRuns/{run['id']}"), "PollRun")["factSheetIds"] == [
        fs_id,
        extra,
    ]
    pending = emu.admin(
        "POST", "/surveys/results", json={**body, "answers": [], "status": "PENDING"}
    )
    assert pending["status"] == "PENDING" and pending["answers"] == [] and pending["users"] == []


def test_admin_answers_are_checked_against_the_poll(emu: Api) -> None:
    poll = _poll(emu)
    fs_id = _apps(emu, 1)[0]
    run = _run(emu, poll["id"], [fs_id])
    cases: list[tuple[JsonDict, str]] = [
        ({"questionId": "q-nope", "value": "x"}, "no question"),
        ({"questionId": "q-text", "value": 5}, "a string"),
        ({"questionId": "q-num", "value": "5"}, "a number"),
        ({"questionId": "q-num", "value": True}, "a number"),
        ({"questionId": "q-one", "value": "o-eu"}, "no option"),
        ({"questionId": "q-one", "value": ["o-cloud"]}, "an option id"),
        ({"questionId": "q-text"}, "value is required"),
        ({"questionId": "q-text", "value": "x", "valeu": 1}, "known"),
    ]
    for answer, fragment in cases:
        body = {"pollRunId": run["id"], "factSheetId": fs_id, "answers": [answer]}
        r = emu.admin_raw("POST", "/surveys/results", json=body)
        assert r.status_code == 400 and fragment in r.json()["error"], r.text
    results = emu.admin("GET", "/surveys")["results"]
    assert [x["status"] for x in results] == ["PENDING"]  # a 400 changes nothing


def test_admin_validation_and_unknown_ids(emu: Api) -> None:
    poll = _poll(emu)
    fs_id = _apps(emu, 1)[0]
    run = _run(emu, poll["id"], [fs_id])
    multi = poll["questionnaire"]["questions"][3]["id"]
    text = QUESTIONS[0]
    optioned = {**text, "options": [{"label": "o"}]}
    target = {"pollRunId": run["id"], "factSheetId": fs_id}
    twice = {"questionId": multi, "value": ["o-eu", "o-eu"]}
    cases: list[tuple[str, JsonDict, int, str]] = [
        ("/surveys/polls", {"title": "t", "questions": [], "qestions": []}, 400, "known"),
        ("/surveys/polls", {"questions": []}, 400, "title"),
        ("/surveys/polls", {"title": "t", "questions": [{**text, "x": 1}]}, 400, "known"),
        ("/surveys/polls", {"title": "t", "questions": [optioned]}, 400, "no options"),
        ("/surveys/polls", {"title": "t", "questions": [text, text]}, 400, "duplicate"),
        ("/surveys/runs", {"pollId": poll["id"], "factSheetIds": ["nope"]}, 400, "nope"),
        ("/surveys/runs", {"pollId": "nope", "factSheetIds": []}, 404, "not found"),
        ("/surveys/runs", {"pollId": poll["id"]}, 400, "factSheetIds"),
        ("/surveys/results", {"pollRunId": "nope", "factSheetId": fs_id}, 404, "not found"),
        ("/surveys/results", {"pollRunId": run["id"], "factSheetId": "nope"}, 400, "nope"),
        ("/surveys/results", {**target, "status": "OPEN"}, 400, "status"),
        ("/surveys/results", {**target, "emitEvent": "yes"}, 400, "emitEvent"),
        ("/surveys/results", {**target, "status": "PENDING", "answers": ANSWERS}, 400, "PENDING"),
        ("/surveys/results", {**target, "answers": [twice]}, 400, "twice"),
        ("/surveys/runs/nope/finish", {}, 404, "not found"),
        (f"/surveys/runs/{run['id']}/finish", {"emit": True}, 400, "known"),
    ]  # fmt: skip
    for path, body, status, fragment in cases:
        r = emu.admin_raw("POST", path, json=body)
        assert r.status_code == status and fragment in r.json()["error"], (path, body, r.text)
    assert emu.admin_raw("POST", "/surveys/polls", data=b"{oops").status_code == 400
    overview = emu.admin("GET", "/surveys")
    assert [len(overview[k]) for k in ("polls", "runs", "results")] == [1, 1, 1]
    finished = emu.admin("POST", f"/surveys/runs/{run['id']}/finish")
    assert finished["status"] == "FINISHED" and finished["endTime"]
    assert emu.admin_raw("POST", f"/surveys/runs/{run['id']}/finish").status_code == 400
    late = {"pollRunId": run["id"], "factSheetId": fs_id, "answers": ANSWERS}
    r = emu.admin_raw("POST", "/surveys/results", json=late)
    assert r.status_code == 400 and "FINISHED" in r.json()["error"]


def _pull_sub(api: Api, tag_sets: list[list[str]]) -> str:
    body = {
        "identifier": "surveys",
        "deliveryType": "PULL",
        "ignoreError": False,
        "tagSets": tag_sets,
    }
    r = api.rest("POST", SUBS, json=body)
    assert r.status_code == 200, r.text
    sub_id: str = r.json()["data"]["id"]
    return sub_id


def _pulled(api: Api, sub_id: str) -> list[JsonDict]:
    r = api.rest("GET", f"{SUBS}/{sub_id}/events", params={"timeout": 0, "autoCommit": "true"})
    assert r.status_code == 200, r.text
    return [e["event"] for e in r.json()["data"]["events"]]


def test_submission_and_finish_events_reach_pull_subscriptions(emu: Api) -> None:
    results_sub = _pull_sub(emu, [["pollResult", "POLL_RESULT_UPDATED"]])
    finish_sub = _pull_sub(emu, [["poll", "POLL_FINISHED"]])
    fact_sheet_sub = _pull_sub(emu, [["pathfinder", "FACT_SHEET_UPDATED"]])
    poll = _poll(emu)
    fs_id = _apps(emu, 1)[0]
    fs = emu.admin("GET", f"/factsheets/{fs_id}")
    run = _run(emu, poll["id"], [fs_id])
    body = {"pollRunId": run["id"], "factSheetId": fs_id, "answers": ANSWERS}
    quiet = emu.admin("POST", "/surveys/results", json={**body, "emitEvent": False})
    assert _pulled(emu, results_sub) == []
    result = emu.admin("POST", "/surveys/results", json=body)
    assert result["id"] == quiet["id"]
    ws = emu.admin("GET", "/workspace")
    jane = _user(emu, "jane.doe@example.com")
    [event] = _pulled(emu, results_sub)
    assert event["type"] == "POLL_RESULT_UPDATED"
    assert event["tags"] == ["pollResult", "POLL_RESULT_UPDATED"]
    assert event["workspaceId"] == ws["workspace"]["id"] and event["userId"] == jane["id"]
    payload = event["payload"]
    assert isinstance(payload["id"], int) and payload["createdAt"]
    assert {k: v for k, v in payload.items() if k not in ("id", "createdAt")} == {
        "type": "PollResultUpdatedEvent",
        "pollResultId": result["id"],
        "pollRunId": run["id"],
        "pollId": poll["id"],
        "status": "DONE",
        "userId": jane["id"],
        "workspaceId": ws["workspace"]["id"],
        "factSheet": {"id": fs_id, "type": fs["type"], "name": fs["name"]},
    }
    assert _pulled(emu, finish_sub) == [] and _pulled(emu, fact_sheet_sub) == []

    emu.admin("POST", f"/surveys/runs/{run['id']}/finish")
    [finished] = _pulled(emu, finish_sub)
    assert finished["type"] == "POLL_FINISHED" and finished["tags"] == ["poll", "POLL_FINISHED"]
    assert {k: v for k, v in finished["payload"].items() if k not in ("id", "createdAt")} == {
        "type": "PollFinishedEvent",
        "pollRunId": run["id"],
        "pollId": poll["id"],
        "userId": jane["id"],
        "workspaceId": ws["workspace"]["id"],
    }
    assert finished["payload"]["id"] > payload["id"]
    # Finishing through the API is a finish too: the caller is the event's user.
    second = _run(emu, poll["id"], [fs_id])
    emu.rest("PUT", f"{V2}/pollRuns/{second['id']}", json={"status": "FINISHED"})
    [by_api] = _pulled(emu, finish_sub)
    assert by_api["userId"] == _user(emu, "lx-functions-technical-user")["id"]
    quiet_run = _run(emu, poll["id"], [fs_id])
    emu.admin("POST", f"/surveys/runs/{quiet_run['id']}/finish", json={"emitEvent": False})
    assert _pulled(emu, finish_sub) == [] and _pulled(emu, results_sub) == []


def test_poll_api_v2(emu: Api) -> None:
    poll = _poll(emu)
    fs_ids = _apps(emu, 2)
    run = _run(emu, poll["id"], fs_ids)
    ws_id = emu.admin("GET", "/workspace")["workspace"]["id"]
    own = {"workspaceId": ws_id}
    runs = _data(emu.rest("GET", f"{V2}/polls/{poll['id']}/pollRuns", params=own), "PollRun")
    assert [r["id"] for r in runs] == [run["id"]]
    _error(emu.rest("GET", f"{V2}/polls/nope/pollRuns"), 404)
    assert _data(emu.rest("GET", f"{V2}/pollRuns/{run['id']}", params=own), "PollRun") == run
    results = _data(emu.rest("GET", f"{V2}/pollRuns/{run['id']}/pollResults"), "PollResult")
    assert len(results) == 2 and all(r["status"] == "PENDING" for r in results)
    single = emu.rest("GET", f"{V2}/pollResults/{results[0]['id']}")
    assert single.status_code == 404
    assert single.json() == {"status": "ERROR", "message": "Not Found"}
    other_ws = emu.rest("GET", f"{V2}/polls", params={"workspaceId": "another-workspace"})
    _error(other_ws, 403)
    finished = emu.rest("PUT", f"{V2}/pollRuns/{run['id']}", json={"status": "FINISHED"})
    assert _data(finished, "PollRun")["status"] == "FINISHED"
    deleted = _data(emu.rest("DELETE", f"{V2}/pollRuns/{run['id']}", params=own), "PollRun")
    assert deleted["id"] == run["id"] and deleted["status"] == "FINISHED"
    _error(emu.rest("GET", f"{V2}/pollRuns/{run['id']}"), 404)
    assert emu.admin("GET", "/surveys")["results"] == []


def test_every_survey_route_needs_a_bearer(emu: Api) -> None:
    routes = [
        ("GET", f"{V1}/polls"),
        ("POST", f"{V1}/polls"),
        ("DELETE", f"{V1}/polls/x"),
        ("GET", f"{V1}/pollRuns"),
        ("POST", f"{V1}/pollRuns"),
        ("GET", f"{V1}/pollRuns/x/poll_results"),
        ("GET", f"{V1}/pollResults/x"),
        ("GET", f"{V2}/polls"),
        ("PUT", f"{V2}/pollRuns/x"),
        ("GET", f"{V2}/pollRuns/x/pollResults"),
    ]
    for method, path in routes:
        r = requests.request(method, emu.base_url + path, json={}, timeout=10)
        assert r.status_code == 401 and r.json()["status"] == "ERROR", (method, path)


def test_survey_apis_config_switches_an_api_off(emu: Api) -> None:
    poll = _poll(emu)
    assert emu.admin("GET", "/config")["surveyApis"] == ["v1", "v2"]
    assert emu.admin("PUT", "/config", json={"surveyApis": ["v2"]})["surveyApis"] == ["v2"]
    not_found = {"status": "ERROR", "message": "Not Found"}
    for method, path in (("GET", "/polls"), ("GET", f"/polls/{poll['id']}"), ("POST", "/pollRuns")):
        r = emu.rest(method, V1 + path, json={})
        assert r.status_code == 404 and r.json() == not_found
    anonymous = requests.get(emu.base_url + V1 + "/polls", timeout=10)
    assert anonymous.status_code == 404 and anonymous.json() == not_found
    assert len(_data(emu.rest("GET", f"{V2}/polls"), "Poll")) == 1
    emu.admin("PUT", "/config", json={"surveyApis": ["v1"]})
    r = emu.rest("GET", f"{V2}/polls/{poll['id']}")
    assert r.status_code == 404 and r.json() == not_found
    assert len(_data(emu.rest("GET", f"{V1}/polls"), "Poll")) == 1
    for bad in (["v3"], "v1", ["v1", "v1"], [1]):
        r = emu.admin_raw("PUT", "/config", json={"surveyApis": bad})
        assert r.status_code == 400 and "surveyApis" in r.json()["error"]
    assert emu.admin("GET", "/config")["surveyApis"] == ["v1"]  # a 400 changed nothing
    emu.admin("POST", "/reset")
    assert emu.admin("GET", "/config")["surveyApis"] == ["v1", "v2"]


def test_survey_apis_constructor_setting(emu_private: Callable[..., Api]) -> None:
    api = emu_private(seed="empty", survey_apis=["v2"])
    assert api.rest("GET", f"{V1}/polls").status_code == 404
    assert api.rest("GET", f"{V2}/polls").status_code == 200
    with pytest.raises(ValueError, match="surveyApis"):
        Emulator(SandboxConfig(seed="empty", survey_apis=["v9"]))


def test_reset_and_reseed_clear_surveys(emu: Api) -> None:
    poll = _poll(emu)
    _run(emu, poll["id"], _apps(emu, 1))
    assert emu.admin("GET", "/surveys")["results"]
    emu.admin("POST", "/reset")
    assert emu.admin("GET", "/surveys") == {"polls": [], "runs": [], "results": []}
    _poll(emu)
    emu.admin("POST", "/seed", json={"fixture": "demo"})
    assert emu.admin("GET", "/surveys")["polls"] == []
    assert _data(emu.rest("GET", f"{V1}/polls"), "Poll") == []
