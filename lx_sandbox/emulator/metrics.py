"""Metrics v2 state (§7.2): schemas of numeric metrics and string dimensions, and their points.

Points are kept per schema, sorted by instant (a stable insert, so points at one instant stay in
posting order), which makes range reads a bisect. Timestamps are normalised to UTC instants at
millisecond precision: any ISO-8601 form of one instant finds the same points.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lx_sandbox.emulator.state import new_id

JsonDict = dict[str, Any]
ATTRIBUTE_TYPES = ("metric", "dimension")
#: The key of a point's time; no attribute may be called so.
RESERVED = "timestamp"


_ONE_MS = timedelta(milliseconds=1)


def _instant(point: Point) -> datetime:
    return point.at


class MetricsError(ValueError):
    """A request the Metrics API refuses; ``status`` is the HTTP code to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_instant(value: Any, name: str = "timestamp") -> datetime:
    """An ISO-8601 string as a UTC instant truncated to milliseconds, or MetricsError.

    # ASSUMPTION [U] §7.2: a timestamp without an offset is UTC; precision is milliseconds
    # (the script's timestamps carry ``.000Z``), finer digits are dropped.
    """
    if not isinstance(value, str) or not value.strip():
        raise MetricsError(f"{name} must be an ISO-8601 timestamp")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise MetricsError(f"{name} {value!r} is not an ISO-8601 timestamp") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_instant(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ``, the form LeanIX's script posts."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@dataclass(slots=True)
class Point:
    """One stored point: its instant, an insertion number (for stable order) and its values."""

    at: datetime
    seq: int
    values: JsonDict

    def to_json(self) -> JsonDict:
        """The flat answer form: ``timestamp`` plus one key per attribute given."""
        return {RESERVED: format_instant(self.at), **self.values}


@dataclass(slots=True)
class Schema:
    """A schema and its points (sorted by ``(at, seq)``)."""

    uuid: str
    name: str
    description: str | None
    attributes: list[JsonDict]
    points: list[Point] = field(default_factory=list)

    def to_json(self) -> JsonDict:
        """The schema as the API answers it (no points)."""
        return {
            "uuid": self.uuid,
            "name": self.name,
            "description": self.description,
            "attributes": [dict(a) for a in self.attributes],
        }

    def kinds(self) -> dict[str, str]:
        """attribute name -> ``metric`` | ``dimension``."""
        return {a["name"]: a["type"] for a in self.attributes}


def check_attributes(raw: Any) -> list[JsonDict]:
    """The ``attributes`` of a new schema as ``[{name, type}]``, or MetricsError."""
    if not isinstance(raw, list) or not raw:
        raise MetricsError("attributes must be a non-empty list of {name, type}")
    seen: set[str] = set()
    attributes: list[JsonDict] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise MetricsError(f"attributes[{index}] must be an object {{name, type}}")
        name, kind = item.get("name"), item.get("type")
        if not isinstance(name, str) or not name.strip():
            raise MetricsError(f"attributes[{index}].name must be a non-empty string")
        if name == RESERVED:
            raise MetricsError(f"attributes[{index}].name '{RESERVED}' is reserved")
        if kind not in ATTRIBUTE_TYPES:
            raise MetricsError(f"attributes[{index}].type must be 'metric' or 'dimension'")
        if name in seen:
            raise MetricsError(f"attributes[{index}].name {name!r} is a duplicate")
        seen.add(name)
        attributes.append({"name": name, "type": kind})
    if not any(a["type"] == "metric" for a in attributes):
        raise MetricsError("attributes need at least one metric")
    return attributes


def check_point(schema: Schema, body: Any) -> tuple[datetime, JsonDict]:
    """A flat point body as (instant, values in attribute order), or MetricsError.

    # ASSUMPTION [U] §7.2: a point may leave attributes out; every key it has must be an
    # attribute (or ``timestamp``), metrics are JSON numbers, dimensions strings.
    """
    if not isinstance(body, dict):
        raise MetricsError("a point must be a JSON object {timestamp, <attribute>: value, ...}")
    if RESERVED not in body:
        raise MetricsError("timestamp is required")
    at = parse_instant(body[RESERVED])
    kinds = schema.kinds()
    unknown = sorted(k for k in body if k != RESERVED and k not in kinds)
    if unknown:
        raise MetricsError(f"unknown attributes {unknown} (schema has {sorted(kinds)})")
    values: JsonDict = {}
    for name, kind in kinds.items():
        if name not in body:
            continue
        value = body[name]
        if kind == "metric":
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value):
                raise MetricsError(f"metric {name!r} must be a number")
        elif not isinstance(value, str):
            raise MetricsError(f"dimension {name!r} must be a string")
        values[name] = value
    return at, values


class MetricsStore:
    """Every schema of the workspace, by uuid."""

    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {}
        self._seq = 0

    def create(self, body: Any) -> Schema:
        """A new schema from a POST body; 400 for a bad body, 409 for a taken name."""
        if not isinstance(body, dict):
            raise MetricsError("expected a schema {name, description?, attributes}")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise MetricsError("name must be a non-empty string")
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise MetricsError("description must be a string")
        attributes = check_attributes(body.get("attributes"))
        if any(s.name == name for s in self.schemas.values()):
            # ASSUMPTION [U] §7.2: schema names are unique in a workspace; a second is a 409.
            raise MetricsError(f"a schema named {name!r} exists already", 409)
        schema = Schema(new_id(), name, description, attributes)
        self.schemas[schema.uuid] = schema
        return schema

    def get(self, uuid: str) -> Schema:
        """The schema, or a 404 MetricsError."""
        schema = self.schemas.get(uuid)
        if schema is None:
            raise MetricsError(f"no schema {uuid}", 404)
        return schema

    def add_point(self, schema: Schema, body: Any) -> Point:
        """Store a point; one at an instant that has points already is added beside them.

        # ASSUMPTION [U] §7.2: no de-duplication by timestamp (a client replaces a point by
        # deleting the instant first).
        """
        at, values = check_point(schema, body)
        self._seq += 1
        point = Point(at, self._seq, values)
        bisect.insort(schema.points, point, key=lambda p: (p.at, p.seq))
        return point

    @staticmethod
    def points(schema: Schema, start: datetime | None, end: datetime | None) -> list[Point]:
        """Points with ``start <= at < end`` (either bound optional), oldest first."""
        points = schema.points
        low = 0 if start is None else bisect.bisect_left(points, start, key=_instant)
        high = len(points) if end is None else bisect.bisect_left(points, end, key=_instant)
        return points[low:high]

    @classmethod
    def points_at(cls, schema: Schema, at: datetime) -> list[Point]:
        """Every point at exactly ``at``."""
        return cls.points(schema, at, at + _ONE_MS)

    @staticmethod
    def delete_at(schema: Schema, at: datetime) -> int:
        """Remove every point at ``at``; how many there were."""
        before = len(schema.points)
        schema.points = [p for p in schema.points if p.at != at]
        return before - len(schema.points)
