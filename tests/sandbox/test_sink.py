"""The Slack/Teams sink: recording, validation answers and injected faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lx_sandbox.sink import SinkServer

CARD = {
    "type": "message",
    "attachments": [
        {
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": {"type": "AdaptiveCard", "version": "1.2", "body": []},
        }
    ],
}


@pytest.fixture(scope="module")
def sink_server() -> Iterator[SinkServer]:
    with SinkServer() as sink:
        yield sink


@pytest.fixture
def sink(sink_server: SinkServer) -> SinkServer:
    requests.delete(sink_server.url + "/_sink/messages", timeout=5)
    requests.delete(sink_server.url + "/_sink/faults", timeout=5)
    return sink_server


def test_slack_message_is_recorded(sink: SinkServer) -> None:
    r = requests.post(
        sink.slack_url("alerts"), json={"text": "hello"}, headers={"X-Test": "1"}, timeout=5
    )
    assert r.status_code == 200 and r.text == "ok"
    messages = requests.get(sink.url + "/_sink/messages", timeout=5).json()["messages"]
    assert len(messages) == 1
    m = messages[0]
    assert m["kind"] == "slack" and m["channel"] == "alerts" and m["body"] == {"text": "hello"}
    assert m["headers"]["x-test"] == "1" and m["receivedAt"]


def test_slack_invalid_payload(sink: SinkServer) -> None:
    r = requests.post(sink.slack_url(), json={"nope": 1}, timeout=5)
    assert r.status_code == 400 and r.text == "invalid_payload"
    assert requests.post(sink.slack_url(), json={"blocks": [{"type": "section"}]}, timeout=5).ok
    assert requests.get(sink.url + "/_sink/messages", timeout=5).json()["total"] == 1
    assert requests.get(sink.url + "/_sink/requests", timeout=5).json()["total"] == 2


def test_teams_workflow_message(sink: SinkServer) -> None:
    assert requests.post(sink.teams_url("ops"), json=CARD, timeout=5).status_code == 202
    assert (
        requests.post(sink.teams_url("ops"), json={"text": "legacy"}, timeout=5).status_code == 400
    )
    msgs = requests.get(sink.url + "/_sink/messages", params={"kind": "teams"}, timeout=5).json()
    assert msgs["total"] == 1 and msgs["messages"][0]["channel"] == "ops"


def test_faults_for_next_requests(sink: SinkServer) -> None:
    requests.post(
        sink.url + "/_sink/faults", json={"status": 429, "count": 1, "retryAfter": 3}, timeout=5
    )
    requests.post(
        sink.url + "/_sink/faults", json={"status": 503, "count": 1, "kind": "teams"}, timeout=5
    )
    limited = requests.post(sink.slack_url(), json={"text": "a"}, timeout=5)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert requests.post(sink.slack_url(), json={"text": "b"}, timeout=5).status_code == 200
    assert requests.post(sink.teams_url(), json=CARD, timeout=5).status_code == 503
    assert requests.post(sink.teams_url(), json=CARD, timeout=5).status_code == 202
    texts = [
        m["body"].get("text")
        for m in requests.get(sink.url + "/_sink/messages", timeout=5).json()["messages"]
    ]
    assert texts == ["b", None]
    assert requests.get(sink.url + "/_sink/faults", timeout=5).json()["faults"] == []
    assert (
        requests.post(sink.url + "/_sink/faults", json={"status": 200}, timeout=5).status_code
        == 400
    )


def test_wait_for_messages(sink: SinkServer) -> None:
    requests.post(sink.slack_url("x"), json={"text": "1"}, timeout=5)
    waited = requests.get(
        sink.url + "/_sink/messages/wait", params={"count": 1, "timeout": 2}, timeout=5
    ).json()
    assert waited["reached"] is True
