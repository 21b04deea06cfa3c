"""Seed documents: load a workspace from JSON, or generate a large one deterministically.

A seed document is plain JSON (see ``lx_sandbox/fixtures/demo_workspace.json``)::

    {"workspace": {"id", "name"}, "account": {"id", "name"},
     "users": [{"id", "username", "token", "technical", "email"?, "firstName"?, "lastName"?,
                "status"?}],
     "dataModel": {"Application": {"functionalSuitability": [...values, worst first...],
                                   "cloudReadinessScore": {"type": "DOUBLE"}}},
     "tagGroups": [{"id", "name", "shortName", "description", "mode",
                    "restrictToFactSheetTypes", "tags": [{"id", "name", "description", "color"}]}],
     "otherTags": [{"id", "name"}],
     "factSheets": [{"id", "type", "name", "description", "fields": {}, "tags": [tagId],
                     "lxState", "status", "rev", "completion": 0..1,
                     "lifecycle": {"phases": [{"phase", "startDate"}]}}],
     "relations": [{"id"?, "type": "rel<From>To<To>", "fromId", "toId", "attributes"?}],
     "subscriptionRoles": [{"id", "name", "subscriptionType", "description",
                            "restrictToFactSheetTypes"}],
     "subscriptions": [{"id", "factSheetId", "userId", "type", "roleIds", "createdAt"}]}

``dataModel`` is merged over the default model: a list replaces that field's value order (a
single-select), ``{"type": "DOUBLE" | "INTEGER" | "STRING"}`` declares a number or text field,
``null`` removes the field. Keeping seeds as data (not code) lets tests and the demo post them
over HTTP.
A document without ``subscriptionRoles`` gets :func:`default_subscription_roles`; the demo
fixture and generated workspaces also get :func:`default_subscriptions` (hand-written documents
have only the subscriptions they list).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import random
import re
import uuid
from collections.abc import Iterator
from importlib import resources
from typing import Any

from lx_sandbox.emulator.schema import RESERVED_TYPE_NAMES
from lx_sandbox.emulator.state import (
    DEFAULT_DATA_MODEL,
    LIFECYCLE_PHASES,
    LIFECYCLE_TYPES,
    SUBSCRIPTION_TYPES,
    VALUE_TYPES,
    DataModel,
    FactSheetSubscription,
    FieldSpec,
    FieldValue,
    Relation,
    SubscriptionRole,
    Tag,
    TagGroup,
    User,
    Workspace,
    copy_data_model,
    lifecycle_phases,
    now_iso,
    parse_value,
    value_fits,
    value_type,
)

JsonDict = dict[str, Any]

DEMO_FIXTURE = "demo_workspace.json"
TECHNICAL_TOKEN = "sandbox-technical-user-token"  # noqa: S105 - public sandbox token
HUMAN_TOKEN = "sandbox-human-user-token"  # noqa: S105 - public sandbox token

_ENUM_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


def load_fixture(name: str = DEMO_FIXTURE) -> JsonDict:
    """Read a fixture shipped in ``lx_sandbox/fixtures`` (the demo one with its default
    subscription roles and subscribers, unless the file lists its own)."""
    text = resources.files("lx_sandbox").joinpath("fixtures", name).read_text(encoding="utf-8")
    doc: JsonDict = json.loads(text)
    if name == DEMO_FIXTURE:
        with_default_subscriptions(doc)
    return doc


# --- users and fact-sheet subscriptions -----------------------------------------------------

#: (name, subscriptionType, description, restrictToFactSheetTypes) of the default roles.
DEFAULT_SUBSCRIPTION_ROLES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Application Owner", "RESPONSIBLE", "Keeps the fact sheet up to date", ()),
    ("Business Owner", "ACCOUNTABLE", "Accountable for the fact sheet", ()),
    ("Observer", "OBSERVER", "Follows the fact sheet", ()),
    ("Technical Owner", "RESPONSIBLE", "Runs the component", ("ITComponent",)),
)
#: ``createdAt`` of seeded subscriptions (fixed, so seed documents stay deterministic).
SEEDED_SUBSCRIPTION_CREATED_AT = "2024-01-15T09:00:00Z"


def _stable_id(*parts: str) -> str:
    """A UUID derived from ``parts`` (same parts = same id, no RNG drawn)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "lx-sandbox:" + ":".join(parts)))


def default_subscription_roles(workspace_id: str) -> list[JsonDict]:
    """The seed form of the default subscription roles (ids derived from the workspace id).

    # ASSUMPTION [U]: role names are the emulator's examples; real workspaces configure their
    # own. "Technical Owner" is restricted to ITComponent so restrictions can be tested.
    """
    return [
        {
            "id": _stable_id(workspace_id, "subscription-role", name),
            "name": name,
            "subscriptionType": sub_type,
            "description": description,
            "restrictToFactSheetTypes": list(restrict),
        }
        for name, sub_type, description, restrict in DEFAULT_SUBSCRIPTION_ROLES
    ]


def default_subscriptions(doc: JsonDict) -> list[JsonDict]:
    """Subscribers of the first three active Applications of a seed document.

    1st: the human user ACCOUNTABLE (Business Owner); 2nd: the human user RESPONSIBLE
    (Application Owner); 3rd: the human user RESPONSIBLE (Application Owner) and the technical
    user OBSERVER (Observer). Ids are derived from the workspace, fact sheet, user and type.

    # ASSUMPTION [U]: the emulator's example subscribers, so tests can read some.
    """
    ws_id = doc["workspace"]["id"]
    roles = {r["name"]: r["id"] for r in default_subscription_roles(ws_id)}
    users = doc.get("users") or []
    human = next((u["id"] for u in users if not u.get("technical", True)), None)
    technical = next((u["id"] for u in users if u.get("technical", True)), None)
    apps = [
        f["id"]
        for f in doc.get("factSheets") or []
        if f["type"] == "Application" and f.get("status", "ACTIVE") == "ACTIVE"
    ][:3]
    plan = [
        (0, human, "ACCOUNTABLE", "Business Owner"),
        (1, human, "RESPONSIBLE", "Application Owner"),
        (2, human, "RESPONSIBLE", "Application Owner"),
        (2, technical, "OBSERVER", "Observer"),
    ]
    subs: list[JsonDict] = []
    for index, user_id, sub_type, role in plan:
        if user_id is None or index >= len(apps):
            continue
        subs.append(
            {
                "id": _stable_id(ws_id, "subscription", apps[index], user_id, sub_type),
                "factSheetId": apps[index],
                "userId": user_id,
                "type": sub_type,
                "roleIds": [roles[role]],
                "createdAt": SEEDED_SUBSCRIPTION_CREATED_AT,
            }
        )
    return subs


def with_default_subscriptions(doc: JsonDict) -> JsonDict:
    """Add the default roles and subscribers to ``doc`` where it names none (in place)."""
    doc.setdefault("subscriptionRoles", default_subscription_roles(doc["workspace"]["id"]))
    if "subscriptions" not in doc:
        doc["subscriptions"] = default_subscriptions(doc)
    return doc


def _user(u: JsonDict) -> User:
    """A seed document's user; e-mail and names default from the username.

    # ASSUMPTION [U]: a username with an ``@`` is the e-mail address; a human's first and last
    # name come from the address's ``first.last`` part; a technical user has no e-mail and no
    # names (its display name is its username).
    """
    username = u["username"]
    technical = bool(u.get("technical", True))
    email = u.get("email") or (username if "@" in username else None)
    first, last = u.get("firstName"), u.get("lastName")
    if not technical and email and first is None and last is None:
        parts = email.split("@", 1)[0].split(".")
        first = parts[0].title() or None
        last = " ".join(p.title() for p in parts[1:] if p) or None
    return User(
        id=u["id"],
        username=username,
        token=u["token"],
        technical=technical,
        role=u.get("role", "ADMIN"),
        email=email,
        first_name=first,
        last_name=last,
        status=u.get("status", "ACTIVE"),
    )


def _load_subscriptions(ws: Workspace, doc: JsonDict) -> None:
    """Roles (the defaults when the document has none) and subscriptions, checked."""
    roles = doc.get("subscriptionRoles")
    for r in default_subscription_roles(ws.id) if roles is None else roles:
        if r["subscriptionType"] not in SUBSCRIPTION_TYPES:
            raise ValueError(f"role {r['id']}: invalid subscriptionType {r['subscriptionType']!r}")
        ws.add_subscription_role(
            SubscriptionRole(
                id=r["id"],
                name=r["name"],
                subscription_type=r["subscriptionType"],
                description=r.get("description"),
                restrict_to=list(r.get("restrictToFactSheetTypes") or []),
            )
        )
    # Locals and positional arguments: generated:10000 loads about 7,700 of these.
    fact_sheets, users = ws.fact_sheets, ws.users_by_id
    role_types = {r.id: r.subscription_type for r in ws.subscription_roles.values()}
    add = ws.add_subscription
    for s in doc.get("subscriptions") or []:
        sub_id, fs_id, user_id, sub_type = s["id"], s["factSheetId"], s["userId"], s["type"]
        if fs_id not in fact_sheets or user_id not in users:
            raise ValueError(f"subscription {sub_id}: unknown fact sheet or user")
        if sub_type not in SUBSCRIPTION_TYPES:
            raise ValueError(f"subscription {sub_id}: invalid type {sub_type!r}")
        role_ids = s.get("roleIds") or ()
        for role_id in role_ids:
            if role_types.get(role_id) != sub_type:
                raise ValueError(f"subscription {sub_id}: role {role_id} does not fit")
        add(
            FactSheetSubscription(
                sub_id,
                fs_id,
                user_id,
                sub_type,
                dict.fromkeys(role_ids),
                s.get("createdAt") or SEEDED_SUBSCRIPTION_CREATED_AT,
            )
        )


#: Fields every fact sheet type has in GraphQL: a data-model field may not take their names.
RESERVED_FIELDS = frozenset(
    {
        "id",
        "rev",
        "name",
        "displayName",
        "fullName",
        "type",
        "category",
        "description",
        "status",
        "lxState",
        "level",
        "tags",
        "subscriptions",
        "createdAt",
        "updatedAt",
        "completion",
        "comments",
        "lifecycle",
        "externalId",
    }
)
_RELATION_NAME = re.compile(r"^rel[A-Z]")


def _field_spec(fs_type: str, field_name: str, spec: Any) -> FieldSpec:
    """A checked field spec: a list of enum names (single-select) or ``{"type": T}``."""
    where = f"{fs_type}.{field_name}"
    if not _ENUM_NAME.match(field_name):
        raise ValueError(f"invalid field {where}: not a GraphQL name")
    if field_name in RESERVED_FIELDS or _RELATION_NAME.match(field_name):
        raise ValueError(f"invalid field {where}: the name is taken by a built-in field")
    if isinstance(spec, dict):
        kind = spec.get("type")
        if set(spec) != {"type"} or kind not in VALUE_TYPES:
            raise ValueError(
                f"invalid field {where}: expected [values...] or "
                f'{{"type": {" | ".join(repr(t) for t in VALUE_TYPES)}}}, got {spec!r}'
            )
        return {"type": str(kind)}
    if not isinstance(spec, list) or not spec:
        raise ValueError(f"invalid field {where}: expected a non-empty list of values")
    bad = [v for v in spec if not isinstance(v, str) or not _ENUM_NAME.match(v)]
    if bad or len(set(spec)) != len(spec):
        raise ValueError(f"invalid values for {where}: {spec!r}")
    return list(spec)


def _check_names(fs_type: str, fields: dict[str, FieldSpec]) -> None:
    """A single-select ``x`` also serves ``xDescription``; no other field may take that name."""
    described = {f + "Description" for f, spec in fields.items() if isinstance(spec, list)}
    clash = sorted(described & set(fields))
    if clash:
        raise ValueError(
            f"invalid field {fs_type}.{clash[0]}: the name is taken by the description of "
            f"the single-select {clash[0].removesuffix('Description')}"
        )


def merge_data_model(base: DataModel, override: dict[str, Any] | None) -> DataModel:
    """Apply a data-model override (a list: a single-select's values, worst first, each a
    GraphQL enum name; ``{"type": "DOUBLE" | "INTEGER" | "STRING"}``: a number or text field;
    ``null``: remove the field). Raises ValueError naming the field."""
    merged = copy_data_model(base)
    if override is not None and not isinstance(override, dict):
        raise ValueError('expected {type: {field: [values...] | {"type": T} | null}}')
    for fs_type, fields in (override or {}).items():
        if not _ENUM_NAME.match(fs_type):
            raise ValueError(f"invalid fact sheet type name {fs_type!r}")
        if fs_type in RESERVED_TYPE_NAMES or fs_type.startswith("__"):
            raise ValueError(f"invalid fact sheet type name {fs_type!r}: a GraphQL type's name")
        if fields is not None and not isinstance(fields, dict):
            raise ValueError(f"invalid fields of {fs_type}: expected an object")
        target = merged.setdefault(fs_type, {})
        for field_name, spec in (fields or {}).items():
            if spec is None:
                target.pop(field_name, None)
            else:
                target[field_name] = _field_spec(fs_type, field_name, spec)
        _check_names(fs_type, target)
    return merged


def _field_value(fs_id: str, spec: FieldSpec | None, key: str, value: Any) -> FieldValue:
    """A seed's field value, checked against its spec (ValueError naming the fact sheet)."""
    kind = value_type(spec)
    if kind is not None:
        try:
            return parse_value(kind, value)
        except ValueError as exc:
            raise ValueError(f"fact sheet {fs_id}: invalid {key}={value!r}: {exc}") from exc
    if not isinstance(spec, list) or value not in spec:
        raise ValueError(f"fact sheet {fs_id}: invalid {key}={value!r}")
    return str(value)


def _completion(fs_id: str, value: Any) -> float:
    """A seed's ``completion``: a number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"fact sheet {fs_id}: completion must be a number in [0, 1]")
    return float(value)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a workspace is built or generated.

    ``generated:10000`` allocates some 150,000 long-lived objects (fact sheets, their dicts,
    subscriptions, lifecycles) that hold no reference cycles; without a pause the collector
    rescans the growing heap again and again, a third of the whole time. Restores the previous
    state (a pause inside a pause leaves it off).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_workspace(doc: JsonDict, data_model_override: dict[str, Any] | None = None) -> Workspace:
    """Turn a seed document into a :class:`Workspace` (validates references)."""
    with _gc_paused():
        return _build_workspace(doc, data_model_override)


def _build_workspace(doc: JsonDict, data_model_override: dict[str, Any] | None) -> Workspace:
    doc_model = merge_data_model(DEFAULT_DATA_MODEL, doc.get("dataModel"))
    # Values that only the extra override invalidates are dropped (the fact sheet loses the
    # value), values invalid under the document's own model are an error.
    model = merge_data_model(doc_model, data_model_override) if data_model_override else doc_model
    ws_doc = doc["workspace"]
    account = doc.get("account") or {"id": str(uuid.uuid4()), "name": "Sandbox Account"}
    ws = Workspace(
        workspace_id=ws_doc["id"],
        name=ws_doc["name"],
        account_id=account["id"],
        account_name=account["name"],
        data_model=model,
    )
    for u in doc.get("users", []):
        ws.add_user(_user(u))
    for g in doc.get("tagGroups", []):
        ws.add_tag_group(
            TagGroup(
                id=g["id"],
                name=g["name"],
                short_name=g.get("shortName"),
                description=g.get("description"),
                mode=g.get("mode", "MULTIPLE"),
                mandatory=bool(g.get("mandatory", False)),
                restrict_to=list(g.get("restrictToFactSheetTypes") or []),
            )
        )
        for t in g.get("tags", []):
            ws.add_tag(
                Tag(
                    id=t["id"],
                    name=t["name"],
                    group_id=g["id"],
                    description=t.get("description"),
                    color=t.get("color"),
                )
            )
    for t in doc.get("otherTags", []):
        ws.add_tag(Tag(id=t["id"], name=t["name"], group_id=None, description=t.get("description")))
    stamp = now_iso()  # one creation time for every seeded fact sheet
    for f in doc.get("factSheets", []):
        _load_fact_sheet(ws, f, doc_model.get(f["type"], {}), model.get(f["type"], {}), stamp)
    _load_relations(ws, doc)
    _load_subscriptions(ws, doc)
    return ws


def _load_fact_sheet(
    ws: Workspace,
    f: JsonDict,
    declared: dict[str, FieldSpec],
    allowed: dict[str, FieldSpec],
    stamp: str,
) -> None:
    """One seed fact sheet: values invalid under the document's own model (``declared``) are an
    error, values only the extra override (``allowed``) invalidates are dropped."""
    fs_id, fs_type = f["id"], f["type"]
    fields: dict[str, FieldValue] = {}
    for key, value in (f.get("fields") or {}).items():
        if value is None:
            continue
        spec = declared.get(key)
        # The common case (a known single-select value) stays a dict lookup and a list scan.
        if isinstance(spec, list) and value in spec:
            fields[key] = value
        else:
            fields[key] = _field_value(fs_id, spec, key, value)
    if allowed is not declared:
        fields = {k: v for k, v in fields.items() if value_fits(allowed.get(k), v)}
    for tag_id in f.get("tags", []):
        if tag_id not in ws.tags:
            raise ValueError(f"fact sheet {fs_id}: unknown tag {tag_id}")
    completion = f.get("completion")
    fs = ws.add_fact_sheet(
        fs_type=fs_type,
        name=f["name"],
        fs_id=fs_id,
        description=f.get("description"),
        fields=fields,
        tag_ids=f.get("tags", []),
        status=f.get("status", "ACTIVE"),
        lx_state=f.get("lxState", "DRAFT"),
        rev=int(f.get("rev", 1)),
        completion=0.0 if completion is None else _completion(fs_id, completion),
        created_at=stamp,
    )
    lifecycle = f.get("lifecycle")
    if lifecycle is not None:
        if fs_type not in LIFECYCLE_TYPES:
            raise ValueError(f"fact sheet {fs_id}: a {fs_type} has no lifecycle")
        try:
            fs.set_lifecycle(lifecycle_phases(lifecycle))
        except ValueError as exc:
            raise ValueError(f"fact sheet {fs_id}: {exc}") from exc


def _load_relations(ws: Workspace, doc: JsonDict) -> None:
    """``relations: [{id?, type, fromId, toId, attributes?}]`` between seeded fact sheets (the
    store the Integration API engine writes, so GraphQL's ``rel<From>To<To>`` lists them)."""
    for index, r in enumerate(doc.get("relations") or []):
        rel_type, from_id, to_id = r.get("type"), r.get("fromId"), r.get("toId")
        if not isinstance(rel_type, str) or not _RELATION_NAME.match(rel_type):
            raise ValueError(f"relations[{index}]: type must be rel<From>To<To>, got {rel_type!r}")
        if from_id not in ws.fact_sheets or to_id not in ws.fact_sheets:
            raise ValueError(f"relations[{index}]: unknown fact sheet {from_id} or {to_id}")
        if ws.relation(rel_type, from_id, to_id) is not None:
            raise ValueError(f"relations[{index}]: duplicate {rel_type} {from_id} -> {to_id}")
        ws.add_relation(
            Relation(
                id=r.get("id") or _stable_id(ws.id, "relation", rel_type, from_id, to_id),
                type=rel_type,
                from_id=from_id,
                to_id=to_id,
                attributes=dict(r.get("attributes") or {}),
                rev=1,
            )
        )


# --- generated workspaces -------------------------------------------------------------------

FUNCTIONAL = DEFAULT_DATA_MODEL["Application"]["functionalSuitability"]
TECHNICAL = DEFAULT_DATA_MODEL["Application"]["technicalSuitability"]
TIME_TAGS = (
    ("Tolerate", "#81c1da"),
    ("Invest", "#00b361"),
    ("Migrate", "#fedd3a"),
    ("Eliminate", "#f8333c"),
)


FIT_FIELDS = ("functionalSuitability", "technicalSuitability")


def fit_orders(
    data_model: dict[str, Any] | None = None, fact_sheet_type: str = "Application"
) -> tuple[list[str], list[str]]:
    """Value orders (worst first) of the two fit fields: the model's own, else the defaults.

    ``data_model`` may be a seed's override (``{"Application": {"functionalSuitability": [...]}}``)
    or a whole data model as ``GET /_sandbox/datamodel`` returns it.
    """
    fields = (data_model or {}).get(fact_sheet_type) or {}
    functional = fields.get("functionalSuitability") or FUNCTIONAL
    technical = fields.get("technicalSuitability") or TECHNICAL
    return list(functional), list(technical)


def is_high(value: str, order: list[str], high_from: str | None = None) -> bool:
    """A value is high in the upper half of its field's order (index >= (len+1)//2), or at or
    above ``high_from`` when given. A value outside the order raises ValueError."""
    start = (len(order) + 1) // 2 if high_from is None else order.index(high_from)
    return order.index(value) >= start


def expected_time(
    functional: FieldValue | None,
    technical: FieldValue | None,
    data_model: dict[str, Any] | None = None,
    *,
    functional_high_from: str | None = None,
    technical_high_from: str | None = None,
) -> str | None:
    """The TIME class (§3.6) of two fits, judged independently of the client; None if unset.

    Both high = Invest, functional only = Migrate, technical only = Tolerate, neither =
    Eliminate. Used to build seeds with known right/wrong tags and to judge results in tests,
    never to decide anything at runtime. A value outside its order raises ValueError (the
    client classifies it as unclassifiable; a test should never produce one).
    """
    if not isinstance(functional, str) or not isinstance(technical, str):
        return None  # unset (a fit is never a number)
    if not functional or not technical:
        return None
    f_order, t_order = fit_orders(data_model)
    high_f = is_high(functional, f_order, functional_high_from)
    high_t = is_high(technical, t_order, technical_high_from)
    if high_f and high_t:
        return "Invest"
    if high_t:
        return "Tolerate"
    if high_f:
        return "Migrate"
    return "Eliminate"


def expected_time_of(
    fact_sheet: dict[str, Any],
    data_model: dict[str, Any] | None = None,
    **high_from: str | None,
) -> str | None:
    """:func:`expected_time` of one fact sheet as the admin API returns it (``values``), a
    seed document holds it (``fields``), or GraphQL does (the fit fields at the top level).

    ``data_model`` is ``GET /_sandbox/datamodel`` (or a seed's override); ``high_from`` takes
    ``functional_high_from`` / ``technical_high_from``.
    """
    values = fact_sheet.get("values") or fact_sheet.get("fields") or fact_sheet
    return expected_time(
        values.get("functionalSuitability"),
        values.get("technicalSuitability"),
        data_model,
        **high_from,
    )


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def base_document(rng: random.Random, *, workspace_name: str) -> JsonDict:
    """Workspace, users and tag groups shared by generated workspaces."""
    time_group: JsonDict = {
        "id": _uuid(rng),
        "name": "TIME Model",
        "shortName": "TIME",
        "description": "Gartner TIME classification",
        "mode": "SINGLE",
        "restrictToFactSheetTypes": ["Application"],
        "tags": [
            {"id": _uuid(rng), "name": n, "description": f"TIME: {n}", "color": c}
            for n, c in TIME_TAGS
        ],
    }
    return {
        "workspace": {"id": _uuid(rng), "name": workspace_name},
        "account": {"id": _uuid(rng), "name": "Sandbox Account"},
        "users": [
            {
                "id": _uuid(rng),
                "username": "lx-functions-technical-user",
                "token": TECHNICAL_TOKEN,
                "technical": True,
            },
            {
                "id": _uuid(rng),
                "username": "jane.doe@example.com",
                "token": HUMAN_TOKEN,
                "technical": False,
            },
        ],
        "tagGroups": [time_group],
        "otherTags": [],
        "factSheets": [],
    }


def _archived_indexes(n_applications: int, archived: float, seed: int) -> set[int]:
    """Exactly ``round(n * archived)`` Applications (1-based), from an RNG of their own, so
    archiving never changes the fits and tags the main RNG draws."""
    if not 0.0 <= archived <= 1.0:
        raise ValueError("archived must be a fraction within [0, 1]")
    count = round(n_applications * archived)
    if count == 0:
        return set()
    picker = random.Random(f"lx-sandbox-archived:{seed}")
    return set(picker.sample(range(1, n_applications + 1), count))


#: The project's own fields the demo and generated workspaces declare on Application (on top of
#: LeanIX's default data model): the survey score target and a free-text note.
SANDBOX_FIELDS: dict[str, dict[str, Any]] = {
    "Application": {
        "cloudReadinessScore": {"type": "DOUBLE"},
        "cloudReadinessNote": {"type": "STRING"},
    }
}


def _sandbox_data_model(data_model: dict[str, Any] | None) -> dict[str, Any]:
    """:data:`SANDBOX_FIELDS` with a caller's override on top (the override wins)."""
    merged: dict[str, Any] = {t: dict(f) for t, f in SANDBOX_FIELDS.items()}
    for fs_type, fields in (data_model or {}).items():
        merged[fs_type] = None if fields is None else {**merged.get(fs_type, {}), **fields}
    return merged


def generate_workspace(
    n_applications: int,
    seed: int,
    *,
    archived: float = 0.0,
    data_model: dict[str, Any] | None = None,
) -> JsonDict:
    """A deterministic seed document with ``n_applications`` Applications.

    Fits are spread over all values of their field's order (``data_model`` may give custom
    orders, worst first; about 10% unset each); about 10% carry a TIME tag, a third of those
    wrong; exactly ``round(n * archived)`` are ARCHIVED; every third is BROKEN_QUALITY_SEAL,
    the others APPROVED; the first three active ones have the :func:`default_subscriptions`
    (ids derived, no RNG drawn). Completion, lifecycles and the other subscribers come from
    :func:`_quality_extras` (an RNG of their own). Plain dicts and one RNG keep 10,000+
    Applications well under a second; ids, fits, tags and states are the same as they always
    were for the same options.
    """
    with _gc_paused():
        return _generate(n_applications, seed, archived, data_model)


def _generate(
    n_applications: int, seed: int, archived: float, data_model: dict[str, Any] | None
) -> JsonDict:
    rng = random.Random(seed)
    doc = base_document(rng, workspace_name=f"sandbox-generated-{n_applications}")
    doc["dataModel"] = _sandbox_data_model(data_model)
    f_values, t_values = fit_orders(data_model)
    gone = _archived_indexes(n_applications, archived, seed)
    time_tags = {t["name"]: t["id"] for t in doc["tagGroups"][0]["tags"]}
    names = list(time_tags)
    fact_sheets: list[JsonDict] = []
    for i in range(1, n_applications + 1):
        fields: dict[str, str] = {}
        functional = rng.choice(f_values) if rng.random() >= 0.1 else None
        technical = rng.choice(t_values) if rng.random() >= 0.1 else None
        if functional:
            fields["functionalSuitability"] = functional
        if technical:
            fields["technicalSuitability"] = technical
        tags: list[str] = []
        if rng.random() < 0.1:
            right = expected_time(functional, technical, data_model)
            pick = right if right and rng.random() < 0.67 else rng.choice(names)
            tags.append(time_tags[pick])
        app: JsonDict = {
            "id": _uuid(rng),
            "type": "Application",
            "name": f"Generated App {i:05d}",
            "fields": fields,
            "tags": tags,
            "lxState": "APPROVED" if i % 3 else "BROKEN_QUALITY_SEAL",
        }
        if i in gone:
            app["status"] = "ARCHIVED"
        fact_sheets.append(app)
    for i in range(1, max(1, n_applications // 20) + 1):
        fact_sheets.append(
            {"id": _uuid(rng), "type": "ITComponent", "name": f"Generated Component {i:04d}"}
        )
    doc["factSheets"] = fact_sheets
    with_default_subscriptions(doc)
    _quality_extras(doc, seed)
    return doc


#: Lifecycle shares of generated fact sheets: (share with a lifecycle, share of those whose
#: endOfLife is already past), per type.
_LIFECYCLE_SHARES = {"Application": (0.4, 0.25), "ITComponent": (0.6, 0.3)}
_PHASE_STEPS = {True: (0, 1, 2, 6, 8), False: (0, 1, 2, 8, 11)}


@functools.lru_cache(maxsize=8192)
def _dates(year: int, month: int, day: int, past_end: bool) -> tuple[tuple[str, str], ...]:
    """Five ascending phase dates in years after ``year`` (fixed, not relative to today, so a
    document stays the same): endOfLife in 2016-2023 when ``past_end``, else 2031-2038."""
    return tuple(
        (phase, f"{year + step:04d}-{month:02d}-{day:02d}")
        for phase, step in zip(LIFECYCLE_PHASES, _PHASE_STEPS[past_end], strict=True)
    )


def _quality_extras(doc: JsonDict, seed: int) -> None:
    """Completion (0..1, two decimals) of every fact sheet, lifecycles for a share of
    Applications and ITComponents (some past end of life), and subscribers for a share of the
    active ones (about a third of the Applications have none), all drawn from an RNG of their
    own so the main RNG's ids, fits and tags stay as they were. Kept lean: it runs for every
    fact sheet of ``generated:10000``.

    # ASSUMPTION [U]: the shares and subscriber mix are the emulator's examples.
    """
    draw = random.Random(f"lx-sandbox-quality:{seed}").random
    roles = {r["name"]: [r["id"]] for r in doc["subscriptionRoles"]}
    users = doc["users"]
    human = next(u["id"] for u in users if not u.get("technical", True))
    technical = next(u["id"] for u in users if u.get("technical", True))
    owner = (human, "RESPONSIBLE", roles["Application Owner"])
    # (upper bound of the draw, subscribers): none, an owner, an accountable, an owner with a
    # technical observer, or only the technical user as owner (who is never a real owner).
    app_plans: tuple[tuple[float, tuple[tuple[str, str, list[str]], ...]], ...] = (
        (0.35, ()),
        (0.65, (owner,)),
        (0.8, ((human, "ACCOUNTABLE", roles["Business Owner"]),)),
        (0.9, (owner, (technical, "OBSERVER", roles["Observer"]))),
        (1.0, ((technical, "RESPONSIBLE", roles["Application Owner"]),)),
    )
    itc_plan = ((human, "RESPONSIBLE", roles["Technical Owner"]),)
    subscribed = {s["factSheetId"] for s in doc["subscriptions"]}
    subs: list[JsonDict] = doc["subscriptions"]
    # Subscription ids: the workspace id's first groups and a counter (unique, no RNG drawn).
    prefix = doc["workspace"]["id"][:24]
    count = 0
    for fs in doc["factSheets"]:
        fs_type = fs["type"]
        fs["completion"] = round(draw(), 2)
        with_lifecycle, past = _LIFECYCLE_SHARES.get(fs_type, (0.0, 0.0))
        if draw() < with_lifecycle:
            year = (2008 if draw() < past else 2020) + int(draw() * 8)
            dates = _dates(year, 1 + int(draw() * 12), 1 + int(draw() * 28), year < 2016)
            fs["lifecycle"] = dict(dates)
        pick = draw()
        if fs.get("status", "ACTIVE") != "ACTIVE" or fs["id"] in subscribed:
            continue
        if fs_type == "Application":
            plan = next(p for limit, p in app_plans if pick < limit)
        elif fs_type == "ITComponent" and pick < 0.5:
            plan = itc_plan
        else:
            continue
        for user_id, sub_type, role_ids in plan:
            count += 1
            subs.append(
                {
                    "id": f"{prefix}{count:012x}",
                    "factSheetId": fs["id"],
                    "userId": user_id,
                    "type": sub_type,
                    "roleIds": role_ids,
                    "createdAt": SEEDED_SUBSCRIPTION_CREATED_AT,
                }
            )
