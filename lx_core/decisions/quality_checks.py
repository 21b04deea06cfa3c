"""Which gaps one fact sheet has, and who should fix them. Pure: no I/O.

Read from one paged ``allFactSheets`` pass (``quality_selection`` names what each rule needs).
Technical users are never owners: a digest to a machine helps no one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lx_core.decisions.quality_figures import end_of_life, has_owner
from lx_core.quality.model import Checker, Owners

_DEFAULT_MESSAGES = {
    "required_field": "{field} is empty",
    "broken_seal": "the quality seal is broken",
    "no_owner": "nobody is accountable or responsible",
    "end_of_life_past": "its end of life has passed but it is still active",
    "stale": "not updated for more than {days} days",
}


@dataclass(frozen=True)
class Gap:
    checker: str
    text: str


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str


def gap_text(checker: Checker) -> str:
    template = checker.message or _DEFAULT_MESSAGES[checker.rule]
    return template.format(field=checker.field or "", days=checker.days or 0)


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _updated(node: Mapping[str, Any]) -> date | None:
    text = node.get("updatedAt")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def gaps(checkers: Sequence[Checker], node: Mapping[str, Any], today: date) -> list[Gap]:
    """The gaps of an active fact sheet under the checkers of its type (archived: none)."""
    if node.get("status") == "ARCHIVED":
        return []
    found: list[Gap] = []
    for checker in checkers:
        rule = checker.rule
        if rule == "required_field":
            hit = _empty(node.get(checker.field or ""))
        elif rule == "broken_seal":
            hit = node.get("lxState") == "BROKEN_QUALITY_SEAL"
        elif rule == "no_owner":
            hit = not has_owner(node)
        elif rule == "end_of_life_past":
            eol = end_of_life(node)
            hit = eol is not None and eol < today
        else:  # stale
            updated = _updated(node)
            hit = updated is not None and (today - updated).days > (checker.days or 0)
        if hit:
            found.append(Gap(checker.id, gap_text(checker)))
    return found


def owners(node: Mapping[str, Any], config: Owners) -> list[Person]:
    """The people who should fix the fact sheet's gaps: subscribers of the configured types or
    with a configured role, people only, each once."""
    people: dict[str, Person] = {}
    wanted_roles = set(config.roles)
    for edge in (node.get("subscriptions") or {}).get("edges") or ():
        sub = edge.get("node") if isinstance(edge, Mapping) else None
        if not isinstance(sub, Mapping):
            continue
        user = sub.get("user") or {}
        roles = {str(r.get("name")) for r in sub.get("roles") or () if isinstance(r, Mapping)}
        if sub.get("type") not in config.subscription_types and not roles & wanted_roles:
            continue
        email, user_id = user.get("email"), user.get("id")
        if user.get("technicalUser") or not isinstance(email, str) or "@" not in email:
            continue
        people.setdefault(email.lower(), Person(str(user_id), email))
    return list(people.values())


def related_groups(node: Mapping[str, Any], relation: str) -> list[str]:
    """Names of the UserGroups related through ``relation``."""
    edges = (node.get(relation) or {}).get("edges") or ()
    names = []
    for edge in edges:
        fs = (
            ((edge or {}).get("node") or {}).get("factSheet") if isinstance(edge, Mapping) else None
        )
        if isinstance(fs, Mapping) and isinstance(fs.get("name"), str):
            names.append(str(fs["name"]))
    return names
