"""``transact``: all of a partition's writes or none, on both backends (Azurite's entity group
transactions are the reference)."""

from __future__ import annotations

import pytest

from lx_core.errors import StateConflictError, StateError
from lx_core.state.base import MAX_TRANSACTION_OPS, Op, StateStore


def _keys(store: StateStore, partition: str = "p") -> list[str]:
    return [r.key for r in store.list(partition)]


def test_every_kind_of_op_applies_together_and_returns_new_etags(store: StateStore) -> None:
    kept = store.insert("p", "kept", {"v": 1})
    gone = store.insert("p", "gone", {"v": 1})
    rows = store.transact(
        "p",
        [
            Op.insert("new", {"v": 2}),
            Op.replace("kept", {"v": 3}, kept.etag),
            Op.upsert("up", {"v": 4}),
            Op.delete("gone", gone.etag),
        ],
    )
    assert [None if r is None else dict(r.data) for r in rows] == [
        {"v": 2},
        {"v": 3},
        {"v": 4},
        None,
    ]
    assert _keys(store) == ["kept", "new", "up"]
    replaced = store.get("p", "kept")
    assert replaced is not None and rows[1] is not None and replaced.etag == rows[1].etag


@pytest.mark.parametrize("failing", ["insert", "replace", "delete-etag", "delete-missing"])
def test_one_failed_condition_applies_nothing_and_names_its_row(
    store: StateStore, failing: str
) -> None:
    row = store.insert("p", "a", {"v": 1})
    store.replace("p", "a", {"v": 2}, etag=row.etag)  # row.etag is stale from here on
    bad = {
        "insert": Op.insert("a", {"v": 9}),
        "replace": Op.replace("a", {"v": 9}, row.etag),
        "delete-etag": Op.delete("a", row.etag),
        "delete-missing": Op.delete("missing"),
    }[failing]
    with pytest.raises(StateConflictError) as caught:
        store.transact("p", [Op.insert("b", {"v": 1}), bad, Op.upsert("c", {"v": 1})])
    assert caught.value.key == bad.key
    assert _keys(store) == ["a"]
    current = store.get("p", "a")
    assert current is not None and current.data == {"v": 2}


def test_a_full_transaction_of_the_service_limit_applies(store: StateStore) -> None:
    store.transact("p", [Op.insert(f"k{i:03}", {"i": i}) for i in range(MAX_TRANSACTION_OPS)])
    assert len(store.list("p")) == MAX_TRANSACTION_OPS


@pytest.mark.parametrize(
    "ops",
    [
        [],
        [Op.insert(f"k{i}", {}) for i in range(MAX_TRANSACTION_OPS + 1)],
        [Op.insert("same", {}), Op.upsert("same", {})],
        [Op("replace", "k", {"v": 1}, None)],
        [Op.insert("bad/key", {})],
    ],
)
def test_transactions_no_backend_can_run_are_refused_before_any_write(
    store: StateStore, ops: list[Op]
) -> None:
    with pytest.raises(StateError):
        store.transact("p", ops)
    assert _keys(store) == []


def test_a_transaction_over_the_size_bound_is_refused_whole_and_chunks_fit(
    store: StateStore,
) -> None:
    """Azure refuses a batch over 4 MiB; the bound refuses it first, on every backend, and
    ``transaction_chunks`` splits writes to fit both limits."""
    from lx_core.state.base import MAX_TRANSACTION_CHARS, transaction_chunks

    big = {"text": "x" * 200_000}
    ops = [Op.insert(f"r{i:02}", big) for i in range(20)]  # 4M characters, 20 writes
    with pytest.raises(StateError, match="at most"):
        store.transact("p", ops)
    assert _keys(store) == []
    chunks = transaction_chunks("p", ops)
    assert [len(c) for c in chunks] == [12, 8]
    assert all(
        sum(len(o.data["text"]) for o in c if o.data) <= MAX_TRANSACTION_CHARS for c in chunks
    )
    small = [Op.insert(f"s{i:03}", {"n": i}) for i in range(250)]
    assert [len(c) for c in transaction_chunks("p", small)] == [100, 100, 50]
