"""Contract: the TIME job (TimeTagger) end to end against the demo workspace.

Expectations are computed here from the emulator's own view (its data model and stored fact
sheets), with the TIME rule written out independently of lx_core.decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from lx_core.decisions.time_tags import Outcome, TimeDecision
from lx_core.errors import ConfigurationError, NotFoundError
from lx_core.events import parse_event
from lx_core.jobs.reconcile_summary import ReconcileSummary
from lx_core.jobs.time_tagging import Context, TimeTagger
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.graphql import FactSheetUpdate, Patch
from lx_core.leanix.webhooks import Subscription
from lx_sandbox.emulator import HUMAN_TOKEN
from tests.contract.conftest import Admin, ClientFactory, make_time_settings

pytestmark = pytest.mark.sandbox

JsonDict = dict[str, Any]
WAREHOUSE = "b7c4d3ad-4889-5b0a-9114-71cc2a8831fe"  # unreasonable / adequate, no tags
PAYROLL = "78c88549-24a8-59fd-b49b-be4433449965"  # unreasonable / inappropriate, Eliminate
FLEET_MANAGER = "8935a159-4261-53ed-a717-9f896d1709bc"  # perfect / fullyAppropriate
HR_PORTAL = "dd58fc93-5861-50de-97f5-1e6ad56848c9"  # unreasonable / fullyAppropriate
GENERAL_LEDGER = "4ed45f34-1754-5b7f-86a6-732be4c6d7ce"  # Eliminate, tagged Tolerate
OLD_INTRANET = "bf3cfb3a-4dbe-53a6-88e0-79295ed778b6"  # archived, rev 7
POSTGRES = "90a4d872-647c-5dbe-83f3-1ee3d56ac165"  # an ITComponent
PARTNER_PORTAL = "acad7866-797c-531a-a306-363f557c8450"  # no fits, tagged Eliminate
EMAIL_GATEWAY = "c0867bab-6328-59b3-b0a8-22fc02358340"  # appropriate / adequate, no tags


def expected_class(values: dict[str, str], model: dict[str, list[str]]) -> str | None:
    """Gartner TIME from the two fits: a value is high in the upper half of its order."""
    functional = values.get("functionalSuitability")
    technical = values.get("technicalSuitability")
    if functional is None or technical is None:
        return None
    f_order, t_order = model["functionalSuitability"], model["technicalSuitability"]
    f_high = f_order.index(functional) >= len(f_order) // 2
    t_high = t_order.index(technical) >= len(t_order) // 2
    return {
        (True, True): "invest",
        (True, False): "migrate",
        (False, True): "tolerate",
        (False, False): "eliminate",
    }[(f_high, t_high)]


class World:
    """The demo workspace's Applications and TIME tags, as the emulator stores them."""

    def __init__(self, admin: Admin) -> None:
        self.model = admin.datamodel()["Application"]
        group = admin.tag_group("TIME Model")
        assert group is not None
        self.time_tags: dict[str, str] = {t["name"].lower(): t["id"] for t in group["tags"]}
        self.apps: dict[str, JsonDict] = {fs["id"]: fs for fs in admin.fact_sheets("Application")}

    def active(self) -> list[JsonDict]:
        return [fs for fs in self.apps.values() if fs["status"] == "ACTIVE"]

    def expected(self, fs: JsonDict) -> str | None:
        return expected_class(fs["values"], self.model)

    def time_tag_ids(self, fs: JsonDict) -> list[str]:
        group = set(self.time_tags.values())
        return [t for t in fs["tagIds"] if t in group]

    def other_tag_ids(self, fs: JsonDict) -> list[str]:
        group = set(self.time_tags.values())
        return [t for t in fs["tagIds"] if t not in group]

    def needs_tag_write(self, fs: JsonDict) -> bool:
        cls = self.expected(fs)
        return cls is not None and self.time_tag_ids(fs) != [self.time_tags[cls]]


def _mutation_count(admin: Admin) -> int:
    count: int = admin.stats()["graphql"]["mutations"]
    return count


def test_reconcile_tags_every_classifiable_application(admin: Admin, client: LeanIXClient) -> None:
    """Every classifiable active Application ends with exactly its one correct TIME tag, other
    tags kept; unclassifiable and archived ones are untouched; the summary matches."""
    before = World(admin)
    active = before.active()
    classifiable = [fs for fs in active if before.expected(fs) is not None]
    to_change = [fs for fs in classifiable if before.needs_tag_write(fs)]
    assert len(active) == 50
    assert 0 < len(to_change) < len(classifiable) < len(active)

    summary = TimeTagger(client, make_time_settings()).reconcile()

    after = World(admin)
    for fs_id, old in before.apps.items():
        new = after.apps[fs_id]
        cls = before.expected(old)
        if old["status"] != "ACTIVE" or cls is None:
            assert (new["rev"], new["tagIds"]) == (old["rev"], old["tagIds"]), old["name"]
            continue
        assert after.time_tag_ids(new) == [before.time_tags[cls]], old["name"]
        assert after.other_tag_ids(new) == before.other_tag_ids(old), old["name"]
        assert new["rev"] == old["rev"] + (1 if before.needs_tag_write(old) else 0), old["name"]
    assert summary == ReconcileSummary(
        dry_run=False,
        total=len(active),
        examined=len(active),
        changed=len(to_change),
        unchanged=len(classifiable) - len(to_change),
        unclassifiable=len(active) - len(classifiable),
        skipped=0,
        failed=0,
    )
    assert admin.stats()["graphql"]["updateFactSheet"] == len(to_change)


def test_second_reconcile_changes_nothing(admin: Admin, client: LeanIXClient) -> None:
    """Reconciling a reconciled workspace finds everything in line and sends no mutation."""
    tagger = TimeTagger(client, make_time_settings())
    first = tagger.reconcile()
    assert first.changed > 0
    revs = {fs["id"]: fs["rev"] for fs in admin.fact_sheets("Application")}
    admin.clear_stats()
    second = tagger.reconcile()
    assert second.changed == 0
    assert second.failed == 0
    assert second.unchanged == first.unchanged + first.changed
    assert second.unclassifiable == first.unclassifiable
    stats = admin.stats()
    assert stats["graphql"]["mutations"] == 0
    assert stats["graphql"]["updateFactSheet"] == 0
    assert {fs["id"]: fs["rev"] for fs in admin.fact_sheets("Application")} == revs


def test_dry_run_writes_nothing(admin: Admin, client: LeanIXClient) -> None:
    """A dry run counts what would change but sends no mutation and changes no fact sheet."""
    before = World(admin)
    summary = TimeTagger(client, make_time_settings()).reconcile(dry_run=True)
    assert summary.dry_run
    assert summary.changed == sum(before.needs_tag_write(fs) for fs in before.active())
    assert summary.changed > 0
    assert _mutation_count(admin) == 0
    assert admin.stats()["graphql"]["updateFactSheet"] == 0
    after = World(admin)
    assert {i: (fs["rev"], fs["tagIds"]) for i, fs in after.apps.items()} == {
        i: (fs["rev"], fs["tagIds"]) for i, fs in before.apps.items()
    }


def test_reconcile_field_target_writes_the_time_field(admin: Admin, client: LeanIXClient) -> None:
    """With target=field the class goes into lxTimeClassification; tags are not touched and
    unclassifiable Applications keep their value (on_unset=keep)."""
    before = World(admin)
    summary = TimeTagger(client, make_time_settings(target="field")).reconcile()
    after = World(admin)
    changed = 0
    for fs_id, old in before.apps.items():
        new = after.apps[fs_id]
        assert new["tagIds"] == old["tagIds"], old["name"]
        cls = before.expected(old)
        if old["status"] != "ACTIVE" or cls is None:
            assert (new["rev"], new["values"]) == (old["rev"], old["values"]), old["name"]
            continue
        assert new["values"]["lxTimeClassification"] == cls, old["name"]
        changed += old["values"].get("lxTimeClassification") != cls
    assert summary.changed == changed > 0
    assert summary.failed == 0


def test_tag_one_costs_one_read_and_at_most_one_write_when_warm(
    admin: Admin, client: LeanIXClient
) -> None:
    """With bearer, tag group and data model cached, tag_one is exactly one fact sheet read
    plus one updateFactSheet when a change is due, and the read alone when not."""
    tagger = TimeTagger(client, make_time_settings())
    assert tagger.tag_one(PAYROLL).outcome is Outcome.UNCHANGED  # warms every cache
    admin.clear_stats()

    result = tagger.tag_one(WAREHOUSE)
    assert (result.outcome, result.written, result.classification) == (
        Outcome.CHANGED,
        True,
        "tolerate",
    )
    stats = admin.stats()
    assert stats["graphql"]["operationNames"] == {"lxFactSheet": 1, "lxUpdateFactSheet": 1}
    assert stats["graphql"]["updateFactSheet"] == 1
    assert stats["tokensIssued"] == 0
    world = World(admin)
    assert world.time_tag_ids(world.apps[WAREHOUSE]) == [world.time_tags["tolerate"]]

    admin.clear_stats()
    again = tagger.tag_one(WAREHOUSE)
    assert (again.outcome, again.written) == (Outcome.UNCHANGED, False)
    stats = admin.stats()
    assert stats["graphql"]["operationNames"] == {"lxFactSheet": 1}
    assert stats["graphql"]["updateFactSheet"] == 0


def test_workspace_value_order_drives_the_classification(
    admin: Admin, client: LeanIXClient
) -> None:
    """With functionalSuitability reordered in the workspace (perfect now worst), reconcile
    classifies by the workspace's order, not the documented default."""
    reversed_order = ["perfect", "appropriate", "insufficient", "unreasonable"]
    admin.put_datamodel({"Application": {"functionalSuitability": reversed_order}})
    before = World(admin)
    assert before.model["functionalSuitability"] == reversed_order

    summary = TimeTagger(client, make_time_settings()).reconcile()
    assert summary.failed == 0

    after = World(admin)
    assert after.time_tag_ids(after.apps[FLEET_MANAGER]) == [after.time_tags["tolerate"]]
    assert after.time_tag_ids(after.apps[HR_PORTAL]) == [after.time_tags["invest"]]
    for fs in before.active():
        cls = before.expected(fs)
        if cls is not None:
            assert after.time_tag_ids(after.apps[fs["id"]]) == [after.time_tags[cls]], fs["name"]


def test_reconcile_recovers_from_a_concurrent_edit_in_a_batch(
    admin: Admin, make_client: ClientFactory, human: LeanIXClient
) -> None:
    """A human edits an Application after reconcile read it but before the batch is written:
    that item clashes, is re-read and re-decided, and the run still ends consistent."""
    client = make_client(page_size=10)
    before = World(admin)
    assert before.needs_tag_write(before.apps[GENERAL_LEDGER])
    edits: list[int] = []
    tagger = TimeTagger(client, make_time_settings(batch_size=100))
    plan = tagger.update_for

    def update_for_then_edit(
        ctx: Context, node: Mapping[str, Any], decision: TimeDecision
    ) -> FactSheetUpdate:
        """The human edits the ledger right after the reconcile planned its write."""
        update = plan(ctx, node, decision)
        if node["id"] == GENERAL_LEDGER and not edits:
            rev = admin.fact_sheet(GENERAL_LEDGER)["rev"]
            human.graphql.update_fact_sheet(
                GENERAL_LEDGER,
                [Patch(op="replace", path="/description", value="edited mid-run")],
                rev=rev,
            )
            edits.append(rev)
        return update

    tagger.update_for = update_for_then_edit  # type: ignore[method-assign]
    summary = tagger.reconcile()
    assert edits
    assert summary.failed == 0
    graphql = admin.stats()["graphql"]
    assert graphql["errors"] == 1  # the clash of the batched item
    assert graphql["operationNames"]["lxFactSheet"] == 1  # its re-read
    assert graphql["operationNames"]["lxFactSheetPage"] == 5  # 50 active / 10 per page
    assert summary.changed == sum(before.needs_tag_write(fs) for fs in before.active())
    after = World(admin)
    ledger = after.apps[GENERAL_LEDGER]
    assert after.time_tag_ids(ledger) == [after.time_tags["eliminate"]]
    assert after.other_tag_ids(ledger) == before.other_tag_ids(before.apps[GENERAL_LEDGER])
    assert ledger["rev"] == edits[0] + 2
    assert admin.fact_sheet(GENERAL_LEDGER)["description"] == "edited mid-run"
    for fs in before.active():
        cls = before.expected(fs)
        if cls is not None:
            assert after.time_tag_ids(after.apps[fs["id"]]) == [after.time_tags[cls]], fs["name"]


def test_handle_event_acts_on_human_edits_and_ignores_its_own(
    admin: Admin, client: LeanIXClient, human: LeanIXClient
) -> None:
    """Events pulled from the emulator parse into LeanIXEvents; a human's fit change is tagged
    (1 read, 1 write), and the event of our own write is ignored without any LeanIX call."""
    sub = client.webhooks.create(
        Subscription.model_validate(
            {
                "identifier": "contract-time",
                "deliveryType": "PULL",
                "tagSets": [["pathfinder", "FACT_SHEET_UPDATED"]],
            }
        )
    )
    assert sub.id
    tagger = TimeTagger(client, make_time_settings())
    tagger.tag_one(PAYROLL)  # warm the caches
    rev = admin.fact_sheet(WAREHOUSE)["rev"]
    human.graphql.update_fact_sheet(
        WAREHOUSE,
        [Patch(op="replace", path="/functionalSuitability", value="perfect")],
        rev=rev,
    )

    batch = client.webhooks.pull_events(sub.id, timeout_seconds=1)
    assert len(batch.events) == 1
    event = parse_event(batch.events[0].event)
    assert (event.event_type, event.user_id) == ("FACT_SHEET_UPDATED", admin.user_id(HUMAN_TOKEN))
    assert event.fact_sheet is not None
    assert event.fact_sheet.id == WAREHOUSE
    admin.clear_stats()
    result = tagger.handle_event(event)
    assert (result.status, result.classification) == ("changed", "invest")
    assert admin.stats()["graphql"]["operationNames"] == {
        "lxFactSheet": 1,
        "lxUpdateFactSheet": 1,
    }
    assert batch.next_offset is not None
    client.webhooks.commit_cursor(sub.id, batch.next_offset)

    own = client.webhooks.pull_events(sub.id, timeout_seconds=1)
    assert len(own.events) == 1
    own_event = parse_event(own.events[0].event)
    assert own_event.user_id == client.claims.principal_id
    admin.clear_stats()
    ignored = tagger.handle_event(own_event)
    assert ignored.status == "ignored"
    assert ignored.ignored_reason == "event caused by this app's own write"
    assert admin.stats()["total"] == 0
    world = World(admin)
    assert world.time_tag_ids(world.apps[WAREHOUSE]) == [world.time_tags["invest"]]


def test_on_unset_remove_drops_time_tags_of_unclassifiable_applications(
    admin: Admin, client: LeanIXClient
) -> None:
    """With on_unset=remove, an Application missing a fit loses its TIME tag (and only that);
    classifiable ones are tagged as usual."""
    before = World(admin)
    unclassifiable_tagged = [
        fs for fs in before.active() if before.expected(fs) is None and before.time_tag_ids(fs)
    ]
    assert len(unclassifiable_tagged) >= 2
    TimeTagger(client, make_time_settings(on_unset="remove")).reconcile()
    after = World(admin)
    for fs in before.active():
        new = after.apps[fs["id"]]
        cls = before.expected(fs)
        expected_time = [] if cls is None else [before.time_tags[cls]]
        assert after.time_tag_ids(new) == expected_time, fs["name"]
        assert after.other_tag_ids(new) == before.other_tag_ids(fs), fs["name"]


def test_job_creates_a_missing_tag_group(admin: Admin, client: LeanIXClient) -> None:
    """A configured tag group that does not exist yet is created (SINGLE, Application only,
    four tags) and used; with create_missing_tags=false it is a ConfigurationError instead."""
    with pytest.raises(ConfigurationError):
        TimeTagger(
            client, make_time_settings(tag_group="TIME Contract", create_missing_tags=False)
        ).reconcile()
    assert admin.tag_group("TIME Contract") is None
    assert admin.stats()["graphql"]["mutations"] == 0

    summary = TimeTagger(client, make_time_settings(tag_group="TIME Contract")).reconcile()
    group = admin.tag_group("TIME Contract")
    assert group is not None
    assert group["mode"] == "SINGLE"
    assert group["restrictToFactSheetTypes"] == ["Application"]
    tags = {t["name"]: t for t in group["tags"]}
    assert set(tags) == {"Tolerate", "Invest", "Migrate", "Eliminate"}
    assert tags["Invest"]["color"] == "#00b361"
    world = World(admin)
    classifiable = [fs for fs in world.active() if world.expected(fs) is not None]
    assert summary.changed == len(classifiable)
    for fs in classifiable:
        cls = world.expected(fs)
        assert cls is not None
        assert tags[cls.capitalize()]["id"] in fs["tagIds"], fs["name"]


def test_tag_one_skips_what_it_must_not_touch(admin: Admin, client: LeanIXClient) -> None:
    """Archived Applications and other fact sheet types are skipped after one read, and a
    missing id is NotFoundError; none of them is written."""
    tagger = TimeTagger(client, make_time_settings())
    assert tagger.tag_one(OLD_INTRANET).outcome is Outcome.SKIPPED
    assert tagger.tag_one(POSTGRES).outcome is Outcome.SKIPPED
    with pytest.raises(NotFoundError):
        tagger.tag_one("00000000-0000-4000-8000-000000000000")
    assert admin.stats()["graphql"]["mutations"] == 0
    assert admin.fact_sheet(OLD_INTRANET)["rev"] == 7


def test_field_target_with_on_unset_remove_clears_a_stale_value(
    admin: Admin, client: LeanIXClient, human: LeanIXClient
) -> None:
    """A TIME field value on an Application without fits is removed with on_unset=remove (the
    remove patch is accepted), and kept with on_unset=keep."""
    rev = admin.fact_sheet(PARTNER_PORTAL)["rev"]
    human.graphql.update_fact_sheet(
        PARTNER_PORTAL,
        [Patch(op="replace", path="/lxTimeClassification", value="invest")],
        rev=rev,
    )
    keep = TimeTagger(client, make_time_settings(target="field")).tag_one(PARTNER_PORTAL)
    assert (keep.outcome, keep.written) == (Outcome.UNCLASSIFIABLE, False)
    assert admin.fact_sheet(PARTNER_PORTAL)["values"] == {"lxTimeClassification": "invest"}

    remove = TimeTagger(client, make_time_settings(target="field", on_unset="remove"))
    result = remove.tag_one(PARTNER_PORTAL)
    assert (result.outcome, result.written) == (Outcome.CHANGED, True)
    after = admin.fact_sheet(PARTNER_PORTAL)
    assert after["values"] == {}
    assert after["rev"] == rev + 2


def test_configured_threshold_moves_the_high_boundary(admin: Admin, client: LeanIXClient) -> None:
    """functional_high_from=perfect makes "appropriate" low: appropriate/adequate is Tolerate
    instead of Invest."""
    default = TimeTagger(client, make_time_settings()).tag_one(EMAIL_GATEWAY)
    assert default.classification == "invest"
    strict = TimeTagger(client, make_time_settings(functional_high_from="perfect"))
    result = strict.tag_one(EMAIL_GATEWAY)
    assert (result.classification, result.written) == ("tolerate", True)
    world = World(admin)
    assert world.time_tag_ids(world.apps[EMAIL_GATEWAY]) == [world.time_tags["tolerate"]]
