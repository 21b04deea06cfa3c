"""GraphQLClient: errors with HTTP 200, pagination by variables, single and batched updates."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import responses

from lx_core.errors import GraphQLError, RevisionClashError, ServerError
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.graphql import FactSheetUpdate, Patch, operation_type

GQL = "https://acme.leanix.net/services/pathfinder/v1/graphql"
AddToken = Callable[..., str]


def _bodies(rsps: responses.RequestsMock) -> list[dict[str, Any]]:
    return [json.loads(c.request.body or b"{}") for c in rsps.calls if c.request.url == GQL]


@pytest.fixture
def gql_ready(leanix_token: AddToken) -> None:
    leanix_token()


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("gql_ready")
@pytest.mark.parametrize(
    "error",
    [
        {"message": "bad", "extensions": {"errorType": "CONSTRAINT_VIOLATION"}},
        {"message": "bad", "errorType": "CONSTRAINT_VIOLATION"},
    ],
)
def test_errors_with_http_200_raise_with_error_type_from_either_place(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, error: dict[str, Any]
) -> None:
    leanix_http.add(responses.POST, GQL, json={"data": {"x": None}, "errors": [error]})
    with pytest.raises(GraphQLError) as info:
        leanix_client.graphql.execute("{ x }")
    assert type(info.value) is GraphQLError
    assert info.value.error_type == "CONSTRAINT_VIOLATION"
    assert info.value.leanix_message == "bad"
    assert info.value.errors == [error]
    assert info.value.data == {"x": None}


@pytest.mark.usefixtures("gql_ready")
def test_revision_clash_is_its_own_error(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    error = {"message": "DB revision changed", "extensions": {"errorType": "REVISION_CLASH"}}
    leanix_http.add(responses.POST, GQL, json={"data": None, "errors": [error]})
    with pytest.raises(RevisionClashError) as info:
        leanix_client.graphql.execute("mutation { x }")
    assert info.value.error_type == "REVISION_CLASH"


@pytest.mark.usefixtures("gql_ready")
def test_null_or_empty_errors_are_success(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json={"data": {"a": 1}, "errors": None})
    leanix_http.add(responses.POST, GQL, json={"data": {"a": 2}, "errors": []})
    assert leanix_client.graphql.execute("{ a }") == {"a": 1}
    assert leanix_client.graphql.execute("{ a }") == {"a": 2}


@pytest.mark.usefixtures("gql_ready")
def test_request_body_has_query_variables_and_operation_name(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json={"data": {}})
    leanix_client.graphql.execute("query Q($a: Int) { a }", {"a": 1}, operation_name="Q")
    assert _bodies(leanix_http) == [
        {"query": "query Q($a: Int) { a }", "variables": {"a": 1}, "operationName": "Q"}
    ]


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        ("{ a }", "query"),
        ("  query Q { a }", "query"),
        ("# mutation in a comment\nquery { a }", "query"),
        ("\ufeff,\n mutation M { a }", "mutation"),
        ("mutation{a}", "mutation"),
        ("subscription { a }", "subscription"),
        ("fragment F on X { a } query { ...F }", "unknown"),
        ("queryx { a }", "unknown"),
        ("", "unknown"),
    ],
)
def test_operation_type_is_lexical(document: str, kind: str) -> None:
    assert operation_type(document) == kind


# --- pagination -------------------------------------------------------------------------------


def _page(ids: list[str], cursor: str | None, more: bool) -> dict[str, Any]:
    return {
        "data": {
            "allFactSheets": {
                "totalCount": 5,
                "pageInfo": {"hasNextPage": more, "endCursor": cursor},
                "edges": [{"node": {"id": i}} for i in ids],
            }
        }
    }


@pytest.mark.usefixtures("gql_ready")
def test_pagination_follows_end_cursor_as_a_variable(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json=_page(["1", "2"], "c1", True))
    leanix_http.add(responses.POST, GQL, json=_page(["3", "4"], "c2", True))
    leanix_http.add(responses.POST, GQL, json=_page(["5"], "c3", False))
    nodes = list(
        leanix_client.graphql.iter_fact_sheets(
            "id",
            fact_sheet_type="Application",
            page_size=2,
            facet_filters=[{"facetKey": "lxState", "operator": "OR", "keys": ["APPROVED"]}],
        )
    )
    assert [n["id"] for n in nodes] == ["1", "2", "3", "4", "5"]
    bodies = _bodies(leanix_http)
    assert [b["variables"]["after"] for b in bodies] == [None, "c1", "c2"]
    assert all(b["query"] == bodies[0]["query"] for b in bodies)  # never templated
    assert "c1" not in bodies[1]["query"]
    assert "$filter: FilterInput" in bodies[0]["query"]
    assert bodies[0]["variables"]["first"] == 2
    assert bodies[0]["variables"]["filter"] == {
        "facetFilters": [
            {"facetKey": "FactSheetTypes", "operator": "OR", "keys": ["Application"]},
            {"facetKey": "lxState", "operator": "OR", "keys": ["APPROVED"]},
        ]
    }


@pytest.mark.usefixtures("gql_ready")
def test_pages_report_progress(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json=_page(["1"], "c1", True))
    leanix_http.add(responses.POST, GQL, json=_page(["2"], None, False))
    pages = list(leanix_client.graphql.iter_fact_sheet_pages("id"))
    assert [(len(p.nodes), p.total_count, p.end_cursor) for p in pages] == [
        (1, 5, "c1"),
        (1, 5, None),
    ]
    assert _bodies(leanix_http)[0]["variables"] == {"first": 100, "after": None, "filter": None}


@pytest.mark.usefixtures("gql_ready")
def test_pagination_refuses_a_cursor_that_does_not_advance(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json=_page(["1"], "same", True))
    with pytest.raises(GraphQLError, match="without a new cursor"):
        list(leanix_client.graphql.iter_fact_sheets("id"))
    assert len(_bodies(leanix_http)) == 2


@pytest.mark.usefixtures("gql_ready")
def test_get_fact_sheet_returns_none_for_null(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(responses.POST, GQL, json={"data": {"factSheet": None}})
    assert leanix_client.graphql.get_fact_sheet("fs-1", "id rev") is None
    assert _bodies(leanix_http)[0]["variables"] == {"id": "fs-1"}


# --- updates ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("gql_ready")
def test_update_fact_sheet_sends_patches_as_variables(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.POST,
        GQL,
        json={"data": {"updateFactSheet": {"factSheet": {"id": "a", "rev": 4}}}},
    )
    patch = Patch.of_json("replace", "/tags", [{"tagId": "t1"}])
    result = leanix_client.graphql.update_fact_sheet("a", [patch], rev=3, comment="why")
    assert result == {"id": "a", "rev": 4}
    variables = _bodies(leanix_http)[0]["variables"]
    assert variables == {
        "id": "a",
        "rev": 3,
        "comment": "why",
        "patches": [{"op": "replace", "path": "/tags", "value": '[{"tagId":"t1"}]'}],
        "validateOnly": False,
    }
    assert "$patches: [Patch]!" in _bodies(leanix_http)[0]["query"]
    assert "$rev: Long" in _bodies(leanix_http)[0]["query"]


@pytest.mark.usefixtures("gql_ready")
def test_rev_guarded_update_is_retried_on_503_but_unguarded_is_not(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    ok = {"data": {"updateFactSheet": {"factSheet": {"id": "a", "rev": 2}}}}
    patch = Patch(op="replace", path="/name", value="n")
    leanix_http.add(responses.POST, GQL, status=503)
    leanix_http.add(responses.POST, GQL, json=ok)
    leanix_client.graphql.update_fact_sheet("a", [patch], rev=1)
    assert len(_bodies(leanix_http)) == 2

    leanix_http.add(responses.POST, GQL, status=503)
    leanix_http.add(responses.POST, GQL, json=ok)
    # responses replays registrations in order: the third call gets the third answer (503)
    with pytest.raises(ServerError):
        leanix_client.graphql.update_fact_sheet("a", [patch], rev=None)
    assert len(_bodies(leanix_http)) == 3


@pytest.mark.usefixtures("gql_ready")
def test_update_fact_sheets_maps_partial_failures_by_alias(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.POST,
        GQL,
        json={
            "data": {
                "u0": {"factSheet": {"id": "a", "rev": 2}},
                "u1": None,
                "u2": {"factSheet": {"id": "c", "rev": 8}},
            },
            "errors": [
                {
                    "message": "DB revision of Fact Sheet has changed",
                    "path": ["u1"],
                    "extensions": {"errorType": "REVISION_CLASH"},
                }
            ],
        },
    )
    patch = Patch(op="replace", path="/lxTimeClassification", value="invest")
    updates = [
        FactSheetUpdate(id="a", rev=1, patches=(patch,)),
        FactSheetUpdate(id="b", rev=5, patches=(patch,), comment="c"),
        FactSheetUpdate(id="c", rev=7, patches=(patch,)),
    ]
    outcomes = leanix_client.graphql.update_fact_sheets(updates)
    assert [(o.id, o.ok) for o in outcomes] == [("a", True), ("b", False), ("c", True)]
    assert outcomes[0].fact_sheet == {"id": "a", "rev": 2}
    assert isinstance(outcomes[1].error, RevisionClashError)
    body = _bodies(leanix_http)[0]
    assert "u1: updateFactSheet(id: $id1, rev: $rev1" in body["query"]
    assert "$patches2: [Patch]!" in body["query"]
    assert body["variables"]["id1"] == "b"
    assert body["variables"]["rev1"] == 5
    assert body["variables"]["comment1"] == "c"


@pytest.mark.usefixtures("gql_ready")
def test_update_fact_sheets_error_without_alias_fails_the_batch(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock
) -> None:
    leanix_http.add(
        responses.POST, GQL, json={"data": None, "errors": [{"message": "Syntax error"}]}
    )
    update = FactSheetUpdate(id="a", rev=1, patches=(Patch(op="remove", path="/x"),))
    with pytest.raises(GraphQLError, match="Syntax error"):
        leanix_client.graphql.update_fact_sheets([update])


def test_update_fact_sheets_with_nothing_sends_nothing(leanix_client: LeanIXClient) -> None:
    assert leanix_client.graphql.update_fact_sheets([]) == []


def test_patch_value_is_a_string_and_remove_omits_it() -> None:
    assert Patch(op="remove", path="/x").to_variable() == {"op": "remove", "path": "/x"}
    with pytest.raises(ValueError, match="pattern"):
        Patch(op="add", path="no-slash", value="v")
