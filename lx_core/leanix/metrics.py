"""MetricsClient: Metrics v2 schemas and points (§7.2), for trends LeanIX can chart.

A schema is found by name and created when missing; creation is a POST, so it is not replayed
after a lost answer: a conflict (or a second create in a race) is settled by reading again.
Points are posted flat (``timestamp`` plus one key per attribute). Posting twice at one
timestamp adds a second point, so "replace the day's point" is a delete at the timestamp, then
a post; callers record what they wrote to repair a crash between the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lx_core import assumptions
from lx_core.errors import (
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
)
from lx_core.leanix._mapping import json_of, path_only
from lx_core.leanix.transport import HttpTransport

_SCHEMAS = assumptions.METRICS_V2_PATH + "/schemas"
PointValue = float | int | str


class Attribute(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(min_length=1)
    type: Literal["metric", "dimension"]


class MetricsSchema(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    uuid: str = Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")
    name: str
    description: str | None = None
    attributes: tuple[Attribute, ...] = ()

    def names(self, kind: Literal["metric", "dimension"]) -> frozenset[str]:
        return frozenset(a.name for a in self.attributes if a.type == kind)


def metric_timestamp(moment: datetime) -> str:
    """``moment`` in the form points carry (UTC, milliseconds, ``Z``)."""
    if moment.tzinfo is None:
        raise ValueError("a point's timestamp must be timezone-aware")
    return moment.astimezone(UTC).strftime(assumptions.METRICS_TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime | None:
    """A point's timestamp as an aware datetime; None if it is not ISO-8601."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class MetricsClient:
    def __init__(self, transport: HttpTransport) -> None:
        self.transport = transport

    def _data(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.transport.request(method, path, **kwargs)
        if not response.content:
            return None
        body = json_of(response)
        # [U] bare JSON is what the public script reads; an envelope is unwrapped all the same.
        if isinstance(body, dict) and "data" in body and "uuid" not in body:
            return body["data"]
        return body

    @staticmethod
    def _malformed(path: str, what: str) -> MalformedResponseError:
        return MalformedResponseError(
            f"LeanIX metrics answered but not with {what}", method="GET", path=path_only(path)
        )

    # --- schemas -------------------------------------------------------------------------------

    def schemas(self) -> list[MetricsSchema]:
        data = self._data("GET", _SCHEMAS, idempotent=True)
        if not isinstance(data, list):
            raise self._malformed(_SCHEMAS, "a list of schemas")
        try:
            return [MetricsSchema.model_validate(s) for s in data]
        except ValidationError:
            raise self._malformed(_SCHEMAS, "schemas") from None

    def schema(self, name: str) -> MetricsSchema | None:
        """The schema named ``name``, if one exists."""
        return next((s for s in self.schemas() if s.name == name), None)

    def ensure_schema(
        self,
        name: str,
        *,
        metrics: Sequence[str],
        dimensions: Sequence[str] = (),
        description: str = "",
    ) -> MetricsSchema:
        """The schema ``name`` with at least these attributes, created if missing. An existing
        schema without one of them is a ConfigurationError: points would be refused."""
        found = self.schema(name)
        if found is None:
            body = {
                "name": name,
                "description": description,
                "attributes": [{"name": m, "type": "metric"} for m in metrics]
                + [{"name": d, "type": "dimension"} for d in dimensions],
            }
            try:
                created = self._data("POST", _SCHEMAS, json=body, idempotent=False)
                found = MetricsSchema.model_validate(created)
            except (BadRequestError, ValidationError):
                # Someone created it first (409), or the answer was lost: read again.
                found = self.schema(name)
                if found is None:
                    raise
        missing = sorted(
            {*(set(metrics) - found.names("metric")), *(set(dimensions) - found.names("dimension"))}
        )
        if missing:
            raise ConfigurationError(
                f"the metrics schema {name!r} exists without the attributes {missing}; "
                "delete it or choose another schema name"
            )
        return found

    # --- points --------------------------------------------------------------------------------

    @staticmethod
    def _points_path(schema_uuid: str, suffix: str = "") -> str:
        if not schema_uuid:
            raise ValueError("a schema uuid must not be empty")
        return f"{_SCHEMAS}/{quote(schema_uuid, safe='')}/points{suffix}"

    def post_point(
        self, schema_uuid: str, timestamp: datetime, values: Mapping[str, PointValue]
    ) -> None:
        """Add one point. Not replayed after a lost answer (it would add a duplicate)."""
        if "timestamp" in values:
            raise ValueError("'timestamp' is the point's time, not an attribute")
        body = {"timestamp": metric_timestamp(timestamp), **values}
        self._data("POST", self._points_path(schema_uuid), json=body, idempotent=False)

    def points(
        self, schema_uuid: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Points from ``start`` (inclusive) to ``end`` (exclusive), oldest first."""
        names = assumptions.METRICS_RANGE_PARAMS
        params = {
            key: metric_timestamp(value)
            for key, value in zip(names, (start, end), strict=True)
            if value is not None
        }
        path = self._points_path(schema_uuid)
        data = self._data("GET", path, params=params or None, idempotent=True)
        return self._point_list(data, path)

    def points_at(self, schema_uuid: str, timestamp: datetime) -> list[dict[str, Any]]:
        path = self._points_path(schema_uuid, "/" + quote(metric_timestamp(timestamp), safe=""))
        try:
            data = self._data("GET", path, idempotent=True)
        except NotFoundError:
            return []
        return self._point_list(data, path)

    def delete_points_at(self, schema_uuid: str, timestamp: datetime) -> None:
        """Remove every point at ``timestamp`` (nothing there is fine)."""
        path = self._points_path(schema_uuid, "/" + quote(metric_timestamp(timestamp), safe=""))
        try:
            self._data("DELETE", path, idempotent=True)
        except NotFoundError:
            return

    def _point_list(self, data: Any, path: str) -> list[dict[str, Any]]:
        if data is None:
            return []
        if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
            raise self._malformed(path, "a list of points")
        return data
