"""The fixture graph other tests build on: complete, exact, and idempotent."""

from __future__ import annotations

from graph_service import schema
from graph_service.store import GraphStore
from tests.conftest import StoreBackend
from tests.fixtures.graph import FUNCS, LOADED_BY, build_fixture_graph

NODES = {"Repository": 1, "File": 4, "Class": 2, "Function": 7, "Commit": 6, "Person": 3,
         "Service": 3, "Operation": 3, "Deployment": 5, "ErrorSignature": 2, "Ticket": 5,
         "Resource": 2, "External": 2}  # fmt: skip


def test_every_label_and_relationship_type_is_present(fixture_store: GraphStore) -> None:
    counts = fixture_store.counts()
    assert counts["nodes"] == NODES
    assert {t for t, n in counts["edges"].items() if n == 0} == set()
    assert set(counts["edges"]) == {r.type for r in schema.RELS}
    assert counts["edges"]["CALLS"] == 7 and counts["edges"]["MODIFIES"] == 24


def test_building_twice_changes_nothing(backend: StoreBackend) -> None:
    store = backend.open()
    try:
        build_fixture_graph(store)
        before = store.counts()
        snapshot = store.query(
            "MATCH (f:Function) RETURN f.uid AS uid, f.qualname AS q, f.loaded_by AS by "
            "ORDER BY uid"
        ).rows()
        build_fixture_graph(store, run_id="fixture-2")
        assert store.counts() == before
        again = store.query(
            "MATCH (f:Function) RETURN f.uid AS uid, f.qualname AS q, f.loaded_by AS by "
            "ORDER BY uid"
        ).rows()
        assert again == snapshot
        assert [r["uid"] for r in again] == sorted(FUNCS.values())
        assert {r["by"] for r in again} == {LOADED_BY}
    finally:
        store.close()
