"""Seed documents: load a workspace from JSON, or generate a large one deterministically.

A seed document is plain JSON (see ``lx_sandbox/fixtures/demo_workspace.json``)::

    {"workspace": {"id", "name"}, "account": {"id", "name"},
     "users": [{"id", "username", "token", "technical", "email"?, "firstName"?, "lastName"?,
                "status"?}],
     "dataModel": {"Application": {"functionalSuitability": [...values, worst first...]}},
     "tagGroups": [{"id", "name", "shortName", "description", "mode",
                    "restrictToFactSheetTypes", "tags": [{"id", "name", "description", "color"}]}],
     "otherTags": [{"id", "name"}],
     "factSheets": [{"id", "type", "name", "description", "fields": {}, "tags": [tagId],
                     "lxState", "status", "rev"}],
     "subscriptionRoles": [{"id", "name", "subscriptionType", "description",
                            "restrictToFactSheetTypes"}],
     "subscriptions": [{"id", "factSheetId", "userId", "type", "roleIds", "createdAt"}]}

``dataModel`` is merged over the default model: a list replaces that field's value order, ``null``
removes the field. Keeping seeds as data (not code) lets tests and the demo post them over HTTP.
A document without ``subscriptionRoles`` gets :func:`default_subscription_roles`; the demo
fixture and generated workspaces also get :func:`default_subscriptions` (hand-written documents
have only the subscriptions they list).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from importlib import resources
from typing import Any

from lx_sandbox.emulator.state import (
    DEFAULT_DATA_MODEL,
    SUBSCRIPTION_TYPES,
    FactSheetSubscription,
    SubscriptionRole,
    Tag,
    TagGroup,
    User,
    Workspace,
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
    for s in doc.get("subscriptions") or []:
        if s["factSheetId"] not in ws.fact_sheets or s["userId"] not in ws.users_by_id:
            raise ValueError(f"subscription {s['id']}: unknown fact sheet or user")
        if s["type"] not in SUBSCRIPTION_TYPES:
            raise ValueError(f"subscription {s['id']}: invalid type {s['type']!r}")
        for role_id in s.get("roleIds") or []:
            role = ws.subscription_roles.get(role_id)
            if role is None or role.subscription_type != s["type"]:
                raise ValueError(f"subscription {s['id']}: role {role_id} does not fit")
        ws.add_subscription(
            FactSheetSubscription(
                id=s["id"],
                fact_sheet_id=s["factSheetId"],
                user_id=s["userId"],
                type=s["type"],
                role_ids=dict.fromkeys(s.get("roleIds") or []),
                created_at=s.get("createdAt") or SEEDED_SUBSCRIPTION_CREATED_AT,
            )
        )


def merge_data_model(
    base: dict[str, dict[str, list[str]]], override: dict[str, Any] | None
) -> dict[str, dict[str, list[str]]]:
    """Apply a data-model override; values must be valid GraphQL enum names."""
    merged = {t: {f: list(v) for f, v in fields.items()} for t, fields in base.items()}
    for fs_type, fields in (override or {}).items():
        if not _ENUM_NAME.match(fs_type):
            raise ValueError(f"invalid fact sheet type name {fs_type!r}")
        target = merged.setdefault(fs_type, {})
        for field_name, values in (fields or {}).items():
            if values is None:
                target.pop(field_name, None)
                continue
            if not _ENUM_NAME.match(field_name) or not values:
                raise ValueError(f"invalid field {fs_type}.{field_name}")
            bad = [v for v in values if not isinstance(v, str) or not _ENUM_NAME.match(v)]
            if bad or len(set(values)) != len(values):
                raise ValueError(f"invalid values for {fs_type}.{field_name}: {values!r}")
            target[field_name] = list(values)
    return merged


def build_workspace(doc: JsonDict, data_model_override: dict[str, Any] | None = None) -> Workspace:
    """Turn a seed document into a :class:`Workspace` (validates references)."""
    doc_model = merge_data_model(DEFAULT_DATA_MODEL, doc.get("dataModel"))
    # Values that only the extra override invalidates are dropped (the fact sheet loses the
    # value), values invalid under the document's own model are an error.
    model = merge_data_model(doc_model, data_model_override)
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
    for f in doc.get("factSheets", []):
        fs_type = f["type"]
        fields = {k: v for k, v in (f.get("fields") or {}).items() if v is not None}
        declared = doc_model.get(fs_type, {})
        for key, value in fields.items():
            if key not in declared or value not in declared[key]:
                raise ValueError(f"fact sheet {f['id']}: invalid {key}={value!r}")
        allowed = model.get(fs_type, {})
        fields = {k: v for k, v in fields.items() if k in allowed and v in allowed[k]}
        for tag_id in f.get("tags", []):
            if tag_id not in ws.tags:
                raise ValueError(f"fact sheet {f['id']}: unknown tag {tag_id}")
        ws.add_fact_sheet(
            fs_type=fs_type,
            name=f["name"],
            fs_id=f["id"],
            description=f.get("description"),
            fields=fields,
            tag_ids=f.get("tags", []),
            status=f.get("status", "ACTIVE"),
            lx_state=f.get("lxState", "DRAFT"),
            rev=int(f.get("rev", 1)),
        )
    _load_subscriptions(ws, doc)
    return ws


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
    functional: str | None,
    technical: str | None,
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
    wrong; exactly ``round(n * archived)`` are ARCHIVED; the first three active ones have the
    :func:`default_subscriptions` (ids derived, no RNG drawn). Plain dicts and one RNG keep 10,000+
    Applications well under a second; without options the output is the same as it always was.
    """
    rng = random.Random(seed)
    doc = base_document(rng, workspace_name=f"sandbox-generated-{n_applications}")
    if data_model:
        doc["dataModel"] = data_model
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
    return with_default_subscriptions(doc)
