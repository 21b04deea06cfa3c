"""The LDIF (LeanIX Data Interchange Format, §5.3 [V]): models, and a streaming writer.

A connector's content comes from an iterator that may yield millions of items, so the writer
never holds the document: it writes the header, then the items in small batches, each checked
with plain type checks (pydantic per item would cost more than the serialisation itself), so
memory is bounded by a batch and a chunk, not by the input. Unknown keys are kept everywhere,
so a document read and written again is unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from lx_core.assumptions import LDIF_CONTENT_KEY_MAX_CHARS
from lx_core.errors import LdifError
from lx_core.integration.identity import MAX_HEADER_CHARS, ConnectorIdentity, Direction, Mode

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "ChunkInformation",
    "ContentItem",
    "Ldif",
    "LdifHeader",
    "iter_ldif_chunks",
    "write_ldif",
]

#: Size of the chunks ``iter_ldif_chunks`` yields (the last one may be smaller).
DEFAULT_CHUNK_BYTES = 64 * 1024
#: Items checked and encoded together: one ``json`` call per batch instead of per item.
_BATCH_ITEMS = 256


class _LdifModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ContentItem(_LdifModel):
    """One ``content[]`` entry: ``id`` is the external id, ``data`` a free object."""

    type: str = Field(min_length=1, max_length=LDIF_CONTENT_KEY_MAX_CHARS)
    id: str = Field(min_length=1, max_length=LDIF_CONTENT_KEY_MAX_CHARS)
    data: dict[str, Any]

    def to_document(self) -> dict[str, Any]:
        """The item as JSON-ready dict (unknown keys included)."""
        doc: dict[str, Any] = {"type": self.type, "id": self.id, "data": self.data}
        if self.__pydantic_extra__:
            doc.update(self.__pydantic_extra__)
        return doc


class ChunkInformation(_LdifModel):
    """Which slice of a larger data set this LDIF holds (indexes of the data objects)."""

    first_data_object: int = Field(ge=0, alias="firstDataObject")
    last_data_object: int = Field(ge=0, alias="lastDataObject")
    max_data_object: int = Field(ge=0, alias="maxDataObject")


_OPTIONAL_HEADER_KEYS = ("lxWorkspace", "description", "chunkInformation")


class LdifHeader(_LdifModel):
    """Everything of an LDIF but its ``content``. The five connector fields bind it to a
    processor configuration; strings are limited to 500 characters [V] §5.3."""

    connector_type: str = Field(alias="connectorType", min_length=1, max_length=MAX_HEADER_CHARS)
    connector_id: str = Field(alias="connectorId", min_length=1, max_length=MAX_HEADER_CHARS)
    connector_version: str = Field(
        alias="connectorVersion", min_length=1, max_length=MAX_HEADER_CHARS
    )
    lx_version: str = Field(alias="lxVersion", min_length=1, max_length=MAX_HEADER_CHARS)
    lx_workspace: str | None = Field(None, alias="lxWorkspace", max_length=MAX_HEADER_CHARS)
    description: str | None = Field(None, max_length=MAX_HEADER_CHARS)
    processing_direction: Direction = Field(alias="processingDirection")
    processing_mode: Mode = Field("partial", alias="processingMode")
    custom_fields: dict[str, Any] = Field(default_factory=dict, alias="customFields")
    chunk_information: ChunkInformation | None = Field(None, alias="chunkInformation")

    @property
    def identity(self) -> ConnectorIdentity:
        """The connector fields, as the configuration endpoints take them."""
        return ConnectorIdentity(
            connector_type=self.connector_type,
            connector_id=self.connector_id,
            connector_version=self.connector_version,
            processing_direction=self.processing_direction,
            processing_mode=self.processing_mode,
        )

    def header_document(self) -> dict[str, Any]:
        """The header fields as a JSON-ready dict (unset optional fields left out)."""
        doc = self.model_dump(by_alias=True, exclude={"content"})
        doc.pop("content", None)
        for optional in _OPTIONAL_HEADER_KEYS:
            if doc.get(optional, ...) is None:
                del doc[optional]
        return doc


class Ldif(LdifHeader):
    """A whole LDIF in memory: fine for tests and small inputs; stream big ones instead."""

    content: list[ContentItem] = Field(default_factory=list)

    @property
    def header(self) -> LdifHeader:
        """This LDIF without its content."""
        return LdifHeader.model_validate(self.header_document())

    def to_document(self) -> dict[str, Any]:
        """The LDIF as a JSON-ready dict (unknown keys included)."""
        doc = self.header_document()
        doc["content"] = [item.to_document() for item in self.content]
        return doc


def _bad(index: int, field: str, message: str, rule: str) -> LdifError:
    return LdifError(message, path=f"$.content[{index}].{field}", rule=rule)


def _check_mapping(item: Mapping[str, Any], index: int) -> dict[str, Any]:
    """A plain dict of ``item`` once its three required keys pass (cheap type checks only)."""
    for field in ("type", "id"):
        value = item.get(field)
        if type(value) is not str:  # bool/int/None/str subclasses are all refused
            if value is None:
                raise _bad(index, field, "is required", "required")
            raise _bad(index, field, "must be a string", "type")
        if not value or len(value) > LDIF_CONTENT_KEY_MAX_CHARS:
            raise _bad(
                index, field, f"must have 1 to {LDIF_CONTENT_KEY_MAX_CHARS} characters", "length"
            )
    data = item.get("data")
    if type(data) is not dict:
        if data is None:
            raise _bad(index, "data", "is required", "required")
        if not isinstance(data, Mapping):
            raise _bad(index, "data", "must be an object", "type")
        item = {**item, "data": dict(data)}
    return item if type(item) is dict else dict(item)


def _as_dict(item: ContentItem | Mapping[str, Any], index: int) -> dict[str, Any]:
    if isinstance(item, ContentItem):
        return item.to_document()
    if isinstance(item, Mapping):
        return _check_mapping(item, index)
    raise LdifError(
        "must be an object with type, id and data", path=f"$.content[{index}]", rule="type"
    )


class _LdifStream:
    """Encodes one LDIF as a sequence of byte chunks and counts the items it wrote."""

    def __init__(
        self,
        header: LdifHeader,
        items: Iterable[ContentItem | Mapping[str, Any]],
        chunk_bytes: int,
    ) -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be positive")
        self._header = header
        self._items = items
        self._chunk_bytes = chunk_bytes
        self._encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
        self.count = 0

    def _encode_batch(self, batch: list[dict[str, Any]], first_index: int) -> str:
        try:
            return self._encoder.encode(batch)[1:-1]
        except (TypeError, ValueError):
            pass
        for offset, item in enumerate(batch):  # find the culprit to name it
            try:
                self._encoder.encode(item)
            except (TypeError, ValueError) as exc:
                reason = (
                    "a float that is not finite"
                    if isinstance(exc, ValueError)
                    else (
                        "a value that is not JSON (only objects, arrays, strings, numbers, "
                        "booleans and null)"
                    )
                )
                raise LdifError(
                    f"holds {reason}",
                    path=f"$.content[{first_index + offset}]",
                    rule="json-value",
                ) from None
        raise LdifError("cannot be encoded as JSON", path="$.content", rule="json-value")

    def _pieces(self) -> Iterator[str]:
        try:
            head = self._encoder.encode(self._header.header_document())
        except (TypeError, ValueError):
            raise LdifError(
                "the header holds a value that is not JSON", path="$", rule="json-value"
            ) from None
        yield head[:-1] + (',"content":[' if len(head) > 2 else '"content":[')
        batch: list[dict[str, Any]] = []
        index = 0
        separator = ""
        for item in self._items:
            batch.append(_as_dict(item, index))
            index += 1
            if len(batch) == _BATCH_ITEMS:
                yield separator + self._encode_batch(batch, index - len(batch))
                separator = ","
                self.count = index
                batch = []
        if batch:
            yield separator + self._encode_batch(batch, index - len(batch))
            self.count = index
        yield "]}"

    def chunks(self) -> Iterator[bytes]:
        buffer = bytearray()
        size = self._chunk_bytes
        for piece in self._pieces():
            buffer += piece.encode("utf-8")
            while len(buffer) >= size:
                yield bytes(buffer[:size])
                del buffer[:size]
        if buffer:
            yield bytes(buffer)


def iter_ldif_chunks(
    header: LdifHeader,
    items: Iterable[ContentItem | Mapping[str, Any]],
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Iterator[bytes]:
    """The LDIF of ``header`` and ``items`` as UTF-8 chunks of ``chunk_bytes`` (the last may be
    shorter). Items are checked as they are consumed: a bad one raises ``LdifError`` naming its
    index, after the chunks before it were yielded, so spool or upload to a place that is only
    committed at the end."""
    return _LdifStream(header, items, chunk_bytes).chunks()


def write_ldif(
    header: LdifHeader,
    items: Iterable[ContentItem | Mapping[str, Any]],
    out: BinaryIO,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> int:
    """Write the LDIF to ``out`` chunk by chunk; returns the number of content items."""
    stream = _LdifStream(header, items, chunk_bytes)
    for chunk in stream.chunks():
        out.write(chunk)
    return stream.count
