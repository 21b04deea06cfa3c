"""A thin Integration API caller for the emulator tests (plain HTTP, nothing from lx_core)."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.sandbox.conftest import Api

JsonDict = dict[str, Any]
API = "/services/integration-api/v1"
RUNS = f"{API}/synchronizationRuns"
TERMINAL = ("FINISHED", "FAILED", "STOPPED")


def connector(name: str = "test", direction: str = "inbound", mode: str = "partial") -> JsonDict:
    """The five connector fields of a test connector."""
    return {
        "connectorType": f"{name}Type",
        "connectorId": name,
        "connectorVersion": "1.0.0",
        "processingDirection": direction,
        "processingMode": mode,
    }


def external(expr: str = "${content.id}") -> JsonDict:
    """The documented external identifier form."""
    return {"external": {"id": {"expr": expr}, "type": {"expr": "externalId"}}}


def update(key: str, *exprs: str, optional: bool = False) -> JsonDict:
    """An ``updates[]`` entry with one value per expression."""
    doc: JsonDict = {"key": {"expr": key}, "values": [{"expr": e} for e in exprs]}
    if optional:
        doc["optional"] = True
    return doc


def fact_sheet_processor(
    fs_type: str, content_type: str, *updates: JsonDict, **extra: Any
) -> JsonDict:
    """An ``inboundFactSheet`` processor keyed by external id."""
    return {
        "processorType": "inboundFactSheet",
        "processorName": f"{fs_type} from {content_type}",
        "type": fs_type,
        "filter": {"exactType": content_type},
        "identifier": external(),
        "run": 0,
        "updates": list(updates) or [update("name", "${data.name}")],
        **extra,
    }


class Integration:
    """Configurations, runs and waits over real HTTP."""

    def __init__(self, api: Api, *, pending: float = 0.02, run: float = 0.05) -> None:
        self.api = api
        self.settings(pendingSeconds=pending, runSeconds=run)

    def settings(self, **values: Any) -> JsonDict:
        """``PUT /_sandbox/integration/config``."""
        result: JsonDict = self.api.admin("PUT", "/integration/config", json=values)
        return result

    def configure(self, processors: list[JsonDict], name: str = "test", **extra: Any) -> JsonDict:
        """PUT a configuration; returns its connector fields."""
        ident = connector(name, extra.pop("direction", "inbound"), extra.pop("mode", "partial"))
        r = self.api.rest(
            "PUT", f"{API}/configurations", json={**ident, "processors": processors, **extra}
        )
        assert r.status_code == 204, r.text
        return ident

    @staticmethod
    def ldif(ident: JsonDict, content: list[JsonDict], **extra: Any) -> JsonDict:
        """An LDIF for ``ident`` with ``content``."""
        return {**ident, "lxVersion": "1.0.0", "content": content, **extra}

    def create(self, ldif: JsonDict, *, start: bool = True, test: bool = False) -> str:
        """POST /synchronizationRuns; returns the run id."""
        params = {"start": str(start).lower(), "test": str(test).lower()}
        r = self.api.rest("POST", RUNS, json=ldif, params=params)
        assert r.status_code == 200, r.text
        run_id: str = r.json()["id"]
        return run_id

    def get(self, run_id: str, what: str, **params: Any) -> requests.Response:
        """GET /synchronizationRuns/{id}/{what}."""
        return self.api.rest("GET", f"{RUNS}/{run_id}/{what}", params=params)

    def status(self, run_id: str) -> JsonDict:
        """The run's status document."""
        doc: JsonDict = self.get(run_id, "status").json()
        return doc

    def wait(self, run_id: str, timeout: float = 10.0) -> JsonDict:
        """Poll the status until the run ends (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            doc = self.status(run_id)
            if doc["status"] in TERMINAL or time.monotonic() > deadline:
                return doc
            time.sleep(0.02)

    def run(self, ldif: JsonDict, *, test: bool = False) -> tuple[str, JsonDict]:
        """Create, start and wait; returns (run id, final status)."""
        run_id = self.create(ldif, test=test)
        return run_id, self.wait(run_id)

    def warnings(self, run_id: str, **params: Any) -> list[JsonDict]:
        """One page of warnings."""
        r = self.get(run_id, "warnings", **params)
        assert r.status_code == 200, r.text
        items: list[JsonDict] = r.json()
        return items

    def fact_sheets(self, fs_type: str) -> list[JsonDict]:
        """Every fact sheet of a type (admin view, with externalId and attributes)."""
        items: list[JsonDict] = self.api.admin("GET", f"/factsheets?type={fs_type}&limit=100000")[
            "factSheets"
        ]
        return items

    def by_external(self, fs_type: str) -> dict[str, JsonDict]:
        """Active fact sheets of a type by external id."""
        return {
            fs["externalId"]: fs
            for fs in self.fact_sheets(fs_type)
            if fs["externalId"] is not None and fs["status"] == "ACTIVE"
        }
