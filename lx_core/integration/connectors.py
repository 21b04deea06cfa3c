"""Connectors as code: one JSON file per recurring Integration API run.

A connector file names the run, its schedule, the connector identity, its processor file, where
inbound data comes from (an HTTPS JSON endpoint or a blob) and where results go (a blob path
template), how long a run may take, and what counts as failure. ``load_registry`` validates
every file of a folder: a file that breaks a rule is left out with one ``DocumentError`` naming
the file, the JSON path and the rule, and the others load. Nothing is half-loaded: a connector is
either complete (its processor file included) or absent.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lx_core.decisions.run_policy import FailurePolicy
from lx_core.errors import DocumentError
from lx_core.integration.documents import read_json, validate
from lx_core.integration.identity import ConnectorIdentity
from lx_core.integration.processors import ProcessorConfiguration, parse_configuration
from lx_core.integration.sources import Source
from lx_core.storage.blob import BlobTemplate

#: A connector name: short, lowercase, usable in function names, blob paths and state keys.
NAME_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
_SETTING_REF = re.compile(r"^%([A-Za-z_][A-Za-z0-9_]*)%$")
# NCRONTAB: six fields (seconds first); each a number, range, list, step, name or ``*``.
_NCRONTAB_FIELD = re.compile(r"^[0-9A-Za-z*?/,\-]+$")

DEFAULT_RESULT_PATH = "{connector}/{timestamp}-{run_id}.json"
#: The union members pydantic puts into an error's location, which the file does not have:
#: ``$.source.https.paging.nextLink.nextLnk`` is ``$.source.paging.nextLnk`` in the file. Right
#: below ``source`` and below its ``paging``, a deeper location always starts with the tag.
_SOURCE_TAG = re.compile(r"^\$\.source\.(?:https|blob)(?=[.\[]|$)")
_PAGING_TAG = re.compile(r"^\$\.source\.paging\.(?:nextLink|pageParam)(?=[.\[]|$)")


def setting_reference(value: str) -> str | None:
    """The app-setting name of a ``%NAME%`` reference, else None."""
    match = _SETTING_REF.match(value.strip())
    return match.group(1) if match else None


class BlobTarget(BaseModel):
    """Where a run's result LDIF is stored: a container of the data account and a name
    template (``{connector}``, ``{run_id}``, ``{date}``, ``{time}``, ``{timestamp}``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    container: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
        description="Default: LX_BLOB_RESULTS_CONTAINER.",
    )
    path: BlobTemplate = Field(DEFAULT_RESULT_PATH, min_length=1, max_length=512)


class ConnectorSpec(BaseModel):
    """The contents of one connector file."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    comment: str | None = Field(None, alias="$comment")
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = Field(None, max_length=300)
    schedule: str = Field(
        description="NCRONTAB (six fields, seconds first) or %APP_SETTING% naming one."
    )
    connector: ConnectorIdentity
    processors: str = Field(
        min_length=1, description="The processor configuration file, relative to this file."
    )
    lx_version: str = Field("1.0.0", alias="lxVersion", min_length=1, max_length=500)
    custom_fields: dict[str, Any] = Field(default_factory=dict, alias="customFields")
    source: Source | None = None
    target: BlobTarget | None = None
    deadline_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600, alias="deadlineSeconds")
    on_deadline: Literal["keep_watching", "stop"] = Field("keep_watching", alias="onDeadline")
    notify: FailurePolicy = Field(default_factory=FailurePolicy)
    deletion_ratio_reason: str | None = Field(
        None,
        alias="deletionRatioReason",
        min_length=10,
        max_length=500,
        description="Why maximumDeletionRatio may exceed 50 (the lint asks for it).",
    )
    test_scope: dict[str, Any] | None = Field(
        None,
        alias="testScope",
        description="Outbound: the scope a test run uses instead of the configuration's.",
    )

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        value = value.strip()
        if setting_reference(value) is not None:
            return value
        fields = value.split()
        if len(fields) != 6 or not all(_NCRONTAB_FIELD.match(f) for f in fields):
            raise ValueError("must be NCRONTAB with six fields (seconds first), or %APP_SETTING%")
        return value

    @field_validator("processors")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
            raise ValueError("must be a path relative to the connector file")
        if not value.endswith(".json"):
            raise ValueError("must name a .json file")
        return value

    @model_validator(mode="after")
    def _direction_fits(self) -> ConnectorSpec:
        direction = self.connector.processing_direction
        if direction == "inbound" and self.source is None:
            raise ValueError("an inbound connector needs a source")
        if direction == "outbound" and self.source is not None:
            raise ValueError("an outbound connector takes no source")
        if self.test_scope is not None and direction != "outbound":
            raise ValueError("testScope applies to outbound connectors only")
        return self

    @property
    def result_target(self) -> BlobTarget | None:
        """Where results go: the declared target; outbound runs always store theirs."""
        if self.target is not None:
            return self.target
        if self.connector.processing_direction == "outbound":
            return BlobTarget()
        return None


@dataclass(frozen=True)
class Connector:
    """A validated connector with its processor configuration, ready to run."""

    spec: ConnectorSpec
    file: Path
    processors_file: Path
    processors: ProcessorConfiguration

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def identity(self) -> ConnectorIdentity:
        return self.spec.connector

    def processor_document(self) -> dict[str, Any]:
        """The configuration exactly as it is sent to LeanIX (connector-only keys stay out)."""
        return self.processors.to_document()


@dataclass(frozen=True)
class Registry:
    """The connectors that loaded, and one error per file that did not."""

    connectors: Mapping[str, Connector] = field(default_factory=dict)
    errors: tuple[DocumentError, ...] = ()

    def get(self, name: str) -> Connector | None:
        return self.connectors.get(name)


def _read_spec(file: Path) -> ConnectorSpec:
    """The connector file as a spec; a DocumentError's path is the one in the file."""
    try:
        return validate(read_json(file), ConnectorSpec, source=str(file))
    except DocumentError as exc:
        path = _PAGING_TAG.sub("$.source.paging", _SOURCE_TAG.sub("$.source", exc.path))
        if path == exc.path:
            raise
        raise DocumentError(exc.message, file=exc.file, path=path, rule=exc.rule) from None


def load_connector(file: Path) -> Connector:
    """One connector file and its processor file, fully validated (DocumentError if not)."""
    spec = _read_spec(file)
    processors_file = (file.parent / spec.processors).resolve()
    # Connectors and processors are deployed side by side (infra/leanix/connectors and
    # infra/leanix/processors): a file outside their common folder would not be deployed.
    home = file.resolve().parent.parent
    if not processors_file.is_relative_to(home):
        raise DocumentError(
            f"processor file {spec.processors} is outside {home}, which is what gets deployed",
            file=str(file),
            path="$.processors",
            rule="outside-deployment",
        )
    if not processors_file.is_file():
        raise DocumentError(
            f"processor file {spec.processors} does not exist",
            file=str(file),
            path="$.processors",
            rule="missing-reference",
        )
    config = parse_configuration(read_json(processors_file), source=str(processors_file))
    if config.identity != spec.connector:
        raise DocumentError(
            f"connector identity {spec.connector.key} differs from the processor file's "
            f"{config.identity.key}",
            file=str(file),
            path="$.connector",
            rule="identity-mismatch",
        )
    return Connector(spec=spec, file=file, processors_file=processors_file, processors=config)


def connector_files(directory: Path) -> list[Path]:
    """The connector files of a folder, in name order (none if the folder is absent)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.json") if p.is_file())


def load_registry(directory: Path) -> Registry:
    """Every connector of ``directory``. Invalid files, and every file sharing a name or an
    identity with another, are left out with an error each; the rest load."""
    loaded: list[Connector] = []
    errors: list[DocumentError] = []
    for file in connector_files(directory):
        try:
            loaded.append(load_connector(file))
        except DocumentError as exc:
            errors.append(exc)
    by_name: dict[str, list[Connector]] = defaultdict(list)
    by_identity: dict[str, list[Connector]] = defaultdict(list)
    for connector in loaded:
        by_name[connector.name].append(connector)
        by_identity[connector.identity.key].append(connector)
    refused: set[Path] = set()
    for groups, path, rule in (
        (by_name, "$.name", "unique-name"),
        (by_identity, "$.connector", "unique-identity"),
    ):
        for key, group in groups.items():
            if len(group) < 2:
                continue
            others = ", ".join(c.file.name for c in group)
            for connector in group:
                if connector.file in refused:
                    continue
                refused.add(connector.file)
                errors.append(
                    DocumentError(
                        f"{key!r} is used by more than one connector file ({others})",
                        file=str(connector.file),
                        path=path,
                        rule=rule,
                    )
                )
    connectors = {c.name: c for c in loaded if c.file not in refused}
    return Registry(connectors=connectors, errors=tuple(errors))
