"""The JUEL subset that processor expressions such as ``"${data.name} (${content.id})"`` use.

LeanIX evaluates processor expressions with JUEL (Java's Unified Expression Language, EL 2.2).
The engine needs LeanIX's answers for the expressions its examples use and a clear
:class:`JuelError` for anything else, which the engine reports as a run warning, never a crash.
So this is a small tokenizer and a Pratt parser to an AST of frozen dataclasses. The AST is
evaluated with EL's coercion rules, and nothing here calls Python's ``eval`` or ``exec``. Compiled
templates are cached by text, and plain dotted paths (``${content.id}``) take a fast path.
The subset, and what is not in it, is documented in the emulator README ("JUEL subset").
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

__all__ = [
    "MAX_DEPTH",
    "MAX_TEXT_CHARS",
    "ROOT_NAMES",
    "Juel",
    "JuelError",
    "JuelObject",
    "as_boolean",
    "as_string",
    "render",
    "truthy",
]

#: Longer templates are refused outright; LeanIX's examples are a few dozen characters.
MAX_TEXT_CHARS = 10_000
#: Deepest AST (and parser nesting) accepted. This keeps hostile input away from RecursionError.
MAX_DEPTH = 100
_CACHE_SIZE = 4096
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1

Context = Mapping[str, Any]

# ASSUMPTION [I] processors §1 (JUEL context): these are the root names LeanIX documents. A name
# that is neither one of them nor a key of the context is an error (JUEL's
# PropertyNotFoundException), so a typo such as ${dat.x} is reported, not silently null. A
# documented root that the engine left out of the context is null.
ROOT_NAMES = frozenset(
    {"content", "data", "header", "customFields", "lx", "integration", "variables", "dm"}
)


class JuelError(Exception):
    """A template is outside the subset, does not parse, or fails to evaluate (as JUEL would)."""


class JuelObject:
    """Base for host objects the engine puts in a context (e.g. ``integration.tags``).

    ``${x.m(a)}`` on such an object calls ``juel_call("m", (a,))``, and ``${x.p}`` calls
    ``juel_get("p")``. Both refuse by default.
    """

    def juel_call(self, name: str, args: tuple[Any, ...]) -> Any:
        """Answer the method call ``name(*args)``; raise :class:`JuelError` if it is unknown."""
        raise JuelError(f"{type(self).__name__} has no method {name}()")

    def juel_get(self, name: str) -> Any:
        """Answer the property ``name``; raise :class:`JuelError` if it is unknown."""
        raise JuelError(f"{type(self).__name__} has no property {name!r}")


class _JavaArray(tuple[Any, ...]):
    """A Java array (what ``String.split`` returns). It can be indexed, but it has no methods.

    ASSUMPTION [I] processors §1: LeanIX's JUEL hands back ``String[]`` from ``split``. EL can
    index an array and test it with ``empty``, but cannot call ``size()`` on it, hence
    ``helper:toList``. A rendered array leaves as a plain list.
    """

    __slots__ = ()


# --------------------------------------------------------------------------- coercion (EL 2.2)


def _describe(value: Any) -> str:
    """Java-style type name for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Long"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    if isinstance(value, _JavaArray):
        return "array"
    if isinstance(value, (list, tuple)):
        return "List"
    if isinstance(value, Mapping):
        return "Map"
    return type(value).__name__


def _is_long(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _wrap64(number: int) -> int:
    """Java ``long`` arithmetic wraps around at 64 bits."""
    return ((number - _LONG_MIN) & 0xFFFFFFFFFFFFFFFF) + _LONG_MIN


def _double_str(number: float) -> str:
    """``Double.toString``: ``2.0``, ``0.001``, ``1.0E7``, ``NaN``, ``Infinity``."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    magnitude = abs(number)
    if magnitude == 0 or 1e-3 <= magnitude < 1e7:
        return repr(number)
    shortest = Decimal(repr(magnitude))
    digits = "".join(map(str, shortest.as_tuple().digits)).rstrip("0") or "0"
    sign = "-" if number < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{shortest.adjusted()}"


def as_string(value: Any) -> str:
    """EL's coercion to String. This is what a value becomes inside a mixed template.

    null is "", booleans are ``true``/``false``, doubles print as Java prints them, and lists
    and maps print as ``java.util`` prints them (``[a, b]``, ``{k=v}``).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _double_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_element_str(item) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{_element_str(k)}={_element_str(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    return str(value)


def _element_str(value: Any) -> str:
    return "null" if value is None else as_string(value)


def as_boolean(value: Any) -> bool:
    """EL's coercion to Boolean: null and "" are false, and a String is ``Boolean.valueOf``.

    Anything else (a number, a list) raises :class:`JuelError`, as JUEL does.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    raise JuelError(f"cannot coerce {_describe(value)} {_short(value)} to Boolean")


_LONG_TEXT = re.compile(r"[+-]?[0-9]+")
_DOUBLE_TEXT = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[fFdD]?"
)
_JAVA_SPACE = "".join(chr(code) for code in range(33))


def _to_long(value: Any) -> int:
    """EL's coercion to Long (null and "" are 0)."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise JuelError(f"cannot coerce Boolean {_short(value)} to a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return 0
        if math.isinf(value):
            return _LONG_MAX if value > 0 else _LONG_MIN
        return max(_LONG_MIN, min(_LONG_MAX, int(value)))
    if isinstance(value, str) and _LONG_TEXT.fullmatch(value):
        number = int(value)
        if _LONG_MIN <= number <= _LONG_MAX:
            return number
    raise JuelError(f"cannot coerce {_describe(value)} {_short(value)} to Long")


def _to_double(value: Any) -> float:
    """EL's coercion to Double (null and "" are 0.0; strings follow ``Double.valueOf``)."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        raise JuelError(f"cannot coerce Boolean {_short(value)} to a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip(_JAVA_SPACE)
        if _DOUBLE_TEXT.fullmatch(text):
            text = text.rstrip("fFdD") if not text.endswith("NaN") else text
            return float(text.replace("Infinity", "inf"))
    raise JuelError(f"cannot coerce {_describe(value)} {_short(value)} to Double")


def _floaty(value: Any) -> bool:
    """EL's rule for when arithmetic is done in doubles rather than longs."""
    if isinstance(value, float):
        return True
    return isinstance(value, str) and ("." in value or "e" in value or "E" in value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- operators


def _divide(left: float, right: float) -> float:
    if right == 0:
        if left == 0 or math.isnan(left):
            return math.nan
        return math.copysign(math.inf, left) * math.copysign(1.0, right)
    return left / right


def _fmod(left: float, right: float) -> float:
    if right == 0 or math.isinf(left) or math.isnan(left) or math.isnan(right):
        return math.nan
    return math.fmod(left, right)


def _arith(op: str, left: Any, right: Any) -> Any:
    """``+ - * / %`` as EL does them. ``+`` is numeric (``"a" + 1`` is an error, as in JUEL)."""
    if left is None and right is None:
        return 0
    if op == "/":
        return _divide(_to_double(left), _to_double(right))
    if _floaty(left) or _floaty(right):
        x, y = _to_double(left), _to_double(right)
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        return _fmod(x, y)
    a, b = _to_long(left), _to_long(right)
    if op == "+":
        return _wrap64(a + b)
    if op == "-":
        return _wrap64(a - b)
    if op == "*":
        return _wrap64(a * b)
    if b == 0:
        raise JuelError("division by zero in '%' (java.lang.ArithmeticException)")
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def _negate(value: Any) -> Any:
    if value is None:
        return 0
    if isinstance(value, float):
        return -value
    if _is_long(value):
        return _wrap64(-value)
    if isinstance(value, str):
        return -_to_double(value) if _floaty(value) else _wrap64(-_to_long(value))
    raise JuelError(f"cannot negate {_describe(value)} {_short(value)}")


def _equals(left: Any, right: Any) -> bool:
    """EL's ``==``: numbers by value, booleans and strings after coercion, otherwise equals()."""
    if left is right:
        return True
    if left is None or right is None:
        return False
    if isinstance(left, float) or isinstance(right, float):
        return _to_double(left) == _to_double(right)
    if _is_long(left) or _is_long(right):
        return _to_long(left) == _to_long(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return as_boolean(left) == as_boolean(right)
    if isinstance(left, str) or isinstance(right, str):
        return as_string(left) == as_string(right)
    return _key(left) == _key(right)


def _compare(op: str, left: Any, right: Any) -> bool:
    """EL's ``< > <= >=``: null against anything is false, numbers by value, strings by text."""
    if left is None and right is None:
        return op in ("<=", ">=")
    if left is None or right is None:
        return False
    a: Any
    b: Any
    if isinstance(left, float) or isinstance(right, float):
        a, b = _to_double(left), _to_double(right)
    elif _is_long(left) or _is_long(right):
        a, b = _to_long(left), _to_long(right)
    elif isinstance(left, str) or isinstance(right, str):
        a, b = as_string(left), as_string(right)
    elif isinstance(left, bool) and isinstance(right, bool):
        a, b = left, right
    else:
        raise JuelError(f"cannot compare {_describe(left)} with {_describe(right)} using '{op}'")
    if op == "<":
        return bool(a < b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a >= b)


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value) == 0
    return False


def _key(value: Any) -> Hashable:
    """A hashable stand-in with Java ``equals`` semantics (Long 1 is not Double 1.0)."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("long", value)
    if isinstance(value, float):
        return ("double", value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_key(item) for item in value))
    if isinstance(value, Mapping):
        return ("map", frozenset((_key(k), _key(v)) for k, v in value.items()))
    return ("object", id(value))


# --------------------------------------------------------------------------- properties


def _list_index(key: Any) -> int:
    if _is_long(key):
        return int(key)
    if isinstance(key, float):
        return int(key) if math.isfinite(key) else -1
    if isinstance(key, str) and _LONG_TEXT.fullmatch(key):
        return int(key)
    raise JuelError(f"cannot use {_describe(key)} {_short(key)} as a list index")


def _get_property(base: Any, key: Any) -> Any:
    """``base.key`` / ``base[key]``: maps by key, lists by index. A missing entry is null."""
    if base is None or key is None:
        return None
    if isinstance(base, Mapping):
        try:
            return base.get(key)
        except TypeError:  # an unhashable key is in no map
            return None
    if isinstance(base, (list, tuple)):
        index = _list_index(key)
        return base[index] if 0 <= index < len(base) else None
    if isinstance(base, JuelObject):
        return base.juel_get(as_string(key))
    raise JuelError(f"{_describe(base)} has no property {_short(key)}")


# --------------------------------------------------------------------------- methods


_JAVA_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<([A-Za-z][A-Za-z0-9]*)>")
_JAVA_BACKREF = re.compile(r"(?<!\\)\\k<([A-Za-z][A-Za-z0-9]*)>")


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    """A Java regex as a Python one: the syntax is shared, except named groups (translated)
    and Unicode classes such as ``\\p{L}`` (refused by ``re``)."""
    python = _JAVA_BACKREF.sub(r"(?P=\1)", _JAVA_NAMED_GROUP.sub(r"(?P<\1>", pattern))
    try:
        return re.compile(python)
    except (re.error, OverflowError, RecursionError) as exc:
        raise JuelError(f"invalid regular expression {pattern!r}: {exc}") from None


def _str_arg(value: Any) -> str:
    """A ``String`` parameter: EL coerces the argument (null becomes "")."""
    return as_string(value)


def _chars_arg(value: Any) -> str:
    """A ``CharSequence`` parameter: EL does not coerce it, and null is a NullPointerException."""
    if isinstance(value, str):
        return value
    raise JuelError(f"expected a String argument, got {_describe(value)} {_short(value)}")


def _int_arg(value: Any) -> int:
    return _to_long(value)


def _java_split(text: str, pattern: str, limit: int = 0) -> _JavaArray:
    """``String.split(regex[, limit])``: no leading empty string from a zero-width match at 0,
    and (limit 0) no trailing empty strings."""
    parts: list[str] = []
    index = 0
    matched = False
    for match in _regex(pattern).finditer(text):
        if limit > 0 and len(parts) >= limit - 1:
            break
        if index == 0 and match.start() == 0 and match.end() == 0:
            continue
        matched = True
        parts.append(text[index : match.start()])
        index = match.end()
    if not matched:
        return _JavaArray((text,))
    parts.append(text[index:])
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return _JavaArray(parts)


def _substring(text: str, args: tuple[Any, ...]) -> str:
    begin = _int_arg(args[0])
    end = _int_arg(args[1]) if len(args) > 1 else len(text)
    if begin < 0 or end > len(text) or begin > end:
        raise JuelError(
            f"substring({', '.join(str(_int_arg(a)) for a in args)}) is out of range "
            f"for a String of length {len(text)} (StringIndexOutOfBoundsException)"
        )
    return text[begin:end]


def _index_of(text: str, args: tuple[Any, ...]) -> int:
    start = min(max(_int_arg(args[1]), 0), len(text)) if len(args) > 1 else 0
    return text.find(_str_arg(args[0]), start)


def _starts_with(text: str, args: tuple[Any, ...]) -> bool:
    offset = _int_arg(args[1]) if len(args) > 1 else 0
    if offset < 0 or offset > len(text):
        return False
    return text.startswith(_str_arg(args[0]), offset)


@dataclass(frozen=True, slots=True)
class _Group:
    ref: int | str


def _java_replacement(replacement: str, pattern: re.Pattern[str]) -> Callable[[re.Match[str]], str]:
    """Java's replacement syntax (``$1``, ``${name}``, ``\\$``) as a function for ``re.sub``."""
    parts: list[str | _Group] = []
    i, n = 0, len(replacement)
    while i < n:
        char = replacement[i]
        if char == "\\":
            if i + 1 >= n:
                raise JuelError("replacement ends with '\\': character to be escaped is missing")
            parts.append(replacement[i + 1])
            i += 2
        elif char == "$":
            i += 1
            if i < n and replacement[i] == "{":
                close = replacement.find("}", i)
                name = replacement[i + 1 : close] if close > 0 else ""
                if not name or name not in pattern.groupindex:
                    raise JuelError(f"replacement refers to an unknown group name {name!r}")
                parts.append(_Group(name))
                i = close + 1
            elif i < n and replacement[i].isdigit() and replacement[i].isascii():
                number = int(replacement[i])
                if number > pattern.groups:
                    raise JuelError(f"replacement refers to group {number}, which is not there")
                i += 1
                while i < n and replacement[i].isdigit() and replacement[i].isascii():
                    longer = number * 10 + int(replacement[i])
                    if longer > pattern.groups:
                        break
                    number, i = longer, i + 1
                parts.append(_Group(number))
            else:
                raise JuelError(
                    "illegal group reference in replacement: '$' must be followed "
                    "by a group number or {name}; write '\\$' for a dollar"
                )
        else:
            parts.append(char)
            i += 1
    frozen = tuple(parts)

    def substitute(match: re.Match[str]) -> str:
        return "".join(
            part if isinstance(part, str) else (match.group(part.ref) or "") for part in frozen
        )

    return substitute


def _replace_regex(text: str, args: tuple[Any, ...], count: int) -> str:
    pattern = _regex(_str_arg(args[0]))
    return pattern.sub(_java_replacement(_str_arg(args[1]), pattern), text, count=count)


def _list_get(items: list[Any] | tuple[Any, ...], args: tuple[Any, ...]) -> Any:
    index = _int_arg(args[0])
    if not 0 <= index < len(items):
        raise JuelError(f"get({index}): index out of bounds for length {len(items)}")
    return items[index]


def _distinct(items: list[Any] | tuple[Any, ...]) -> list[Any]:
    seen: set[Hashable] = set()
    out: list[Any] = []
    for item in items:
        key = _key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _sum(items: list[Any] | tuple[Any, ...]) -> Any:
    total: Any = 0
    for item in items:
        total = _arith("+", total, item)
    return total


def _contains_key(mapping: Mapping[Any, Any], key: Any) -> bool:
    try:
        return key in mapping
    except TypeError:  # an unhashable key is in no map
        return False


_Impl = Callable[[Any, tuple[Any, ...]], Any]
_Table = Mapping[str, tuple[int, int, _Impl]]

_STRING_METHODS: _Table = {
    "toLowerCase": (0, 0, lambda s, a: s.lower()),
    "toUpperCase": (0, 0, lambda s, a: s.upper()),
    "trim": (0, 0, lambda s, a: s.strip(_JAVA_SPACE)),
    "length": (0, 0, lambda s, a: len(s)),
    "isEmpty": (0, 0, lambda s, a: len(s) == 0),
    "toString": (0, 0, lambda s, a: s),
    "split": (1, 2, lambda s, a: _java_split(s, _str_arg(a[0]), _int_arg(a[1]) if a[1:] else 0)),
    "substring": (1, 2, _substring),
    "contains": (1, 1, lambda s, a: _chars_arg(a[0]) in s),
    "startsWith": (1, 2, _starts_with),
    "endsWith": (1, 1, lambda s, a: s.endswith(_str_arg(a[0]))),
    "indexOf": (1, 2, _index_of),
    "lastIndexOf": (1, 1, lambda s, a: s.rfind(_str_arg(a[0]))),
    "replace": (2, 2, lambda s, a: s.replace(_chars_arg(a[0]), _chars_arg(a[1]))),
    "replaceAll": (2, 2, lambda s, a: _replace_regex(s, a, 0)),
    "replaceFirst": (2, 2, lambda s, a: _replace_regex(s, a, 1)),
    "matches": (1, 1, lambda s, a: _regex(_str_arg(a[0])).fullmatch(s) is not None),
    "equals": (1, 1, lambda s, a: isinstance(a[0], str) and s == a[0]),
    "equalsIgnoreCase": (
        1,
        1,
        lambda s, a: isinstance(a[0], str) and s.lower() == a[0].lower(),
    ),
    "concat": (1, 1, lambda s, a: s + _str_arg(a[0])),
}
_NUMBER_METHODS: _Table = {
    "toString": (0, 0, lambda n, a: as_string(n)),
    "intValue": (0, 0, lambda n, a: _to_long(n)),
    "longValue": (0, 0, lambda n, a: _to_long(n)),
    "doubleValue": (0, 0, lambda n, a: float(n)),
    "equals": (1, 1, lambda n, a: _key(n) == _key(a[0])),
}
_BOOLEAN_METHODS: _Table = {
    "toString": (0, 0, lambda b, a: as_string(b)),
    "booleanValue": (0, 0, lambda b, a: b),
    "equals": (1, 1, lambda b, a: _key(b) == _key(a[0])),
}
# ASSUMPTION [I] processors §1: LeanIX offers ``distinct()`` (and its docs mention ``sum()``) on
# variables. The emulator offers both on every list. Java's List has neither.
_LIST_METHODS: _Table = {
    "size": (0, 0, lambda items, a: len(items)),
    "isEmpty": (0, 0, lambda items, a: len(items) == 0),
    "contains": (1, 1, lambda items, a: any(_key(x) == _key(a[0]) for x in items)),
    "indexOf": (
        1,
        1,
        lambda items, a: next((i for i, x in enumerate(items) if _key(x) == _key(a[0])), -1),
    ),
    "get": (1, 1, _list_get),
    "toString": (0, 0, lambda items, a: as_string(items)),
    "equals": (1, 1, lambda items, a: _key(items) == _key(a[0])),
    "distinct": (0, 0, lambda items, a: _distinct(items)),
    "sum": (0, 0, lambda items, a: _sum(items)),
}
_MAP_METHODS: _Table = {
    "size": (0, 0, lambda m, a: len(m)),
    "isEmpty": (0, 0, lambda m, a: len(m) == 0),
    "containsKey": (1, 1, lambda m, a: _contains_key(m, a[0])),
    "get": (1, 1, lambda m, a: _get_property(m, a[0])),
    "keySet": (0, 0, lambda m, a: list(m.keys())),
    "values": (0, 0, lambda m, a: list(m.values())),
    "toString": (0, 0, lambda m, a: as_string(m)),
    "equals": (1, 1, lambda m, a: _key(m) == _key(a[0])),
}
_HINTS = {
    ("List", "length"): "use size()",
    ("String", "size"): "use length()",
    ("Map", "length"): "use size()",
}


def _invoke(base: Any, name: str, args: tuple[Any, ...], source: str) -> Any:
    """``base.name(args)``: a method call on a Java-like value. A null base is an error."""
    if base is None:
        raise JuelError(
            f"cannot call {name}() on null: '{source}' is null (JUEL: target unreachable)"
        )
    if isinstance(base, JuelObject):
        return base.juel_call(name, args)
    table: _Table
    if isinstance(base, str):
        table = _STRING_METHODS
    elif isinstance(base, bool):
        table = _BOOLEAN_METHODS
    elif isinstance(base, (int, float)):
        table = _NUMBER_METHODS
    elif isinstance(base, _JavaArray):
        raise JuelError(
            f"cannot call {name}() on '{source}': it is an array (as split() returns), which "
            "has no methods; index it ([0]) or convert it with helper:toList(...)"
        )
    elif isinstance(base, (list, tuple)):
        table = _LIST_METHODS
    elif isinstance(base, Mapping):
        table = _MAP_METHODS
    else:
        raise JuelError(f"cannot call {name}() on {_describe(base)}")
    entry = table.get(name)
    kind = _describe(base)
    if entry is None:
        hint = _HINTS.get((kind, name))
        known = ", ".join(f"{m}()" for m in sorted(table))
        raise JuelError(
            f"{kind} has no method {name}()" + (f"; {hint}" if hint else f" (known: {known})")
        )
    low, high, impl = entry
    if not low <= len(args) <= high:
        wanted = str(low) if low == high else f"{low} or {high}"
        raise JuelError(f"{kind}.{name}() takes {wanted} argument(s), got {len(args)}")
    return impl(base, args)


# --------------------------------------------------------------------------- functions


def _to_list(args: tuple[Any, ...]) -> list[Any]:
    """ASSUMPTION [U] processors §1: ``helper:toList`` turns an array or a list into a list.
    Null becomes the empty list, and any other value a one-element list."""
    value = args[0]
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


_FUNCTIONS: Mapping[str, tuple[int, Callable[[tuple[Any, ...]], Any]]] = {
    "helper:toList": (1, _to_list),
}


# --------------------------------------------------------------------------- AST


class Node:
    """An AST node. Nodes are frozen dataclasses, so a compiled template can be shared."""

    __slots__ = ()

    def eval(self, ctx: Context) -> Any:
        """The node's value in ``ctx``."""
        raise NotImplementedError

    def children(self) -> tuple[Node, ...]:
        """Direct sub-nodes (for the depth check)."""
        return ()


_MISSING = object()


def _root(ctx: Context, name: str) -> Any:
    value = ctx.get(name, _MISSING)
    if value is _MISSING:
        if name in ROOT_NAMES:
            return None
        raise JuelError(
            f"unknown identifier '{name}' (known: {', '.join(sorted(ROOT_NAMES | set(ctx)))})"
        )
    return value


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any

    def eval(self, ctx: Context) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class Ident(Node):
    name: str

    def eval(self, ctx: Context) -> Any:
        return _root(ctx, self.name)


@dataclass(frozen=True, slots=True)
class Path(Node):
    """``a.b.c``: the fast path, a loop instead of nested nodes."""

    head: str
    tail: tuple[str, ...]

    def eval(self, ctx: Context) -> Any:
        value = _root(ctx, self.head)
        for name in self.tail:
            if value is None:
                return None
            value = value.get(name) if type(value) is dict else _get_property(value, name)
        return value


@dataclass(frozen=True, slots=True)
class Member(Node):
    """``base[key]`` or ``base.name`` after a non-path base."""

    base: Node
    key: Node

    def eval(self, ctx: Context) -> Any:
        base = self.base.eval(ctx)
        if base is None:
            return None
        return _get_property(base, self.key.eval(ctx))

    def children(self) -> tuple[Node, ...]:
        return (self.base, self.key)


@dataclass(frozen=True, slots=True)
class Call(Node):
    """``base.name(args)``. ``source`` is the base's text, used in error messages."""

    base: Node
    name: str
    args: tuple[Node, ...]
    source: str

    def eval(self, ctx: Context) -> Any:
        base = self.base.eval(ctx)
        if base is None:
            return _invoke(None, self.name, (), self.source)
        return _invoke(base, self.name, tuple(a.eval(ctx) for a in self.args), self.source)

    def children(self) -> tuple[Node, ...]:
        return (self.base, *self.args)


@dataclass(frozen=True, slots=True)
class Function(Node):
    """``ns:name(args)``, e.g. ``helper:toList(x)``."""

    name: str
    args: tuple[Node, ...]
    impl: Callable[[tuple[Any, ...]], Any] = field(compare=False, repr=False)

    def eval(self, ctx: Context) -> Any:
        return self.impl(tuple(a.eval(ctx) for a in self.args))

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """``!x`` / ``not x``, ``-x`` and ``empty x``."""

    op: str
    operand: Node

    def eval(self, ctx: Context) -> Any:
        value = self.operand.eval(ctx)
        if self.op == "!":
            return not as_boolean(value)
        if self.op == "empty":
            return _is_empty(value)
        return _negate(value)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Arithmetic, equality and comparison (``op`` in its symbolic form)."""

    op: str
    left: Node
    right: Node

    def eval(self, ctx: Context) -> Any:
        left, right, op = self.left.eval(ctx), self.right.eval(ctx), self.op
        if op == "==":
            return _equals(left, right)
        if op == "!=":
            return not _equals(left, right)
        if op in ("<", ">", "<=", ">="):
            return _compare(op, left, right)
        return _arith(op, left, right)

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """``&&`` / ``||``, short-circuit, both sides coerced to Boolean."""

    op: str
    left: Node
    right: Node

    def eval(self, ctx: Context) -> Any:
        first = as_boolean(self.left.eval(ctx))
        if self.op == "&&":
            return first and as_boolean(self.right.eval(ctx))
        return first or as_boolean(self.right.eval(ctx))

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """``test ? then : other``."""

    test: Node
    then: Node
    other: Node

    def eval(self, ctx: Context) -> Any:
        return self.then.eval(ctx) if as_boolean(self.test.eval(ctx)) else self.other.eval(ctx)

    def children(self) -> tuple[Node, ...]:
        return (self.test, self.then, self.other)


# --------------------------------------------------------------------------- tokenizer


class _Token(NamedTuple):
    kind: str  # ident | keyword | number | string | op | eof
    value: Any
    pos: int
    end: int


_KEYWORDS = frozenset(
    {"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge"}
    | {"true", "false", "null", "empty", "div", "mod", "instanceof"}
)
_OPS_2 = frozenset({"&&", "||", "==", "!=", "<=", ">=", "+=", "->"})
_OPS_1 = frozenset("()[].,?:!<>+-*/%{}=;")
_NUMBER = re.compile(
    r"(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|(?P<int>[0-9]+)"
)
_SPACE = " \t\n\r"

_INFIX_POWER = {
    "?": 10, "||": 20, "or": 20, "&&": 30, "and": 30,
    "==": 40, "!=": 40, "eq": 40, "ne": 40,
    "<": 50, ">": 50, "<=": 50, ">=": 50, "lt": 50, "gt": 50, "le": 50, "ge": 50,
    "+": 60, "-": 60, "*": 70, "/": 70, "div": 70, "%": 70, "mod": 70,
}  # fmt: skip
_PREFIX_POWER = 80
_PREFIX_OPS = {"!": "!", "not": "!", "-": "-", "empty": "empty"}
_SYMBOL = {
    "or": "||", "and": "&&", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=",
    "ge": ">=", "div": "/", "mod": "%",
}  # fmt: skip
# ASSUMPTION [I] processors §1: LeanIX runs JUEL 2.2 (EL 2.2), which has no EL 3.0 operators.
_UNSUPPORTED_INFIX = {
    "+=": "'+=' (EL 3.0 string concatenation) is not supported; concatenate in the template, "
    'e.g. "${a} ${b}"',
    "=": "'=' (EL 3.0 assignment) is not supported",
    ";": "';' (EL 3.0 statement separator) is not supported",
    "->": "'->' (EL 3.0 lambda) is not supported",
    "instanceof": "'instanceof' is not supported",
}
_UNSUPPORTED_PREFIX = {
    "[": "list literals '[...]' (EL 3.0) are not supported",
    "{": "set and map literals '{...}' (EL 3.0) are not supported",
}


class _Parser:
    """Recursive descent with Pratt precedence, for one ``${...}`` starting at ``pos``.

    Tokens are scanned on demand, so the scanner never runs past the closing ``}``.
    """

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos
        self.ahead: list[_Token] = []
        self.depth = 0

    # ---- scanning

    def _fail(self, message: str, pos: int) -> JuelError:
        return JuelError(f"{message} at column {pos + 1}")

    def _scan(self) -> _Token:
        text, i, n = self.text, self.pos, len(self.text)
        while i < n and text[i] in _SPACE:
            i += 1
        if i >= n:
            self.pos = i
            return _Token("eof", None, i, i)
        char = text[i]
        if char.isalpha() or char in "_$":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            word = text[i:j]
            token = _Token("keyword" if word in _KEYWORDS else "ident", word, i, j)
        elif char in "0123456789" or (char == "." and text[i + 1 : i + 2].isdigit()):
            token = self._scan_number(i)
        elif char in "'\"":
            token = self._scan_string(i)
        elif text[i : i + 2] in _OPS_2:
            token = _Token("op", text[i : i + 2], i, i + 2)
        elif char in _OPS_1:
            token = _Token("op", char, i, i + 1)
        else:
            raise self._fail(f"unexpected character {char!r}", i)
        self.pos = token.end
        return token

    def _scan_number(self, i: int) -> _Token:
        match = _NUMBER.match(self.text, i)
        if match is None:  # pragma: no cover - the caller saw a digit
            raise self._fail("bad number", i)
        literal = match.group()
        if match.group("int") is not None:
            number = int(literal)
            if number > _LONG_MAX:
                raise self._fail(f"integer literal {literal} is out of range", i)
            return _Token("number", number, i, match.end())
        return _Token("number", float(literal), i, match.end())

    def _scan_string(self, i: int) -> _Token:
        text, quote = self.text, self.text[i]
        chars: list[str] = []
        j = i + 1
        while j < len(text):
            char = text[j]
            if char == "\\":
                escaped = text[j + 1 : j + 2]
                if escaped not in ("\\", quote):
                    raise self._fail(
                        f"invalid escape '\\{escaped}' in a string (only \\{quote} and \\\\)", j
                    )
                chars.append(escaped)
                j += 2
            elif char == quote:
                return _Token("string", "".join(chars), i, j + 1)
            else:
                chars.append(char)
                j += 1
        raise self._fail("unterminated string literal", i)

    def peek(self, k: int = 0) -> _Token:
        while len(self.ahead) <= k:
            self.ahead.append(self._scan())
        return self.ahead[k]

    def next(self) -> _Token:
        token = self.peek()
        self.ahead.pop(0)
        return token

    def _is_op(self, token: _Token, value: str) -> bool:
        return token.kind == "op" and token.value == value

    def _expect(self, value: str) -> _Token:
        token = self.next()
        if not self._is_op(token, value):
            raise self._fail(f"expected '{value}' but found {self._show(token)}", token.pos)
        return token

    def _show(self, token: _Token) -> str:
        if token.kind == "eof":
            return "the end of the template"
        if token.kind == "string":
            return f"string {_short(token.value)}"
        return f"'{self.text[token.pos : token.end]}'"

    # ---- parsing

    def parse_embedded(self, opened_at: int) -> tuple[Node, int]:
        """Parse ``expr }`` and return the node and the index after ``}``."""
        if self._is_op(self.peek(), "}"):
            raise self._fail("empty expression '${}'", opened_at)
        node = self.expression(0)
        token = self.next()
        if token.kind == "eof":
            raise self._fail("unterminated '${': missing '}'", opened_at)
        if not self._is_op(token, "}"):
            raise self._fail(f"unexpected {self._show(token)}", token.pos)
        return node, token.end

    def expression(self, power: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._fail(
                f"expression is nested too deeply (over {MAX_DEPTH} levels)", self.peek().pos
            )
        left = self._prefix()
        while True:
            token = self.peek()
            key = token.value if token.kind in ("op", "keyword") else None
            if key in _UNSUPPORTED_INFIX:
                raise self._fail(_UNSUPPORTED_INFIX[key], token.pos)
            infix = _INFIX_POWER.get(key, 0) if isinstance(key, str) else 0
            if infix <= power:
                break
            self.next()
            if key == "?":
                then = self.expression(0)
                self._expect(":")
                left = Conditional(left, then, self.expression(infix - 1))
                continue
            right = self.expression(infix)
            symbol = _SYMBOL.get(key, key) if isinstance(key, str) else ""
            if symbol in ("&&", "||"):
                left = Logical(symbol, left, right)
            else:
                left = Binary(symbol, left, right)
        self.depth -= 1
        return left

    def _prefix(self) -> Node:
        token = self.next()
        kind, value = token.kind, token.value
        node: Node
        if kind == "number" or kind == "string":
            node = Literal(value)
        elif kind == "keyword" and value in ("true", "false", "null"):
            node = Literal({"true": True, "false": False, "null": None}[value])
        elif (kind == "keyword" and value in ("not", "empty")) or (
            kind == "op" and value in ("!", "-")
        ):
            operand = self.expression(_PREFIX_POWER)
            if value == "-" and isinstance(operand, Literal) and _is_number(operand.value):
                return Literal(_negate(operand.value))
            return Unary(_PREFIX_OPS[value], operand)
        elif kind == "op" and value == "(":
            node = self.expression(0)
            self._expect(")")
        elif kind == "ident":
            node = self._identifier(token)
        elif kind == "op" and value in _UNSUPPORTED_PREFIX:
            raise self._fail(_UNSUPPORTED_PREFIX[value], token.pos)
        elif kind == "eof":
            raise self._fail("unexpected end of the template inside '${'", token.pos)
        else:
            raise self._fail(f"unexpected {self._show(token)}", token.pos)
        return self._postfix(node, token.pos)

    def _identifier(self, token: _Token) -> Node:
        name: str = token.value
        if (
            self._is_op(self.peek(), ":")
            and self.peek(1).kind == "ident"
            and self._is_op(self.peek(2), "(")
        ):
            self.next()
            name = f"{name}:{self.next().value}"
            return self._function(name, token.pos)
        if self._is_op(self.peek(), "("):
            return self._function(name, token.pos)
        return Ident(name)

    def _function(self, name: str, pos: int) -> Node:
        entry = _FUNCTIONS.get(name)
        if entry is None:
            known = ", ".join(f"{f}()" for f in sorted(_FUNCTIONS))
            raise self._fail(f"unknown function {name}() (supported: {known})", pos)
        arity, impl = entry
        args = self._arguments()
        if len(args) != arity:
            raise self._fail(f"{name}() takes {arity} argument(s), got {len(args)}", pos)
        return Function(name, args, impl)

    def _arguments(self) -> tuple[Node, ...]:
        self._expect("(")
        args: list[Node] = []
        if self._is_op(self.peek(), ")"):
            self.next()
            return ()
        while True:
            args.append(self.expression(0))
            token = self.next()
            if self._is_op(token, ")"):
                return tuple(args)
            if not self._is_op(token, ","):
                raise self._fail(f"expected ',' or ')' but found {self._show(token)}", token.pos)

    def _postfix(self, node: Node, start: int) -> Node:
        names = [node.name] if isinstance(node, Ident) else None
        while True:
            token = self.peek()
            if self._is_op(token, "."):
                self.next()
                name = self.next()
                if name.kind != "ident":
                    hint = (
                        f"; use ['{name.value}'] for a key named like a keyword"
                        if name.kind == "keyword"
                        else ""
                    )
                    raise self._fail(
                        f"expected a property name after '.' but found {self._show(name)}{hint}",
                        name.pos,
                    )
                if self._is_op(self.peek(), "("):
                    base = _path(node, names)
                    names = None
                    source = self.text[start : token.pos].strip()
                    node = Call(base, name.value, self._arguments(), source)
                elif names is not None:
                    names.append(name.value)
                else:
                    node = Member(node, Literal(name.value))
            elif self._is_op(token, "["):
                self.next()
                base = _path(node, names)
                names = None
                key = self.expression(0)
                self._expect("]")
                node = Member(base, key)
                if self._is_op(self.peek(), "("):
                    raise self._fail(
                        "calling a method by a computed name is not supported", self.peek().pos
                    )
            else:
                return _path(node, names)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _path(node: Node, names: list[str] | None) -> Node:
    if names is None or len(names) == 1:
        return node
    return Path(names[0], tuple(names[1:]))


def _check_depth(root: Node) -> None:
    """Refuse ASTs deeper than MAX_DEPTH. A left-deep chain (``1+1+...``) is built without
    recursion, so this check, and not the parser's nesting counter, is what catches it."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JuelError(f"expression is nested too deeply (over {MAX_DEPTH} levels)")
        stack.extend((child, depth + 1) for child in node.children())


# --------------------------------------------------------------------------- templates

_TEXT_SPECIAL = re.compile(r"[\\$#]")


def _parse_template(text: str) -> tuple[str | Node, ...]:
    """Split text into literal strings and expression nodes, as JUEL's composite parser does.

    ``\\$`` and ``\\#`` are a literal ``$`` and ``#``. ``#{...}`` is a (deferred) expression
    too, and a template that mixes ``${`` and ``#{`` is refused, as in JUEL.
    """
    parts: list[str | Node] = []
    literal: list[str] = []
    openers: set[str] = set()
    i, n = 0, len(text)
    while i < n:
        match = _TEXT_SPECIAL.search(text, i)
        if match is None:
            literal.append(text[i:])
            break
        j = match.start()
        literal.append(text[i:j])
        char = text[j]
        if char == "\\":
            if text[j + 1 : j + 2] in ("$", "#"):
                literal.append(text[j + 1])
                i = j + 2
            else:
                literal.append(char)
                i = j + 1
        elif text[j + 1 : j + 2] == "{":
            pending = "".join(literal)
            if pending:
                parts.append(pending)
            literal = []
            openers.add(char)
            node, i = _Parser(text, j + 2).parse_embedded(j)
            _check_depth(node)
            parts.append(node)
        else:
            literal.append(char)
            i = j + 1
    if len(openers) > 1:
        raise JuelError("a template cannot mix '${...}' and '#{...}' expressions")
    rest = "".join(literal)
    if rest:
        parts.append(rest)
    return tuple(parts)


def _export(value: Any) -> Any:
    """A Java array (from split) leaves as a plain list; everything else as it is."""
    return list(value) if isinstance(value, _JavaArray) else value


# Python errors an evaluation can still raise on pathological data (e.g. a 900-deep list
# printed in a template). They become JuelError, never a crash.
_EVAL_FAILURES = (RecursionError, OverflowError, ValueError, TypeError, IndexError, KeyError)


@dataclass(frozen=True, slots=True)
class Juel:
    """A compiled template. Build one with :meth:`compile`, which caches by text.

    Instances are immutable and thread-safe. Values come back as they are in the context, not
    copied.
    """

    text: str
    parts: tuple[str | Node, ...] = field(repr=False)

    @staticmethod
    def compile(text: str) -> Juel:
        """Parse ``text`` (cached, also for failures); raise :class:`JuelError` if it is bad."""
        if not isinstance(text, str):
            raise JuelError(f"a template must be a string, not {type(text).__name__}")
        if len(text) > MAX_TEXT_CHARS:
            raise JuelError(f"template is too long ({len(text)} > {MAX_TEXT_CHARS} characters)")
        compiled = _compile_cached(text)
        if isinstance(compiled, str):
            raise JuelError(compiled)
        return compiled

    @property
    def is_template(self) -> bool:
        """True when the text holds at least one ``${...}``."""
        return any(not isinstance(part, str) for part in self.parts)

    def render(self, ctx: Context) -> Any:
        """The value: ``"${a}"`` alone gives a's raw value (list, number, None...). Text mixed
        with expressions gives a string, and text without expressions gives the text."""
        parts = self.parts
        try:
            if len(parts) == 1:
                only = parts[0]
                return only if isinstance(only, str) else _export(only.eval(ctx))
            return "".join(p if isinstance(p, str) else as_string(p.eval(ctx)) for p in parts)
        except _EVAL_FAILURES as exc:
            raise JuelError(f"evaluation failed: {type(exc).__name__}: {exc}") from exc

    def truthy(self, ctx: Context) -> bool:
        """The rendered value coerced to Boolean as EL does, for ``filter.advanced`` and
        ``onRead``. A number or a list is an error, not true."""
        return as_boolean(self.render(ctx))


def _compile_uncached(text: str) -> Juel | str:
    try:
        return Juel(text, _parse_template(text))
    except JuelError as exc:
        return str(exc)
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps the parser well below the limit
        return "expression is nested too deeply"


_compile_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_compile_uncached)


def render(text: str, ctx: Context) -> Any:
    """``Juel.compile(text).render(ctx)``."""
    return Juel.compile(text).render(ctx)


def truthy(text: str, ctx: Context) -> bool:
    """``Juel.compile(text).truthy(ctx)``."""
    return Juel.compile(text).truthy(ctx)
