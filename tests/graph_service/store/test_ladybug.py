"""Embedded-store specifics: single writer, schema version checks, read-only opening."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph_service import batch as B
from graph_service.errors import ReadOnlyViolation, SchemaMismatchError, StoreLockedError
from graph_service.settings import Settings
from graph_service.store import open_store

HOLD = """
import sys, time
from graph_service.settings import Settings
from graph_service.store import open_store
s = open_store(Settings(db_path=sys.argv[1]), create=True)
print("ready", flush=True)
time.sleep(30)
"""


def test_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "g.lbug"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError) as e:
            open_store(Settings(db_path=path), create=True)
        assert f"process {holder.pid}" in e.value.message
        assert "Only one process may write" in e.value.message
        # readers can still open it
        ro = open_store(Settings(db_path=path), read_only=True)
        assert ro.query("MATCH (f:Function) RETURN count(f) AS n").rows() == [{"n": 0}]
        ro.close()
    finally:
        holder.kill()
        holder.wait()


def test_schema_version_mismatch_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "g.lbug"
    s = open_store(Settings(db_path=path), create=True)
    s._write_conn.execute("MATCH (m:ProdgraphMeta) SET m.value = '0'")  # type: ignore[attr-defined]
    s.close()
    with pytest.raises(SchemaMismatchError, match="run `prodgraph init"):
        open_store(Settings(db_path=path))
    open_store(Settings(db_path=path), create=True).close()  # init upgrades it
    open_store(Settings(db_path=path)).close()


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaMismatchError, match="no prodgraph store"):
        open_store(Settings(db_path=tmp_path / "none.lbug"), read_only=True)


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "g.lbug"
    open_store(Settings(db_path=path), create=True).close()
    ro = open_store(Settings(db_path=path), read_only=True)
    with pytest.raises(ReadOnlyViolation):
        ro.write(B.nodes("Function", [{"uid": "fn:a"}]), loaded_by="t", run_id="1")
    ro.close()


def test_query_timeout_is_enforced(tmp_path: Path) -> None:
    s = open_store(Settings(db_path=tmp_path / "g.lbug"), create=True)
    rows = [{"uid": f"fn:{i}"} for i in range(3000)]
    s.write(B.nodes("Function", rows), loaded_by="t", run_id="1")
    start = time.perf_counter()
    with pytest.raises(Exception, match=r"timed out|interrupted"):
        s.query(
            "MATCH (a:Function), (b:Function), (c:Function) "
            "WHERE a.uid + b.uid < c.uid RETURN count(*)",
            timeout_s=0.2,
        )
    assert time.perf_counter() - start < 10
    s.close()


def test_unbindable_parameter_is_a_caller_error(tmp_path: Path) -> None:
    from graph_service.errors import QueryError

    s = open_store(Settings(db_path=tmp_path / "g.lbug"), create=True)
    with pytest.raises(QueryError):
        s.query("RETURN $x AS x", {"x": [1.5, "}"]})  # mixed list: the driver raises ValueError
    s.close()


def test_new_rows_are_copied_and_known_ones_merged(tmp_path: Path) -> None:
    """COPY needs no row of the batch stored yet (an edge batch: no edge from its sources);
    otherwise MERGE keeps upserts idempotent. Counts stay exact either way."""
    s = open_store(Settings(db_path=tmp_path / "g.lbug"), create=True)

    def write(batch: B.Batch) -> str:
        return s.write(batch, loaded_by="t", run_id="r1").method

    def commits(*names: str) -> B.Batch:
        return B.nodes("Commit", [{"uid": f"commit:{n}", "sha": n} for n in names])

    def parents(*pairs: tuple[str, str]) -> B.Batch:
        rows = [{"src": f"commit:{a}", "dst": f"commit:{b}"} for a, b in pairs]
        return B.edges("PARENT", "Commit", "Commit", rows)

    assert write(commits("a", "b")) == "copy"  # empty table
    assert write(commits("c", "d")) == "copy"  # none of them stored yet
    assert write(commits("d", "e")) == "merge"  # d is stored
    assert write(parents(("b", "a"))) == "copy"
    assert write(parents(("c", "b"), ("d", "c"))) == "copy"  # new sources
    assert write(parents(("d", "c"), ("e", "d"))) == "merge"  # d has its edge already
    counts = s.counts()
    assert counts["nodes"]["Commit"] == 5 and counts["edges"]["PARENT"] == 4
    s.close()
