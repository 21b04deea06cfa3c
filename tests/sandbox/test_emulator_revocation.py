"""Periodic token revocation (a fault): every N seconds all access tokens become invalid."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.sandbox.conftest import Api

QUERY = "{ allTagGroups { totalCount } }"


def test_tokens_are_revoked_every_n_seconds(emu_private: Callable[..., Api]) -> None:
    api = emu_private(seed="empty")
    faults = api.admin("PUT", "/faults", json={"tokenRevokeEverySeconds": 0.5})
    assert faults["tokenRevokeEverySeconds"] == 0.5
    started = time.monotonic()
    api.login()
    assert api.gql_raw(QUERY).status_code == 200
    time.sleep(max(0.0, started + 0.6 - time.monotonic()))
    assert api.gql_raw(QUERY).status_code == 401  # the first round has passed
    api.login()  # a client re-exchanges its API token and carries on
    assert api.gql_raw(QUERY).status_code == 200
    revocations = api.admin("GET", "/stats")["tokenRevocations"]
    assert revocations == {"periodic": 1, "manual": 0, "tokensInvalidated": 1}
    time.sleep(max(0.0, started + 1.1 - time.monotonic()))
    assert api.gql_raw(QUERY).status_code == 401
    api.admin("DELETE", "/faults")  # switched off: tokens live their normal lifetime again
    api.login()
    time.sleep(0.6)
    assert api.gql_raw(QUERY).status_code == 200
    revocations = api.admin("GET", "/stats")["tokenRevocations"]
    assert revocations == {"periodic": 2, "manual": 0, "tokensInvalidated": 2}


def test_manual_expiry_is_counted_and_bad_periods_rejected(emu: Api) -> None:
    emu.login()
    emu.admin("POST", "/tokens/expire")
    assert emu.gql_raw(QUERY).status_code == 401
    stats = emu.admin("GET", "/stats")["tokenRevocations"]
    assert stats["manual"] == 1 and stats["periodic"] == 0 and stats["tokensInvalidated"] >= 1
    for bad in (0, -1, "x"):
        r = emu.admin_raw("PUT", "/faults", json={"tokenRevokeEverySeconds": bad})
        assert r.status_code == 400, bad
    assert emu.admin("GET", "/faults")["tokenRevokeEverySeconds"] is None


def test_revocation_endpoint_keeps_the_other_faults(emu_private: Callable[..., Api]) -> None:
    api = emu_private(seed="empty")
    assert api.admin("GET", "/tokens/revocation") == {
        "everySeconds": None,
        "rounds": 0,
        "nextInSeconds": None,
    }
    rule = api.admin("POST", "/faults/rules", json={"status": 503, "count": 1})
    state = api.admin("PUT", "/tokens/revocation", json={"everySeconds": 0.4})
    assert state["everySeconds"] == 0.4 and state["rounds"] == 0
    assert 0.3 < state["nextInSeconds"] <= 0.4
    faults = api.admin("GET", "/faults")
    assert faults["tokenRevokeEverySeconds"] == 0.4
    assert [r["id"] for r in faults["rules"]] == [rule["id"]]  # not replaced
    api.admin("DELETE", f"/faults/rules/{rule['id']}")
    started = time.monotonic()
    api.login()
    assert api.gql_raw(QUERY).status_code == 200
    time.sleep(max(0.0, started + 0.5 - time.monotonic()))
    assert api.gql_raw(QUERY).status_code == 401
    assert api.admin("GET", "/tokens/revocation")["rounds"] == 1
    assert api.admin("PUT", "/tokens/revocation", json={"everySeconds": None}) == {
        "everySeconds": None,
        "rounds": 0,
        "nextInSeconds": None,
    }
    api.login()
    time.sleep(0.5)
    assert api.gql_raw(QUERY).status_code == 200
    for bad in ({"everySeconds": 0}, {"everySeconds": "1"}, {"every": 1}, [1]):
        assert api.admin_raw("PUT", "/tokens/revocation", json=bad).status_code == 400, bad
    assert api.admin("GET", "/tokens/revocation")["everySeconds"] is None
