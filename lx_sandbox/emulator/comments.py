"""``createComment``: comments on a fact sheet and their COMMENT_CREATED event.

# ASSUMPTION [U]: comments are not in ``leanix-api.md``; LeanIX's GraphQL is believed to have
them. The mutation shape, the checks, the payload and that a comment leaves the fact sheet's
``rev`` alone are the emulator's. Errors are :class:`graphql.GraphQLError` with
``extensions.errorType``, as in :mod:`lx_sandbox.emulator.patches`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lx_sandbox.emulator.events import EventStore, fact_sheet_event
from lx_sandbox.emulator.patches import NOT_FOUND, lx_error
from lx_sandbox.emulator.state import COMMENT_STATUSES, Comment, Workspace, new_id, now_iso

JsonDict = dict[str, Any]

#: Longest accepted message. ASSUMPTION [U]: LeanIX's limit is unknown.
MAX_MESSAGE = 10_000
# ASSUMPTION [U] §2.8: the error type of a refused message (the one fs_subscriptions uses).
INVALID_INPUT = "INVALID_INPUT"


def comment_json(ws: Workspace, comment: Comment) -> JsonDict:
    """A comment in event payloads and the admin view (the author as ``{id, displayName}``)."""
    author = ws.users_by_id.get(comment.author_id)
    return {
        "id": comment.id,
        "message": comment.message,
        "status": comment.status,
        "createdAt": comment.created_at,
        "author": {
            "id": comment.author_id,
            "displayName": author.display_name if author else None,
        },
        "factSheetId": comment.fact_sheet_id,
    }


@dataclass(slots=True)
class Comments:
    """Creates comments and emits COMMENT_CREATED."""

    ws: Workspace
    events: EventStore
    base_url: str

    def create(
        self, *, fact_sheet_id: str, message: str, status: str | None, actor_id: str
    ) -> Comment:
        """Check, store and emit. Archived fact sheets accept comments too.

        # ASSUMPTION [U]: a comment is not a fact-sheet field: ``rev`` and ``updatedAt`` stay as
        # they are and no FACT_SHEET_UPDATED is emitted (as for subscriptions).
        """
        fs = self.ws.fact_sheets.get(fact_sheet_id)
        if fs is None:
            raise lx_error(f"Fact Sheet {fact_sheet_id} does not exist", NOT_FOUND)
        if not message.strip():
            raise lx_error("A comment needs a non-empty message", INVALID_INPUT)
        if len(message) > MAX_MESSAGE:
            raise lx_error(
                f"A comment's message may have at most {MAX_MESSAGE:,} characters "
                f"(got {len(message):,})",
                INVALID_INPUT,
            )
        chosen = status or "ACTIVE"
        if chosen not in COMMENT_STATUSES:  # the GraphQL enum already refuses others
            raise lx_error(f"Invalid comment status {chosen!r}", INVALID_INPUT)
        comment = self.ws.add_comment(
            Comment(
                id=new_id(),
                fact_sheet_id=fs.id,
                message=message,
                author_id=actor_id,
                status=chosen,
                created_at=now_iso(),
            )
        )
        # ASSUMPTION [I] §1.6: the envelope and payload ``userId`` is the author.
        envelope = fact_sheet_event(
            self.events,
            self.ws,
            event_name="COMMENT_CREATED",
            fs=fs,
            user_id=actor_id,
            transaction=self.events.next_transaction(),
            base_url=self.base_url,
            comment=comment_json(self.ws, comment),
        )
        self.events.append(envelope)
        return comment
