"""Contract: GraphQL errors, pagination, facet filters, rev-guarded writes, read_modify_write
and batched updates against the emulator's Pathfinder."""

from __future__ import annotations

import math
from typing import Any

import pytest

from lx_core.errors import GraphQLError, RevisionClashError
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.fact_sheets import MAX_ROUNDS, read_modify_write
from lx_core.leanix.graphql import FactSheetUpdate, Patch
from tests.contract.conftest import GQL_KEY, Admin

pytestmark = pytest.mark.sandbox

WAREHOUSE = "b7c4d3ad-4889-5b0a-9114-71cc2a8831fe"
BILLING = "624cadb2-7479-5e4b-99d0-8fbcd6ae6cfb"
EXPENSE_CLAIMS = "78005613-e8db-508e-853e-4992fa44290f"


def _describe(value: str) -> list[Patch]:
    return [Patch(op="replace", path="/description", value=value)]


# --- errors --------------------------------------------------------------------------------


def test_validation_error_with_http_200_raises_graphql_error(
    admin: Admin, client: LeanIXClient
) -> None:
    """An invalid document comes back as HTTP 200 + ``errors``; the client raises GraphQLError
    with LeanIX's error type and message."""
    with pytest.raises(GraphQLError) as info:
        client.graphql.execute('query { factSheet(id: "x") { noSuchField } }')
    assert not isinstance(info.value, RevisionClashError)
    assert info.value.error_type == "GRAPHQL_VALIDATION"
    assert info.value.errors
    assert "noSuchField" in (info.value.leanix_message or "")
    stats = admin.stats()
    assert stats["statusCodes"] == {"200": 2}  # the token exchange and the GraphQL call
    assert stats["graphql"]["errors"] == 1


def test_business_error_raises_graphql_error_and_writes_nothing(
    admin: Admin, client: LeanIXClient
) -> None:
    """A patch with a value outside the data model fails with the server's error type."""
    before = admin.fact_sheet(WAREHOUSE)
    patch = Patch(op="replace", path="/functionalSuitability", value="notAValue")
    with pytest.raises(GraphQLError) as info:
        client.graphql.update_fact_sheet(WAREHOUSE, [patch], rev=before["rev"])
    assert info.value.error_type == "INVALID_PATCH"
    assert "notAValue" in (info.value.leanix_message or "")
    after = admin.fact_sheet(WAREHOUSE)
    assert (after["rev"], after["values"]) == (before["rev"], before["values"])


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [250, 1000])
def test_pagination_over_a_large_workspace(
    admin: Admin, client: LeanIXClient, page_size: int
) -> None:
    """2,600 generated Applications arrive exactly once each, totalCount matches, and the
    number of page requests is ceil(n / page size)."""
    admin.seed({"generated": {"applications": 2600}})
    expected = {fs["id"] for fs in admin.fact_sheets("Application") if fs["status"] == "ACTIVE"}
    assert len(expected) == 2600
    assert client.claims.workspace_name == "sandbox-generated-2600"
    admin.clear_stats()
    ids: list[str] = []
    totals: set[int | None] = set()
    pages = 0
    for page in client.graphql.iter_fact_sheet_pages(
        "id type", fact_sheet_type="Application", page_size=page_size
    ):
        pages += 1
        totals.add(page.total_count)
        assert len(page.nodes) <= page_size
        assert all(node["type"] == "Application" for node in page.nodes)
        ids.extend(node["id"] for node in page.nodes)
    assert len(ids) == len(set(ids)) == 2600
    assert set(ids) == expected
    assert totals == {2600}
    assert pages == math.ceil(2600 / page_size)
    stats = admin.stats()
    assert stats["graphql"]["operationNames"] == {"lxFactSheetPage": pages}
    assert stats["requests"][GQL_KEY] == pages


def test_type_facet_returns_only_that_type(admin: Admin, client: LeanIXClient) -> None:
    """``fact_sheet_type`` filters on the server: exactly the emulator's ITComponents."""
    expected = {fs["id"] for fs in admin.fact_sheets("ITComponent")}
    nodes = list(client.graphql.iter_fact_sheets("id type", fact_sheet_type="ITComponent"))
    assert {n["id"] for n in nodes} == expected
    assert len(nodes) == len(expected) == 15
    assert {n["type"] for n in nodes} == {"ITComponent"}


def test_field_facet_combines_with_the_type_facet(admin: Admin, client: LeanIXClient) -> None:
    """An extra facet filter (a single-select field) narrows the type facet on the server."""
    expected = {
        fs["id"]
        for fs in admin.fact_sheets("Application")
        if fs["status"] == "ACTIVE" and fs["values"].get("functionalSuitability") == "perfect"
    }
    nodes = list(
        client.graphql.iter_fact_sheets(
            "id ... on Application { functionalSuitability }",
            fact_sheet_type="Application",
            facet_filters=[
                {"facetKey": "functionalSuitability", "operator": "OR", "keys": ["perfect"]}
            ],
            page_size=3,
        )
    )
    assert {n["id"] for n in nodes} == expected
    assert len(expected) == 9
    assert {n["functionalSuitability"] for n in nodes} == {"perfect"}


def test_invalid_facet_key_raises_graphql_error(client: LeanIXClient) -> None:
    """An unknown facet key is a request-level GraphQL error, not an empty result."""
    with pytest.raises(GraphQLError) as info:
        list(
            client.graphql.iter_fact_sheets(
                "id", facet_filters=[{"facetKey": "noSuchFacet", "keys": ["x"]}]
            )
        )
    assert info.value.error_type == "INVALID_FACET_KEY"


def test_page_size_above_the_server_maximum_is_a_graphql_error(
    admin: Admin, client: LeanIXClient
) -> None:
    """A page larger than the server allows surfaces as GraphQLError (no silent truncation)."""
    admin.call("PUT", "/config", json={"maxPageSize": 50})
    with pytest.raises(GraphQLError) as info:
        list(client.graphql.iter_fact_sheets("id", page_size=51))
    assert info.value.error_type == "INVALID_ARGUMENT"
    active = {fs["id"] for fs in admin.fact_sheets() if fs["status"] == "ACTIVE"}
    assert len(active) > 50
    assert {n["id"] for n in client.graphql.iter_fact_sheets("id", page_size=50)} == active


def test_missing_fact_sheet_is_none(client: LeanIXClient) -> None:
    """An unknown id answers ``factSheet: null``, which the client returns as None."""
    assert client.graphql.get_fact_sheet("00000000-0000-4000-8000-000000000000", "id") is None


# --- writing -------------------------------------------------------------------------------


def test_update_with_rev_applies_and_bumps_rev(admin: Admin, client: LeanIXClient) -> None:
    """updateFactSheet with the current rev writes, and returns the selection afterwards."""
    rev = admin.fact_sheet(WAREHOUSE)["rev"]
    result = client.graphql.update_fact_sheet(
        WAREHOUSE,
        [
            *_describe("updated with rev"),
            Patch(op="replace", path="/businessCriticality", value="businessCritical"),
        ],
        rev=rev,
        comment="contract test",
        selection="id rev description ... on Application { businessCriticality }",
    )
    assert result == {
        "id": WAREHOUSE,
        "rev": rev + 1,
        "description": "updated with rev",
        "businessCriticality": "businessCritical",
    }
    after = admin.fact_sheet(WAREHOUSE)
    assert after["rev"] == rev + 1
    assert after["description"] == "updated with rev"
    assert after["values"]["businessCriticality"] == "businessCritical"


def test_validate_only_writes_nothing(admin: Admin, client: LeanIXClient) -> None:
    """``validate_only`` returns the would-be state without saving it."""
    before = admin.fact_sheet(WAREHOUSE)
    result = client.graphql.update_fact_sheet(
        WAREHOUSE,
        _describe("dry"),
        rev=before["rev"],
        validate_only=True,
        selection="id description",
    )
    assert result["description"] == "dry"
    after = admin.fact_sheet(WAREHOUSE)
    assert (after["rev"], after["description"]) == (before["rev"], before["description"])


def test_stale_rev_raises_revision_clash(admin: Admin, client: LeanIXClient) -> None:
    """A write with a rev the fact sheet has moved past is a RevisionClashError; nothing saved."""
    rev = admin.fact_sheet(WAREHOUSE)["rev"]
    client.graphql.update_fact_sheet(WAREHOUSE, _describe("first"), rev=rev)
    with pytest.raises(RevisionClashError) as info:
        client.graphql.update_fact_sheet(WAREHOUSE, _describe("stale"), rev=rev)
    assert info.value.error_type == "REVISION_CLASH"
    after = admin.fact_sheet(WAREHOUSE)
    assert (after["rev"], after["description"]) == (rev + 1, "first")


def test_read_modify_write_recovers_from_a_concurrent_edit(
    admin: Admin, client: LeanIXClient, human: LeanIXClient
) -> None:
    """A human edits between our read and our write: the clash is absorbed by one re-read and
    re-decision, and both edits survive."""
    rev = admin.fact_sheet(WAREHOUSE)["rev"]
    seen: list[dict[str, Any]] = []

    def decide(node: dict[str, Any]) -> list[Patch] | None:
        seen.append(node)
        if len(seen) == 1:
            human.graphql.update_fact_sheet(
                WAREHOUSE, _describe("edited by a human"), rev=node["rev"]
            )
        if node.get("businessCriticality") == "businessCritical":
            return None
        return [Patch(op="replace", path="/businessCriticality", value="businessCritical")]

    result = read_modify_write(
        client.graphql,
        WAREHOUSE,
        "id rev description ... on Application { businessCriticality }",
        decide,
        comment="contract test",
    )
    assert result.written
    assert result.attempts == 2
    assert [n["rev"] for n in seen] == [rev, rev + 1]
    assert seen[1]["description"] == "edited by a human"
    assert result.fact_sheet_after is not None
    assert result.fact_sheet_after["rev"] == rev + 2
    after = admin.fact_sheet(WAREHOUSE)
    assert after["rev"] == rev + 2
    assert after["description"] == "edited by a human"
    assert after["values"]["businessCriticality"] == "businessCritical"
    assert admin.stats()["graphql"]["updateFactSheet"] == 3  # human, our clash, our write


def test_read_modify_write_raises_after_repeated_clashes(
    admin: Admin, client: LeanIXClient, human: LeanIXClient
) -> None:
    """If the fact sheet moves under us on every round, the last clash reaches the caller after
    MAX_ROUNDS reads, and only the human's edits are stored."""
    rev = admin.fact_sheet(WAREHOUSE)["rev"]
    rounds: list[int] = []

    def decide(node: dict[str, Any]) -> list[Patch] | None:
        rounds.append(node["rev"])
        human.graphql.update_fact_sheet(
            WAREHOUSE, _describe(f"human round {len(rounds)}"), rev=node["rev"]
        )
        return _describe("ours")

    with pytest.raises(RevisionClashError):
        read_modify_write(client.graphql, WAREHOUSE, "id rev", decide, sleep=lambda _: None)
    assert rounds == [rev + i for i in range(MAX_ROUNDS)]
    after = admin.fact_sheet(WAREHOUSE)
    assert (after["rev"], after["description"]) == (
        rev + MAX_ROUNDS,
        f"human round {MAX_ROUNDS}",
    )


def test_read_modify_write_without_change_does_not_write(
    admin: Admin, client: LeanIXClient
) -> None:
    """When ``decide`` asks for nothing, there is one read and no mutation."""
    rev = admin.fact_sheet(WAREHOUSE)["rev"]
    admin.clear_stats()
    result = read_modify_write(client.graphql, WAREHOUSE, "id rev", lambda node: None)
    assert not result.written
    assert result.fact_sheet_after is None
    stats = admin.stats()
    assert stats["graphql"]["mutations"] == 0
    assert stats["graphql"]["operationNames"] == {"lxFactSheet": 1}
    assert admin.fact_sheet(WAREHOUSE)["rev"] == rev


def test_batched_update_reports_the_stale_item_and_applies_the_others(
    admin: Admin, client: LeanIXClient, human: LeanIXClient
) -> None:
    """Three aliased updates in one request: the item whose rev went stale errors with a
    clash, the other two are applied."""
    revs = {fs_id: admin.fact_sheet(fs_id)["rev"] for fs_id in (WAREHOUSE, BILLING, EXPENSE_CLAIMS)}
    human.graphql.update_fact_sheet(BILLING, _describe("human was here"), rev=revs[BILLING])
    admin.clear_stats()
    outcomes = client.graphql.update_fact_sheets(
        [
            FactSheetUpdate(id=fs_id, rev=revs[fs_id], patches=tuple(_describe(f"batch {fs_id}")))
            for fs_id in (WAREHOUSE, BILLING, EXPENSE_CLAIMS)
        ]
    )
    assert [o.id for o in outcomes] == [WAREHOUSE, BILLING, EXPENSE_CLAIMS]
    assert [o.ok for o in outcomes] == [True, False, True]
    assert isinstance(outcomes[1].error, RevisionClashError)
    assert outcomes[0].fact_sheet == {"id": WAREHOUSE, "rev": revs[WAREHOUSE] + 1}
    stats = admin.stats()
    assert stats["requests"][GQL_KEY] == 1
    assert stats["graphql"]["updateFactSheet"] == 3
    for fs_id in (WAREHOUSE, EXPENSE_CLAIMS):
        after = admin.fact_sheet(fs_id)
        assert (after["rev"], after["description"]) == (revs[fs_id] + 1, f"batch {fs_id}")
    billing = admin.fact_sheet(BILLING)
    assert (billing["rev"], billing["description"]) == (revs[BILLING] + 1, "human was here")
