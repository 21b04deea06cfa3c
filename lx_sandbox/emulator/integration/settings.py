"""Run-time settings of the Integration API emulation (``PUT /_sandbox/integration/config``).

Durations are short by default so tests are fast; failures can be injected for the next runs or
for chosen connector ids. ``/_sandbox/reset`` restores the values built from ``SandboxConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.json_checks import object_of

JsonDict = dict[str, Any]

#: [V] integration-api-processors.md §2 (SAP's Slack/Teams recipe); configurable because a
#: public client lists another form ([V3]).
DEFAULT_STATISTICS_TAG_SETS: list[list[str]] = [["integrations", "statistics"]]

_KEYS = frozenset(
    {
        "pendingSeconds",
        "runSeconds",
        "failNext",
        "failConnectorIds",
        "failAfterFraction",
        "statisticsTagSets",
        "maxBodyBytes",
        "sasLifetimeSeconds",
    }
)


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a number >= 0")
    return float(value)


def _count(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}")
    return value


def _tag_sets(value: Any) -> list[list[str]]:
    if not isinstance(value, list) or not value:
        raise ValueError("statisticsTagSets must be a non-empty list of lists of strings")
    out: list[list[str]] = []
    for inner in value:
        if not isinstance(inner, list) or not inner or not all(isinstance(t, str) for t in inner):
            raise ValueError("statisticsTagSets must be a non-empty list of lists of strings")
        out.append(list(inner))
    return out


@dataclass
class IntegrationSettings:
    """Durations, failure injection and the statistics event's tags."""

    #: ASSUMPTION [U] §5.2: LeanIX's queueing and processing times are not documented.
    pending_seconds: float = 0.1
    run_seconds: float = 0.5
    #: The next N started runs end FAILED.
    fail_next: int = 0
    #: Runs of these connector ids end FAILED.
    fail_connector_ids: list[str] = field(default_factory=list)
    #: A failing run fails once this fraction of its work is done (effects so far are kept).
    fail_after_fraction: float = 0.5
    statistics_tag_sets: list[list[str]] = field(
        default_factory=lambda: [list(t) for t in DEFAULT_STATISTICS_TAG_SETS]
    )
    #: ASSUMPTION [U] §5.6: the inline LDIF size limit is not documented; larger bodies get 413.
    max_body_bytes: int = 64 * 1024 * 1024
    sas_lifetime_seconds: float = 3600.0

    def to_json(self) -> JsonDict:
        """The admin JSON form (a GET answer can be sent back unchanged)."""
        return {
            "pendingSeconds": self.pending_seconds,
            "runSeconds": self.run_seconds,
            "failNext": self.fail_next,
            "failConnectorIds": list(self.fail_connector_ids),
            "failAfterFraction": self.fail_after_fraction,
            "statisticsTagSets": [list(t) for t in self.statistics_tag_sets],
            "maxBodyBytes": self.max_body_bytes,
            "sasLifetimeSeconds": self.sas_lifetime_seconds,
        }

    def apply(self, body: Any) -> None:
        """Change the keys ``body`` names; validates everything first (a 400 changes nothing)."""
        doc = object_of(body, "integration config", _KEYS)
        changes: JsonDict = {}
        if "pendingSeconds" in doc:
            changes["pending_seconds"] = _seconds(doc["pendingSeconds"], "pendingSeconds")
        if "runSeconds" in doc:
            changes["run_seconds"] = _seconds(doc["runSeconds"], "runSeconds")
        if "failNext" in doc:
            changes["fail_next"] = _count(doc["failNext"], "failNext")
        if "failConnectorIds" in doc:
            ids = doc["failConnectorIds"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ValueError("failConnectorIds must be a list of strings")
            changes["fail_connector_ids"] = list(ids)
        if "failAfterFraction" in doc:
            fraction = _seconds(doc["failAfterFraction"], "failAfterFraction")
            if fraction > 1:
                raise ValueError("failAfterFraction must be between 0 and 1")
            changes["fail_after_fraction"] = fraction
        if "statisticsTagSets" in doc:
            changes["statistics_tag_sets"] = _tag_sets(doc["statisticsTagSets"])
        if "maxBodyBytes" in doc:
            changes["max_body_bytes"] = _count(doc["maxBodyBytes"], "maxBodyBytes", 1)
        if "sasLifetimeSeconds" in doc:
            lifetime = _seconds(doc["sasLifetimeSeconds"], "sasLifetimeSeconds")
            if lifetime <= 0:
                raise ValueError("sasLifetimeSeconds must be > 0")
            changes["sas_lifetime_seconds"] = lifetime
        for name, value in changes.items():
            setattr(self, name, value)
