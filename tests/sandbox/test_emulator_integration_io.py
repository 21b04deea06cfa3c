"""Large input through ``GET /storages/azure`` + ``withUrlInput`` (emulator uploads and Azurite
SAS URLs), and the run-statistics event delivered to a PUSH subscription."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests

from lx_sandbox.azurite import Azurite
from tests.sandbox.conftest import WEBHOOKS, Api, Receiver
from tests.sandbox.integration_client import API, RUNS, Integration, fact_sheet_processor

JsonDict = dict[str, Any]


def _items(n: int) -> list[JsonDict]:
    return [{"type": "app", "id": f"big-{i}", "data": {"name": f"Big {i}"}} for i in range(n)]


def _via_url(emu: Api, intg: Integration, ldif: JsonDict, *, url_type: str | None) -> JsonDict:
    target = emu.rest("GET", f"{API}/storages/azure").json()
    assert set(target) == {"SAS", "expireAt"} and target["expireAt"].endswith("Z")
    body = json.dumps(ldif).encode()
    put = requests.put(
        target["SAS"], data=body, headers={"x-ms-blob-type": "BlockBlob"}, timeout=30
    )
    assert put.status_code == 201, put.text
    r = emu.rest(
        "POST",
        f"{RUNS}/withUrlInput",
        json={"url": target["SAS"], "type": url_type},
        params={"start": "true"},
    )
    assert r.status_code == 200, r.text
    created: JsonDict = r.json()
    assert created["processorConfiguration"]["connectorId"] == "test"
    return created


def test_large_input_through_the_emulators_own_upload_url(emu: Api) -> None:
    intg = Integration(emu)
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    target = emu.rest("GET", f"{API}/storages/azure").json()["SAS"]
    assert target.startswith(emu.base_url + "/_sandbox/integration/uploads/")
    assert requests.put(target, data=b"{}", timeout=10).status_code == 400  # no x-ms-blob-type
    created = _via_url(emu, intg, intg.ldif(ident, _items(300)), url_type=None)
    assert intg.wait(created["id"])["status"] == "FINISHED"
    assert len(intg.by_external("Application")) == 300
    r = emu.rest(
        "POST",
        f"{RUNS}/withUrlInput",
        json={"url": emu.base_url + "/_sandbox/integration/uploads/nope"},
    )
    assert r.status_code == 400 and "Nothing was uploaded" in r.json()["message"]
    assert emu.rest("POST", f"{RUNS}/withUrlInput", json={}).status_code == 400


def test_large_input_through_an_azurite_sas_url(
    emu_private: Callable[..., Api], azurite: Azurite
) -> None:
    api = emu_private(integration_blob_connection_string=azurite.connection_string)
    intg = Integration(api)
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    sas = api.rest("GET", f"{API}/storages/azure").json()["SAS"]
    assert sas.startswith(azurite.blob_endpoint + "/lx-integration-input/") and "sig=" in sas
    created = _via_url(api, intg, intg.ldif(ident, _items(200)), url_type="azureStorage")
    assert intg.wait(created["id"])["status"] == "FINISHED"
    assert len(intg.by_external("Application")) == 200
    # A SAS URL whose blob was never written is a 400 naming the HTTP status.
    unused = api.rest("GET", f"{API}/storages/azure").json()["SAS"]
    r = api.rest("POST", f"{RUNS}/withUrlInput", json={"url": unused, "type": "azureStorage"})
    assert r.status_code == 400 and "HTTP 404" in r.json()["message"]


def _subscribe(api: Api, receiver: Receiver, tag_sets: list[list[str]]) -> None:
    body = {
        "identifier": "run-statistics",
        "deliveryType": "PUSH",
        "tagSets": tag_sets,
        "targetUrl": receiver.url,
        "targetMethod": "POST",
        "ignoreError": False,
        "payloadMode": "DEFAULT",
        "active": True,
    }
    r = api.rest("POST", f"{WEBHOOKS}/subscriptions", json=body)
    assert r.status_code == 200, r.text


def test_run_statistics_event_reaches_a_push_subscription(emu: Api, emu_receiver: Receiver) -> None:
    intg = Integration(emu)
    _subscribe(emu, emu_receiver, [["integrations", "statistics"]])
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    finished, _ = intg.run(intg.ldif(ident, _items(2)))
    intg.settings(failNext=1)
    failed, _ = intg.run(intg.ldif(ident, _items(2)))
    payloads = [r["body"] for r in emu_receiver.wait_for(2)]
    assert [p["synchronizationId"] for p in payloads] == [finished, failed]
    first, second = payloads
    assert (first["type"], first["progress"]) == ("INTEGRATION_RUN_FINISHED", "FINISHED")
    assert (second["type"], second["progress"]) == ("INTEGRATION_RUN_ABORTED", "FAILED")
    assert first["connectorId"] == "test" and first["direction"] == "inbound"
    assert first["scope"] == "partial" and first["errorCount"] == 0
    # Fact-sheet events of the run do not match this subscription.
    assert len(emu_receiver.requests) == 2


def test_statistics_tag_sets_are_configurable(emu: Api, emu_receiver: Receiver) -> None:
    intg = Integration(emu)
    intg.settings(statisticsTagSets=[["integrations", "INTEGRATION-API"], ["statistics"]])
    _subscribe(emu, emu_receiver, [["integrations", "statistics"]])
    _subscribe(emu, emu_receiver, [["INTEGRATION-API"]])
    _subscribe(emu, emu_receiver, [["integrations", "nope"]])
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    run_id = intg.create(intg.ldif(ident, _items(1)), start=True)
    emu.rest("POST", f"{RUNS}/{run_id}/stop")
    assert intg.wait(run_id)["status"] == "STOPPED"
    assert emu.admin("POST", "/deliveries/wait?timeout=10")["idle"] is True
    bodies = [r["body"] for r in emu_receiver.ok()]
    assert len(bodies) == 2  # the event carries every configured tag; the third set has 'nope'
    assert {b["progress"] for b in bodies} == {"STOPPED"}
    envelope = emu.admin("GET", "/events?tag=statistics")["events"][-1]["event"]
    assert envelope["tags"] == [
        "integrations",
        "INTEGRATION-API",
        "statistics",
        "INTEGRATION_RUN_ABORTED",
    ]


def test_the_azure_sdk_uploads_to_the_emulators_url_in_blocks(emu: Api) -> None:
    from azure.storage.blob import BlobClient

    intg = Integration(emu)
    ident = intg.configure([fact_sheet_processor("Application", "app")])
    url = emu.rest("GET", f"{API}/storages/azure").json()["SAS"]
    body = json.dumps(intg.ldif(ident, _items(100))).encode()
    # A small single-put size makes the SDK use Put Block + Put Block List, as for big files.
    client = BlobClient.from_blob_url(url, max_single_put_size=1024, max_block_size=1024)
    client.upload_blob(body, overwrite=True)
    assert len(body) > 4 * 1024  # so there were several blocks
    r = emu.rest("POST", f"{RUNS}/withUrlInput", json={"url": url}, params={"start": "true"})
    assert r.status_code == 200, r.text
    assert intg.wait(r.json()["id"])["status"] == "FINISHED"
    assert len(intg.by_external("Application")) == 100
