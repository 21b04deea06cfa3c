"""lx_core's Integration API path (processor models → upsert, LDIF streamed by ``submit``,
RunWatcher to the end) against the emulator's engine over real HTTP: relations and tags,
variables across run levels, full mode archiving what a run did not touch, and the ratio guard.

The emulator's own tests (tests/sandbox) cover the engine in detail with plain HTTP; these
prove that what lx_core sends is what the engine documents."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lx_core.config import IntegrationSettings
from lx_core.integration.identity import ConnectorIdentity
from lx_core.integration.ldif import LdifHeader
from lx_core.integration.processors import parse_configuration
from lx_core.jobs.run_watcher import RunOutcome, RunWatcher
from lx_core.leanix.client import LeanIXClient
from lx_core.leanix.integration_api import IntegrationAPI
from tests.contract.conftest import Admin

pytestmark = pytest.mark.sandbox

JsonDict = dict[str, Any]
SETTINGS = IntegrationSettings(poll_min_seconds=0.05, poll_max_seconds=0.2)


def _identity(name: str, mode: str = "partial") -> ConnectorIdentity:
    return ConnectorIdentity(
        connector_type="contract",
        connector_id=name,
        connector_version="1.0.0",
        processing_direction="inbound",
        processing_mode=mode,
    )


def _external(expr: str = "${content.id}") -> JsonDict:
    return {"external": {"id": {"expr": expr}, "type": {"expr": "externalId"}}}


def _update(key: str, expr: str) -> JsonDict:
    return {"key": {"expr": key}, "values": [{"expr": expr}]}


def _fact_sheets(fs_type: str, content_type: str, *updates: JsonDict, run: int = 0) -> JsonDict:
    return {
        "processorType": "inboundFactSheet",
        "processorName": f"{fs_type} from {content_type}",
        "type": fs_type,
        "filter": {"exactType": content_type},
        "identifier": _external(),
        "run": run,
        "updates": list(updates) or [_update("name", "${data.name}")],
    }


def _item(content_type: str, content_id: str, **data: Any) -> JsonDict:
    return {"type": content_type, "id": content_id, "data": data}


class Runner:
    """Configure through the models, submit, watch to the end: what the sync job does."""

    def __init__(self, client: LeanIXClient, admin: Admin) -> None:
        admin.call("PUT", "/integration/config", json={"pendingSeconds": 0.02, "runSeconds": 0.1})
        self.api = IntegrationAPI(client.transport, settings=SETTINGS)
        self.admin = admin

    def configure(
        self, identity: ConnectorIdentity, processors: list[JsonDict], **extra: Any
    ) -> None:
        doc = {**identity.params(), "processors": processors, **extra}
        config = parse_configuration(doc, source="contract")  # our models accept and keep it
        self.api.upsert_configuration(config.to_document())

    def run(self, identity: ConnectorIdentity, items: list[JsonDict]) -> RunOutcome:
        header = LdifHeader(**identity.params(), lx_version="1.0.0")
        run_id = self.api.submit(header, iter(items), start=True)
        result = RunWatcher(self.api, SETTINGS).watch(
            run_id, started_at=time.time(), budget_seconds=30
        )
        if result.outcome is None:
            raise AssertionError(f"run {run_id} did not end within 30 s")
        return result.outcome

    def by_external(self, fs_type: str) -> dict[str, JsonDict]:
        return {
            fs["externalId"]: fs
            for fs in self.admin.fact_sheets(fs_type)
            if fs.get("externalId") and fs["status"] == "ACTIVE"
        }


@pytest.fixture
def runner(client: LeanIXClient, admin: Admin) -> Runner:
    return Runner(client, admin)


def test_relations_and_tags_at_a_later_run_level(runner: Runner) -> None:
    identity = _identity("apps-and-itcs")
    relation = {
        "processorType": "inboundRelation",
        "processorName": "app uses itc",
        "type": "relApplicationToITComponent",
        "filter": {"exactType": "app"},
        "from": _external(),
        "to": _external("${data.itc}"),
        "run": 1,
    }
    tags = {
        "processorType": "inboundTag",
        "processorName": "tags",
        "filter": {"exactType": "app"},
        "factSheets": {"external": {"ids": "${content.id}", "type": {"expr": "externalId"}}},
        "forEach": {"elementOf": "${data.tags}"},
        "run": 1,
        "updates": [_update("name", "${integration.valueOfForEach}")],
    }
    runner.configure(
        identity,
        [relation, tags, _fact_sheets("Application", "app"), _fact_sheets("ITComponent", "itc")],
    )
    outcome = runner.run(
        identity,
        [
            _item("app", "a-1", name="HR", itc="i-1", tags=["contract-tag"]),
            _item("itc", "i-1", name="PostgreSQL"),
        ],
    )
    assert outcome.status == "FINISHED" and outcome.error_count == 0
    app = runner.by_external("Application")["a-1"]
    itc = runner.by_external("ITComponent")["i-1"]
    detail = runner.admin.call("GET", f"/factsheets/{app['id']}")
    assert [(r["type"], r["toId"]) for r in detail["relations"]] == [
        ("relApplicationToITComponent", itc["id"])
    ]
    assert [t["name"] for t in detail["tags"]] == ["contract-tag"]


def test_variables_are_read_at_a_later_run_level(runner: Runner) -> None:
    identity = _identity("variables")
    collect = {
        "processorType": "variableProcessor",
        "processorName": "collect",
        "filter": {"exactType": "app"},
        "run": 0,
        "variables": [{"key": "names", "value": "${data.name}"}],
    }
    later = {
        **_fact_sheets("Application", "app", _update("alias", "${variables.names.size()} apps")),
        "processorName": "later",
        "run": 1,
    }
    runner.configure(identity, [collect, _fact_sheets("Application", "app"), later])
    outcome = runner.run(identity, [_item("app", "v-1", name="A"), _item("app", "v-2", name="B")])
    assert outcome.status == "FINISHED"
    apps = runner.by_external("Application")
    assert apps["v-1"]["attributes"]["alias"] == "2 apps"


def test_full_mode_archives_what_was_not_touched_and_the_ratio_guard_cancels(
    runner: Runner,
) -> None:
    identity = _identity("projects", mode="full")
    scope = {
        "factSheets": [
            {"scope": {"facetFilters": [{"facetKey": "FactSheetTypes", "keys": ["Project"]}]}}
        ]
    }
    runner.configure(identity, [_fact_sheets("Project", "prj")], deletionScope=scope)
    projects = [_item("prj", f"p-{i}", name=f"P{i}") for i in range(4)]
    assert runner.run(identity, projects).status == "FINISHED"
    assert runner.run(identity, projects[:2]).status == "FINISHED"  # 2 of 4: 50 % allowed
    assert set(runner.by_external("Project")) == {"p-0", "p-1"}

    assert runner.run(identity, projects).status == "FINISHED"  # all four back
    outcome = runner.run(identity, projects[:1])  # 3 of 4 would go: over 50 %
    assert set(runner.by_external("Project")) == {"p-0", "p-1", "p-2", "p-3"}
    assert any("Deletion cancelled" in (w.message or "") for w in outcome.warnings)
