"""DataModel: enum value order from introspection, field presence, TTL cache."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import responses

from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.datamodel import DataModel
from lx_core.leanix.testing import FakeClock

GQL = "https://acme.leanix.net/services/pathfinder/v1/graphql"


def _enum(*values: str) -> list[dict[str, str]]:
    return [{"name": v} for v in values]


APPLICATION = {
    "data": {
        "__type": {
            "fields": [
                {
                    "name": "name",
                    "type": {
                        "kind": "NON_NULL",
                        "name": None,
                        "ofType": {"kind": "SCALAR", "name": "String", "enumValues": None},
                    },
                },
                {
                    "name": "functionalSuitability",
                    "type": {
                        "kind": "ENUM",
                        "name": "FunctionalSuitability",
                        "enumValues": _enum(
                            "unreasonable", "insufficient", "appropriate", "perfect"
                        ),
                        "ofType": None,
                    },
                },
                {
                    "name": "technicalSuitability",
                    "type": {
                        "kind": "NON_NULL",
                        "name": None,
                        "enumValues": None,
                        "ofType": {
                            "kind": "ENUM",
                            "name": "TechnicalSuitability",
                            "enumValues": _enum(
                                "inappropriate", "unreasonable", "adequate", "fullyAppropriate"
                            ),
                        },
                    },
                },
                {
                    "name": "lxTimeClassification",
                    "type": {"kind": "ENUM", "name": "LxTime", "enumValues": None, "ofType": None},
                },
            ]
        }
    }
}


def _bodies(rsps: responses.RequestsMock) -> list[dict[str, Any]]:
    return [json.loads(c.request.body or b"{}") for c in rsps.calls if c.request.url == GQL]


pytestmark = pytest.mark.usefixtures("dm_ready")


@pytest.fixture
def dm_ready(leanix_token: Callable[..., str]) -> None:
    leanix_token()


def test_value_order_in_schema_order(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json=APPLICATION)
    model = DataModel(leanix_client.graphql, clock=leanix_clock)
    assert model.value_order("Application", "functionalSuitability") == (
        "unreasonable",
        "insufficient",
        "appropriate",
        "perfect",
    )
    assert model.value_order("Application", "technicalSuitability") == (
        "inappropriate",
        "unreasonable",
        "adequate",
        "fullyAppropriate",
    )
    assert model.value_order("Application", "name") is None
    assert model.value_order("Application", "nope") is None
    assert model.has_field("Application", "name")
    assert not model.has_field("Application", "nope")
    body = _bodies(leanix_http)[0]
    assert body["variables"] == {"t": "Application"}
    assert "__type(name: $t)" in body["query"]


def test_enum_without_nested_values_is_asked_for_by_name(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json=APPLICATION)
    leanix_http.add(
        responses.POST,
        GQL,
        json={"data": {"__type": {"kind": "ENUM", "enumValues": _enum("tolerate", "invest")}}},
    )
    model = DataModel(leanix_client.graphql, clock=leanix_clock)
    assert model.value_order("Application", "lxTimeClassification") == ("tolerate", "invest")
    assert _bodies(leanix_http)[1]["variables"] == {"t": "LxTime"}


def test_unknown_type_has_no_fields(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json={"data": {"__type": None}})
    model = DataModel(leanix_client.graphql, clock=leanix_clock)
    assert model.value_order("Nope", "x") is None
    assert not model.has_field("Nope", "x")


def test_cached_per_process_until_ttl(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json=APPLICATION)
    first = DataModel(leanix_client.graphql, ttl_seconds=100, clock=leanix_clock)
    first.has_field("Application", "x")
    model = DataModel(leanix_client.graphql, ttl_seconds=100, clock=leanix_clock)
    model.value_order("Application", "functionalSuitability")
    assert len(_bodies(leanix_http)) == 1
    leanix_clock.advance(101)
    model.value_order("Application", "functionalSuitability")
    assert len(_bodies(leanix_http)) == 2
