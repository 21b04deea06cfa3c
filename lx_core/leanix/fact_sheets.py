"""read_modify_write: read a fact sheet, decide, write only what changes, rev-guarded.

Writing only when ``decide`` asks for it keeps webhook handlers from triggering themselves: an
unchanged fact sheet produces no write and therefore no new FACT_SHEET_UPDATED event. The write
carries the ``rev`` just read; if someone else wrote in between (REVISION_CLASH), the fact sheet is
read and decided again, a few times with a short random pause, within the ambient deadline; then
the clash is raised (it is retryable: a webhook answers 503 and LeanIX redelivers).

A clash can also mean that our own write was applied but its answer was lost and the transport
replayed it. Either way, a re-read that needs no write means the fact sheet is where we wanted it:
``WriteResult.settled`` says so, and callers count it as done, neither failed nor a no-op.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lx_core import assumptions, deadline
from lx_core.errors import NotFoundError, RevisionClashError
from lx_core.leanix.graphql import GraphQLClient, Patch

Decide = Callable[[dict[str, Any]], Sequence[Patch] | None]
Sleep = Callable[[float], None]

#: Read/decide rounds at most: the first read plus re-reads after clashes.
MAX_ROUNDS = 5
#: Pause before a re-read after a clash: uniform in [0, this], so racing writers spread out.
CLASH_PAUSE_SECONDS = 0.1
_HAS_REV = re.compile(r"(?<![_0-9A-Za-z])rev(?![_0-9A-Za-z])")


@dataclass(frozen=True)
class WriteResult:
    """What happened: the state decided on last, the state after our write (None if none), and
    how many read/decide rounds it took. ``settled``: a write of ours clashed, and the re-read
    found nothing left to do (our replayed write, or an identical concurrent one, landed)."""

    fact_sheet_before: dict[str, Any]
    fact_sheet_after: dict[str, Any] | None
    written: bool
    attempts: int
    settled: bool = False

    @property
    def done(self) -> bool:
        """The fact sheet now holds what ``decide`` wanted, and a write was needed for it."""
        return self.written or self.settled


def read_modify_write(
    gql: GraphQLClient,
    id: str,
    selection: str,
    decide: Decide,
    *,
    comment: str | None = None,
    sleep: Sleep = time.sleep,
    rounds: int = MAX_ROUNDS,
) -> WriteResult:
    """One read, zero or one write; on REVISION_CLASH read and decide again (bounded by
    ``rounds`` and the deadline), then raise the clash."""
    if not _HAS_REV.search(selection):
        raise ValueError("selection must include rev: the write is guarded by it")
    clashed = False
    attempt = 0
    while True:
        attempt += 1
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
            return WriteResult(before, None, written=False, attempts=attempt, settled=clashed)
        try:
            after = gql.update_fact_sheet(
                id, list(patches), rev=rev, comment=comment, selection=selection
            )
        except RevisionClashError:
            pause = random.uniform(0.0, CLASH_PAUSE_SECONDS)  # noqa: S311 - spreading, not secrecy
            # Another round needs a pause, a read and a write: give up while that still fits.
            if attempt >= rounds or deadline.remaining() < pause + 1.0:
                raise
            clashed = True
            sleep(pause)
            continue
        return WriteResult(before, after, written=True, attempts=attempt)
