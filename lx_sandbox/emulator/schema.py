"""The Pathfinder GraphQL schema: SDL generated from the data model, resolvers over the state.

The schema is built once per data model (a data-model override rebuilds it) and executed by
graphql-core, so introspection, fragments, aliases, variables and per-field errors behave like a
real GraphQL server instead of matching query strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    ValueNode,
    build_schema,
    parse,
)
from graphql.language import IntValueNode, StringValueNode

from lx_sandbox.emulator.comments import Comments
from lx_sandbox.emulator.events import EventStore
from lx_sandbox.emulator.filters import Connection, compile_filter
from lx_sandbox.emulator.fs_subscriptions import Subscriptions
from lx_sandbox.emulator.patches import NOT_FOUND, Mutator, lx_error
from lx_sandbox.emulator.state import (
    LIFECYCLE_TYPES,
    RELATION_PAIRS,
    Comment,
    DataModel,
    FactSheet,
    FactSheetSubscription,
    FieldSpec,
    SubscriptionRole,
    Tag,
    TagGroup,
    User,
    Workspace,
    current_phase,
    new_id,
    value_type,
)

JsonDict = dict[str, Any]


@dataclass(slots=True)
class GqlContext:
    """Per-request context handed to every resolver."""

    ws: Workspace
    events: EventStore
    user: User
    base_url: str
    max_page_size: int
    cursor_ttl_seconds: float | None = None
    update_count: int = 0
    noop_count: int = 0
    extra: JsonDict = field(default_factory=dict)

    @property
    def mutator(self) -> Mutator:
        """A mutator bound to this request's workspace and event store."""
        return Mutator(self.ws, self.events, self.base_url, on_noop=self.count_noop)

    @property
    def subscriptions(self) -> Subscriptions:
        """Fact-sheet subscription writes bound to this request's workspace and event store."""
        return Subscriptions(self.ws, self.events, self.base_url)

    @property
    def comments(self) -> Comments:
        """Comment writes bound to this request's workspace and event store."""
        return Comments(self.ws, self.events, self.base_url)

    def count_noop(self) -> None:
        """An applied ``updateFactSheet`` that changed nothing (for the statistics)."""
        self.noop_count += 1


def enum_type_name(fs_type: str, field_name: str) -> str:
    """GraphQL enum name of a single-select field.

    # ASSUMPTION [U] §2.4: LeanIX's enum type names are undocumented; clients should reach the
    # values through the field's type (``__type(name: "Application") { fields { type { ... } } }``).
    """
    return f"{fs_type}{field_name[0].upper()}{field_name[1:]}"


_COMMON_FIELDS = """
  id: ID!
  rev: Long!
  name: String!
  displayName: String!
  fullName: String!
  type: String!
  category: String
  description: String
  status: FactSheetStatus!
  lxState: LxState
  level: Int
  tags: [Tag]
  subscriptions: SubscriptionConnection
  createdAt: String
  updatedAt: String
  completion: Completion
  comments: CommentConnection
"""

#: GraphQL scalar of each number/text field type.
_SCALARS = {"DOUBLE": "Float", "INTEGER": "Int", "STRING": "String"}

# ASSUMPTION [V3] (not in leanix-api.md): the fact-sheet subscription types below (Subscription,
# SubscriptionType, SubscriptionRole, User, UserInput, createSubscription, deleteSubscription,
# allSubscriptionRoles) follow an SAP documentation copy of "Create a Fact Sheet Subscription"
# and third-party clients (port-labs/LeanIX-Sync, SAP/leanix-ai-plugins); the explicit schema
# definition keeps the type named Subscription from becoming the subscription root type.
_STATIC_SDL = """
schema { query: Query mutation: Mutation }

scalar Long

enum FactSheetStatus { ACTIVE ARCHIVED }
enum LxState { APPROVED BROKEN_QUALITY_SEAL DRAFT REJECTED }
enum TagGroupMode { SINGLE MULTIPLE }
enum TagStatus { ACTIVE ARCHIVED }
enum FacetKeyOperator { OR AND NOR }
enum PatchOperation { add replace remove }

interface BaseFactSheet {%(common)s}

type Tag {
  id: ID!
  name: String!
  description: String
  color: String
  status: TagStatus
  tagGroup: TagGroup
}

type TagEdge { node: Tag cursor: String }
type TagConnection { totalCount: Int! edges: [TagEdge] pageInfo: PageInfo! }

type TagGroup {
  id: ID!
  name: String!
  shortName: String
  description: String
  mode: TagGroupMode!
  mandatory: Boolean
  restrictToFactSheetTypes: [FactSheetType]
  tags: TagConnection
}

type TagGroupEdge { node: TagGroup cursor: String }
type TagGroupConnection { totalCount: Int! edges: [TagGroupEdge] pageInfo: PageInfo! }

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type FactSheetEdge { node: BaseFactSheet cursor: String! }

type FacetResult { name: String key: String count: Int }
type Facet { facetKey: String! results: [FacetResult] }
type FilterOptions { facets: [Facet] }

type FactSheetConnection {
  totalCount: Int!
  pageInfo: PageInfo!
  edges: [FactSheetEdge]
  filterOptions: FilterOptions
}

type FactSheetResult { factSheet: BaseFactSheet }

enum SubscriptionType { ACCOUNTABLE RESPONSIBLE OBSERVER }

type UserPermission { role: String status: String }

type User {
  id: ID!
  userName: String
  email: String
  displayName: String
  firstName: String
  lastName: String
  technicalUser: Boolean
  permission: UserPermission
}

type SubscriptionRole {
  id: ID!
  name: String!
  description: String
  comment: String
  subscriptionType: SubscriptionType!
  restrictToFactSheetTypes: [FactSheetType]
}

type SubscriptionRoleEdge { node: SubscriptionRole cursor: String }
type SubscriptionRoleConnection {
  totalCount: Int!
  edges: [SubscriptionRoleEdge]
  pageInfo: PageInfo!
}

type Subscription {
  id: ID!
  type: SubscriptionType!
  user: User
  roles: [SubscriptionRole]
  createdAt: String
  factSheet: BaseFactSheet
}

type SubscriptionEdge { node: Subscription cursor: String }
type SubscriptionConnection { totalCount: Int! edges: [SubscriptionEdge] pageInfo: PageInfo! }

# ASSUMPTION [I] §4.6: GraphQL's completion has the two fields of the event payload's object.
type Completion { completion: Float percentage: Int }

# ASSUMPTION [V3]: LeanIX's lifecycle shape (lifecycle { asString phases { phase startDate } });
# the type names are the emulator's.
type LifecyclePhase { phase: String startDate: String }
type Lifecycle { asString: String phases: [LifecyclePhase] }

# ASSUMPTION [U]: comments are not in the reference; shape and names are the emulator's.
enum CommentStatus { ACTIVE CLOSED }
type Comment {
  id: ID!
  message: String!
  status: CommentStatus!
  createdAt: String
  author: User
  factSheet: BaseFactSheet
}
type CommentEdge { node: Comment cursor: String }
type CommentConnection { totalCount: Int! edges: [CommentEdge] pageInfo: PageInfo! }

# ASSUMPTION [V3]: relations as rel<From>To<To> connections whose nodes name the fact sheet at
# the other end; one generic node type here (LeanIX has one per relation, names [U]).
type Relation {
  id: ID!
  type: String
  description: String
  activeFrom: String
  activeUntil: String
  factSheet: BaseFactSheet
}
type RelationEdge { node: Relation cursor: String }
type RelationConnection { totalCount: Int! edges: [RelationEdge] pageInfo: PageInfo! }

input FacetFilterInput { facetKey: String!, operator: FacetKeyOperator, keys: [String] }
input FilterInput { facetFilters: [FacetFilterInput], ids: [ID], fullTextSearch: String }
input TagQueryFilters { tagGroupName: String, tagGroupId: ID, nameSubstring: String }
input Patch { op: PatchOperation!, path: String!, value: String }
input BaseFactSheetInput { name: String!, type: FactSheetType! }
input UserInput { id: ID, email: String }
input SubscriptionToSubscriptionRoleLinkInput { id: ID!, comment: String }

type Query {
  factSheet(id: ID!): BaseFactSheet
  allFactSheets(factSheetType: FactSheetType, first: Int, after: String,
                filter: FilterInput): FactSheetConnection
  allTags(filter: TagQueryFilters): TagConnection
  allTagGroups: TagGroupConnection
  allSubscriptionRoles: SubscriptionRoleConnection
}

type Mutation {
  updateFactSheet(id: ID!, rev: Long, comment: String, patches: [Patch]!,
                  validateOnly: Boolean): FactSheetResult
  createFactSheet(input: BaseFactSheetInput!, patches: [Patch], validateOnly: Boolean):
    FactSheetResult
  createTag(name: String!, tagGroupId: ID, description: String, color: String,
            validateOnly: Boolean): Tag
  upsertTagGroup(name: String!, mode: TagGroupMode, restrictToFactSheetTypes: [FactSheetType],
                 shortName: String, description: String, mandatory: Boolean): TagGroup
  upsertTag(name: String!, tagGroupName: String, description: String, color: String): Tag
  createSubscription(factSheetId: ID!, user: UserInput!, type: SubscriptionType!, roleIds: [ID],
                     roles: [SubscriptionToSubscriptionRoleLinkInput], factSheetRev: Long,
                     validateOnly: Boolean): Subscription
  deleteSubscription(id: ID!): Subscription
  createComment(factSheetId: ID!, message: String!, status: CommentStatus): Comment
}
"""


def _static_type_names() -> frozenset[str]:
    """Types the static SDL declares, plus GraphQL's own scalars: no fact sheet type may take
    one of these names (the schema would not build)."""
    names = {"String", "Int", "Float", "Boolean", "ID", "FactSheetType"}
    for definition in parse(_STATIC_SDL % {"common": _COMMON_FIELDS}).definitions:
        name = getattr(definition, "name", None)
        if name is not None:
            names.add(name.value)
    return frozenset(names)


#: Names a data model's fact sheet type may not take.
RESERVED_TYPE_NAMES = _static_type_names()


def relation_fields(data_model: DataModel) -> dict[str, dict[str, str]]:
    """``{type: {relation field: other type}}``: both ends of every pair of
    :data:`RELATION_PAIRS` whose types are in the data model."""
    fields: dict[str, dict[str, str]] = {}
    for a, b in RELATION_PAIRS:
        if a in data_model and b in data_model:
            fields.setdefault(a, {})[f"rel{a}To{b}"] = b
            fields.setdefault(b, {})[f"rel{b}To{a}"] = a
    return fields


def build_sdl(data_model: DataModel) -> str:
    """SDL text for a data model (enum values keep the data model's order)."""
    parts = [_STATIC_SDL % {"common": _COMMON_FIELDS}]
    parts.append("enum FactSheetType { " + " ".join(data_model) + " }")
    relations = relation_fields(data_model)
    for fs_type, fields in data_model.items():
        lines = [_COMMON_FIELDS]
        for field_name, spec in fields.items():
            kind = value_type(spec)
            if kind is not None:
                lines.append(f"  {field_name}: {_SCALARS[kind]}\n")
                continue
            enum_name = enum_type_name(fs_type, field_name)
            parts.append(f"enum {enum_name} {{ {' '.join(spec)} }}")
            lines.append(f"  {field_name}: {enum_name}\n  {field_name}Description: String\n")
        if fs_type in LIFECYCLE_TYPES:
            lines.append("  lifecycle: Lifecycle\n")
        for rel_name in relations.get(fs_type, {}):
            lines.append(f"  {rel_name}: RelationConnection\n")
        parts.append(f"type {fs_type} implements BaseFactSheet {{{''.join(lines)}}}")
    return "\n".join(parts)


Info: TypeAlias = "GraphQLResolveInfo[GqlContext]"


# --- scalar ---------------------------------------------------------------------------------


def _parse_long(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"Long cannot represent {value!r}")
    return int(value)


def _parse_long_literal(node: ValueNode, _variables: Any = None) -> int:
    if isinstance(node, IntValueNode | StringValueNode):
        return int(node.value)
    raise TypeError("Long must be an integer")


# --- resolvers ------------------------------------------------------------------------------


def _ctx(info: Info) -> GqlContext:
    return info.context


def _item_id(item: Any) -> str:
    item_id: str = item["id"] if isinstance(item, dict) else item.id
    return item_id


def _tag_connection(items: list[Any]) -> JsonDict:
    """A one-page connection (tags, tag groups, subscriptions, roles); cursors are the ids."""
    return {
        "totalCount": len(items),
        "edges": [{"node": item, "cursor": _item_id(item)} for item in items],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": _item_id(items[0]) if items else None,
            "endCursor": _item_id(items[-1]) if items else None,
        },
    }


def user_json(user: User) -> JsonDict:
    """A workspace user as the GraphQL ``User`` type.

    # ASSUMPTION [V3]: the field names are third-party clients'; ``permission.status`` is the
    # user's MTM status (ASSUMPTION [U]).
    """
    return {
        "id": user.id,
        "userName": user.username,
        "email": user.email,
        "displayName": user.display_name,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "technicalUser": user.technical,
        "permission": {"role": user.role, "status": user.status},
    }


def role_json(ws: Workspace, role: SubscriptionRole, comment: str | None = None) -> JsonDict:
    """A subscription role; ``comment`` is the one given with a subscription's role link."""
    return {
        "id": role.id,
        "name": role.name,
        "description": role.description,
        "comment": comment,
        "subscriptionType": role.subscription_type,
        "restrictToFactSheetTypes": [t for t in role.restrict_to if t in ws.data_model],
    }


def _subscription_roles(sub: FactSheetSubscription, info: Info) -> list[JsonDict]:
    ws = _ctx(info).ws
    return [
        role_json(ws, ws.subscription_roles[r], comment)
        for r, comment in sub.role_ids.items()
        if r in ws.subscription_roles
    ]


def _subscription_user(sub: FactSheetSubscription, info: Info) -> JsonDict | None:
    user = _ctx(info).ws.users_by_id.get(sub.user_id)
    return user_json(user) if user is not None else None


def _completion(fs: FactSheet, _info: Info) -> JsonDict:
    """``completion { completion percentage }`` of the stored completion (0..1, 0..100)."""
    return {"completion": fs.completion, "percentage": round(fs.completion * 100)}


def _lifecycle(fs: FactSheet, _info: Info) -> JsonDict | None:
    """``lifecycle { asString phases { phase startDate } }``, phases in phase order.

    # ASSUMPTION [I]: a fact sheet without phases has ``lifecycle: null``.
    """
    phases = fs.lifecycle
    if not phases:
        return None
    return {
        "asString": current_phase(phases),
        "phases": [{"phase": p, "startDate": d} for p, d in phases.items()],
    }


def _comments(fs: FactSheet, info: Info) -> JsonDict:
    """All comments of the fact sheet, newest first (one page)."""
    return _tag_connection(_ctx(info).ws.comments_of(fs.id))


def _relation_resolver(other_type: str) -> Callable[[FactSheet, Info], JsonDict]:
    def resolve(fs: FactSheet, info: Info) -> JsonDict:
        nodes = [
            {
                "id": rel.id,
                "type": rel.type,
                "description": rel.attributes.get("description"),
                "activeFrom": rel.attributes.get("activeFrom"),
                "activeUntil": rel.attributes.get("activeUntil"),
                "factSheet": other,
            }
            for rel, other in _ctx(info).ws.related(fs, other_type)
        ]
        return _tag_connection(nodes)

    return resolve


def _fact_sheet_resolvers(
    fs_type: str, fields: dict[str, FieldSpec], relations: dict[str, str]
) -> dict[str, Callable[..., Any]]:
    common: dict[str, Callable[..., Any]] = {
        "id": lambda fs, _i: fs.id,
        "rev": lambda fs, _i: fs.rev,
        "name": lambda fs, _i: fs.name,
        "displayName": lambda fs, _i: fs.name,
        "fullName": lambda fs, _i: fs.name,
        "type": lambda fs, _i: fs.type,
        "category": lambda fs, _i: None,
        "description": lambda fs, _i: fs.description,
        "status": lambda fs, _i: fs.status,
        "lxState": lambda fs, _i: fs.lx_state,
        "level": lambda fs, _i: 1,
        "tags": lambda fs, i: [_ctx(i).ws.tags[t] for t in fs.tag_ids if t in _ctx(i).ws.tags],
        "subscriptions": lambda fs, i: _tag_connection(_ctx(i).ws.subscriptions_of(fs.id)),
        "createdAt": lambda fs, _i: fs.created_at,
        "updatedAt": lambda fs, _i: fs.updated_at,
        "completion": _completion,
        "comments": _comments,
    }
    for name, spec in fields.items():
        # Single-selects and texts are str, DOUBLE float, INTEGER int: served as stored.
        common[name] = _field_resolver(name)
        if value_type(spec) is None:
            common[name + "Description"] = lambda fs, _i: None
    if fs_type in LIFECYCLE_TYPES:
        common["lifecycle"] = _lifecycle
    for rel_name, other_type in relations.items():
        common[rel_name] = _relation_resolver(other_type)
    return common


def _field_resolver(name: str) -> Callable[[FactSheet, Info], str | int | float | None]:
    return lambda fs, _i: fs.fields.get(name)


def _resolve_fact_sheet(_root: Any, info: Info, id: str) -> FactSheet | None:
    # ASSUMPTION [I] §2.3: an unknown id yields null, not an error.
    return _ctx(info).ws.fact_sheets.get(id)


def _resolve_all_fact_sheets(
    _root: Any,
    info: Info,
    factSheetType: str | None = None,  # noqa: N803
    first: int | None = None,
    after: str | None = None,
    filter: JsonDict | None = None,
) -> Connection:
    ctx = _ctx(info)
    query = compile_filter(ctx.ws, factSheetType, filter)
    return Connection(
        ctx.ws,
        query,
        first=first,
        after=after,
        max_page_size=ctx.max_page_size,
        cursor_ttl_seconds=ctx.cursor_ttl_seconds,
    )


def _resolve_all_tags(_root: Any, info: Info, filter: JsonDict | None = None) -> JsonDict:
    ws = _ctx(info).ws
    flt = filter or {}
    tags: list[Tag] = list(ws.tags.values())
    if flt.get("tagGroupName"):
        group = ws.find_tag_group(flt["tagGroupName"])
        tags = [ws.tags[t] for t in group.tag_ids] if group else []
    if flt.get("tagGroupId"):
        tags = [t for t in tags if t.group_id == flt["tagGroupId"]]
    if flt.get("nameSubstring"):
        needle = str(flt["nameSubstring"]).casefold()
        tags = [t for t in tags if needle in t.name.casefold()]
    return _tag_connection(tags)


def _resolve_all_tag_groups(_root: Any, info: Info) -> JsonDict:
    return _tag_connection(list(_ctx(info).ws.tag_groups.values()))


def _resolve_all_subscription_roles(_root: Any, info: Info) -> JsonDict:
    ws = _ctx(info).ws
    return _tag_connection([role_json(ws, r) for r in ws.subscription_roles.values()])


def _resolve_create_subscription(
    _root: Any,
    info: Info,
    factSheetId: str,  # noqa: N803
    user: JsonDict,
    type: str,
    roleIds: list[str | None] | None = None,  # noqa: N803
    roles: list[JsonDict | None] | None = None,
    factSheetRev: int | None = None,  # noqa: N803
    validateOnly: bool | None = None,  # noqa: N803
) -> FactSheetSubscription:
    """[V3] shape (SAP docs copy: factSheetId, user {id | email}, type, roleIds); ``roles``
    with comments and ``factSheetRev`` [V3] as SAP's automation examples send them."""
    ctx = _ctx(info)
    return ctx.subscriptions.create(
        fact_sheet_id=factSheetId,
        user=user,
        sub_type=type,
        role_ids=roleIds,
        roles=roles,
        fact_sheet_rev=factSheetRev,
        validate_only=bool(validateOnly),
        actor_id=ctx.user.id,
    )


def _resolve_delete_subscription(_root: Any, info: Info, id: str) -> FactSheetSubscription:
    """[V3] ``deleteSubscription(id:)`` answers the deleted subscription (clients read ``id``)."""
    ctx = _ctx(info)
    return ctx.subscriptions.delete(id, actor_id=ctx.user.id)


def _comment_author(comment: Comment, info: Info) -> JsonDict | None:
    user = _ctx(info).ws.users_by_id.get(comment.author_id)
    return user_json(user) if user is not None else None


def _resolve_create_comment(
    _root: Any,
    info: Info,
    factSheetId: str,  # noqa: N803
    message: str,
    status: str | None = None,
) -> Comment:
    """``createComment`` answers the comment.

    # ASSUMPTION [U]: ``createComment(factSheetId, message, status)``, not in the reference.
    """
    ctx = _ctx(info)
    return ctx.comments.create(
        fact_sheet_id=factSheetId, message=message, status=status, actor_id=ctx.user.id
    )


def _resolve_update(
    _root: Any,
    info: Info,
    id: str,
    patches: list[JsonDict | None],
    rev: int | None = None,
    comment: str | None = None,
    validateOnly: bool | None = None,  # noqa: N803
) -> JsonDict:
    ctx = _ctx(info)
    ctx.update_count += 1
    fs = ctx.mutator.update(
        id,
        rev=rev,
        patches=[p for p in patches if p is not None],
        validate_only=bool(validateOnly),
        user_id=ctx.user.id,
    )
    return {"factSheet": fs}


def _resolve_create(
    _root: Any,
    info: Info,
    input: JsonDict,
    patches: list[JsonDict | None] | None = None,
    validateOnly: bool | None = None,  # noqa: N803
) -> JsonDict:
    ctx = _ctx(info)
    fs = ctx.mutator.create(
        name=input["name"],
        fs_type=input["type"],
        patches=[p for p in patches or [] if p is not None],
        validate_only=bool(validateOnly),
        user_id=ctx.user.id,
    )
    return {"factSheet": fs}


def _resolve_create_tag(
    _root: Any,
    info: Info,
    name: str,
    tagGroupId: str | None = None,  # noqa: N803
    description: str | None = None,
    color: str | None = None,
    validateOnly: bool | None = None,  # noqa: N803
) -> Tag:
    ws = _ctx(info).ws
    if tagGroupId is not None and tagGroupId not in ws.tag_groups:
        raise lx_error(f"Tag group {tagGroupId} does not exist", NOT_FOUND)
    if ws.find_tag(name, tagGroupId) is not None:
        # ASSUMPTION [I] §2.7: a duplicate tag name within a group is rejected.
        raise lx_error(f"Tag '{name}' already exists in this group", "CONSTRAINT_VIOLATION")
    tag = Tag(id=new_id(), name=name, group_id=tagGroupId, description=description, color=color)
    return tag if validateOnly else ws.add_tag(tag)


def _resolve_upsert_tag_group(
    _root: Any,
    info: Info,
    name: str,
    mode: str | None = None,
    restrictToFactSheetTypes: list[str | None] | None = None,  # noqa: N803
    shortName: str | None = None,  # noqa: N803
    description: str | None = None,
    mandatory: bool | None = None,
) -> TagGroup:
    """Idempotent by name ([V] §2.7); given attributes overwrite, omitted ones are kept."""
    ws = _ctx(info).ws
    group = ws.find_tag_group(name)
    if group is None:
        group = ws.add_tag_group(TagGroup(id=new_id(), name=name))
    if mode is not None:
        group.mode = mode
    if restrictToFactSheetTypes is not None:
        group.restrict_to = [t for t in restrictToFactSheetTypes if t is not None]
    if shortName is not None:
        group.short_name = shortName
    if description is not None:
        group.description = description
    if mandatory is not None:
        group.mandatory = mandatory
    return group


def _resolve_upsert_tag(
    _root: Any,
    info: Info,
    name: str,
    tagGroupName: str | None = None,  # noqa: N803
    description: str | None = None,
    color: str | None = None,
) -> Tag:
    """Idempotent by (group, name) ([V] §2.7)."""
    ws = _ctx(info).ws
    group_id: str | None = None
    if tagGroupName is not None:
        group = ws.find_tag_group(tagGroupName)
        if group is None:
            # ASSUMPTION [I] §2.7: upsertTag does not create a missing tag group.
            raise lx_error(f"Tag group '{tagGroupName}' does not exist", NOT_FOUND)
        group_id = group.id
    tag = ws.find_tag(name, group_id)
    if tag is None:
        tag = ws.add_tag(Tag(id=new_id(), name=name, group_id=group_id))
    if description is not None:
        tag.description = description
    if color is not None:
        tag.color = color
    return tag


def _set_resolvers(obj: GraphQLObjectType, resolvers: dict[str, Callable[..., Any]]) -> None:
    fields: dict[str, GraphQLField] = obj.fields
    for name, fn in resolvers.items():
        fields[name].resolve = fn


def build(data_model: DataModel) -> GraphQLSchema:
    """Build the executable schema for ``data_model``."""
    schema = build_schema(build_sdl(data_model))
    long_type = schema.type_map["Long"]
    if not isinstance(long_type, GraphQLScalarType):
        raise TypeError("the SDL must declare Long as a scalar")
    long_type.serialize = int  # type: ignore[method-assign,assignment]
    long_type.parse_value = _parse_long  # type: ignore[method-assign]
    long_type.parse_literal = _parse_long_literal  # type: ignore[method-assign,assignment]

    def type_of(obj: Any, _info: Info, _abstract: Any) -> str:
        fs_type: str = obj.type
        return fs_type

    base = schema.type_map["BaseFactSheet"]
    base.resolve_type = type_of  # type: ignore[attr-defined]
    relations = relation_fields(data_model)
    for fs_type, fields in data_model.items():
        obj = schema.type_map[fs_type]
        if not isinstance(obj, GraphQLObjectType):
            raise TypeError(f"{fs_type} must be an object type")
        _set_resolvers(obj, _fact_sheet_resolvers(fs_type, fields, relations.get(fs_type, {})))

    def _obj(name: str) -> GraphQLObjectType:
        t = schema.type_map[name]
        if not isinstance(t, GraphQLObjectType):
            raise TypeError(f"{name} must be an object type")
        return t

    _set_resolvers(
        _obj("Tag"),
        {
            "tagGroup": lambda t, i: _ctx(i).ws.tag_groups.get(t.group_id) if t.group_id else None,
        },
    )
    _set_resolvers(
        _obj("TagGroup"),
        {
            "shortName": lambda g, _i: g.short_name,
            "restrictToFactSheetTypes": lambda g, _i: g.restrict_to,
            "tags": lambda g, i: _tag_connection([_ctx(i).ws.tags[t] for t in g.tag_ids]),
        },
    )
    _set_resolvers(
        _obj("Subscription"),
        {
            "user": _subscription_user,
            "roles": _subscription_roles,
            "createdAt": lambda sub, _i: sub.created_at,
            "factSheet": lambda sub, i: _ctx(i).ws.fact_sheets.get(sub.fact_sheet_id),
        },
    )
    _set_resolvers(
        _obj("Comment"),
        {
            "createdAt": lambda c, _i: c.created_at,
            "author": _comment_author,
            "factSheet": lambda c, i: _ctx(i).ws.fact_sheets.get(c.fact_sheet_id),
        },
    )
    _set_resolvers(
        _obj("FactSheetConnection"),
        {
            "totalCount": lambda c, _i: c.total_count(),
            "pageInfo": lambda c, _i: c.page_info(),
            "edges": lambda c, _i: c.edges(),
            "filterOptions": lambda c, _i: c.filter_options(),
        },
    )
    _set_resolvers(
        _obj("Query"),
        {
            "factSheet": _resolve_fact_sheet,
            "allFactSheets": _resolve_all_fact_sheets,
            "allTags": _resolve_all_tags,
            "allTagGroups": _resolve_all_tag_groups,
            "allSubscriptionRoles": _resolve_all_subscription_roles,
        },
    )
    _set_resolvers(
        _obj("Mutation"),
        {
            "updateFactSheet": _resolve_update,
            "createFactSheet": _resolve_create,
            "createTag": _resolve_create_tag,
            "upsertTagGroup": _resolve_upsert_tag_group,
            "upsertTag": _resolve_upsert_tag,
            "createSubscription": _resolve_create_subscription,
            "deleteSubscription": _resolve_delete_subscription,
            "createComment": _resolve_create_comment,
        },
    )
    return schema
