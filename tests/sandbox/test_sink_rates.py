"""The sink's rate limits (arithmetic on a stepped clock, then over real HTTP) and its delay and
dropped-connection faults."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from lx_sandbox.sink import (
    SLACK_BURST,
    TEAMS_WINDOWS,
    RateLimit,
    SinkConfigError,
    SinkFault,
    SinkServer,
    SinkState,
    no_rate_limits,
    retry_after_seconds,
)

CARD = {
    "type": "message",
    "attachments": [
        {
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {"type": "AdaptiveCard", "version": "1.2", "body": []},
        }
    ],
}


class Clock:
    """A monotonic clock the test steps by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> SinkState:
    return SinkState(clock=clock)


def _admits(state: SinkState, kind: str, channel: str, n: int) -> list[float | None]:
    return [state.admit(kind, channel) for _ in range(n)]


# --- the arithmetic, on a stepped clock -------------------------------------------------------


def test_slack_bucket_allows_a_burst_of_three_then_one_per_second(
    state: SinkState, clock: Clock
) -> None:
    assert SLACK_BURST == 3
    assert _admits(state, "slack", "a", 3) == [None, None, None]
    assert state.admit("slack", "a") == pytest.approx(1.0)
    clock.advance(0.4)
    assert state.admit("slack", "a") == pytest.approx(0.6)
    clock.advance(0.6)
    assert state.admit("slack", "a") is None
    assert state.admit("slack", "a") == pytest.approx(1.0)
    clock.advance(10)  # idle time saves up to the burst, no more
    assert _admits(state, "slack", "a", 4)[:3] == [None, None, None]
    assert state.admit("slack", "a") is not None


def test_a_refused_request_uses_no_budget(state: SinkState, clock: Clock) -> None:
    _admits(state, "slack", "a", 3)
    clock.advance(0.5)
    assert all(w == pytest.approx(0.5) for w in _admits(state, "slack", "a", 20))
    clock.advance(0.5)
    assert state.admit("slack", "a") is None


def test_budgets_are_per_kind_and_channel(state: SinkState) -> None:
    _admits(state, "slack", "a", 3)
    assert state.admit("slack", "a") is not None
    assert state.admit("slack", "b") is None
    assert state.admit("teams", "a") is None


def test_teams_sliding_windows(state: SinkState, clock: Clock) -> None:
    assert TEAMS_WINDOWS == ((1.0, 4), (30.0, 60), (3600.0, 100))
    assert _admits(state, "teams", "t", 4) == [None] * 4
    clock.advance(0.3)
    assert state.admit("teams", "t") == pytest.approx(0.7)
    clock.advance(0.7)
    assert state.admit("teams", "t") is None  # the first four aged out of the 1 s window
    # 60 per 30 s: at 4 per second the 60th lands at 14.75 s, the 61st waits for the first.
    state.refill()
    start = clock.now
    for _ in range(60):
        assert state.admit("teams", "t") is None
        clock.advance(0.25)
    assert state.admit("teams", "t") == pytest.approx(start + 30 - clock.now)
    # 100 per hour: spread out over 25 minutes, the 101st waits for the hour to roll.
    state.refill()
    start = clock.now
    for _ in range(100):
        assert state.admit("teams", "t") is None
        clock.advance(15)
    assert state.admit("teams", "t") == pytest.approx(start + 3600 - clock.now)


def test_disabled_and_reconfigured_limits(state: SinkState, clock: Clock) -> None:
    state.set_rate("slack", RateLimit(enabled=False))
    assert _admits(state, "slack", "a", 50) == [None] * 50
    state.set_rate("slack", RateLimit(rate=2.0, burst=1, windows=((10.0, 3),)))
    assert state.admit("slack", "a") is None
    assert state.admit("slack", "a") == pytest.approx(0.5)
    clock.advance(0.5)
    assert state.admit("slack", "a") is None
    clock.advance(0.5)
    assert state.admit("slack", "a") is None
    clock.advance(0.5)
    assert state.admit("slack", "a") == pytest.approx(8.5)  # the bucket would, the window not
    state.reset_rates()
    assert state.rates["slack"].rate == 1.0 and state.rates["slack"].burst == SLACK_BURST


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert [retry_after_seconds(w) for w in (0.01, 0.5, 1.0, 1.0000000001, 1.2, 29.5)] == [
        1,
        1,
        1,
        1,
        2,
        30,
    ]


def test_rate_documents_are_validated() -> None:
    limit = RateLimit(rate=1.0, burst=3)
    assert limit.updated({"burst": 5, "windows": [[1, 4]]}) == RateLimit(True, 1.0, 5, ((1.0, 4),))
    assert limit.updated({"rate": None}).rate is None
    cases: list[tuple[dict[str, Any], str]] = [
        ({"enabled": "no"}, "enabled"),
        ({"rate": 0}, "rate"),
        ({"burst": 0}, "burst"),
        ({"burst": 1.5}, "burst"),
        ({"windows": [[1, 4], [0, 5]]}, "windows[1]"),
        ({"windows": [[1]]}, "windows[0]"),
        ({"windows": 4}, "windows"),
    ]
    for doc, name in cases:
        with pytest.raises(SinkConfigError) as error:
            limit.updated(doc)
        assert error.value.field == name


@pytest.mark.parametrize(
    ("doc", "name"),
    [
        ({}, "status"),
        ({"status": 200}, "status"),
        ({"status": "500"}, "status"),
        ({"status": 500, "count": 0}, "count"),
        ({"status": 500, "down": True}, "down"),
        ({"down": "yes"}, "down"),
        ({"delaySeconds": -1}, "delaySeconds"),
        ({"delaySeconds": "1"}, "delaySeconds"),
        ({"retryAfter": 3}, "retryAfter"),
        ({"status": 429, "retryAfter": -1}, "retryAfter"),
        ({"status": 500, "kind": "email"}, "kind"),
        ({"status": 500, "channel": ""}, "channel"),
        ({"status": 500, "delay": 1}, "delay"),
        ([], "body"),
    ],
)
def test_fault_documents_are_validated(doc: Any, name: str) -> None:
    with pytest.raises(SinkConfigError) as error:
        SinkFault.from_json(doc)
    assert error.value.field == name


def test_fault_documents_that_are_valid() -> None:
    assert SinkFault.from_json({"delaySeconds": 0.5}) == SinkFault(None, 1, delay_seconds=0.5)
    assert SinkFault.from_json({"down": True, "count": 2, "kind": "teams"}) == SinkFault(
        None, 2, kind="teams", down=True
    )
    assert SinkFault.from_json({"status": 503, "delaySeconds": 1, "retryAfter": 2}) == (
        SinkFault(503, 1, retry_after=2, delay_seconds=1.0)
    )


# --- over real HTTP ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sink_server() -> Iterator[SinkServer]:
    with SinkServer() as sink:
        yield sink


@pytest.fixture
def sink(sink_server: SinkServer) -> SinkServer:
    for path in ("/_sink/messages", "/_sink/faults", "/_sink/rates"):
        requests.delete(sink_server.url + path, timeout=5).raise_for_status()
    return sink_server


def _stats(sink: SinkServer) -> dict[str, Any]:
    stats: dict[str, Any] = requests.get(sink.url + "/_sink/stats", timeout=5).json()
    return stats


def _fault(sink: SinkServer, **doc: Any) -> requests.Response:
    return requests.post(sink.url + "/_sink/faults", json=doc, timeout=5)


def _rates(sink: SinkServer, **doc: Any) -> requests.Response:
    return requests.post(sink.url + "/_sink/rates", json=doc, timeout=5)


def test_a_slack_burst_gets_three_through_then_429_until_retry_after(sink: SinkServer) -> None:
    with requests.Session() as session:
        answers = [
            session.post(sink.slack_url("burst"), json={"text": f"m{i}"}, timeout=5)
            for i in range(10)
        ]
        assert [a.status_code for a in answers] == [200] * 3 + [429] * 7
        for refused in answers[3:]:
            assert refused.json() == {"ok": False, "error": "rate_limited"}
            assert int(refused.headers["Retry-After"]) >= 1
        time.sleep(int(answers[-1].headers["Retry-After"]))
        assert session.post(sink.slack_url("burst"), json={"text": "again"}, timeout=5).ok
    texts = [m["body"]["text"] for m in sink.state.accepted()]
    assert texts == ["m0", "m1", "m2", "again"]
    recorded = requests.get(sink.url + "/_sink/requests", timeout=5).json()["requests"]
    assert [r["status"] for r in recorded].count(429) == 7


def test_teams_five_in_one_second_gets_four_through(sink: SinkServer) -> None:
    with requests.Session() as session:
        answers = [session.post(sink.teams_url("ops"), json=CARD, timeout=5) for _ in range(5)]
    assert [a.status_code for a in answers] == [202] * 4 + [429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert answers[-1].json() == {"error": {"code": "TooManyRequests"}}


def test_disabling_rates_accepts_everything(sink: SinkServer) -> None:
    answer = _rates(sink, kind="slack", enabled=False)
    assert answer.json()["rates"]["slack"]["enabled"] is False
    assert requests.get(sink.url + "/_sink/rates", timeout=5).json()["rates"]["teams"] == {
        "enabled": True,
        "rate": None,
        "burst": 1,
        "windows": [[1.0, 4], [30.0, 60], [3600.0, 100]],
    }
    with requests.Session() as session:
        codes = [
            session.post(sink.slack_url(), json={"text": "x"}, timeout=5).status_code
            for _ in range(10)
        ]
    assert codes == [200] * 10


def test_a_sink_built_without_rate_limits() -> None:
    with SinkServer(rates=no_rate_limits()) as sink, requests.Session() as session:
        assert all(
            session.post(sink.teams_url(), json=CARD, timeout=5).status_code == 202
            for _ in range(6)
        )


def test_rates_can_be_reconfigured_and_are_validated(sink: SinkServer) -> None:
    assert _rates(sink, kind="slack", rate=0.5, burst=5).ok
    assert _rates(sink, kind="teams", windows=[[1, 2], [30, 60]]).ok
    with requests.Session() as session:
        slack = [session.post(sink.slack_url(), json={"text": "x"}, timeout=5) for _ in range(6)]
        teams = [session.post(sink.teams_url(), json=CARD, timeout=5) for _ in range(3)]
    assert [a.status_code for a in slack] == [200] * 5 + [429]
    assert slack[-1].headers["Retry-After"] == "2"
    assert [a.status_code for a in teams] == [202, 202, 429]
    for doc, name in [
        ({"kind": "email", "enabled": False}, "kind"),
        ({"kind": "slack", "burst": 0}, "burst"),
        ({"kind": "teams", "windows": [[1, "four"]]}, "windows[0]"),
        ({"kind": "slack", "limit": 3}, "limit"),
    ]:
        refused = requests.post(sink.url + "/_sink/rates", json=doc, timeout=5)
        assert refused.status_code == 400 and refused.json()["field"] == name
        assert name in refused.json()["error"]


def test_clearing_messages_refills_the_budgets(sink: SinkServer) -> None:
    with requests.Session() as session:
        codes = [session.post(sink.slack_url(), json={"text": "x"}, timeout=5) for _ in range(4)]
        assert codes[-1].status_code == 429
        requests.delete(sink.url + "/_sink/messages", timeout=5)
        assert session.post(sink.slack_url(), json={"text": "y"}, timeout=5).ok


def test_faulted_requests_use_no_budget_and_stats_tell_outcomes_apart(sink: SinkServer) -> None:
    assert _fault(sink, status=503, count=2, kind="slack", channel="a").ok
    assert _fault(sink, status=429, count=1, retryAfter=7, kind="slack", channel="b").ok
    with requests.Session() as session:
        a = [session.post(sink.slack_url("a"), json={"text": "x"}, timeout=5) for _ in range(6)]
        b = session.post(sink.slack_url("b"), json={"text": "x"}, timeout=5)
        bad = session.post(sink.slack_url("b"), json={"nope": 1}, timeout=5)
    assert [r.status_code for r in a] == [503, 503, 200, 200, 200, 429]
    assert (b.status_code, b.headers["Retry-After"], bad.status_code) == (429, "7", 400)
    stats = _stats(sink)
    assert {k: stats[k] for k in ("total", "accepted", "rateLimited", "faulted", "rejected")} == {
        "total": 8,
        "accepted": 3,
        "rateLimited": 1,
        "faulted": 3,
        "rejected": 1,
    }
    channel_a = stats["channels"]["slack/a"]
    assert (channel_a["accepted"], channel_a["rateLimited"], channel_a["faulted"]) == (3, 1, 2)
    channel_b = stats["channels"]["slack/b"]
    assert (channel_b["rateLimited"], channel_b["faulted"], channel_b["rejected"]) == (0, 1, 1)


def test_a_delay_fault_delays_a_normal_answer(sink: SinkServer) -> None:
    assert _fault(sink, delaySeconds=0.3, kind="slack").ok
    started = time.monotonic()
    answer = requests.post(sink.slack_url(), json={"text": "slow"}, timeout=5)
    assert time.monotonic() - started >= 0.3
    assert answer.status_code == 200 and answer.text == "ok"
    assert requests.post(sink.slack_url(), json={"text": "next"}, timeout=5).ok
    [slow, _] = requests.get(sink.url + "/_sink/requests", timeout=5).json()["requests"]
    assert slow["delaySeconds"] == 0.3 and slow["outcome"] == "accepted"
    assert _stats(sink)["delayed"] == 1


def test_a_delay_with_a_status(sink: SinkServer) -> None:
    assert _fault(sink, status=503, delaySeconds=0.2, kind="teams").ok
    started = time.monotonic()
    answer = requests.post(sink.teams_url(), json=CARD, timeout=5)
    assert time.monotonic() - started >= 0.2 and answer.status_code == 503


def test_a_delayed_request_does_not_hold_up_others(sink: SinkServer) -> None:
    assert _fault(sink, delaySeconds=0.5, channel="slow").ok
    slow: list[int] = []
    thread = threading.Thread(
        target=lambda: slow.append(
            requests.post(sink.slack_url("slow"), json={"text": "s"}, timeout=5).status_code
        )
    )
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while sink.state.faults[0].count != 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # the slow request has taken its fault and is sleeping
        assert requests.post(sink.slack_url("fast"), json={"text": "f"}, timeout=5).ok
        assert thread.is_alive(), "the fast answer came while the slow one was still delayed"
    finally:
        thread.join(5)
    assert slow == [200]


def test_a_down_fault_drops_the_connection_once(sink: SinkServer) -> None:
    assert _fault(sink, down=True, kind="slack").ok
    with pytest.raises(requests.ConnectionError):
        requests.post(sink.slack_url(), json={"text": "lost"}, timeout=5)
    assert requests.post(sink.slack_url(), json={"text": "kept"}, timeout=5).ok
    recorded = requests.get(sink.url + "/_sink/requests", timeout=5).json()["requests"]
    assert [(r["outcome"], r["status"]) for r in recorded] == [("dropped", None), ("accepted", 200)]
    stats = _stats(sink)
    assert (stats["dropped"], stats["accepted"], stats["faulted"]) == (1, 1, 0)


def test_a_down_fault_on_a_kept_alive_session(sink: SinkServer) -> None:
    with requests.Session() as session:
        assert session.post(sink.teams_url(), json=CARD, timeout=5).status_code == 202
        assert _fault(sink, down=True, kind="teams").ok
        with pytest.raises(requests.ConnectionError):
            session.post(sink.teams_url(), json=CARD, timeout=5)
        assert session.post(sink.teams_url(), json=CARD, timeout=5).status_code == 202


def test_invalid_fault_documents_answer_400_naming_the_field(sink: SinkServer) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"status": 500, "down": True}, "down"),
        ({"delaySeconds": -0.1}, "delaySeconds"),
        ({"count": 2}, "status"),
    ]
    for doc, name in cases:
        refused = _fault(sink, **doc)
        assert refused.status_code == 400 and refused.json()["field"] == name
        assert name in refused.json()["error"]
    listed = _fault(sink, delaySeconds=0.1, down=True).json()["faults"]
    assert listed == [
        {
            "status": None,
            "count": 1,
            "retryAfter": None,
            "kind": None,
            "channel": None,
            "delaySeconds": 0.1,
            "down": True,
        }
    ]
