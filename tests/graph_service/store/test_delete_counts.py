"""Deletes report what was there: a no-op re-run's report shows no phantom deletions."""

from __future__ import annotations

import pyarrow as pa

from graph_service.batch import DeleteEdgesFrom, DeleteNodes, EdgeBatch, NodeBatch
from graph_service.store import GraphStore


def _fn(uid: str) -> dict[str, object]:
    return {"uid": uid, "name": uid, "qualname": uid}


def test_deletes_count_what_existed(any_store: GraphStore) -> None:
    funcs = NodeBatch("Function", pa.Table.from_pylist([_fn("fn:a"), _fn("fn:b"), _fn("fn:c")]))
    any_store.write(funcs, loaded_by="t", run_id="r1")
    calls = EdgeBatch(
        "CALLS",
        "Function",
        "Function",
        pa.Table.from_pylist([{"src": "fn:a", "dst": "fn:b"}, {"src": "fn:a", "dst": "fn:c"}]),
    )
    any_store.write(calls, loaded_by="t", run_id="r1")
    gone = DeleteEdgesFrom("CALLS", "Function", ("fn:a", "fn:b", "fn:missing"))
    assert any_store.write(gone, loaded_by="t", run_id="r2").written == 2
    assert any_store.write(gone, loaded_by="t", run_id="r3").written == 0
    nodes = DeleteNodes("Function", ("fn:c", "fn:missing"))
    assert any_store.write(nodes, loaded_by="t", run_id="r4").written == 1
    assert any_store.write(nodes, loaded_by="t", run_id="r5").written == 0
