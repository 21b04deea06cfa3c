"""Fault injection (429/5xx/latency, deterministic and seeded-random) and request statistics."""

from __future__ import annotations

import time

import requests

from lx_sandbox.emulator import SandboxConfig, SandboxServer
from tests.sandbox.conftest import GQL, Api

QUERY = "{ allTagGroups { totalCount } }"


def test_next_n_429_with_and_without_retry_after(emu: Api) -> None:
    emu.login()
    emu.admin(
        "POST",
        "/faults/rules",
        json={"pathPrefix": GQL, "status": 429, "count": 1, "retryAfter": 2},
    )
    emu.admin("POST", "/faults/rules", json={"pathPrefix": GQL, "status": 429, "count": 1})
    first = emu.gql_raw(QUERY)
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    assert first.json()["message"] == "USER_INTERVAL_REQUEST_LIMIT_EXCEEDED"
    second = emu.gql_raw(QUERY)
    assert second.status_code == 429 and "Retry-After" not in second.headers
    assert emu.gql_raw(QUERY).status_code == 200
    faults = emu.admin("GET", "/faults")
    assert [r["fired"] for r in faults["rules"]] == [1, 1]


def test_503_only_on_matching_prefix_and_method(emu: Api) -> None:
    emu.login()
    emu.admin(
        "POST",
        "/faults/rules",
        json={"pathPrefix": "/services/webhooks", "status": 503, "count": 2, "method": "GET"},
    )
    assert emu.gql_raw(QUERY).status_code == 200
    assert emu.rest("GET", "/services/webhooks/v1/subscriptions").status_code == 503
    assert emu.rest("GET", "/services/webhooks/v1/subscriptions").status_code == 503
    assert emu.rest("GET", "/services/webhooks/v1/subscriptions").status_code == 200


def test_token_endpoint_can_fail_too(emu: Api) -> None:
    emu.admin(
        "POST", "/faults/rules", json={"pathPrefix": "/services/mtm", "status": 500, "count": 1}
    )
    r = requests.post(
        emu.base_url + "/services/mtm/v1/oauth2/token",
        auth=("apitoken", "sandbox-technical-user-token"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert r.status_code == 500
    emu.login()


def test_latency_is_added(emu: Api) -> None:
    emu.login()
    emu.admin("PUT", "/faults", json={"latencyMs": 150})
    started = time.monotonic()
    assert emu.gql_raw(QUERY).status_code == 200
    assert time.monotonic() - started >= 0.15
    emu.admin("DELETE", "/faults")
    started = time.monotonic()
    emu.gql_raw(QUERY)
    assert time.monotonic() - started < 0.15


def _pattern(url: str) -> list[int]:
    api = Api(url)
    api.login()
    return [api.gql_raw(QUERY).status_code for _ in range(40)]


def test_rate_faults_are_reproducible_by_seed() -> None:
    config = SandboxConfig(
        seed="empty",
        fault_seed=1234,
        faults={"rules": [{"pathPrefix": GQL, "status": 503, "rate": 0.3}]},
    )
    with SandboxServer(config) as a:
        first = _pattern(a.url)
    with SandboxServer(config) as b:
        second = _pattern(b.url)
    assert first == second
    assert 3 <= first.count(503) <= 25 and first.count(200) > 0


def test_stats_count_requests_and_graphql_operations(emu: Api) -> None:
    emu.admin("DELETE", "/stats")
    emu.login()
    emu.data(QUERY)
    emu.data("query Named { allTags { totalCount } }")
    app = emu.admin("GET", "/factsheets?type=Application&limit=2")["factSheets"]
    emu.data(
        """mutation ($a: ID!, $b: ID!) {
             x: updateFactSheet(id: $a, patches: [{op: replace, path: "/description", value: "1"}])
               { factSheet { rev } }
             y: updateFactSheet(id: $b, patches: [{op: replace, path: "/description", value: "2"}])
               { factSheet { rev } } }""",
        {"a": app[0]["id"], "b": app[1]["id"]},
    )
    emu.rest("GET", f"/services/webhooks/v1/subscriptions/{app[0]['id']}")
    stats = emu.admin("GET", "/stats")
    assert stats["requests"]["POST /services/pathfinder/v1/graphql"] == 3
    assert stats["requests"]["POST /services/mtm/v1/oauth2/token"] == 1
    assert stats["requests"]["GET /services/webhooks/v1/subscriptions/{id}"] == 1
    assert stats["graphql"]["queries"] == 2 and stats["graphql"]["mutations"] == 1
    assert stats["graphql"]["updateFactSheet"] == 2
    assert stats["graphql"]["operationNames"]["Named"] == 1
    assert stats["statusCodes"]["404"] == 1 and stats["tokensIssued"] == 1
    cleared = emu.admin("DELETE", "/stats")
    assert cleared["total"] == 0
