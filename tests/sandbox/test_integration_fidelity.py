"""LeanIX's own documented Integration API flow, with plain ``requests``, against the emulator.

Source: ``leanix-docs/integration-api-from-external-system.txt`` ("How to connect to Integration
API from an external system"): create the ``importProjectsExample`` processor, POST the LDIF of
type ``prj``, start the run, read the status until FINISHED, then the results and warnings.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests

from lx_sandbox.emulator import TECHNICAL_TOKEN
from tests.sandbox.conftest import TOKEN_PATH, Api

ROOT = Path(__file__).resolve().parents[2]

API = "/services/integration-api/v1"

#: The connector fields of the doc's "Create a processor" step (processingMode defaults).
CONNECTOR = {
    "connectorType": "importProjectsExample",
    "connectorId": "importProjectsExample",
    "connectorVersion": "1.0.0",
    "processingDirection": "inbound",
}

#: The doc's processor body, verbatim (shared with the model tests).
PROCESSORS: dict[str, Any] = json.loads(
    (ROOT / "tests/unit/data/integration/import-projects-example.processors.json").read_text()
)

#: The doc's LDIF, verbatim (its ``tags`` are not used by the processor and must not hurt).
LDIF: dict[str, Any] = {
    "connectorType": "importProjectsExample",
    "connectorId": "importProjectsExample",
    "connectorVersion": "1.0.0",
    "lxVersion": "1.0.0",
    "processingDirection": "inbound",
    "description": "Imports Projects from default project connector",
    "content": [
        {
            "type": "prj",
            "id": "0123-459",
            "data": {
                "displayName": "Save the company",
                "processDescription": "Most important project of our 'Herkömmliche AG'",
                "startActive": "2019-12-12",
                "tags": ["Importance:High", "Some invalid Content to be ignored", "Effort:Medium"],
            },
        }
    ],
}


def test_documented_import_projects_flow(emu: Api) -> None:
    base = emu.base_url
    token = requests.post(
        base + TOKEN_PATH,
        auth=("apitoken", TECHNICAL_TOKEN),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()["access_token"]
    header = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    r = requests.put(
        base + API + "/configurations", json={**CONNECTOR, **PROCESSORS}, headers=header, timeout=10
    )
    assert r.status_code == 204, r.text

    r = requests.post(base + API + "/synchronizationRuns", json=LDIF, headers=header, timeout=10)
    assert r.status_code == 200, r.text
    run_id = r.json()["id"]

    r = requests.post(f"{base}{API}/synchronizationRuns/{run_id}/start", headers=header, timeout=10)
    assert r.status_code == 200 and r.content == b""  # the doc: "no Body, just a status 200 OK"

    deadline = time.monotonic() + 10
    seen: list[str] = []
    while time.monotonic() < deadline:
        status = requests.get(
            f"{base}{API}/synchronizationRuns/{run_id}/status", headers=header, timeout=10
        ).json()
        assert status["id"] == run_id
        seen.append(status["status"])
        if status["status"] in ("FINISHED", "FAILED", "STOPPED"):
            break
        time.sleep(0.05)
    assert seen[-1] == "FINISHED", seen
    assert set(seen) <= {"PENDING", "IN_PROGRESS", "FINISHED"}

    r = requests.get(
        f"{base}{API}/synchronizationRuns/{run_id}/results", headers=header, timeout=10
    )
    assert r.status_code == 204  # an inbound run without writeToLdif produces no LDIF
    r = requests.get(
        f"{base}{API}/synchronizationRuns/{run_id}/warnings", headers=header, timeout=10
    )
    assert r.status_code == 200 and r.json() == []

    projects = emu.admin("GET", "/factsheets?type=Project&limit=1000")["factSheets"]
    project = next(p for p in projects if p["name"] == "Save the company (0123-459)")
    assert project["externalId"] == "0123-459"
    assert project["description"] == "Most important project of our 'Herkömmliche AG'"
    assert project["attributes"]["lifecycle"] == {"active": "2019-12-12"}
    assert project["status"] == "ACTIVE"
    # The same project is visible through GraphQL as any other fact sheet.
    query = "query ($id: ID!) { factSheet(id: $id) { name type } }"
    found = emu.data(query, {"id": project["id"]})["factSheet"]
    assert found == {"name": "Save the company (0123-459)", "type": "Project"}
