"""``GET /examples/starterExample`` and ``/advancedExample``: small ``InputWithProcessorConfig``
documents (ASSUMPTION [U] §5.1: LeanIX's own example bodies are not reproduced; the starter
is the documented ``importProjectsExample`` from the "connect from an external system" page)."""

from __future__ import annotations

import copy
from typing import Any

JsonDict = dict[str, Any]

_CONNECTOR = {
    "connectorType": "importProjectsExample",
    "connectorId": "importProjectsExample",
    "connectorVersion": "1.0.0",
    "processingDirection": "inbound",
    "processingMode": "partial",
}

STARTER: JsonDict = {
    "processorConfiguration": {
        **_CONNECTOR,
        "processors": [
            {
                "processorType": "inboundFactSheet",
                "processorName": "Projects from prj",
                "processorDescription": "Creates LeanIX Projects from external LDIF",
                "type": "Project",
                "filter": {"type": "prj|subp"},
                "identifier": {
                    "external": {"id": {"expr": "${content.id}"}, "type": {"expr": "externalId"}}
                },
                "run": 0,
                "updates": [
                    {
                        "key": {"expr": "name"},
                        "values": [{"expr": "${data.displayName} (${content.id})"}],
                    },
                    {
                        "key": {"expr": "description"},
                        "values": [{"expr": "${data.processDescription}"}],
                    },
                    {
                        "key": {"expr": "lifecycle.active"},
                        "values": [{"expr": "${data.startActive}"}],
                    },
                ],
                "enabled": True,
                "variables": [],
                "logLevel": "warning",
            }
        ],
        "variables": {},
    },
    "input": {
        **_CONNECTOR,
        "lxVersion": "1.0.0",
        "description": "Imports Projects from default project connector",
        "content": [
            {
                "type": "prj",
                "id": "0123-459",
                "data": {
                    "displayName": "Save the company",
                    "processDescription": "Most important project of our 'Herkömmliche AG'",
                    "startActive": "2019-12-12",
                },
            }
        ],
    },
}

_ADVANCED_RELATION = {
    "processorType": "inboundRelation",
    "processorName": "Application uses IT component",
    "type": "relApplicationToITComponent",
    "filter": {"exactType": "app"},
    "from": {"external": {"id": {"expr": "${content.id}"}, "type": {"expr": "externalId"}}},
    "to": {"external": {"id": {"expr": "${data.itComponent}"}, "type": {"expr": "externalId"}}},
    "run": 1,
    "updates": [],
}


def example(name: str) -> JsonDict | None:
    """A fresh copy of an example (None for an unknown name)."""
    if name == "starterExample":
        return copy.deepcopy(STARTER)
    if name == "advancedExample":
        doc = copy.deepcopy(STARTER)
        config = doc["processorConfiguration"]
        config.update(connectorType="advancedExample", connectorId="advancedExample")
        config["processors"] = [
            {
                **config["processors"][0],
                "processorName": "Applications",
                "type": "Application",
                "filter": {"exactType": "app"},
                "updates": [{"key": {"expr": "name"}, "values": [{"expr": "${data.name}"}]}],
            },
            {
                **config["processors"][0],
                "processorName": "IT components",
                "type": "ITComponent",
                "filter": {"exactType": "itc"},
                "updates": [{"key": {"expr": "name"}, "values": [{"expr": "${data.name}"}]}],
            },
            _ADVANCED_RELATION,
        ]
        doc["input"].update(connectorType="advancedExample", connectorId="advancedExample")
        doc["input"]["content"] = [
            {"type": "itc", "id": "itc-1", "data": {"name": "PostgreSQL"}},
            {"type": "app", "id": "app-1", "data": {"name": "HR Service", "itComponent": "itc-1"}},
        ]
        return doc
    return None
