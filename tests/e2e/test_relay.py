"""The relay end to end over real HTTP: the emulator's PULL endpoint and statistics events,
real Azurite for the outbox, the sink as Slack and Teams, the relay timer through its
registered Blueprint and the shipped notifications.json."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from lx_cli.main import app
from lx_sandbox.azurite import Azurite
from tests.e2e.relay_world import RelayWorld, open_relay_world
from tests.support.adaptivecards import validate_cards

pytestmark = pytest.mark.e2e
IMPORT = "applications-import"
runner = CliRunner()
NO_SETTINGS = ["--settings", "/nonexistent/local.settings.json"]


@pytest.fixture
def world(azurite: Azurite) -> Iterator[RelayWorld]:
    with open_relay_world(azurite.connection_string) as running:
        yield running


def _finish_a_run(world: RelayWorld) -> dict[str, object]:
    world.sync.fire("sync_applications_import")
    world.sync.fire_until_idle("sync_watch", IMPORT)
    [run] = world.sync.runs()
    return run


def test_a_finished_run_reaches_slack_once_with_the_exact_message_and_the_cursor_moves(
    world: RelayWorld,
) -> None:
    run = _finish_a_run(world)
    assert world.pull_peek().events, "the emulator sent the statistics event"
    world.tick()
    [message] = world.messages()
    run_id = run["id"]
    workspace = f"{world.sync.emulator.url}/{world.sync.admin('/workspace')['workspace']['name']}"
    assert message["body"] == {
        "text": "✅ Integration run finished: applications-import",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*✅ Integration run finished: applications-import*\n"
                    f"Workspace: {workspace} · Connector: applications-import · "
                    "Scope: partial · Direction: inbound · Status: FINISHED · Errors: 0 · "
                    "Warnings: 0 · Processed: 25\n"
                    f"<{workspace}/admin/synclog/{run_id}|Sync log>",
                },
            }
        ],
    }
    assert world.pull_peek().events == [], "the cursor moved past the batch"
    world.tick()  # the outcome row of the same run is the same notice: nothing new
    assert len(world.messages()) == 1
    assert world.messages(kind="teams") == [], "a clean run is not routed to Teams"


def test_slack_down_for_three_ticks_loses_nothing_and_sends_each_item_once(
    world: RelayWorld,
) -> None:
    world.record_outcomes(6)
    world.fault(status=500, count=6, kind="slack")  # slack_sdk retries a 500 once per tick
    for _ in range(3):
        world.tick()
    assert world.messages() == []
    assert [r["status"] for r in world.requests()] == [500] * 6
    world.tick()
    [message] = world.messages()
    sections = [b for b in message["body"]["blocks"] if b["type"] == "section"]
    assert len(sections) == 6
    world.tick()
    assert len(world.messages()) == 1


def test_a_revoked_slack_webhook_pauses_the_channel_and_dead_letters_nothing(
    world: RelayWorld,
) -> None:
    """404 from Slack (a deleted webhook) for more ticks than ``maxAttempts`` (5): the items
    wait, none is dead-lettered, and once the URL answers again each arrives exactly once."""
    from lx_core import runtime
    from lx_core.notify.outbox import Outbox

    world.record_outcomes(4)
    world.fault(status=404, count=7, kind="slack")
    for _ in range(7):
        report = world.tick_report()
        assert report.channels["ops-slack"].status in ("down", "paused")
    assert world.messages() == [] and world.pending("ops-slack") == 4
    store = runtime.state_store()
    assert store is not None and Outbox(store).dead_letters() == []
    world.tick()
    [message] = world.messages()
    assert len([b for b in message["body"]["blocks"] if b["type"] == "section"]) == 4
    world.tick()
    assert len(world.messages()) == 1 and world.pending("ops-slack") == 0


def test_a_429_with_retry_after_is_honoured_within_the_tick(world: RelayWorld) -> None:
    world.record_outcomes(1)
    world.fault(status=429, count=1, retryAfter=1, kind="slack")
    world.tick()
    refused, accepted = world.requests()
    assert (refused["status"], accepted["status"]) == (429, 200)
    assert accepted["receivedAtEpoch"] - refused["receivedAtEpoch"] >= 1.0


def test_a_failed_run_reaches_teams_as_a_valid_adaptive_card(world: RelayWorld) -> None:
    world.record_outcomes(3, failed=True)
    world.tick()
    [message] = world.messages(kind="teams")
    body = message["body"]
    assert body["type"] == "message"
    card = body["attachments"][0]["content"]
    assert validate_cards([card]) == [[]]
    assert len(json.dumps(body).encode()) < 28_000
    assert len(world.messages()) == 1, "Slack gets every run, failed ones too"


def test_a_poison_item_is_dead_lettered_reported_once_and_replayed_by_the_cli(
    world: RelayWorld,
) -> None:
    world.record_outcomes(1)
    world.fault(status=400, count=5, kind="slack")  # refused on each of five ticks
    for _ in range(5):
        world.tick()
    listed = runner.invoke(app, [*NO_SETTINGS, "relay", "dead-letters", "--json"])
    assert listed.exit_code == 0, listed.output
    [letter] = json.loads(listed.output)
    assert letter["id"] == "ops-slack/run-r0000" and letter["attempts"] == 5
    world.tick()  # the fallback channel (Slack itself here) gets the one report
    [report] = world.messages()
    assert "could not be delivered to ops-slack" in report["body"]["text"]
    replayed = runner.invoke(app, [*NO_SETTINGS, "relay", "replay", "ops-slack/run-r0000"])
    assert replayed.exit_code == 0, replayed.output
    world.tick()
    assert len(world.messages()) == 2
    assert (
        json.loads(runner.invoke(app, [*NO_SETTINGS, "relay", "dead-letters", "--json"]).output)
        == []
    )
