"""Property-based fuzzing of ``POST /api/leanix/time`` through the local host, over real HTTP.

Each example is one request: a body (random JSON, LeanIX-shaped events with wrong types, huge
strings, deep nesting as the body or inside a string ``payload``, invalid UTF-8, raw bytes), an
``Authorization`` header and a function key (right, missing or forged, in the query or the
header), and a method (mostly POST). Properties, for every example:

* never a 5xx, and never "Traceback" in an answer;
* wrong credentials on POST are 401;
* anything that is not a valid, authenticated Application event costs the technical user no
  LeanIX call at all (so certainly no write), judged by the emulator's per-user counters read
  before and after the request.

The number of examples comes from ``LX_FUZZ_EXAMPLES`` (300 by default; ``make storm`` runs
5,000) through the settings profile ``lx-fuzz``.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lx_core.assumptions import PAYLOAD_TYPE_TO_EVENT
from lx_sandbox.azurite import Azurite
from lx_sandbox.stack import SandboxStack
from tests.reliability.conftest import generated_stack

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

PROFILE = "lx-fuzz"
EXAMPLES = int(os.environ.get("LX_FUZZ_EXAMPLES", "300"))
settings.register_profile(
    PROFILE,
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

HANDLED = {"FACT_SHEET_CREATED", "FACT_SHEET_UPDATED"}
HANDLED_TYPES = HANDLED | {k for k, v in PAYLOAD_TYPE_TO_EVENT.items() if v in HANDLED}
ID_LIKE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
MAX_BODY = 1_048_576
OTHER_METHODS = ("GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
ANSWERS: Counter[str] = Counter()


@dataclass(frozen=True)
class Target:
    url: str
    function_key: str
    secret: str
    real_ids: tuple[str, ...]
    technical_user_id: str
    human_user_id: str


@dataclass(frozen=True)
class Attempt:
    method: str
    body: bytes
    authorization: bytes | None
    key: str | None
    key_in_header: bool
    key_ok: bool
    auth_ok: bool
    content_type: str | None


@pytest.fixture(scope="module")
def target(azurite: Azurite) -> Iterator[tuple[SandboxStack, Target]]:
    with generated_stack(azurite, 40, subscriptions=False) as stack:
        assert stack.host is not None
        users = stack.admin("GET", "/workspace")["users"]
        yield (
            stack,
            Target(
                url=f"{stack.host_url}/api/leanix/time",
                function_key=stack.host.function_key,
                secret=stack.options.webhook_secret,
                real_ids=tuple(a["id"] for a in stack.applications()[:10]),
                technical_user_id=next(u["id"] for u in users if u["technical"]),
                human_user_id=next(u["id"] for u in users if not u["technical"]),
            ),
        )
    requests_sent = sum(n for k, n in ANSWERS.items() if k.startswith("HTTP"))
    print(f"\nfuzz: {requests_sent} requests: {dict(sorted(ANSWERS.items()))}")


# -- strategies ----------------------------------------------------------------------------------


def mostly(right: Any, wrong: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``right`` four times in five, else something from ``wrong``."""
    return st.integers(0, 4).flatmap(lambda n: st.just(right) if n else wrong)


leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def deep(depth: int, kind: str) -> str:
    """JSON text nested ``depth`` levels deep, built as text (json.dumps would recurse)."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


deep_text = st.builds(deep, st.integers(1, 200_000), st.sampled_from(["list", "object"]))
huge_text = st.integers(1_000, 2_500_000).map(lambda n: "x" * n)


def event_types() -> st.SearchStrategy[Any]:
    named = st.sampled_from(sorted(HANDLED_TYPES | {"FactSheetArchivedEvent", ""}))
    return mostly("FactSheetUpdatedEvent", named | json_values)


def fact_sheets(t: Target) -> st.SearchStrategy[Any]:
    ids: st.SearchStrategy[Any] = st.one_of(
        st.sampled_from(t.real_ids),
        st.uuids().map(str),
        st.text(max_size=120),
        st.from_regex(ID_LIKE, fullmatch=True),
        json_values,
    )
    types = mostly("Application", st.sampled_from(["ITComponent", "application"]) | json_values)
    return st.fixed_dictionaries(
        {"id": ids, "type": types},
        optional={
            "rev": st.integers() | json_values,
            "name": st.text(max_size=50) | huge_text | json_values,
            "fields": json_values,
        },
    )


def payloads(t: Target, *, with_fact_sheet: bool = False) -> st.SearchStrategy[Any]:
    """Event payloads (DEFAULT mode bodies); ``with_fact_sheet``: always one shaped like it."""
    users = st.sampled_from([t.human_user_id, t.technical_user_id]) | json_values
    optional: dict[str, st.SearchStrategy[Any]] = {
        "userId": users,
        "workspaceId": json_values,
        "id": json_values,
        "transactionSequenceNumber": json_values,
    }
    required: dict[str, st.SearchStrategy[Any]] = {"type": event_types()}
    if with_fact_sheet:
        required["factSheet"] = fact_sheets(t)
    else:
        optional["factSheet"] = fact_sheets(t) | json_values
    return st.fixed_dictionaries(required, optional=optional)


def bodies(t: Target) -> st.SearchStrategy[bytes]:
    payload = payloads(t)
    events = payloads(t, with_fact_sheet=True)
    envelopes = st.fixed_dictionaries(
        {"payload": events | events.map(json.dumps) | payload | deep_text | json_values},
        optional={"type": json_values, "id": json_values, "userId": json_values},
    )
    as_json = (payload | envelopes | json_values).map(lambda v: json.dumps(v).encode())
    as_event = (events | envelopes).map(lambda v: json.dumps(v).encode())
    deep_bodies = deep_text.map(str.encode) | deep_text.map(
        lambda text: json.dumps({"type": "FactSheetUpdatedEvent", "payload": text}).encode()
    )

    def spoil(body: bytes, at: int, junk: bytes) -> bytes:
        at = at % (len(body) + 1)
        return body[:at] + junk + body[at:]

    invalid_utf8 = st.builds(
        spoil,
        as_json,
        st.integers(0, 10_000),
        st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]),
    )
    return st.one_of(
        as_event, as_event, as_json, deep_bodies, invalid_utf8, st.binary(max_size=300)
    )


header_bytes = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80
).map(lambda s: s.encode("latin-1"))


@st.composite
def attempts(draw: st.DrawFn, t: Target) -> Attempt:
    secret = t.secret.encode()
    authorization = draw(
        mostly(
            secret,
            st.sampled_from([None, secret + b" ", secret.lower(), b"Bearer", b""]) | header_bytes,
        )
    )
    key = draw(
        mostly(
            t.function_key,
            st.sampled_from([None, "", t.function_key[:-1], t.function_key + "x"])
            | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40),
        )
    )
    return Attempt(
        method=draw(mostly("POST", st.sampled_from(OTHER_METHODS))),
        body=draw(bodies(t)),
        authorization=authorization,
        key=key,
        key_in_header=draw(st.booleans()),
        key_ok=key == t.function_key,
        auth_ok=authorization == secret,
        content_type=draw(st.sampled_from(["application/json", "text/plain", None])),
    )


# -- the oracle ----------------------------------------------------------------------------------


def may_be_application_event(body: bytes, t: Target) -> bool:
    """Whether the body *could* be a valid Application event: permissive on purpose, since only
    a False here obliges the function to make no LeanIX call."""
    if len(body) > MAX_BODY:
        return False
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(value, dict):
        return False
    payload: Any = value
    if "payload" in value:
        payload = value["payload"]
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except (ValueError, RecursionError):
                return False
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return False
    if payload["type"] not in HANDLED_TYPES:
        return False
    fact_sheet = payload.get("factSheet")
    if not isinstance(fact_sheet, dict) or fact_sheet.get("type") != "Application":
        return False
    fs_id = fact_sheet.get("id")
    return isinstance(fs_id, str) and ID_LIKE.match(fs_id) is not None


def technical_counters(stack: SandboxStack, t: Target) -> tuple[int, int]:
    user = stack.admin("GET", "/stats")["users"].get(t.technical_user_id) or {}
    return int(user.get("requests", 0)), int(user.get("updateFactSheet", 0))


def send(t: Target, a: Attempt) -> requests.Response:
    headers: dict[str, str | bytes] = {}
    if a.authorization is not None:
        headers["Authorization"] = a.authorization
    if a.content_type is not None:
        headers["Content-Type"] = a.content_type
    params: dict[str, str] = {}
    if a.key is not None:
        if a.key_in_header:
            headers["x-functions-key"] = a.key
        else:
            params["code"] = a.key
    return requests.request(
        a.method, t.url, params=params, data=a.body, headers=headers, timeout=60
    )


# -- the property --------------------------------------------------------------------------------


# About 30 examples a second on 2 cores (three HTTP calls each): the limit grows with the size.
@pytest.mark.timeout(max(120, EXAMPLES // 10))
@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_webhook_survives_hostile_requests(
    target: tuple[SandboxStack, Target], data: st.DataObject
) -> None:
    stack, t = target
    a = data.draw(attempts(t))
    calls, writes = technical_counters(stack, t)
    response = send(t, a)
    ANSWERS[f"HTTP {response.status_code}"] += 1
    after_calls, after_writes = technical_counters(stack, t)

    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text
    if a.method == "POST" and not (a.key_ok and a.auth_ok):
        assert response.status_code == 401, (response.status_code, response.text[:300])
    valid = a.method == "POST" and a.key_ok and a.auth_ok and may_be_application_event(a.body, t)
    ANSWERS["valid Application events"] += valid
    if not valid:
        assert (after_calls - calls, after_writes - writes) == (0, 0), response.text[:300]
