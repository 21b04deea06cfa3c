"""``lx processors plan``: what differs between the configuration in git and the workspace's.
Pure: no I/O.

Processors are matched by ``processorName`` (when it is unique in its list; the others by
their order among themselves) and compared key by key, so a plan reads like
``~ processors["Projects from prj"].updates[0].values[0].expr: "${a}" -> "${b}"``. Equality is
JSON equality (``true`` is not ``1``), and the diff is empty exactly when the two documents are
equal, so "a second apply writes nothing" can be decided from it. A change carries only its
rendered, shortened text, with credentials and URL signatures masked: a plan is safe to print.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["+", "-", "~"]
Action = Literal["create", "update", "unchanged"]

#: Values longer than this many characters are shortened in plans.
MAX_VALUE_CHARS = 80
#: Keys whose values are never shown (anywhere in the document); all of ``credentials`` too.
SECRET_KEYS = frozenset({"apiToken", "password", "secret", "clientSecret", "token"})
MASK = "***"

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_SIGNED_URL = re.compile(r"[?&](sig|signature|token|code)=", re.IGNORECASE)


@dataclass(frozen=True)
class Change:
    """One line of a plan: ``+`` added, ``-`` removed, ``~`` changed (``old -> new``)."""

    op: Op
    path: str
    text: str | None = None

    def line(self) -> str:
        return f"{self.op} {self.path}" + (f": {self.text}" if self.text is not None else "")


@dataclass(frozen=True)
class ConfigDiff:
    """The plan for one configuration."""

    action: Action
    changes: tuple[Change, ...] = ()

    @property
    def changed(self) -> bool:
        """False exactly when the workspace already holds the desired document."""
        return self.action != "unchanged"

    def lines(self) -> list[str]:
        return [change.line() for change in self.changes]


class _Name(str):
    """A processor matched by name: rendered ``["name"]`` after ``processors``."""

    __slots__ = ()


_Part = str | int


def _display(parts: Sequence[_Part]) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif isinstance(part, _Name) or not _IDENTIFIER.match(part):
            out.append(f"[{json.dumps(str(part), ensure_ascii=False)}]")
        else:
            out.append(f".{part}" if out else part)
    return "".join(out)


def _is_secret(parts: Sequence[_Part]) -> bool:
    keys = [p for p in parts if isinstance(p, str) and not isinstance(p, _Name)]
    return bool(keys) and (keys[0] == "credentials" or keys[-1] in SECRET_KEYS)


def _redact(value: Any, secret: bool) -> Any:
    if isinstance(value, Mapping):
        return {
            k: _redact(v, secret or k in SECRET_KEYS or k == "credentials")
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v, secret) for v in value]
    if secret and value is not None and not isinstance(value, bool):
        return MASK
    if isinstance(value, str) and _SIGNED_URL.search(value):
        return value.split("?", 1)[0] + "?" + MASK
    return value


def _render(parts: Sequence[_Part], value: Any) -> str:
    text = json.dumps(_redact(value, _is_secret(parts)), ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def same(a: Any, b: Any) -> bool:
    """JSON equality: like ``==``, but ``true`` differs from ``1`` (and ``false`` from ``0``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping | list | tuple) or isinstance(b, Mapping | list | tuple):
        return False
    return bool(a == b)


class _Differ:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def added(self, parts: Sequence[_Part], value: Any, *, show: bool = True) -> None:
        path = _display(parts)
        self.changes.append(Change("+", path, _render(parts, value) if show else None))

    def removed(self, parts: Sequence[_Part], value: Any, *, show: bool = True) -> None:
        path = _display(parts)
        self.changes.append(Change("-", path, _render(parts, value) if show else None))

    def value(self, parts: Sequence[_Part], old: Any, new: Any) -> None:
        if same(old, new):
            return
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            self.mapping(parts, old, new)
        elif isinstance(old, list) and isinstance(new, list):
            for index, (a, b) in enumerate(zip(old, new, strict=False)):
                self.value([*parts, index], a, b)
            for index in range(len(old), len(new)):
                self.added([*parts, index], new[index])
            for index in range(len(new), len(old)):
                self.removed([*parts, index], old[index])
        else:
            text = f"{_render(parts, old)} -> {_render(parts, new)}"
            self.changes.append(Change("~", _display(parts), text))

    def mapping(
        self, parts: Sequence[_Part], old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> None:
        for key, want in new.items():
            at = [*parts, key]
            if not parts and key == "processors" and (key in old or _nonempty_list(want)):
                self.processors(old.get(key, []), want)
            elif key not in old:
                self.added(at, want)
            else:
                self.value(at, old[key], want)
        for key, have in old.items():
            if key in new:
                continue
            if not parts and key == "processors" and _nonempty_list(have):
                self.processors(have, [])
            else:
                self.removed([*parts, key], have)

    def processors(self, old: Any, new: Any) -> None:
        if not (isinstance(old, list) and isinstance(new, list)):
            self.value(["processors"], old, new)
            return
        have = _keyed(old)
        want = _keyed(new)
        for key, (label, proc) in want.items():
            at: list[_Part] = ["processors", label]
            if key in have:
                self.value(at, have[key][1], proc)
            else:
                self.added(at, proc, show=False)
        for key, (label, proc) in have.items():
            if key not in want:
                self.removed(["processors", label], proc, show=False)
        common_new = [k for k in want if k in have]
        common_old = [k for k in have if k in want]
        if common_new != common_old:
            self.changes.append(
                Change(
                    "~",
                    "processors (order)",
                    f"{_order(common_old, have)} -> {_order(common_new, want)}",
                )
            )


_Key = tuple[str, str | int]


def _nonempty_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value)


def _keyed(processors: list[Any]) -> dict[_Key, tuple[_Part, Any]]:
    """Each processor under its match key: its name when unique in the list, else its rank
    among the processors without one (so moving a named processor leaves them matched). The
    label shows the position in the list."""
    names = [p.get("processorName") if isinstance(p, Mapping) else None for p in processors]
    keyed: dict[_Key, tuple[_Part, Any]] = {}
    unnamed = 0
    for index, (name, proc) in enumerate(zip(names, processors, strict=True)):
        if isinstance(name, str) and name and names.count(name) == 1:
            keyed[("name", name)] = (_Name(name), proc)
        else:
            keyed[("unnamed", unnamed)] = (index, proc)
            unnamed += 1
    return keyed


def _order(keys: list[_Key], keyed: Mapping[_Key, tuple[_Part, Any]]) -> str:
    text = ", ".join(
        json.dumps(str(keyed[k][0]), ensure_ascii=False)
        if isinstance(keyed[k][0], _Name)
        else f"[{keyed[k][0]}]"
        for k in keys
    )
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def diff(desired: Mapping[str, Any], actual: Mapping[str, Any] | None) -> ConfigDiff:
    """The plan that turns ``actual`` (the workspace's configuration; None when it has none)
    into ``desired``."""
    differ = _Differ()
    differ.mapping([], actual or {}, desired)
    if actual is None:
        return ConfigDiff("create", tuple(differ.changes))
    if same(desired, actual):
        return ConfigDiff("unchanged")
    if not differ.changes:  # cannot happen (every difference is reported); never hide one
        differ.changes.append(Change("~", "(document)", "differs"))
    return ConfigDiff("update", tuple(differ.changes))
