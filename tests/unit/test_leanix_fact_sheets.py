"""read_modify_write: no write without a change, rev-guarded write, bounded re-reads on clashes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import responses

from lx_core import deadline
from lx_core.errors import NotFoundError, RevisionClashError
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.fact_sheets import MAX_ROUNDS, read_modify_write
from lx_core.leanix.graphql import Patch

GQL = "https://acme.leanix.net/services/pathfinder/v1/graphql"
SELECTION = "id rev name"
CLASH = {
    "data": {"updateFactSheet": None},
    "errors": [{"message": "clash", "extensions": {"errorType": "REVISION_CLASH"}}],
}
RENAME = [Patch(op="replace", path="/name", value="new")]

pytestmark = pytest.mark.usefixtures("rmw_ready")


@pytest.fixture
def rmw_ready(leanix_token: Callable[..., str]) -> None:
    leanix_token()


def _read(rev: int, name: str = "old") -> dict[str, Any]:
    return {"data": {"factSheet": {"id": "fs", "rev": rev, "name": name}}}


def _written(rev: int) -> dict[str, Any]:
    return {"data": {"updateFactSheet": {"factSheet": {"id": "fs", "rev": rev, "name": "new"}}}}


def _ops(rsps: responses.RequestsMock) -> list[str]:
    return [json.loads(c.request.body or b"{}")["operationName"] for c in rsps.calls[1:]]


def test_no_write_when_decide_returns_none(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json=_read(3))
    seen: list[dict[str, Any]] = []

    def decide(node: dict[str, Any]) -> list[Patch] | None:
        seen.append(node)
        return None

    result = read_modify_write(leanix_client.graphql, "fs", SELECTION, decide)
    assert result.written is False
    assert result.fact_sheet_after is None
    assert result.fact_sheet_before == {"id": "fs", "rev": 3, "name": "old"}
    assert result.attempts == 1
    assert seen == [result.fact_sheet_before]
    assert _ops(leanix_http) == ["lxFactSheet"]


def test_empty_patch_list_is_no_write_either(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json=_read(3))
    result = read_modify_write(leanix_client.graphql, "fs", SELECTION, lambda _: [])
    assert not result.written
    assert _ops(leanix_http) == ["lxFactSheet"]


def test_writes_with_the_rev_it_read(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json=_read(3))
    leanix_http.add(responses.POST, GQL, json=_written(4))
    result = read_modify_write(
        leanix_client.graphql, "fs", SELECTION, lambda _: RENAME, comment="c"
    )
    assert result.written
    assert result.fact_sheet_after == {"id": "fs", "rev": 4, "name": "new"}
    write = json.loads(leanix_http.calls[2].request.body or b"{}")
    assert write["variables"]["rev"] == 3
    assert write["variables"]["comment"] == "c"
    assert "factSheet { id rev name }" in write["query"]


def test_revision_clash_rereads_and_decides_once_more(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json=_read(3))
    leanix_http.add(responses.POST, GQL, json=CLASH)
    leanix_http.add(responses.POST, GQL, json=_read(5, "other"))
    leanix_http.add(responses.POST, GQL, json=_written(6))
    decided: list[int] = []

    def decide(node: dict[str, Any]) -> list[Patch]:
        decided.append(node["rev"])
        return RENAME

    result = read_modify_write(leanix_client.graphql, "fs", SELECTION, decide)
    assert result.written
    assert result.attempts == 2
    assert decided == [3, 5]
    assert result.fact_sheet_before["rev"] == 5
    last_write = json.loads(leanix_http.calls[4].request.body or b"{}")
    assert last_write["variables"]["rev"] == 5


def test_repeated_clashes_are_reread_up_to_the_bound_then_raised(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    for rev in range(MAX_ROUNDS + 1):
        leanix_http.add(responses.POST, GQL, json=_read(rev))
        leanix_http.add(responses.POST, GQL, json=CLASH)
    pauses: list[float] = []
    with pytest.raises(RevisionClashError):
        read_modify_write(
            leanix_client.graphql, "fs", SELECTION, lambda _: RENAME, sleep=pauses.append
        )
    assert _ops(leanix_http) == ["lxFactSheet", "lxUpdateFactSheet"] * MAX_ROUNDS
    assert len(pauses) == MAX_ROUNDS - 1
    assert all(0 <= p <= 0.1 for p in pauses)


def test_clashes_stop_early_when_the_deadline_leaves_no_room(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json=_read(3))
    leanix_http.add(responses.POST, GQL, json=CLASH)
    with deadline.within(0.9), pytest.raises(RevisionClashError):
        read_modify_write(leanix_client.graphql, "fs", SELECTION, lambda _: RENAME)
    assert _ops(leanix_http) == ["lxFactSheet", "lxUpdateFactSheet"]


def test_clash_then_nothing_left_to_do_counts_as_settled(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    """Our write was applied but its answer lost; the replay clashed; the re-read shows our
    value. That is done: neither a failure nor a no-op."""
    leanix_http.add(responses.POST, GQL, json=_read(3))
    leanix_http.add(responses.POST, GQL, json=CLASH)
    leanix_http.add(responses.POST, GQL, json=_read(4, "new"))
    result = read_modify_write(
        leanix_client.graphql,
        "fs",
        SELECTION,
        lambda node: None if node["name"] == "new" else RENAME,
        sleep=lambda _: None,
    )
    assert (result.written, result.settled, result.done, result.attempts) == (
        False,
        True,
        True,
        2,
    )


def test_missing_fact_sheet_is_not_found(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json={"data": {"factSheet": None}})
    with pytest.raises(NotFoundError, match="fs"):
        read_modify_write(leanix_client.graphql, "fs", SELECTION, lambda _: RENAME)


def test_selection_without_rev_is_refused_before_any_call(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    with pytest.raises(ValueError, match="rev"):
        read_modify_write(leanix_client.graphql, "fs", "id name revision", lambda _: RENAME)
    assert len(leanix_http.calls) == 0
