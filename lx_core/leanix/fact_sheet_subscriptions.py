"""People subscribed to a fact sheet (Responsible, Accountable, Observer), over GraphQL.

Not to be confused with webhook subscriptions (``lx_core.leanix.webhooks``). The shapes are
[V3] (SAP's "Create a Fact Sheet Subscription" page as copied by third parties, and public
clients), so every field read here is listed in ``lx_core.assumptions`` and optional.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lx_core.errors import MalformedResponseError
from lx_core.leanix.graphql import GraphQLClient

SubscriptionType = Literal["ACCOUNTABLE", "RESPONSIBLE", "OBSERVER"]

_SUBSCRIBERS = """
query lxFactSheetSubscribers($id: ID!) {
  factSheet(id: $id) {
    id name type status
    subscriptions {
      edges { node {
        id type
        user { id email displayName technicalUser }
        roles { id name }
      } }
    }
  }
}
"""
_ROLES = """
query lxSubscriptionRoles {
  allSubscriptionRoles { edges { node { id name subscriptionType } } }
}
"""
_SUBSCRIBE = """
mutation lxCreateSubscription($factSheetId: ID!, $user: UserInput!, $type: SubscriptionType!,
                              $roleIds: [ID]) {
  createSubscription(factSheetId: $factSheetId, user: $user, type: $type, roleIds: $roleIds) {
    id type user { id }
  }
}
"""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Subscriber(_Lenient):
    subscription_id: str | None = None
    type: str | None = None
    user_id: str | None = None
    email: str | None = None
    display_name: str | None = None
    technical: bool = False
    roles: tuple[str, ...] = ()


class SubscribedFactSheet(_Lenient):
    """A fact sheet as re-read for a notice or a subscription decision."""

    id: str
    name: str | None = None
    type: str | None = None
    status: str | None = None
    subscribers: tuple[Subscriber, ...] = ()


class SubscriptionRole(_Lenient):
    id: str
    name: str
    subscription_type: str | None = Field(None, alias="subscriptionType")


def _subscriber(node: dict[str, Any]) -> Subscriber:
    raw_user = node.get("user")
    user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
    roles = [r.get("name") for r in node.get("roles") or () if isinstance(r, dict)]
    return Subscriber(
        subscription_id=node.get("id"),
        type=node.get("type"),
        user_id=user.get("id"),
        email=user.get("email"),
        display_name=user.get("displayName"),
        technical=user.get("technicalUser") is True,
        roles=tuple(r for r in roles if isinstance(r, str)),
    )


def _malformed(what: str) -> MalformedResponseError:
    return MalformedResponseError(
        f"LeanIX answered but {what} are not in the expected shape",
        method="POST",
        path="/services/pathfinder/v1/graphql",
        status=200,
    )


class FactSheetSubscriptionsClient:
    """Read a fact sheet's subscribers, list the roles, subscribe a user."""

    def __init__(self, graphql: GraphQLClient) -> None:
        self.graphql = graphql

    def fact_sheet(self, fact_sheet_id: str) -> SubscribedFactSheet | None:
        """The fact sheet with its subscribers, or None when LeanIX has no such fact sheet."""
        node = self.graphql.execute(_SUBSCRIBERS, {"id": fact_sheet_id}).get("factSheet")
        if not isinstance(node, dict) or not node.get("id"):
            return None
        try:
            edges = (node.get("subscriptions") or {}).get("edges") or ()
            subscribers = tuple(
                _subscriber(e["node"]) for e in edges if isinstance(e, dict) and e.get("node")
            )
            return SubscribedFactSheet(
                id=str(node["id"]),
                name=node.get("name"),
                type=node.get("type"),
                status=node.get("status"),
                subscribers=subscribers,
            )
        except (ValidationError, AttributeError, TypeError):
            raise _malformed("the fact sheet's subscriptions") from None

    def roles(self) -> list[SubscriptionRole]:
        try:
            edges = (self.graphql.execute(_ROLES).get("allSubscriptionRoles") or {}).get("edges")
            return [
                SubscriptionRole.model_validate(e["node"])
                for e in edges or ()
                if isinstance(e, dict) and isinstance(e.get("node"), dict)
            ]
        except (ValidationError, AttributeError, TypeError):
            raise _malformed("the subscription roles") from None

    def subscribe(
        self,
        fact_sheet_id: str,
        user_id: str,
        subscription_type: SubscriptionType,
        role_ids: tuple[str, ...] = (),
    ) -> str | None:
        """Subscribe ``user_id``; the new subscription's id. A mutation: not replayed on a
        lost answer (the caller re-reads and sees whether it took)."""
        data = self.graphql.execute(
            _SUBSCRIBE,
            {
                "factSheetId": fact_sheet_id,
                "user": {"id": user_id},
                "type": subscription_type,
                "roleIds": list(role_ids) or None,
            },
        )
        created = data.get("createSubscription")
        return created.get("id") if isinstance(created, dict) else None
