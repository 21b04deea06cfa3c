"""Fact-sheet comments: read the newest messages and post one ([U]: the mutation and the
``comments`` connection are not in the reference, see ``assumptions.COMMENT_MUTATION``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lx_core import assumptions
from lx_core.errors import GraphQLError
from lx_core.leanix.graphql import GraphQLClient

#: Added to a fact-sheet selection to read its comments in the same request.
COMMENTS_SELECTION = "comments { edges { node { id message } } }"

_CREATE = (
    "mutation lxCreateComment($factSheetId: ID!, $message: String!) {\n"
    f"  {assumptions.COMMENT_MUTATION}(factSheetId: $factSheetId, message: $message) {{ id }}\n"
    "}"
)


def comment_messages(fact_sheet: Mapping[str, Any]) -> list[str]:
    """The messages of a fact sheet read with COMMENTS_SELECTION, newest first."""
    edges = (fact_sheet.get("comments") or {}).get("edges") or ()
    return [
        str(e["node"]["message"])
        for e in edges
        if isinstance(e, Mapping)
        and isinstance(e.get("node"), Mapping)
        and isinstance(e["node"].get("message"), str)
    ]


def post_comment(gql: GraphQLClient, fact_sheet_id: str, message: str) -> str:
    """Post ``message`` on the fact sheet; returns the comment id. Not replayed after a lost
    answer (a second comment would be posted)."""
    data = gql.execute(
        _CREATE,
        {"factSheetId": fact_sheet_id, "message": message},
        operation_name="lxCreateComment",
        idempotent=False,
    )
    node = data.get(assumptions.COMMENT_MUTATION)
    if not isinstance(node, Mapping) or not node.get("id"):
        raise GraphQLError(f"{assumptions.COMMENT_MUTATION} returned no comment")
    return str(node["id"])
