"""LDIF models (§5.3) and the streaming writer: valid and invalid documents, bounded memory."""

from __future__ import annotations

import io
import itertools
import json
import tracemalloc
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest
from pydantic import ValidationError

from lx_core.errors import DocumentError, LdifError
from lx_core.integration.documents import validate
from lx_core.integration.identity import ConnectorIdentity
from lx_core.integration.ldif import (
    ContentItem,
    Ldif,
    LdifHeader,
    iter_ldif_chunks,
    write_ldif,
)

#: The §5.3 example, plus keys LeanIX may add later.
DOCUMENTED: dict[str, Any] = {
    "connectorType": "inboundExample",
    "connectorId": "inbound-example",
    "connectorVersion": "1.0.0",
    "lxVersion": "1.0.0",
    "lxWorkspace": "ws-1",
    "description": "Imports sample data into LeanIX",
    "processingDirection": "inbound",
    "processingMode": "partial",
    "customFields": {"factSheetType": "Application"},
    "chunkInformation": {"firstDataObject": 0, "lastDataObject": 499, "maxDataObject": 1999},
    "content": [
        {
            "type": "Deployment",
            "id": "634c16bf-1",
            "data": {"app": "HR Service", "version": "1.8.4"},
            "futureItemKey": [1],
        }
    ],
    "futureHeaderKey": {"x": True},
    "futureNullKey": None,
}


def header(**overrides: Any) -> LdifHeader:
    fields: dict[str, Any] = {
        "connectorType": "t",
        "connectorId": "c",
        "connectorVersion": "1.0.0",
        "lxVersion": "1.0.0",
        "processingDirection": "inbound",
    }
    return LdifHeader.model_validate(fields | overrides)


def item(i: int) -> dict[str, Any]:
    return {"type": "Application", "id": f"app-{i}", "data": {"name": f"App {i}", "n": i}}


def written(hdr: LdifHeader, items: Any, **kw: Any) -> tuple[int, Any]:
    out = io.BytesIO()
    count = write_ldif(hdr, items, out, **kw)
    return count, json.loads(out.getvalue())


# --- models -------------------------------------------------------------------------------------


def test_documented_ldif_round_trips_with_unknown_keys() -> None:
    ldif = Ldif.model_validate(DOCUMENTED)
    assert ldif.chunk_information is not None
    assert ldif.chunk_information.max_data_object == 1999
    assert ldif.content[0].data["app"] == "HR Service"
    assert ldif.to_document() == DOCUMENTED
    assert ldif.header.header_document() == {k: v for k, v in DOCUMENTED.items() if k != "content"}


def test_identity_of_a_header() -> None:
    assert header(processingMode="full").identity == ConnectorIdentity(
        connector_type="t",
        connector_id="c",
        connector_version="1.0.0",
        processing_direction="inbound",
        processing_mode="full",
    )


def test_defaults_and_snake_case_names() -> None:
    hdr = LdifHeader(
        connector_type="t",
        connector_id="c",
        connector_version="1.0.0",
        lx_version="1.0.0",
        processing_direction="outbound",
    )
    assert hdr.processing_mode == "partial"
    assert hdr.header_document() == {
        "connectorType": "t",
        "connectorId": "c",
        "connectorVersion": "1.0.0",
        "lxVersion": "1.0.0",
        "processingDirection": "outbound",
        "processingMode": "partial",
        "customFields": {},
    }


@pytest.mark.parametrize(
    ("change", "path", "rule"),
    [
        ({"connectorType": None}, "$.connectorType", "required"),
        ({"connectorId": None}, "$.connectorId", "required"),
        ({"connectorVersion": None}, "$.connectorVersion", "required"),
        ({"lxVersion": None}, "$.lxVersion", "required"),
        ({"processingDirection": None}, "$.processingDirection", "required"),
        ({"processingDirection": "up"}, "$.processingDirection", "enum"),
        ({"processingMode": "delta"}, "$.processingMode", "enum"),
        ({"description": "d" * 501}, "$.description", "length"),
        ({"connectorId": "c" * 501}, "$.connectorId", "length"),
        (
            {"chunkInformation": {"firstDataObject": 0}},
            "$.chunkInformation.lastDataObject",
            "required",
        ),
        ({"content": [{"type": "x", "id": "1"}]}, "$.content[0].data", "required"),
        ({"content": [{"type": "x", "data": {}}]}, "$.content[0].id", "required"),
        ({"content": [{"id": "1", "data": {}}]}, "$.content[0].type", "required"),
        ({"content": [{"type": "x", "id": "1", "data": []}]}, "$.content[0].data", "type"),
    ],
)
def test_invalid_ldif_names_path_and_rule(change: dict[str, Any], path: str, rule: str) -> None:
    d = {**DOCUMENTED, **change}
    d = {k: v for k, v in d.items() if v is not None}
    with pytest.raises(DocumentError) as info:
        validate(d, Ldif, source="in.ldif.json")
    assert (info.value.path, info.value.rule) == (path, rule)


def test_content_item_limits() -> None:
    with pytest.raises(ValidationError):
        ContentItem(type="", id="1", data={})
    with pytest.raises(ValidationError):
        ContentItem(type="x", id="1" * 501, data={})
    kept = ContentItem.model_validate({"type": "x", "id": "1", "data": {}, "extra": 2})
    assert kept.to_document() == {"type": "x", "id": "1", "data": {}, "extra": 2}


# --- streaming writer ---------------------------------------------------------------------------


def test_write_ldif_produces_the_document_header_first() -> None:
    hdr = Ldif.model_validate(DOCUMENTED)  # an Ldif is a header too; its content is not written
    items = [item(i) for i in range(3)]
    out = io.BytesIO()
    assert write_ldif(hdr, iter(items), out) == 3
    text = out.getvalue().decode()
    assert text.startswith('{"connectorType":"inboundExample",')
    assert text.endswith("]}")
    expected = {k: v for k, v in DOCUMENTED.items() if k != "content"} | {"content": items}
    assert json.loads(text) == expected


def test_empty_content_and_mixed_item_kinds() -> None:
    count, doc = written(header(), [])
    assert (count, doc["content"]) == (0, [])
    mixed: list[Any] = [
        ContentItem(type="A", id="1", data={"k": "ä"}, note="kept"),
        MappingProxyType({"type": "B", "id": "2", "data": MappingProxyType({"x": 1})}),
        {"type": "C", "id": "3", "data": {}, "extra": None},
    ]
    count, doc = written(header(), mixed)
    assert count == 3
    assert doc["content"] == [
        {"type": "A", "id": "1", "data": {"k": "ä"}, "note": "kept"},
        {"type": "B", "id": "2", "data": {"x": 1}},
        {"type": "C", "id": "3", "data": {}, "extra": None},
    ]


def test_chunks_have_the_asked_size_and_join_to_the_document() -> None:
    items = [item(i) for i in range(2000)]
    chunks = list(iter_ldif_chunks(header(), items, chunk_bytes=4096))
    assert len(chunks) > 10
    assert all(len(c) == 4096 for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= 4096
    count, doc = written(header(), items)
    assert count == 2000
    assert json.loads(b"".join(chunks)) == doc
    assert doc["content"] == items


def test_items_are_consumed_lazily() -> None:
    """An endless source still yields its first chunks: nothing waits for the whole input."""
    endless = (item(i) for i in itertools.count())
    chunks = iter_ldif_chunks(header(), endless, chunk_bytes=1024)
    first = [next(chunks) for _ in range(5)]
    assert b"".join(first).startswith(b'{"connectorType"')


def _peak_bytes(n: int) -> int:
    def source() -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield item(i)

    class Discard(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            return len(b)

    tracemalloc.start()
    try:
        write_ldif(header(), source(), Discard())  # type: ignore[arg-type]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_items() -> None:
    small, large = _peak_bytes(2_000), _peak_bytes(20_000)
    assert large <= small * 1.2 + 64 * 1024


@pytest.mark.parametrize(
    ("bad", "field", "rule"),
    [
        ({"id": "1", "data": {}}, "type", "required"),
        ({"type": "x", "data": {}}, "id", "required"),
        ({"type": "x", "id": "1"}, "data", "required"),
        ({"type": "x", "id": 1, "data": {}}, "id", "type"),
        ({"type": True, "id": "1", "data": {}}, "type", "type"),
        ({"type": "", "id": "1", "data": {}}, "type", "length"),
        ({"type": "x", "id": "i" * 501, "data": {}}, "id", "length"),
        ({"type": "x", "id": "1", "data": ["a"]}, "data", "type"),
    ],
)
def test_a_bad_item_is_named_by_index_and_field(bad: dict[str, Any], field: str, rule: str) -> None:
    items = [*(item(i) for i in range(300)), bad]
    with pytest.raises(LdifError) as info:
        write_ldif(header(), items, io.BytesIO())
    assert (info.value.path, info.value.rule) == (f"$.content[300].{field}", rule)


@pytest.mark.parametrize("value", [float("nan"), {1, 2}, object()])
def test_values_that_are_not_json_are_refused(value: Any) -> None:
    items = [item(0), item(1), {"type": "x", "id": "2", "data": {"v": value}}]
    with pytest.raises(LdifError) as info:
        write_ldif(header(), items, io.BytesIO())
    assert (info.value.path, info.value.rule) == ("$.content[2]", "json-value")
    assert "2" not in info.value.message  # the data is not echoed


def test_an_item_that_is_not_an_object() -> None:
    with pytest.raises(LdifError) as info:
        write_ldif(header(), [item(0), ["x"]], io.BytesIO())  # type: ignore[list-item]
    assert info.value.path == "$.content[1]"


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_bytes"):
        write_ldif(header(), [], io.BytesIO(), chunk_bytes=0)


def test_a_header_value_that_is_not_json_is_refused() -> None:
    with pytest.raises(LdifError) as info:
        write_ldif(header(customFields={"when": object()}), [], io.BytesIO())
    assert info.value.rule == "json-value"
