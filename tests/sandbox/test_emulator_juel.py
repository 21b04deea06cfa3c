"""The emulator's JUEL subset, table-driven: features, EL coercions, errors, hostile input."""

from __future__ import annotations

import ast
import math
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lx_sandbox.emulator.integration import juel
from lx_sandbox.emulator.integration.juel import (
    MAX_DEPTH,
    MAX_TEXT_CHARS,
    Juel,
    JuelError,
    JuelObject,
    as_boolean,
    as_string,
    render,
    truthy,
)

CTX: dict[str, Any] = {
    "content": {"id": "app-1", "type": "Application"},
    "data": {
        "displayName": "Billing",
        "name": "  Hello World \t\n",
        "odd key": "spaced",
        "meta-x": "dashed",
        "items": ["a", "b", "c"],
        "nums": [1, 2, 2, 3],
        "mixed": [1, "1", 1.0, None],
        "empties": [],
        "map": {"k": "v", "n": 2},
        "emptyMap": {},
        "x": {"y": {"z": "deep"}},
        "n": 5,
        "f": 2.5,
        "t": True,
        "fls": False,
        "none": None,
        "blank": "",
        "csv": "a,b,,c,,",
        "list_of_maps": [{"name": "first"}, {"name": "second"}],
        "class": "java-ish key",
    },
    "header": {"processingMode": "partial", "connectorId": "conn-1"},
    "customFields": {"factSheetType": "Application"},
    "lx": {"factsheet": {"id": "fs-1", "name": "Billing", "type": "Application"}},
    "integration": {"valueOfForEach": {"code": "X1"}, "keyOfForEach": "k0", "indexOfForEach": 0},
    "variables": {"apps": ["a", "b", "a"], "costs": [1, 2.5, "3"]},
}


def _render(text: str, ctx: dict[str, Any] | None = None) -> Any:
    return Juel.compile(text).render(CTX if ctx is None else ctx)


# --------------------------------------------------------------------------- paths and context

PATHS: list[tuple[str, Any]] = [
    ("${content.id}", "app-1"),
    ("${content.type}", "Application"),
    ("${ content.id }", "app-1"),
    ("${data.x.y.z}", "deep"),
    ("${data['odd key']}", "spaced"),
    ('${data["meta-x"]}', "dashed"),
    ("${data['x']['y'].z}", "deep"),
    ("${data.x['y']['z']}", "deep"),
    ("${data.items[0]}", "a"),
    ("${data.items[2]}", "c"),
    ("${data.items['1']}", "b"),
    ("${data.items[1.9]}", "b"),
    ("${data.items[3]}", None),
    ("${data.items[-1]}", None),
    ("${data.items[null]}", None),
    ("${data.list_of_maps[1].name}", "second"),
    ("${data.list_of_maps[data.n - 4]['name']}", "second"),
    ("${data.class}", "java-ish key"),
    ("${header.processingMode}", "partial"),
    ("${customFields.factSheetType}", "Application"),
    ("${lx.factsheet.id}", "fs-1"),
    ("${integration.valueOfForEach.code}", "X1"),
    ("${integration.keyOfForEach}", "k0"),
    ("${integration.indexOfForEach}", 0),
    ("${variables.apps}", ["a", "b", "a"]),
    ("${variables['apps'][1]}", "b"),
    ("${data.missing}", None),
    ("${data.missing.deeper.still}", None),
    ("${data.none.x}", None),
    ("${data.none['x']}", None),
    ("${data.map[data.items]}", None),
    ("${data}", CTX["data"]),
    ("${data.map}", {"k": "v", "n": 2}),
    ("${data.n}", 5),
    ("${data.f}", 2.5),
    ("${data.t}", True),
    ("${data.none}", None),
    ("${data.blank}", ""),
]


@pytest.mark.parametrize(("text", "expected"), PATHS)
def test_paths_resolve_as_juel_does(text: str, expected: Any) -> None:
    assert _render(text) == expected


def test_a_lone_expression_returns_the_very_object_so_lists_reach_foreach() -> None:
    assert _render("${data.items}") is CTX["data"]["items"]
    assert _render("${variables.apps}") is CTX["variables"]["apps"]


@pytest.mark.parametrize("root", sorted(juel.ROOT_NAMES))
def test_a_documented_root_missing_from_the_context_is_null(root: str) -> None:
    assert render("${" + root + "}", {}) is None
    assert render("${" + root + ".a.b}", {}) is None


def test_an_unknown_root_is_an_error_but_extra_context_keys_resolve() -> None:
    with pytest.raises(JuelError, match="unknown identifier 'dat'"):
        render("${dat.x}", CTX)
    assert render("${extra.a}", {"extra": {"a": 1}}) == 1
    assert render("${extra}", {"extra": 7}) == 7


# --------------------------------------------------------------------------- templates

TEMPLATES: list[tuple[str, Any]] = [
    ("${data.displayName} (${content.id})", "Billing (app-1)"),
    ("id=${content.id}", "id=app-1"),
    ("${content.id}${content.type}", "app-1Application"),
    ("[${data.none}]", "[]"),
    ("${data.t}/${data.fls}", "true/false"),
    ("n=${data.n} f=${data.f}", "n=5 f=2.5"),
    ("${data.items} ", "[a, b, c] "),
    ("x${data.mixed}", "x[1, 1, 1.0, null]"),
    ("m=${data.map}", "m={k=v, n=2}"),
    ("${data.csv.split(',')}!", "[a, b, , c]!"),
    ("v${4 / 2}", "v2.0"),
    ("v${1e7}", "v1.0E7"),
    ("v${0.0001}", "v1.0E-4"),
    ("v${12345678.9}", "v1.23456789E7"),
    ("v${0.001}", "v0.001"),
    ("v${-0.0}", "v-0.0"),
    ("v${1/0} ${-1/0} ${0/0}", "vInfinity -Infinity NaN"),
    ("plain text", "plain text"),
    ("", ""),
    ("$ 5 and # tag {x}", "$ 5 and # tag {x}"),
    ("cost: 5$", "cost: 5$"),
    ("\\${content.id}", "${content.id}"),
    ("\\#{content.id}", "#{content.id}"),
    ("\\$x \\#y", "$x #y"),
    ("a\\b\\\\c", "a\\b\\\\c"),
    ("\\\\${content.id}", "\\${content.id}"),
    ("#{content.id}", "app-1"),
    ("${'}'} and ${\"{\"}", "} and {"),
    ("${'it\\'s'}", "it's"),
    ('${"say \\"hi\\""}', 'say "hi"'),
    ("${'back\\\\slash'}", "back\\slash"),
    ("${'\"'}", '"'),
]


@pytest.mark.parametrize(("text", "expected"), TEMPLATES)
def test_templates_concatenate_to_strings(text: str, expected: Any) -> None:
    assert _render(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${content.id}", True),
        ("a ${b} c", True),
        ("#{content.id}", True),
        ("plain", False),
        ("", False),
        ("\\${x}", False),
    ],
)
def test_is_template(text: str, expected: bool) -> None:
    assert Juel.compile(text).is_template is expected


# --------------------------------------------------------------------------- operators

OPERATORS: list[tuple[str, Any]] = [
    # equality with EL coercion
    ("${content.type == 'Application'}", True),
    ('${content.type eq "Application"}', True),
    ("${content.type != 'Application'}", False),
    ("${content.type ne 'ITComponent'}", True),
    ("${data.n == '5'}", True),
    ("${data.n == 5.0}", True),
    ("${data.t == 'true'}", True),
    ("${data.t == 'TRUE'}", True),
    ("${null == null}", True),
    ("${data.missing == null}", True),
    ("${data.missing != null}", False),
    ("${data.blank == null}", False),
    ("${data.items == data.items}", True),
    ("${data.map == data.x}", False),
    # comparisons
    ("${data.n > 3}", True),
    ("${data.n gt 5}", False),
    ("${data.n >= 5}", True),
    ("${data.n ge 6}", False),
    ("${data.n < '10'}", True),
    ("${data.n lt 2.5}", False),
    ("${data.n <= 5}", True),
    ("${data.n le 4}", False),
    ("${'b' > 'a'}", True),
    ("${'B' < 'a'}", True),
    ("${false < true}", True),
    ("${null < 1}", False),
    ("${1 > null}", False),
    ("${null <= null}", True),
    ("${null < null}", False),
    # logic, short-circuit
    ("${true && false}", False),
    ("${true and true}", True),
    ("${false || true}", True),
    ("${false or false}", False),
    ("${!true}", False),
    ("${not false}", True),
    ("${! data.none}", True),
    ("${'true' && 'TRUE'}", True),
    ("${'yes' || ''}", False),
    ("${false && data.none.toLowerCase()}", False),
    ("${true || data.none.toLowerCase()}", True),
    ("${false and undefinedRoot}", False),
    # empty
    ("${empty data.none}", True),
    ("${empty data.missing}", True),
    ("${empty data.blank}", True),
    ("${empty data.empties}", True),
    ("${empty data.emptyMap}", True),
    ("${empty data.items}", False),
    ("${empty data.n}", False),
    ("${empty data.fls}", False),
    ("${empty data.csv.split('x')}", False),
    ("${not empty data.items}", True),
    ("${!empty data.blank}", False),
    # ternary
    ("${data.n > 3 ? 'big' : 'small'}", "big"),
    ("${data.none ? 'yes' : 'no'}", "no"),
    ("${false ? 1 : true ? 2 : 3}", 2),
    ("${false ? 1 : false ? 2 : 3}", 3),
    ("${(data.n > 3 ? data.items : data.empties).size()}", 3),
    ("${empty data.none ? content.id : data.none}", "app-1"),
    # arithmetic: EL's numeric +
    ("${1 + 2 * 3}", 7),
    ("${(1 + 2) * 3}", 9),
    ("${10 - 2 - 3}", 5),
    ("${2 * 3 % 4}", 2),
    ("${-2 * 3}", -6),
    ("${- data.n}", -5),
    ("${-'3'}", -3),
    ("${-'1.5'}", -1.5),
    ("${-data.none}", 0),
    ("${data.n + 1}", 6),
    ("${data.n + '1'}", 6),
    ("${'2' * '3'}", 6),
    ("${'1.5' + 1}", 2.5),
    ("${data.f * 2}", 5.0),
    ("${null + null}", 0),
    ("${data.none + 1}", 1),
    ("${data.blank + 1}", 1),
    ("${7 / 2}", 3.5),
    ("${8 div 2}", 4.0),
    ("${7 % 3}", 1),
    ("${-7 % 3}", -1),
    ("${7 % -3}", 1),
    ("${7 mod 2}", 1),
    ("${7.5 % 2}", 1.5),
    ("${1 / 0}", math.inf),
    ("${9223372036854775807 + 1}", -9223372036854775808),
    ("${.5 + 1.}", 1.5),
    ("${1e3}", 1000.0),
    ("${1E-3}", 0.001),
    # precedence
    ("${!true == false}", True),
    ("${1 < 2 == true}", True),
    ("${1 + 1 == 2 && 'a' != 'b'}", True),
    ("${true || false && false}", True),
    ("${(true || false) && false}", False),
    ("${-data.items.size()}", -3),
    # literals
    ("${true}", True),
    ("${false}", False),
    ("${null}", None),
    ("${42}", 42),
    ("${'single'}", "single"),
    ('${"double"}', "double"),
]


@pytest.mark.parametrize(("text", "expected"), OPERATORS)
def test_operators_follow_el_coercion(text: str, expected: Any) -> None:
    value = _render(text)
    assert value == expected
    assert type(value) is type(expected)


def test_nan_results() -> None:
    assert math.isnan(_render("${0 / 0}"))
    assert math.isnan(_render("${5.0 % 0}"))


# --------------------------------------------------------------------------- methods

METHODS: list[tuple[str, Any]] = [
    # String
    ("${data.displayName.toLowerCase()}", "billing"),
    ("${data.displayName.toUpperCase()}", "BILLING"),
    ("${data.name.trim()}", "Hello World"),
    ("${data.name.trim().toLowerCase()}", "hello world"),
    ("${data.displayName.length()}", 7),
    ("${data.blank.length()}", 0),
    ("${data.displayName.isEmpty()}", False),
    ("${data.blank.isEmpty()}", True),
    ("${data.displayName.toString()}", "Billing"),
    ("${data.csv.split(',')}", ["a", "b", "", "c"]),
    ("${data.csv.split(',', -1)}", ["a", "b", "", "c", "", ""]),
    ("${data.csv.split(',', 2)}", ["a", "b,,c,,"]),
    ("${'a1b22c'.split('[0-9]+')}", ["a", "b", "c"]),
    ("${'abc'.split('')}", ["a", "b", "c"]),
    ("${','.split(',')}", []),
    ("${''.split(',')}", [""]),
    ("${',a'.split(',')}", ["", "a"]),
    ("${'no match'.split(';')}", ["no match"]),
    ("${data.csv.split(',')[1]}", "b"),
    ("${data.csv.split(',')[9]}", None),
    ("${helper:toList(data.csv.split(','))}", ["a", "b", "", "c"]),
    ("${helper:toList(data.csv.split(',')).size()}", 4),
    ("${helper:toList(data.items)}", ["a", "b", "c"]),
    ("${helper:toList(data.none)}", []),
    ("${helper:toList(content.id)}", ["app-1"]),
    ("${data.displayName.substring(3)}", "ling"),
    ("${data.displayName.substring(0, 4)}", "Bill"),
    ("${data.displayName.substring(7)}", ""),
    ("${data.displayName.substring('1', 2.9)}", "i"),
    ("${data.displayName.contains('ill')}", True),
    ("${data.displayName.contains('x')}", False),
    ("${data.displayName.startsWith('Bil')}", True),
    ("${data.displayName.startsWith('ill', 1)}", True),
    ("${data.displayName.startsWith('B', 99)}", False),
    ("${data.displayName.startsWith('B', -1)}", False),
    ("${data.displayName.endsWith('ing')}", True),
    ("${data.displayName.indexOf('l')}", 2),
    ("${data.displayName.indexOf('l', 3)}", 3),
    ("${data.displayName.indexOf('z')}", -1),
    ("${data.displayName.lastIndexOf('l')}", 3),
    ("${data.displayName.replace('l', 'L')}", "BiLLing"),
    ("${'a.b.c'.replace('.', '')}", "abc"),
    ("${'a1b22'.replaceAll('[0-9]+', '#')}", "a#b#"),
    ("${'John Smith'.replaceAll('(\\\\w+) (\\\\w+)', '$2, $1')}", "Smith, John"),
    ("${'ab'.replaceAll('(?<x>a)', '${x}${x}')}", "aab"),
    ("${'a.b'.replaceAll('\\\\.', '\\\\$')}", "a$b"),
    ("${'aaa'.replaceFirst('a', 'b')}", "baa"),
    ("${'abc'.replaceAll('(x)?b', '[$1]')}", "a[]c"),
    ("${data.displayName.matches('B.*g')}", True),
    ("${data.displayName.matches('ill')}", False),
    ("${data.displayName.equals('Billing')}", True),
    ("${data.displayName.equals(data.n)}", False),
    ("${data.displayName.equalsIgnoreCase('BILLING')}", True),
    ("${data.displayName.equalsIgnoreCase(null)}", False),
    ("${data.displayName.concat('!')}", "Billing!"),
    ("${data.displayName.concat(null)}", "Billing"),
    ("${'prefix-'.concat(content.id)}", "prefix-app-1"),
    ("${data.displayName.split(null)}", ["B", "i", "l", "l", "i", "n", "g"]),
    # numbers and booleans
    ("${data.n.toString()}", "5"),
    ("${data.f.toString()}", "2.5"),
    ("${data.f.intValue()}", 2),
    ("${data.n.doubleValue()}", 5.0),
    ("${data.n.equals(5)}", True),
    ("${data.n.equals(5.0)}", False),
    ("${1.5.toString()}", "1.5"),
    ("${data.t.toString()}", "true"),
    ("${data.t.equals(true)}", True),
    # List
    ("${data.items.size()}", 3),
    ("${data.empties.size()}", 0),
    ("${data.items.isEmpty()}", False),
    ("${data.empties.isEmpty()}", True),
    ("${data.items.contains('b')}", True),
    ("${data.items.contains('z')}", False),
    ("${data.mixed.contains(1)}", True),
    ("${data.mixed.contains(null)}", True),
    ("${data.nums.contains('1')}", False),
    ("${data.items.get(1)}", "b"),
    ("${data.items.indexOf('c')}", 2),
    ("${data.items.indexOf('z')}", -1),
    ("${data.items.toString()}", "[a, b, c]"),
    ("${data.nums.distinct()}", [1, 2, 3]),
    ("${data.mixed.distinct()}", [1, "1", 1.0, None]),
    ("${variables.apps.distinct()}", ["a", "b"]),
    ("${variables.apps.distinct().size()}", 2),
    ("${data.nums.sum()}", 8),
    ("${variables.costs.sum()}", 6.5),
    ("${data.empties.sum()}", 0),
    ("${data.list_of_maps.get(0).name}", "first"),
    # Map
    ("${data.map.size()}", 2),
    ("${data.emptyMap.isEmpty()}", True),
    ("${data.map.containsKey('k')}", True),
    ("${data.map.containsKey('zz')}", False),
    ("${data.map.containsKey(data.items)}", False),
    ("${data.map.get('n')}", 2),
    ("${data.map.keySet()}", ["k", "n"]),
    ("${data.map.values()}", ["v", 2]),
    ("${data.map.toString()}", "{k=v, n=2}"),
    ("${data.map.size}", None),  # a property of a map is a key, not a method
]


@pytest.mark.parametrize(("text", "expected"), METHODS)
def test_methods(text: str, expected: Any) -> None:
    value = _render(text)
    assert value == expected
    assert type(value) is type(expected)


# --------------------------------------------------------------------------- errors

ERRORS: list[tuple[str, str]] = [
    # method on null: JUEL throws (target unreachable)
    ("${data.none.toLowerCase()}", r"cannot call toLowerCase\(\) on null: 'data.none' is null"),
    ("${data.missing.trim()}", r"'data.missing' is null"),
    ("x ${data.x.q.length()} y", r"'data.x.q' is null"),
    # unknown / misused methods
    ("${data.displayName.foo()}", r"String has no method foo\(\) \(known: .*toLowerCase\(\)"),
    ("${data.items.length()}", r"List has no method length\(\); use size\(\)"),
    ("${data.displayName.size()}", r"String has no method size\(\); use length\(\)"),
    ("${data.map.length()}", r"Map has no method length\(\); use size\(\)"),
    ("${data.n.foo()}", r"Long has no method foo\(\)"),
    ("${data.csv.split(',').size()}", r"it is an array .* helper:toList"),
    ("${data.displayName.substring()}", r"substring\(\) takes 1 or 2 argument\(s\), got 0"),
    ("${data.displayName.trim(1)}", r"trim\(\) takes 0 argument\(s\), got 1"),
    ("${data.displayName.substring(8)}", r"out of range for a String of length 7"),
    ("${data.displayName.substring(3, 2)}", r"out of range"),
    ("${data.displayName.substring(-1)}", r"out of range"),
    ("${data.displayName.substring('x')}", r"cannot coerce String 'x' to Long"),
    ("${data.displayName.contains(null)}", r"expected a String argument, got null"),
    ("${data.displayName.contains(5)}", r"expected a String argument, got Long"),
    ("${data.items.get(3)}", r"get\(3\): index out of bounds for length 3"),
    ("${data.displayName.matches('(')}", r"invalid regular expression '\('"),
    ("${data.csv.split('[')}", r"invalid regular expression"),
    ("${'a'.replaceAll('a', '$')}", r"illegal group reference"),
    ("${'a'.replaceAll('a', '$2')}", r"group 2, which is not there"),
    ("${'a'.replaceAll('a', '${nope}')}", r"unknown group name 'nope'"),
    ("${'a'.replaceAll('a', 'x\\\\')}", r"character to be escaped is missing"),
    ("${data.nums.sum().foo()}", r"Long has no method foo"),
    # properties
    ("${dat.x}", r"unknown identifier 'dat'"),
    ("${data.displayName.bytes}", r"String has no property 'bytes'"),
    ("${data.n.x}", r"Long has no property 'x'"),
    ("${data.items.first}", r"cannot use String 'first' as a list index"),
    ("${data.items[true]}", r"cannot use Boolean True as a list index"),
    ("${data.csv.split(',').length}", r"as a list index"),
    # coercion failures
    ("${'abc' + 1}", r"cannot coerce String 'abc' to Long"),
    ("${'abc' == 1}", r"cannot coerce String 'abc' to Long"),
    ("${true == 1}", r"cannot coerce Boolean True to a number"),
    ("${data.items < data.items}", r"cannot compare List with List"),
    ("${data.n ? 'a' : 'b'}", r"cannot coerce Long 5 to Boolean"),
    ("${data.n && true}", r"cannot coerce Long 5 to Boolean"),
    ("${!data.items}", r"cannot coerce List"),
    ("${-data.t}", r"cannot negate Boolean"),
    ("${5 % 0}", r"division by zero"),
    ("${data.t + 1}", r"cannot coerce Boolean True to a number"),
]


@pytest.mark.parametrize(("text", "pattern"), ERRORS)
def test_evaluation_errors_are_juel_errors(text: str, pattern: str) -> None:
    compiled = Juel.compile(text)  # these parse: the problem is only found on evaluation
    with pytest.raises(JuelError, match=pattern):
        compiled.render(CTX)


def test_sum_coerces_like_el_plus() -> None:
    # [1, "1", 1.0, None]: "1" and null coerce, 1.0 makes it a double.
    assert _render("${data.mixed.sum()}") == 3.0


PARSE_ERRORS: list[tuple[str, str]] = [
    ("${content.id", r"unterminated '\$\{': missing '\}' at column 1"),
    ("abc ${data.x", r"unterminated '\$\{': missing '\}' at column 5"),
    ("${", r"unexpected end of the template"),
    ("${}", r"empty expression '\$\{\}' at column 1"),
    ("${ }", r"empty expression"),
    ("${'abc}", r"unterminated string literal at column 3"),
    ("${\"abc'}", r"unterminated string literal"),
    ("${'a\\nb'}", r"invalid escape '\\n'"),
    ("${'a\\\"b'}", r"invalid escape"),
    ("${a & b}", r"unexpected character '&' at column 5"),
    ("${a | b}", r"unexpected character '\|'"),
    ("${data @ x}", r"unexpected character '@'"),
    ("${data.x data.y}", r"unexpected 'data'"),
    ("${data.}", r"expected a property name after '.' but found '\}'"),
    ("${data.empty}", r"found 'empty'; use \['empty'\] for a key named like a keyword"),
    ("${data.5}", r"unexpected"),
    ("${1 + }", r"unexpected '\}'"),
    ("${(1 + 2}", r"expected '\)' but found '\}'"),
    ("${data.items[0}", r"expected '\]'"),
    ("${a ? b}", r"expected ':' but found '\}'"),
    ("${data.x.trim(}", r"unexpected '\}'"),
    ("${data.x.trim(1 2)}", r"expected ',' or '\)'"),
    ("${and}", r"unexpected 'and'"),
    ("${a += b}", r"'\+=' \(EL 3.0 string concatenation\) is not supported"),
    ("${a = b}", r"'=' \(EL 3.0 assignment\) is not supported"),
    ("${a; b}", r"';' .* is not supported"),
    ("${x -> x}", r"'->' \(EL 3.0 lambda\) is not supported"),
    ("${a instanceof b}", r"'instanceof' is not supported"),
    ("${[1, 2]}", r"list literals .* are not supported"),
    ("${{'a': 1}}", r"set and map literals .* are not supported"),
    ("${data['x']()}", r"calling a method by a computed name is not supported"),
    ("${(data)(1)}", r"unexpected '\('"),
    ("${99999999999999999999}", r"integer literal 99999999999999999999 is out of range"),
    ("${a} #{b}", r"cannot mix"),
    # functions are resolved when compiling
    ("${helper:nope(1)}", r"unknown function helper:nope\(\) \(supported: helper:toList\(\)\)"),
    ("${toList(data.items)}", r"unknown function toList\(\)"),
    ("${fn:length(data.items)}", r"unknown function fn:length\(\)"),
    ("${helper:toList(1, 2)}", r"helper:toList\(\) takes 1 argument\(s\), got 2"),
    ("${content.id}}", r"^$"),  # a stray '}' after the expression is text: not an error
]


@pytest.mark.parametrize(("text", "pattern"), PARSE_ERRORS)
def test_parse_errors_are_juel_errors_with_a_position(text: str, pattern: str) -> None:
    if pattern == r"^$":
        assert Juel.compile(text).render(CTX) == "app-1}"
        return
    with pytest.raises(JuelError, match=pattern):
        Juel.compile(text)


def test_compile_refuses_non_strings() -> None:
    with pytest.raises(JuelError, match="must be a string, not int"):
        Juel.compile(5)  # type: ignore[arg-type]


def test_compile_is_cached_for_successes_and_failures() -> None:
    assert Juel.compile("${data.n + 1}") is Juel.compile("${data.n + 1}")
    for _ in range(2):
        with pytest.raises(JuelError, match="unterminated"):
            Juel.compile("${never.closed")


# --------------------------------------------------------------------------- truthy

TRUTHY: list[tuple[str, bool]] = [
    ("${true}", True),
    ("${false}", False),
    ("${'TRUE'}", True),
    ("${'yes'}", False),
    ("${null}", False),
    ("${data.missing}", False),
    ("${''}", False),
    ("${data.t}", True),
    ("${content.type == 'Application' && !empty data.items}", True),
    ("${data.n > 10 || content.id.startsWith('app-')}", True),
    ("${lx.factsheet.id != null}", True),
    ("true", True),
    ("True", True),
    ("false", False),
    ("anything", False),
    ("", False),
    ("x${true}", False),
    ("${true}${''}", True),
]


@pytest.mark.parametrize(("text", "expected"), TRUTHY)
def test_truthy_coerces_to_boolean_as_el(text: str, expected: bool) -> None:
    assert Juel.compile(text).truthy(CTX) is expected
    assert truthy(text, CTX) is expected


@pytest.mark.parametrize("text", ["${data.n}", "${data.items}", "${data.map}", "${1.5}"])
def test_truthy_of_a_non_boolean_is_an_error_not_true(text: str) -> None:
    with pytest.raises(JuelError, match="to Boolean"):
        truthy(text, CTX)


def test_coercion_helpers() -> None:
    assert [as_string(v) for v in (None, True, 3, 2.0, "s", [None, 1], {"a": [1]})] == [
        "",
        "true",
        "3",
        "2.0",
        "s",
        "[null, 1]",
        "{a=[1]}",
    ]
    assert [as_boolean(v) for v in (None, "", "tRuE", "1", True, False)] == [
        False,
        False,
        True,
        False,
        True,
        False,
    ]


# --------------------------------------------------------------------------- host objects


class _Tags(JuelObject):
    def juel_call(self, name: str, args: tuple[Any, ...]) -> Any:
        if name == "getTagGroupId":
            return f"tg-{args[0]}"
        return super().juel_call(name, args)


def test_host_objects_answer_method_calls_and_refuse_the_rest() -> None:
    ctx = {"integration": {"tags": _Tags()}}
    assert render("${integration.tags.getTagGroupId('Cost')}", ctx) == "tg-Cost"
    with pytest.raises(JuelError, match=r"_Tags has no method getTagId\(\)"):
        render("${integration.tags.getTagId('G', 'T')}", ctx)
    with pytest.raises(JuelError, match="_Tags has no property 'x'"):
        render("${integration.tags.x}", ctx)


# --------------------------------------------------------------------------- hostile input


def _nested(depth: int) -> str:
    return "${" + "(" * depth + "1" + ")" * depth + "}"


@pytest.mark.parametrize(
    "text",
    [
        _nested(3000),
        "${" + "!" * 3000 + "true}",
        "${" + "-" * 3000 + "1}",
        "${" + "empty " * 1500 + "1}",
        "${" + " + ".join(["1"] * 2000) + "}",
        "${" + " && ".join(["true"] * 1000) + "}",
        "${" + "true ? " * 700 + "1" + " : 0" * 700 + "}",
        "${data" + "[0]" * 2000 + "}",
        "${data" + ".trim()" * 1200 + "}",
        "${" + "helper:toList(" * 500 + "1" + ")" * 500 + "}",
    ],
)
def test_deep_nesting_is_a_juel_error_not_a_recursion_error(text: str) -> None:
    assert len(text) <= MAX_TEXT_CHARS
    with pytest.raises(JuelError, match="nested too deeply"):
        Juel.compile(text)


def test_nesting_up_to_the_limit_works() -> None:
    assert render(_nested(MAX_DEPTH - 5), CTX) == 1
    assert render("${" + " + ".join(["1"] * (MAX_DEPTH - 5)) + "}", CTX) == MAX_DEPTH - 5


def test_a_long_dotted_path_is_one_node_and_is_null_not_an_error() -> None:
    text = "${data" + ".x" * 4000 + "}"
    assert len(text) < MAX_TEXT_CHARS
    assert render(text, CTX) is None


def test_template_length_is_bounded() -> None:
    at_limit = "${content.id}" + " " * (MAX_TEXT_CHARS - len("${content.id}"))
    assert render(at_limit, CTX) == "app-1" + " " * (MAX_TEXT_CHARS - 13)
    with pytest.raises(JuelError, match=r"template is too long \(10001 > 10000 characters\)"):
        Juel.compile(at_limit + " ")
    with pytest.raises(JuelError, match="too long"):
        Juel.compile("${'" + "x" * 2_000_000 + "'}")


def test_huge_values_in_the_context_are_fine() -> None:
    big = "y" * 2_000_000
    assert render("${data.s.length()}", {"data": {"s": big}}) == 2_000_000
    assert render("<${data.s}>", {"data": {"s": big}}) == f"<{big}>"


def test_pathologically_deep_data_gives_a_juel_error() -> None:
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(JuelError, match="RecursionError"):
        render("x ${data.deep}", {"data": {"deep": deep}})


JUEL_ALPHABET = st.sampled_from(
    [
        *"${}#()[]'\".,:?!&|=<>+-*/% \\",
        *("data", "content", "id", "x", "empty", "not", "and", "true", "null", "1", "2.5"),
        *(".toLowerCase()", ".split(',')", ".size()", "helper:toList(", "[0]", "'a'", " ? "),
        " : ",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(JUEL_ALPHABET, max_size=30).map("".join))
def test_any_text_either_works_or_raises_juel_error(text: str) -> None:
    ctx = {"data": {"x": "a,b", "1": [1], "id": None}, "content": {"id": "c"}, "x": 1}
    try:
        compiled = Juel.compile(text)
    except JuelError:
        return
    try:
        compiled.render(ctx)
        compiled.truthy(ctx)
    except JuelError:
        pass


# --------------------------------------------------------------------------- speed and safety


def test_ten_thousand_items_render_fast() -> None:
    simple = Juel.compile("${content.id}")
    mixed = Juel.compile("${data.displayName} (${content.id})")
    filt = Juel.compile("${content.type == 'Application' && !empty data.items}")
    items = [
        {"content": {"id": f"id-{i}", "type": "Application"}, "data": {"displayName": f"n{i}"}}
        for i in range(10_000)
    ]
    started = time.perf_counter()
    ids = [simple.render(item) for item in items]
    names = [mixed.render(item) for item in items]
    kept = [filt.truthy(item) for item in items]
    elapsed = time.perf_counter() - started
    assert ids[42] == "id-42" and names[42] == "n42 (id-42)" and not any(kept)
    assert elapsed < 1.0, f"30,000 renders took {elapsed:.3f} s"


def test_the_module_never_calls_eval_or_exec_and_never_imports_lx_core() -> None:
    source = Path(juel.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not calls & {"eval", "exec", "compile", "__import__"}
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith(("lx_core", "functions")) for name in imported)
