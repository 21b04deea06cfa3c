"""TagCatalog: lookup by name, TTL cache shared in the process, create-if-missing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import responses

from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.tags import TagCatalog, TagSpec
from lx_core.leanix.testing import FakeClock

GQL = "https://acme.leanix.net/services/pathfinder/v1/graphql"
GROUPS = {
    "data": {
        "allTagGroups": {
            "edges": [
                {"node": {"id": "g0", "name": "Other", "mode": "MULTIPLE"}},
                {
                    "node": {
                        "id": "g1",
                        "name": "TIME Model",
                        "shortName": "TIME",
                        "mode": "SINGLE",
                        "restrictToFactSheetTypes": ["Application"],
                    }
                },
            ]
        }
    }
}


def _tags(*names: str, group: str = "g1") -> dict[str, Any]:
    return {
        "data": {
            "allTags": {
                "edges": [
                    {
                        "node": {
                            "id": f"t-{n}",
                            "name": n,
                            "status": "ACTIVE",
                            "tagGroup": {"id": group, "name": "TIME Model"},
                        }
                    }
                    for n in names
                ]
            }
        }
    }


def _bodies(rsps: responses.RequestsMock) -> list[dict[str, Any]]:
    return [json.loads(c.request.body or b"{}") for c in rsps.calls if c.request.url == GQL]


pytestmark = pytest.mark.usefixtures("tags_ready")


@pytest.fixture
def tags_ready(leanix_token: Callable[..., str]) -> None:
    leanix_token()


def test_group_reads_group_and_its_tags(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json=GROUPS)
    leanix_http.add(responses.POST, GQL, json=_tags("Invest", "Tolerate"))
    group = TagCatalog(leanix_client.graphql, ttl_seconds=60, clock=leanix_clock).group(
        "TIME Model"
    )
    assert group is not None
    assert group.id == "g1"
    assert group.mode == "SINGLE"
    assert group.restrict_to == ("Application",)
    assert sorted(group.tags) == ["Invest", "Tolerate"]
    assert group.tags["Invest"].id == "t-Invest"
    assert group.tags["Invest"].group_id == "g1"
    assert _bodies(leanix_http)[1]["variables"] == {"group": "TIME Model"}
    assert "allTags(filter: {tagGroupName: $group})" in _bodies(leanix_http)[1]["query"]


def test_tags_of_other_groups_are_ignored(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json=GROUPS)
    leanix_http.add(responses.POST, GQL, json=_tags("Invest", group="g0"))
    group = TagCatalog(leanix_client.graphql, ttl_seconds=60, clock=leanix_clock).group(
        "TIME Model"
    )
    assert group is not None
    assert group.tags == {}


def test_cache_is_shared_and_expires_after_ttl(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    for _ in range(2):
        leanix_http.add(responses.POST, GQL, json=GROUPS)
        leanix_http.add(responses.POST, GQL, json=_tags("Invest"))
    one = TagCatalog(leanix_client.graphql, ttl_seconds=60, clock=leanix_clock)
    two = TagCatalog(leanix_client.graphql, ttl_seconds=60, clock=leanix_clock)
    assert one.group("TIME Model") == two.group("TIME Model")
    assert len(_bodies(leanix_http)) == 2
    leanix_clock.advance(59)
    one.group("TIME Model")
    assert len(_bodies(leanix_http)) == 2
    leanix_clock.advance(2)
    one.group("TIME Model")
    assert len(_bodies(leanix_http)) == 4


def test_missing_group_is_none(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json=GROUPS)
    catalog = TagCatalog(leanix_client.graphql, ttl_seconds=60, clock=leanix_clock)
    assert catalog.group("Nope") is None
    assert len(_bodies(leanix_http)) == 1


def test_ensure_group_creates_the_group_and_missing_tags(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json={"data": {"allTagGroups": {"edges": []}}})
    leanix_http.add(
        responses.POST,
        GQL,
        json={"data": {"upsertTagGroup": {"id": "g9", "name": "TIME", "mode": "SINGLE"}}},
    )
    for name in ("Invest", "Tolerate"):
        leanix_http.add(
            responses.POST,
            GQL,
            json={
                "data": {
                    "upsertTag": {
                        "id": f"t-{name}",
                        "name": name,
                        "tagGroup": {"id": "g9", "name": "TIME"},
                    }
                }
            },
        )
    catalog = TagCatalog(leanix_client.graphql, ttl_seconds=60, clock=leanix_clock)
    group = catalog.ensure_group(
        "TIME",
        tags=[TagSpec(name="Invest", color="#00b361"), TagSpec(name="Tolerate")],
    )
    assert group.id == "g9"
    assert {n: t.id for n, t in group.tags.items()} == {
        "Invest": "t-Invest",
        "Tolerate": "t-Tolerate",
    }
    bodies = _bodies(leanix_http)
    assert [b["operationName"] for b in bodies] == [
        "lxTagGroups",
        "lxUpsertTagGroup",
        "lxUpsertTag",
        "lxUpsertTag",
    ]
    assert "mode: SINGLE, restrictToFactSheetTypes: [Application]" in bodies[1]["query"]
    assert bodies[1]["variables"] == {"name": "TIME"}
    assert bodies[2]["variables"] == {
        "name": "Invest",
        "group": "TIME",
        "description": None,
        "color": "#00b361",
    }
    # the cache now holds the created group: no further reads
    assert catalog.group("TIME") == group
    assert len(_bodies(leanix_http)) == 4


def test_ensure_group_only_adds_what_is_missing(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json=GROUPS)
    leanix_http.add(responses.POST, GQL, json=_tags("Invest"))
    leanix_http.add(
        responses.POST,
        GQL,
        json={"data": {"upsertTag": {"id": "t-M", "name": "Migrate", "tagGroup": {"id": "g1"}}}},
    )
    catalog = TagCatalog(leanix_client.graphql, ttl_seconds=60, clock=leanix_clock)
    group = catalog.ensure_group(
        "TIME Model", tags=[TagSpec(name="Invest"), TagSpec(name="Migrate")]
    )
    assert sorted(group.tags) == ["Invest", "Migrate"]
    ops = [b["operationName"] for b in _bodies(leanix_http)]
    assert ops == ["lxTagGroups", "lxTags", "lxUpsertTag"]


def test_ensure_group_with_everything_present_writes_nothing(
    leanix_client: LeanIXClient, leanix_http: responses.RequestsMock, leanix_clock: FakeClock
) -> None:
    leanix_http.add(responses.POST, GQL, json=GROUPS)
    leanix_http.add(responses.POST, GQL, json=_tags("Invest"))
    catalog = TagCatalog(leanix_client.graphql, ttl_seconds=60, clock=leanix_clock)
    catalog.ensure_group("TIME Model", tags=[TagSpec(name="Invest")])
    assert [b["operationName"] for b in _bodies(leanix_http)] == ["lxTagGroups", "lxTags"]


def test_ensure_group_validates_inline_enum_literals(leanix_client: LeanIXClient) -> None:
    catalog = TagCatalog(leanix_client.graphql, ttl_seconds=60)
    with pytest.raises(ValueError, match="mode"):
        catalog.ensure_group("x", mode="SINGLE) { evil }", tags=[])
    with pytest.raises(ValueError, match="restrict_to"):
        catalog.ensure_group("x", restrict_to=("Application]",), tags=[])
