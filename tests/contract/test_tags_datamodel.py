"""Contract: TagCatalog lookups and idempotent creation, DataModel value orders and fields."""

from __future__ import annotations

import pytest

from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.datamodel import DataModel, clear_datamodel_cache
from lx_core.leanix.tags import TagCatalog, TagSpec, clear_tag_cache
from tests.contract.conftest import Admin

pytestmark = pytest.mark.sandbox

NEW_GROUP = "Contract Test Group"
SEEDED_FUNCTIONAL = ("unreasonable", "insufficient", "appropriate", "perfect")
SEEDED_TECHNICAL = ("inappropriate", "unreasonable", "adequate", "fullyAppropriate")


def _operations(admin: Admin) -> dict[str, int]:
    ops: dict[str, int] = admin.stats()["graphql"]["operationNames"]
    return ops


def test_catalog_finds_the_seeded_time_group(admin: Admin, client: LeanIXClient) -> None:
    """group("TIME Model") returns the seeded SINGLE group with exactly its four tags."""
    seeded = admin.tag_group("TIME Model")
    assert seeded is not None
    group = TagCatalog(client.graphql).group("TIME Model")
    assert group is not None
    assert group.id == seeded["id"]
    assert group.mode == "SINGLE"
    assert group.restrict_to == ("Application",)
    assert {name: tag.id for name, tag in group.tags.items()} == {
        t["name"]: t["id"] for t in seeded["tags"]
    }
    assert set(group.tags) == {"Tolerate", "Invest", "Migrate", "Eliminate"}
    assert {tag.group_id for tag in group.tags.values()} == {seeded["id"]}


def test_catalog_answers_none_for_a_missing_group_and_caches(
    admin: Admin, client: LeanIXClient
) -> None:
    """An unknown group is None; a second lookup of a known group is served from the cache."""
    catalog = TagCatalog(client.graphql)
    assert catalog.group("No Such Group") is None
    assert catalog.group("Hosting") is not None
    admin.clear_stats()
    assert catalog.group("Hosting") is not None
    assert admin.stats()["graphql"]["requests"] == 0


def test_ensure_group_creates_a_single_group_once(admin: Admin, client: LeanIXClient) -> None:
    """ensure_group creates the SINGLE group and its tags; asked again from a cold cache it
    finds them and creates nothing; a new tag spec adds just that tag."""
    specs = [TagSpec(name="Alpha", color="#112233", description="first"), TagSpec(name="Beta")]
    created = TagCatalog(client.graphql).ensure_group(NEW_GROUP, tags=specs)
    assert created.mode == "SINGLE"
    stored = admin.tag_group(NEW_GROUP)
    assert stored is not None
    assert stored["mode"] == "SINGLE"
    assert stored["restrictToFactSheetTypes"] == ["Application"]
    assert {t["name"]: t["id"] for t in stored["tags"]} == {
        name: tag.id for name, tag in created.tags.items()
    }
    assert {t["name"]: t["color"] for t in stored["tags"]} == {"Alpha": "#112233", "Beta": None}
    assert created.id == stored["id"]

    clear_tag_cache()
    admin.clear_stats()
    again = TagCatalog(client.graphql).ensure_group(NEW_GROUP, tags=specs)
    assert again.id == created.id
    assert {n: t.id for n, t in again.tags.items()} == {n: t.id for n, t in created.tags.items()}
    ops = _operations(admin)
    assert "lxUpsertTagGroup" not in ops
    assert "lxUpsertTag" not in ops
    assert admin.stats()["graphql"]["mutations"] == 0
    stored_again = admin.tag_group(NEW_GROUP)
    assert stored_again is not None
    assert len(stored_again["tags"]) == 2

    admin.clear_stats()
    grown = TagCatalog(client.graphql).ensure_group(NEW_GROUP, tags=[*specs, TagSpec(name="Gamma")])
    assert set(grown.tags) == {"Alpha", "Beta", "Gamma"}
    ops = _operations(admin)
    assert ops.get("lxUpsertTag") == 1
    assert "lxUpsertTagGroup" not in ops
    final = admin.tag_group(NEW_GROUP)
    assert final is not None
    assert [t["name"] for t in final["tags"]] == ["Alpha", "Beta", "Gamma"]
    assert sum(g["name"] == NEW_GROUP for g in admin.workspace()["tagGroups"]) == 1


def test_value_orders_are_read_from_the_workspace(admin: Admin, client: LeanIXClient) -> None:
    """DataModel returns the seeded orders of both fits (worst first) and knows the fields."""
    served = admin.datamodel()["Application"]
    model = DataModel(client.graphql)
    functional = model.value_order("Application", "functionalSuitability")
    technical = model.value_order("Application", "technicalSuitability")
    assert functional == tuple(served["functionalSuitability"]) == SEEDED_FUNCTIONAL
    assert technical == tuple(served["technicalSuitability"]) == SEEDED_TECHNICAL
    assert model.has_field("Application", "lxTimeClassification")
    assert model.has_field("Application", "functionalSuitability")
    assert not model.has_field("Application", "noSuchField")
    assert not model.has_field("ITComponent", "lxTimeClassification")
    assert model.value_order("Application", "name") is None
    assert model.value_order("NoSuchType", "functionalSuitability") is None


def test_value_order_follows_a_changed_data_model(admin: Admin, client: LeanIXClient) -> None:
    """After the workspace reorders a field, a cold cache reads the new order (a warm cache
    keeps the old one until its TTL, as documented)."""
    model = DataModel(client.graphql)
    assert model.value_order("Application", "functionalSuitability") == SEEDED_FUNCTIONAL
    reordered = ["perfect", "unreasonable", "appropriate", "insufficient"]
    admin.put_datamodel({"Application": {"functionalSuitability": reordered}})
    assert model.value_order("Application", "functionalSuitability") == SEEDED_FUNCTIONAL
    clear_datamodel_cache()
    fresh = DataModel(client.graphql)
    assert fresh.value_order("Application", "functionalSuitability") == tuple(reordered)
    assert fresh.value_order("Application", "technicalSuitability") == SEEDED_TECHNICAL
