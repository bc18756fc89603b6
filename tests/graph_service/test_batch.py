"""Batch validation: casting, keys, and de-duplication where the later fact wins."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from graph_service import batch as B


def test_duplicate_keys_keep_the_last_row() -> None:
    b = B.nodes(
        "Function", [{"uid": "a", "loc": 1}, {"uid": "b", "loc": 2}, {"uid": "a", "loc": 3}]
    )
    assert b.table.to_pylist() == [{"uid": "b", "loc": 2}, {"uid": "a", "loc": 3}]
    e = B.edges(
        "CALLS",
        "Function",
        "Function",
        [
            {"src": "a", "dst": "b", "line": 1},
            {"src": "a", "dst": "c", "line": 2},
            {"src": "a", "dst": "b", "line": 3},
        ],
    )
    assert e.table.to_pylist() == [
        {"src": "a", "dst": "c", "line": 2},
        {"src": "a", "dst": "b", "line": 3},
    ]


def test_unique_batches_are_untouched_and_types_are_cast() -> None:
    table = pa.table({"uid": ["x", "y"], "loc": pa.array([1, 2], pa.int32())})
    b = B.nodes("Function", table)
    assert b.table.schema.field("loc").type == pa.int64()
    assert b.table.column("uid").to_pylist() == ["x", "y"]
    c = B.nodes("Commit", [{"uid": "commit:1", "authored_at": dt.datetime(2024, 1, 2, 3, 4)}])
    assert c.table.schema.field("authored_at").type == pa.timestamp("us")
