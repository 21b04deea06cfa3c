"""read_modify_write: read a fact sheet, decide, write only what changes, rev-guarded.

Writing only when ``decide`` asks for it keeps webhook handlers from triggering themselves: an
unchanged fact sheet produces no write and therefore no new FACT_SHEET_UPDATED event. The write
carries the ``rev`` just read; if someone else wrote in between (REVISION_CLASH), the fact sheet is
read and decided once more, and a second clash is raised to the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lx_core import assumptions
from lx_core.errors import NotFoundError, RevisionClashError
from lx_core.leanix.graphql import GraphQLClient, Patch

Decide = Callable[[dict[str, Any]], Sequence[Patch] | None]

_MAX_ROUNDS = 2  # the first read plus one re-read after a clash
_HAS_REV = re.compile(r"(?<![_0-9A-Za-z])rev(?![_0-9A-Za-z])")


@dataclass(frozen=True)
class WriteResult:
    """What happened: the state decided on, the state after the write (None if none), and how
    many read/decide rounds it took (1, or 2 after a clash)."""

    fact_sheet_before: dict[str, Any]
    fact_sheet_after: dict[str, Any] | None
    written: bool
    attempts: int


def read_modify_write(
    gql: GraphQLClient,
    id: str,
    selection: str,
    decide: Decide,
    *,
    comment: str | None = None,
) -> WriteResult:
    """One read, zero or one write; REVISION_CLASH → read and decide once more, then raise."""
    if not _HAS_REV.search(selection):
        raise ValueError("selection must include rev: the write is guarded by it")
    for attempt in range(1, _MAX_ROUNDS + 1):
        before = gql.get_fact_sheet(id, selection)
        if before is None:
            raise NotFoundError(
                f"fact sheet {id} not found", method="POST", path=assumptions.GRAPHQL_PATH
            )
        rev = before.get("rev")
        if not isinstance(rev, int):
            raise ValueError("the fact sheet read has no integer rev")
        patches = decide(before)
        if not patches:
            return WriteResult(before, None, written=False, attempts=attempt)
        try:
            after = gql.update_fact_sheet(
                id, list(patches), rev=rev, comment=comment, selection=selection
            )
        except RevisionClashError:
            if attempt == _MAX_ROUNDS:
                raise
            continue
        return WriteResult(before, after, written=True, attempts=attempt)
    raise AssertionError("unreachable")  # pragma: no cover
