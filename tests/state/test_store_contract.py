"""The StateStore contract, run over both backends: MemoryStore and AzureTableStore on Azurite.

A unit test that passes on MemoryStore must mean the same thing in Azure, so every rule here is
checked against the real Table protocol too (no mocks at this layer).
"""

from __future__ import annotations

import pytest

from lx_core.errors import StateConflictError, StateError
from lx_core.state.base import MAX_DATA_CHARS, StateStore


def test_get_of_a_missing_row_is_none(store: StateStore) -> None:
    assert store.get("p", "nothing") is None


def test_insert_then_get_round_trips_data_and_etag(store: StateStore) -> None:
    data = {"n": 1, "f": 1.5, "s": "x", "list": [1, "a", None], "nested": {"ok": True}}
    row = store.insert("p", "k", data)
    got = store.get("p", "k")
    assert got is not None
    assert (got.partition, got.key, dict(got.data), got.etag) == ("p", "k", data, row.etag)
    assert row.data == data


def test_insert_of_an_existing_row_conflicts_and_keeps_the_first(store: StateStore) -> None:
    store.insert("p", "k", {"v": 1})
    with pytest.raises(StateConflictError) as caught:
        store.insert("p", "k", {"v": 2})
    assert (caught.value.partition, caught.value.key) == ("p", "k")
    got = store.get("p", "k")
    assert got is not None and got.data == {"v": 1}


def test_replace_with_the_current_etag_writes_and_moves_the_etag(store: StateStore) -> None:
    first = store.insert("p", "k", {"v": 1})
    second = store.replace("p", "k", {"v": 2}, etag=first.etag)
    assert second.etag != first.etag
    got = store.get("p", "k")
    assert got is not None and (got.data, got.etag) == ({"v": 2}, second.etag)


def test_replace_with_a_stale_etag_conflicts(store: StateStore) -> None:
    first = store.insert("p", "k", {"v": 1})
    store.replace("p", "k", {"v": 2}, etag=first.etag)
    with pytest.raises(StateConflictError):
        store.replace("p", "k", {"v": 3}, etag=first.etag)
    got = store.get("p", "k")
    assert got is not None and got.data == {"v": 2}


def test_replace_of_a_deleted_row_conflicts(store: StateStore) -> None:
    row = store.insert("p", "k", {"v": 1})
    store.delete("p", "k")
    with pytest.raises(StateConflictError):
        store.replace("p", "k", {"v": 2}, etag=row.etag)
    assert store.get("p", "k") is None


def test_upsert_creates_then_overwrites_unconditionally(store: StateStore) -> None:
    first = store.upsert("p", "k", {"v": 1})
    second = store.upsert("p", "k", {"w": 2})
    assert second.etag != first.etag
    got = store.get("p", "k")
    assert got is not None and got.data == {"w": 2}  # replaced, not merged


def test_delete_with_a_stale_etag_conflicts_and_keeps_the_row(store: StateStore) -> None:
    first = store.insert("p", "k", {"v": 1})
    store.replace("p", "k", {"v": 2}, etag=first.etag)
    with pytest.raises(StateConflictError):
        store.delete("p", "k", etag=first.etag)
    assert store.get("p", "k") is not None


def test_delete_with_the_current_etag_removes_the_row(store: StateStore) -> None:
    row = store.insert("p", "k", {"v": 1})
    store.delete("p", "k", etag=row.etag)
    assert store.get("p", "k") is None


def test_delete_of_a_missing_row_is_not_an_error(store: StateStore) -> None:
    row = store.insert("p", "k", {"v": 1})
    store.delete("p", "k")
    store.delete("p", "k")
    store.delete("p", "k", etag=row.etag)
    assert store.get("p", "k") is None


def test_list_returns_one_partition_in_key_order_up_to_limit(store: StateStore) -> None:
    for key in ("k3", "k1", "k5", "k2", "k4"):
        store.insert("p", key, {"key": key})
    store.insert("other", "k0", {"key": "k0"})
    assert [r.key for r in store.list("p")] == ["k1", "k2", "k3", "k4", "k5"]
    limited = store.list("p", limit=3)
    assert [(r.partition, r.key, r.data["key"]) for r in limited] == [
        ("p", "k1", "k1"),
        ("p", "k2", "k2"),
        ("p", "k3", "k3"),
    ]
    assert store.list("p", limit=0) == []
    assert store.list("empty") == []
    listed = store.list("p", limit=1)[0]
    got = store.get("p", "k1")
    assert got is not None and listed.etag == got.etag


def test_list_pages_on_after_a_key(store: StateStore) -> None:
    for key in ("20260101.a", "20260102.b", "20260103.c", "20260104.d"):
        store.insert("log", key, {"key": key})
    assert [r.key for r in store.list("log", after="20260102.b")] == ["20260103.c", "20260104.d"]
    assert [r.key for r in store.list("log", after="20260102", limit=1)] == ["20260102.b"]
    assert store.list("log", after="20260104.d") == []
    assert [r.key for r in store.list("log", after="")] == [
        "20260101.a", "20260102.b", "20260103.c", "20260104.d"
    ]  # fmt: skip


def test_large_rows_round_trip_across_chunks(store: StateStore) -> None:
    # Over 30,000 characters per property, and non-ASCII (escaped by JSON) on chunk edges.
    big = {"text": "x" * 200_000, "tail": "é€😀" * 500}
    row = store.insert("p", "big", big)
    got = store.get("p", "big")
    assert got is not None and got.data == big
    # Shrinking the row must drop the old extra chunks, through replace and upsert.
    small = store.replace("p", "big", {"small": True}, etag=row.etag)
    got = store.get("p", "big")
    assert got is not None and (got.data, got.etag) == ({"small": True}, small.etag)
    store.upsert("p", "big", big)
    store.upsert("p", "big", {"small": 2})
    got = store.get("p", "big")
    assert got is not None and got.data == {"small": 2}
    assert [r.data for r in store.list("p")] == [{"small": 2}]


def test_a_row_over_the_size_limit_is_refused(store: StateStore) -> None:
    with pytest.raises(StateError, match="over the limit"):
        store.insert("p", "k", {"text": "x" * MAX_DATA_CHARS})
    assert store.get("p", "k") is None


@pytest.mark.parametrize("bad", ["", "a/b", "a\\b", "a#b", "a?b", "a\x00b", "a\x7fb", "k" * 256])
def test_bad_keys_are_refused_before_any_call(store: StateStore, bad: str) -> None:
    for call in (
        lambda: store.get(bad, "k"),
        lambda: store.get("p", bad),
        lambda: store.insert("p", bad, {}),
        lambda: store.upsert(bad, "k", {}),
        lambda: store.replace("p", bad, {}, etag="x"),
        lambda: store.delete("p", bad),
        lambda: store.list(bad),
    ):
        with pytest.raises(StateError) as caught:
            call()
        assert type(caught.value) is StateError


def test_unusual_but_valid_keys_round_trip(store: StateStore) -> None:
    key = "o'Brien & co: ü 100% 'quoted'"
    row = store.insert("part'ition", key, {"ok": 1})
    assert store.get("part'ition", key) == row
    assert [r.key for r in store.list("part'ition")] == [key]
    store.delete("part'ition", key, etag=row.etag)
    assert store.get("part'ition", key) is None


def test_data_that_is_not_a_json_object_is_refused(store: StateStore) -> None:
    with pytest.raises(StateError, match="JSON"):
        store.insert("p", "k", {"when": object()})
    with pytest.raises(StateError, match="JSON"):
        store.insert("p", "k", {"nan": float("nan")})
    assert store.get("p", "k") is None
