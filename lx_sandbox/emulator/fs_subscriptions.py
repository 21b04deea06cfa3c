"""``createSubscription`` / ``deleteSubscription``: people subscribed to a fact sheet.

The mutation shapes are [V3] (an SAP documentation copy of "Create a Fact Sheet Subscription"
and third-party clients); the checks below and the SUBSCRIPTION_* payloads are assumptions.
Errors are :class:`graphql.GraphQLError` with ``extensions.errorType``, as in
:mod:`lx_sandbox.emulator.patches`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lx_sandbox.emulator.events import EventStore, fact_sheet_event, subscription_json
from lx_sandbox.emulator.patches import NOT_FOUND, lx_error
from lx_sandbox.emulator.state import (
    FactSheet,
    FactSheetSubscription,
    User,
    Workspace,
    new_id,
    now_iso,
)

JsonDict = dict[str, Any]

# ASSUMPTION [U] §2.8: the error types of refused subscriptions are undocumented; a duplicate or
# a role that does not fit is a CONSTRAINT_VIOLATION (the documented type for model rules), a
# UserInput without id or email an INVALID_INPUT, anything unknown NOT_FOUND.
CONSTRAINT_VIOLATION = "CONSTRAINT_VIOLATION"
INVALID_INPUT = "INVALID_INPUT"


def _user(ws: Workspace, user: JsonDict) -> User:
    """The workspace user a ``UserInput`` names.

    # ASSUMPTION [U]: ``id`` wins when both ``id`` and ``email`` are given; a user who is not a
    # member of the workspace (or does not exist) is NOT_FOUND.
    """
    user_id, email = user.get("id"), user.get("email")
    if user_id:
        found = ws.users_by_id.get(str(user_id))
        if found is None:
            raise lx_error(f"User {user_id} is not a user of this workspace", NOT_FOUND)
        return found
    if email:
        found = ws.find_user_by_email(str(email))
        if found is None:
            raise lx_error(f"No user with e-mail {email} in this workspace", NOT_FOUND)
        return found
    raise lx_error("The user needs an id or an email", INVALID_INPUT)


def _roles(
    ws: Workspace,
    fs: FactSheet,
    sub_type: str,
    role_ids: list[str | None] | None,
    roles: list[JsonDict | None] | None,
) -> dict[str, str | None]:
    """Role id -> comment, checked against the subscription type and the fact sheet type."""
    wanted: dict[str, str | None] = {r: None for r in role_ids or [] if r is not None}
    for link in roles or []:
        if link is not None:
            wanted[str(link["id"])] = link.get("comment")
    for role_id in wanted:
        role = ws.subscription_roles.get(role_id)
        if role is None:
            raise lx_error(f"Subscription role {role_id} does not exist", NOT_FOUND)
        if role.subscription_type != sub_type:
            # ASSUMPTION [U]: a role of another subscription type is refused.
            raise lx_error(
                f"Subscription role '{role.name}' is of type {role.subscription_type}, "
                f"not {sub_type}",
                CONSTRAINT_VIOLATION,
            )
        if role.restrict_to and fs.type not in role.restrict_to:
            # ASSUMPTION [U]: restrictToFactSheetTypes is enforced on createSubscription.
            raise lx_error(
                f"Subscription role '{role.name}' is restricted to "
                f"{', '.join(role.restrict_to)}; it cannot be used on a {fs.type}",
                CONSTRAINT_VIOLATION,
            )
    return wanted


@dataclass(slots=True)
class Subscriptions:
    """Creates and deletes fact-sheet subscriptions and emits their events."""

    ws: Workspace
    events: EventStore
    base_url: str

    def create(
        self,
        *,
        fact_sheet_id: str,
        user: JsonDict,
        sub_type: str,
        role_ids: list[str | None] | None,
        roles: list[JsonDict | None] | None,
        fact_sheet_rev: int | None,
        validate_only: bool,
        actor_id: str,
    ) -> FactSheetSubscription:
        """``createSubscription``: check, then store and emit SUBSCRIPTION_CREATED.

        # ASSUMPTION [U]: a subscription is not a fact-sheet field, so the fact sheet's ``rev``
        # and ``updatedAt`` stay as they are and no FACT_SHEET_UPDATED is emitted. Archived
        # fact sheets accept subscriptions too.
        """
        fs = self.ws.fact_sheets.get(fact_sheet_id)
        if fs is None:
            raise lx_error(f"Fact Sheet {fact_sheet_id} does not exist", NOT_FOUND)
        if fact_sheet_rev is not None and fact_sheet_rev != fs.rev:
            # [V3] factSheetRev is passed by SAP's automation examples; the check mirrors
            # updateFactSheet's REVISION_CLASH (ASSUMPTION [U]).
            raise lx_error(
                f"DB revision of Fact Sheet has changed: {fs.rev} instead of given "
                f"{fact_sheet_rev}",
                "REVISION_CLASH",
            )
        member = _user(self.ws, user)
        for existing in self.ws.subscriptions_of(fs.id):
            if existing.user_id == member.id and existing.type == sub_type:
                # ASSUMPTION [U]: LeanIX refuses a second subscription of one user and type.
                raise lx_error(
                    f"User {member.username} is already subscribed to Fact Sheet {fs.id} "
                    f"as {sub_type}",
                    CONSTRAINT_VIOLATION,
                )
        links = _roles(self.ws, fs, sub_type, role_ids, roles)
        sub = FactSheetSubscription(
            id=new_id(),
            fact_sheet_id=fs.id,
            user_id=member.id,
            type=sub_type,
            role_ids=links,
            created_at=now_iso(),
        )
        if validate_only:
            # ASSUMPTION [U]: validateOnly checks and answers the subscription, unsaved.
            return sub
        self.ws.add_subscription(sub)
        self._emit("SUBSCRIPTION_CREATED", fs, sub, actor_id)
        return sub

    def delete(self, sub_id: str, *, actor_id: str) -> FactSheetSubscription:
        """``deleteSubscription``: remove and emit SUBSCRIPTION_DELETED (rev unchanged)."""
        sub = self.ws.fs_subscriptions.get(sub_id)
        if sub is None:
            raise lx_error(f"Subscription {sub_id} does not exist", NOT_FOUND)
        self.ws.remove_subscription(sub)
        fs = self.ws.fact_sheets.get(sub.fact_sheet_id)
        if fs is not None:
            self._emit("SUBSCRIPTION_DELETED", fs, sub, actor_id)
        return sub

    def _emit(self, name: str, fs: FactSheet, sub: FactSheetSubscription, actor_id: str) -> None:
        """SUBSCRIPTION_* under a transaction number of its own.

        # ASSUMPTION [I] §1.6: the envelope and payload ``userId`` is the acting user.
        """
        envelope = fact_sheet_event(
            self.events,
            self.ws,
            event_name=name,
            fs=fs,
            user_id=actor_id,
            transaction=self.events.next_transaction(),
            base_url=self.base_url,
            subscription=subscription_json(self.ws, sub),
        )
        self.events.append(envelope)
