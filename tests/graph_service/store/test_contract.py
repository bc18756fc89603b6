"""The GraphStore contract, run on every backend."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from graph_service import batch as B
from graph_service.errors import BatchValidationError, QueryError, ReadOnlyViolation
from graph_service.store import GraphStore


def _functions(n: int, prefix: str = "f") -> pa.Table:
    return pa.table(
        {
            "uid": [f"fn:r:m.py:{prefix}{i}" for i in range(n)],
            "name": [f"{prefix}{i}" for i in range(n)],
            "loc": list(range(n)),
            "params": [["a", "b"] if i % 2 else [] for i in range(n)],
        }
    )


def _calls(n: int) -> pa.Table:
    return pa.table(
        {
            "src": [f"fn:r:m.py:f{i}" for i in range(n - 1)],
            "dst": [f"fn:r:m.py:f{i + 1}" for i in range(n - 1)],
            "source": ["static"] * (n - 1),
            "confidence": [0.5 + (i % 5) / 10 for i in range(n - 1)],
        }
    )


def _snapshot(store: GraphStore) -> list[dict]:
    return store.query(
        "MATCH (a:Function)-[r:CALLS]->(b:Function) "
        "RETURN a.uid AS caller, a.loc AS loc, a.params AS params, b.uid AS callee, "
        "r.confidence AS c ORDER BY caller, callee"
    ).rows()


def test_large_batched_upsert_is_exact_and_idempotent(any_store: GraphStore) -> None:
    n = 30_000
    any_store.write(B.nodes("Function", _functions(n)), loaded_by="t", run_id="1")
    res = any_store.write(
        B.edges("CALLS", "Function", "Function", _calls(n)), loaded_by="t", run_id="1"
    )
    assert res.written == n - 1 and res.missing_endpoints == 0
    first = (any_store.counts(), _snapshot(any_store))
    assert first[0]["nodes"]["Function"] == n
    assert first[0]["edges"]["CALLS"] == n - 1
    # the same batches again (second time through the MERGE path): nothing changes
    any_store.write(B.nodes("Function", _functions(n)), loaded_by="t", run_id="1")
    any_store.write(B.edges("CALLS", "Function", "Function", _calls(n)), loaded_by="t", run_id="1")
    assert (any_store.counts(), _snapshot(any_store)) == first
    row = next(r for r in first[1] if r["caller"] == "fn:r:m.py:f7")
    assert row == {
        "caller": "fn:r:m.py:f7",
        "loc": 7,
        "params": ["a", "b"],
        "callee": "fn:r:m.py:f8",
        "c": pytest.approx(0.7),
    }


def test_upsert_updates_only_given_columns(any_store: GraphStore) -> None:
    any_store.write(
        B.nodes("Function", [{"uid": "fn:x", "name": "x", "loc": 3}]), loaded_by="t", run_id="1"
    )
    any_store.write(
        B.nodes("Function", [{"uid": "fn:x", "loc": 4}, {"uid": "fn:y", "name": "y"}]),
        loaded_by="t",
        run_id="1",
    )
    rows = any_store.query(
        "MATCH (f:Function) RETURN f.uid AS u, f.name AS n, f.loc AS l ORDER BY u"
    ).rows()
    assert rows == [{"u": "fn:x", "n": "x", "l": 4}, {"u": "fn:y", "n": "y", "l": None}]


def test_timestamps_round_trip(any_store: GraphStore) -> None:
    t = dt.datetime(2024, 3, 1, 12, 30, 5)
    any_store.write(
        B.nodes("Commit", [{"uid": "commit:a", "sha": "a", "authored_at": t}]),
        loaded_by="git",
        run_id="1",
    )
    got = any_store.query(
        "MATCH (c:Commit) WHERE c.authored_at >= $since RETURN c.authored_at AS t",
        {"since": dt.datetime(2024, 1, 1)},
    ).rows()
    assert got == [{"t": t}]


def test_invalid_batches_are_rejected_before_any_write(any_store: GraphStore) -> None:
    with pytest.raises(BatchValidationError, match="Nope"):
        any_store.write(B.NodeBatch("Nope", pa.table({"uid": ["x"]})), loaded_by="t", run_id="1")
    with pytest.raises(BatchValidationError, match=r"row 1 .*'loc'"):
        B.nodes("Function", [{"uid": "fn:a", "loc": 1}, {"uid": "fn:b", "loc": "many"}])
    with pytest.raises(BatchValidationError, match="row 1 has an empty key 'uid'"):
        B.nodes("Function", [{"uid": "fn:a"}, {"uid": None}])
    with pytest.raises(BatchValidationError, match="unknown property 'colour'"):
        B.nodes("Function", [{"uid": "fn:a", "colour": "red"}])
    with pytest.raises(BatchValidationError, match="File->Commit are not allowed"):
        B.edges("CALLS", "File", "Commit", [{"src": "a", "dst": "b"}])
    assert sum(any_store.counts()["nodes"].values()) == 0


def test_edges_to_missing_endpoints_are_counted(any_store: GraphStore) -> None:
    any_store.write(B.nodes("Function", _functions(2)), loaded_by="t", run_id="1")
    res = any_store.write(
        B.edges(
            "CALLS",
            "Function",
            "Function",
            [
                {"src": "fn:r:m.py:f0", "dst": "fn:r:m.py:f1"},
                {"src": "fn:r:m.py:f0", "dst": "fn:r:m.py:nowhere"},
            ],
        ),
        loaded_by="t",
        run_id="1",
    )
    assert (res.written, res.missing_endpoints) == (1, 1)


@pytest.mark.parametrize(
    "cypher",
    [
        "CREATE (f:Function {uid: 'w'})",
        "MATCH (f:Function) SET f.name = 'w'",
        "MATCH (f:Function) DETACH DELETE f",
        "MATCH (f:Function) RETURN f; CREATE (g:Function {uid: 'w'})",
        "MERGE (f:Function {uid: 'w'}) RETURN f",
    ],
)
def test_query_path_refuses_writes(any_store: GraphStore, cypher: str) -> None:
    any_store.write(B.nodes("Function", _functions(1)), loaded_by="t", run_id="1")
    with pytest.raises(ReadOnlyViolation):
        any_store.query(cypher)
    assert any_store.counts()["nodes"]["Function"] == 1


def test_labels_that_look_like_keywords_are_readable(any_store: GraphStore) -> None:
    assert any_store.query("MATCH (c:Commit) RETURN count(c) AS n").rows() == [{"n": 0}]


def test_row_cap_and_bad_query(any_store: GraphStore) -> None:
    any_store.write(B.nodes("Function", _functions(50)), loaded_by="t", run_id="1")
    res = any_store.query("MATCH (f:Function) RETURN f.uid AS u", row_cap=10)
    assert res.truncated and res.table.num_rows == 10
    with pytest.raises(QueryError):
        any_store.query("MATCH (f:Functio RETURN f")


def test_prune_respects_cap_and_dry_run(any_store: GraphStore) -> None:
    any_store.write(B.nodes("Function", _functions(10)), loaded_by="code", run_id="old")
    any_store.write(B.nodes("Function", _functions(9)), loaded_by="code", run_id="new")
    dry = any_store.prune("code", "new", cap=0.5, dry_run=True)
    assert dry.stale == {"Function": 1} and not dry.deleted and dry.refused is None
    assert any_store.counts()["nodes"]["Function"] == 10
    over = any_store.prune("code", "other", cap=0.5, dry_run=False)
    assert over.refused and any_store.counts()["nodes"]["Function"] == 10
    done = any_store.prune("code", "new", cap=0.5, dry_run=False)
    assert done.deleted and any_store.counts()["nodes"]["Function"] == 9


def test_delete_batches(any_store: GraphStore) -> None:
    any_store.write(B.nodes("Function", _functions(4)), loaded_by="t", run_id="1")
    any_store.write(B.edges("CALLS", "Function", "Function", _calls(4)), loaded_by="t", run_id="1")
    any_store.write(
        B.DeleteEdgesFrom("CALLS", "Function", ("fn:r:m.py:f0",)), loaded_by="t", run_id="1"
    )
    assert any_store.counts()["edges"]["CALLS"] == 2
    any_store.write(B.DeleteNodes("Function", ("fn:r:m.py:f1",)), loaded_by="t", run_id="1")
    assert any_store.counts()["nodes"]["Function"] == 3
    assert any_store.counts()["edges"]["CALLS"] == 1


def test_schema_version_is_stored(any_store: GraphStore) -> None:
    from graph_service.schema import SCHEMA_VERSION

    assert any_store.schema_version() == SCHEMA_VERSION
    any_store.apply_schema()  # idempotent
    assert any_store.schema_version() == SCHEMA_VERSION


def test_whole_nodes_relationships_and_paths_with_dates(any_store: GraphStore) -> None:
    """`RETURN c`, `RETURN r`, `RETURN p` with timestamps inside: the same shape on both."""
    when = dt.datetime(2024, 5, 6, 7, 8, 9)
    any_store.write(
        B.nodes("Commit", [{"uid": "commit:r:a", "sha": "a", "authored_at": when}]),
        loaded_by="t",
        run_id="1",
    )
    any_store.write(
        B.nodes("File", [{"uid": "file:r:m.py", "path": "m.py"}]), loaded_by="t", run_id="1"
    )
    any_store.write(
        B.edges("MODIFIES", "Commit", "File", [{"src": "commit:r:a", "dst": "file:r:m.py",
                                              "change": "added"}]),
        loaded_by="t",
        run_id="1",
    )  # fmt: skip
    c = any_store.query("MATCH (c:Commit) RETURN c").rows()[0]["c"]
    assert c["_LABEL"] == "Commit" and c["authored_at"] == when and c["sha"] == "a"
    assert list(c)[:3] == ["_ID", "_LABEL", "uid"]
    r = any_store.query("MATCH ()-[r:MODIFIES]->() RETURN r").rows()[0]["r"]
    assert r["_LABEL"] == "MODIFIES" and r["change"] == "added"
    assert {"_SRC", "_DST", "_ID"} <= set(r)
    p = any_store.query("MATCH p = (:Commit)-[:MODIFIES]->(:File) RETURN p").rows()[0]["p"]
    assert [n["_LABEL"] for n in p["_NODES"]] == ["Commit", "File"]
    assert p["_NODES"][0]["authored_at"] == when and p["_RELS"][0]["_LABEL"] == "MODIFIES"
