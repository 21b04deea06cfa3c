"""Cursor validity: garbled and (with a TTL) stale cursors are GraphQL errors, never 5xx."""

from __future__ import annotations

import base64
import time

import pytest

from tests.sandbox.conftest import Api

PAGE = """query ($after: String) { allFactSheets(factSheetType: Application, first: 10,
  after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }"""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "!!!!",
        _b64("lxsandbox:12"),
        _b64("lxsandbox:x:1"),
        _b64("other:1:1"),
        _b64("lxsandbox:-3:1"),
        base64.b64encode(b"\xff\xfe").decode(),
        "\ud800",
    ],
)
def test_undecodable_cursor_is_a_graphql_error(emu: Api, cursor: str) -> None:
    r = emu.gql_raw(PAGE, {"after": cursor})
    assert r.status_code == 200
    body = r.json()
    assert body["data"] is None
    assert [e["extensions"]["errorType"] for e in body["errors"]] == ["INVALID_CURSOR"]


def test_cursor_ttl_expires_cursors(emu: Api) -> None:
    assert emu.admin("GET", "/config")["cursorTtlSeconds"] is None
    assert emu.admin("PUT", "/config", json={"cursorTtlSeconds": 0.3})["cursorTtlSeconds"] == 0.3
    first = emu.data(PAGE)["allFactSheets"]
    edges = first["edges"]
    assert first["pageInfo"]["endCursor"] == edges[-1]["cursor"]
    cursor = first["pageInfo"]["endCursor"]
    fresh = emu.data(PAGE, {"after": cursor})["allFactSheets"]["edges"]
    assert len(fresh) == 10 and fresh[0]["node"]["id"] not in {e["node"]["id"] for e in edges}
    time.sleep(0.35)
    stale = emu.gql_raw(PAGE, {"after": cursor})
    assert stale.status_code == 200
    body = stale.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["errorType"] == "INVALID_CURSOR"
    assert "expired" in body["errors"][0]["message"]
    assert emu.admin("PUT", "/config", json={"cursorTtlSeconds": None})["cursorTtlSeconds"] is None
    assert len(emu.data(PAGE, {"after": cursor})["allFactSheets"]["edges"]) == 10
    assert emu.admin_raw("PUT", "/config", json={"cursorTtlSeconds": 0}).status_code == 400


def test_reset_restores_unlimited_cursors(emu: Api) -> None:
    emu.admin("PUT", "/config", json={"cursorTtlSeconds": 0.01})
    emu.admin("POST", "/reset")
    assert emu.admin("GET", "/config")["cursorTtlSeconds"] is None
