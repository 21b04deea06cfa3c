"""Processor configurations (§5.4 [V]; semantics in integration-api-processors.md §1).

The models check what lint, plan and the run need (identity, processor shapes, ``run``,
identifiers, ``deletionScope``) and keep everything else: unknown keys anywhere and processor
types we do not model (``inboundDocument``, ``inboundMetrics``, ...) pass through untouched, so
``to_document()`` gives back exactly the document that was read, and a configuration exported
from the LeanIX UI survives a round trip. Validation is strict (no ``"1"`` → ``1``
coercion) for the same reason: what is sent is what is in git.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    Tag,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from lx_core.assumptions import FLAT_EXTERNAL_IDENTIFIER_ACCEPTED
from lx_core.integration.documents import TAG_PREFIX, validate_with
from lx_core.integration.identity import MAX_HEADER_CHARS, ConnectorIdentity, Mode

__all__ = [
    "KNOWN_PROCESSOR_TYPES",
    "MODELLED_PROCESSOR_TYPES",
    "Credentials",
    "DeletionScope",
    "ExternalIdentifier",
    "Filter",
    "Identifier",
    "InboundConfiguration",
    "InboundFactSheet",
    "InboundRelation",
    "InboundTag",
    "OtherProcessor",
    "OutboundConfiguration",
    "OutboundFactSheet",
    "OutputRule",
    "Processor",
    "ProcessorConfiguration",
    "RegexReplace",
    "Scope",
    "SearchIdentifier",
    "Update",
    "UpdateKey",
    "UpdateValue",
    "VariableProcessor",
    "WriteToLdif",
    "parse_configuration",
]

#: Processor types with a model of their own here.
MODELLED_PROCESSOR_TYPES = frozenset(
    {
        "inboundFactSheet",
        "inboundRelation",
        "inboundTag",
        "variableProcessor",
        "writeToLdif",
        "outboundFactSheet",
    }
)
#: Every processor type §5.4 names; the ones not modelled are kept as ``OtherProcessor``.
KNOWN_PROCESSOR_TYPES = MODELLED_PROCESSOR_TYPES | {
    "inboundDocument",
    "inboundSubscription",
    "inboundMetrics",
    "inboundImpact",
}


def _non_negative_int(value: Any) -> Any:
    if type(value) is not int or value < 0:
        raise PydanticCustomError("type", "must be an integer ≥ 0")
    return value


def _expression(value: Any) -> Any:
    """A template as ``{"expr": "${...}"}`` [V] or, in the flat form of LeanIX's
    massDataGenerator [V3], as a plain string."""
    if isinstance(value, dict) and isinstance(value.get("expr"), str):
        return value
    if isinstance(value, str) and FLAT_EXTERNAL_IDENTIFIER_ACCEPTED:
        return value
    raise PydanticCustomError("type", 'must be a string or an object with a string "expr"')


def _internal(value: Any) -> Any:
    """``internal``: a fact-sheet id expression, as a string or ``{"expr": ...}``."""
    if isinstance(value, str) or (isinstance(value, dict) and isinstance(value.get("expr"), str)):
        return value
    raise PydanticCustomError("type", 'must be a string or an object with a string "expr"')


RunIndex = Annotated[int, BeforeValidator(_non_negative_int)]
#: ``{"expr": "${content.id}", ...}`` or ``"${content.id}"``, kept as given.
Expression = Annotated[str | dict[str, Any], BeforeValidator(_expression)]
InternalExpression = Annotated[str | dict[str, Any], BeforeValidator(_internal)]


class _Model(BaseModel):
    """Strict, keeps unknown keys, and dumps its keys in the order they were read."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True)

    _key_order: tuple[str, ...] = PrivateAttr(())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, _Model):
            model._key_order = tuple(data)
        return model

    @model_serializer(mode="wrap")
    def _in_read_order(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        if not self._key_order or not isinstance(out, dict):
            return out
        ordered = {k: out[k] for k in self._key_order if k in out}
        ordered.update((k, v) for k, v in out.items() if k not in ordered)
        return ordered


class RegexReplace(_Model):
    match: str
    replace: str


class UpdateKey(_Model):
    """``key`` of an update: the field to write, e.g. ``{"expr": "lifecycle.active"}``."""

    expr: str
    regex_replace: RegexReplace | None = Field(None, alias="regexReplace")


class UpdateValue(_Model):
    """One candidate value; ``regexMatch`` runs before ``regexReplace`` [V]."""

    expr: str
    regex_match: str | None = Field(None, alias="regexMatch")
    regex_replace: RegexReplace | None = Field(None, alias="regexReplace")


class Update(_Model):
    key: UpdateKey
    values: list[UpdateValue] = Field(default_factory=list)
    op: str | None = None
    optional: bool | None = None


class OutputRule(_Model):
    """An outbound ``output[]`` entry (``${lx.factsheet.*}`` expressions)."""

    key: UpdateKey
    values: list[UpdateValue] = Field(default_factory=list)
    mode: str | None = None
    optional: bool | None = None


class Filter(_Model):
    """All configured filters must match [V]; ``type`` is a regex matched from the start."""

    exact_type: str | None = Field(None, alias="exactType")
    type: str | None = None
    id: str | None = None
    advanced: str | None = None
    on_read: str | None = Field(None, alias="onRead")
    updated_in_duration: str | None = Field(None, alias="updatedInDuration")


class Scope(_Model):
    """A fact-sheet scope: facet filters and/or ids."""

    facet_filters: list[dict[str, Any]] | None = Field(None, alias="facetFilters")
    ids: list[str] | None = None


class ExternalIdentifier(_Model):
    """``{"id": {"expr"}, "type": {"expr": "externalId"}}``; the flat form with plain strings
    (LeanIX's massDataGenerator [V3]) is accepted as well."""

    id: Expression
    type: Expression


class SearchIdentifier(_Model):
    scope: Scope | None = None
    filter: Any = None
    multiple_matches_allowed: bool | None = Field(None, alias="multipleMatchesAllowed")


class Identifier(_Model):
    """Exactly one of ``external`` (creates a missing fact sheet), ``internal`` (a fact sheet
    id expression) and ``search``."""

    external: ExternalIdentifier | None = None
    internal: InternalExpression | None = None
    search: SearchIdentifier | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Identifier:
        given = [k for k in ("external", "internal", "search") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "one-of-identifier", "must have exactly one of external, internal or search"
            )
        return self


class _ProcessorCommon(_Model):
    """What every processor has, modelled or not; ``deletionScope`` is refused here because
    it belongs to the configuration (a processor-level one would be silently ignored)."""

    processor_type: str = Field(alias="processorType", min_length=1)
    deletion_scope: Any = Field(None, alias="deletionScope")

    @field_validator("deletion_scope", mode="before")
    @classmethod
    def _not_here(cls, value: Any) -> Any:
        raise PydanticCustomError(
            "deletion-scope-on-processor",
            "belongs on the configuration, not on a processor",
        )


class OtherProcessor(_ProcessorCommon):
    """A processor type not modelled here (inboundDocument, ..., or a newer one): kept as is."""


class _Processor(_ProcessorCommon):
    processor_name: str | None = Field(None, alias="processorName")
    processor_description: str | None = Field(None, alias="processorDescription")
    enabled: bool | None = None
    run: RunIndex | None = None
    filter: Filter | None = None
    for_each: Any = Field(None, alias="forEach")
    variables: list[dict[str, Any]] | None = None
    mode: Literal["createOrUpdate", "delete"] | None = None
    log_level: Literal["off", "warning", "debug"] | None = Field(None, alias="logLevel")

    @property
    def run_index(self) -> int:
        """``run``, 0 when absent."""
        return self.run or 0

    @property
    def is_enabled(self) -> bool:
        return self.enabled is not False


class InboundFactSheet(_Processor):
    processor_type: Literal["inboundFactSheet"] = Field(alias="processorType")
    type: str | None = None
    identifier: Identifier
    updates: list[Update] = Field(default_factory=list)


class InboundRelation(_Processor):
    processor_type: Literal["inboundRelation"] = Field(alias="processorType")
    type: str
    from_: Identifier = Field(alias="from")
    to: Identifier
    updates: list[Update] = Field(default_factory=list)


class InboundTag(_Processor):
    """Targets fact sheets by ``factSheets.external.ids``, not by ``identifier`` [V]."""

    processor_type: Literal["inboundTag"] = Field(alias="processorType")
    fact_sheets: dict[str, Any] | None = Field(None, alias="factSheets")
    tags_read_only: bool | None = Field(None, alias="tagsReadOnly")
    updates: list[Update] = Field(default_factory=list)


class VariableProcessor(_Processor):
    processor_type: Literal["variableProcessor"] = Field(alias="processorType")


class WriteToLdif(_Processor):
    processor_type: Literal["writeToLdif"] = Field(alias="processorType")
    updates: list[Update] = Field(default_factory=list)


class OutboundFactSheet(_Processor):
    processor_type: Literal["outboundFactSheet"] = Field(alias="processorType")
    fields: list[str] | None = None
    relations: dict[str, Any] | None = None
    tags: dict[str, Any] | None = None
    subscriptions: dict[str, Any] | None = None
    documents: dict[str, Any] | None = None
    output: list[OutputRule] = Field(default_factory=list)


def _processor_tag(value: Any) -> str:
    kind = (
        value.get("processorType")
        if isinstance(value, dict)
        else getattr(value, "processor_type", None)
    )
    if isinstance(kind, str) and kind in MODELLED_PROCESSOR_TYPES:
        return TAG_PREFIX + kind
    return TAG_PREFIX + "other"


Processor = Annotated[
    Annotated[InboundFactSheet, Tag(TAG_PREFIX + "inboundFactSheet")]
    | Annotated[InboundRelation, Tag(TAG_PREFIX + "inboundRelation")]
    | Annotated[InboundTag, Tag(TAG_PREFIX + "inboundTag")]
    | Annotated[VariableProcessor, Tag(TAG_PREFIX + "variableProcessor")]
    | Annotated[WriteToLdif, Tag(TAG_PREFIX + "writeToLdif")]
    | Annotated[OutboundFactSheet, Tag(TAG_PREFIX + "outboundFactSheet")]
    | Annotated[OtherProcessor, Tag(TAG_PREFIX + "other")],
    Discriminator(_processor_tag),
]


def _ratio(value: Any) -> Any:
    if type(value) not in (int, float) or value < 0:
        raise PydanticCustomError("type", "must be a number ≥ 0 (a percentage)")
    return value


Ratio = Annotated[int | float, BeforeValidator(_ratio)]


class DeletionScope(_Model):
    """What a full-mode run may archive when it did not touch it [V] §5.4."""

    maximum_deletion_ratio: dict[str, Ratio] | None = Field(None, alias="maximumDeletionRatio")
    fact_sheets: list[dict[str, Any]] | None = Field(None, alias="factSheets")
    relations: list[dict[str, Any]] | None = None
    tags: list[dict[str, Any]] | None = None
    subscriptions: list[dict[str, Any]] | None = None
    documents: list[dict[str, Any]] | None = None
    impacts: list[dict[str, Any]] | None = None


class Credentials(_Model):
    """``apiToken`` or ``useTechnicalUser``; never logged, never shown by a diff."""

    api_token: str | None = Field(None, alias="apiToken", repr=False)
    use_technical_user: bool | None = Field(None, alias="useTechnicalUser")


def _direction(value: Any) -> Any:
    if value not in ("inbound", "outbound"):
        raise PydanticCustomError("enum", "must be inbound or outbound")
    return value


_Str = Annotated[str, Field(min_length=1, max_length=MAX_HEADER_CHARS)]


class ProcessorConfiguration(_Model):
    """Fields shared by inbound and outbound configurations; parse with
    ``parse_configuration``, which picks the subclass by ``processingDirection``."""

    connector_type: _Str = Field(alias="connectorType")
    connector_id: _Str = Field(alias="connectorId")
    connector_version: _Str = Field(alias="connectorVersion")
    processing_direction: Literal["inbound", "outbound"] = Field(alias="processingDirection")
    processing_mode: Mode = Field("partial", alias="processingMode")
    processors: list[Processor] = Field(default_factory=list)
    default_input: dict[str, Any] | None = Field(None, alias="defaultInput")

    @property
    def identity(self) -> ConnectorIdentity:
        """The five fields that bind LDIFs (and the configuration endpoints) to this."""
        return ConnectorIdentity(
            connector_type=self.connector_type,
            connector_id=self.connector_id,
            connector_version=self.connector_version,
            processing_direction=self.processing_direction,
            processing_mode=self.processing_mode,
        )

    def to_document(self) -> dict[str, Any]:
        """The configuration as read: unknown keys and types included, defaults not added."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class InboundConfiguration(ProcessorConfiguration):
    processing_direction: Annotated[Literal["inbound"], BeforeValidator(_direction)] = Field(
        alias="processingDirection"
    )
    deletion_scope: DeletionScope | None = Field(None, alias="deletionScope")
    variables: dict[str, Any] | None = None
    data_provider: dict[str, Any] | None = Field(None, alias="dataProvider")
    credentials: Credentials | None = None
    target_ldif: dict[str, Any] | None = Field(None, alias="targetLdif")

    @field_validator("deletion_scope")
    @classmethod
    def _full_mode_only(cls, value: DeletionScope | None, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("processing_mode", "partial") != "full":
            raise PydanticCustomError(
                "deletion-scope-mode", "deletionScope requires processingMode full"
            )
        return value


class OutboundConfiguration(ProcessorConfiguration):
    processing_direction: Annotated[Literal["outbound"], BeforeValidator(_direction)] = Field(
        alias="processingDirection"
    )
    scope: Scope
    data_consumer: dict[str, Any] | None = Field(None, alias="dataConsumer")


def _direction_tag(value: Any) -> str:
    direction = (
        value.get("processingDirection")
        if isinstance(value, dict)
        else getattr(value, "processing_direction", None)
    )
    return TAG_PREFIX + ("outbound" if direction == "outbound" else "inbound")


_CONFIGURATION: TypeAdapter[InboundConfiguration | OutboundConfiguration] = TypeAdapter(
    Annotated[
        Annotated[InboundConfiguration, Tag(TAG_PREFIX + "inbound")]
        | Annotated[OutboundConfiguration, Tag(TAG_PREFIX + "outbound")],
        Discriminator(_direction_tag),
    ]
)


def parse_configuration(
    doc: Mapping[str, Any], *, source: str
) -> InboundConfiguration | OutboundConfiguration:
    """``doc`` as an inbound or outbound configuration, or one ``DocumentError`` naming
    ``source``, the JSON path and the rule."""
    return validate_with(doc, _CONFIGURATION, source=source)
