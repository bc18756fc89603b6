"""The read guard on its own, on a real Ladybug store, and through `prodgraph query`."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_service import batch as B
from graph_service.errors import QueryLimitError, QueryTimeoutError, ReadOnlyViolation
from graph_service.settings import Settings
from graph_service.store import open_store
from graph_service.store.guard import QueryLimits, bound_rows, check_query, scan
from graph_service.store.ladybug_store import LadybugStore

LIMITS = QueryLimits()
SETTING_CALLS = [
    "CALL auto_checkpoint=false",
    "CALL threads=1",
    "CALL home_directory='/tmp'",
    "CALL debug_enable_multi_writes=true",
    "CALL timeout=1",
    "CALL var_length_extend_max_depth=1000000",
]


# ---- the scan ------------------------------------------------------------------------------


def test_scan_blanks_strings_comments_and_names_keeping_positions() -> None:
    text = "RETURN 'a[(' AS `x{`, \"b\\\"(\" // [[\n/* {{ */ [1]"
    s = scan(text)
    assert len(s.code) == len(text) and s.code.count("\n") == 1
    assert "a[(" not in s.code and "x{" not in s.code and "//" not in s.code
    assert s.code.rstrip().endswith("[1]")
    assert s.depth == 1


def test_scan_depth_counts_every_bracket_kind() -> None:
    assert scan("RETURN [({a: 1})]").depth == 3
    assert scan("RETURN (1), (2), [3]").depth == 1
    assert scan("RETURN 'unterminated [[[[").depth == 0
    assert scan("]]]] RETURN [1]").depth == 1  # stray closers do not go below zero
    nested_case = "RETURN CASE WHEN a THEN CASE WHEN b THEN [1] END END, n.end, n.case"
    assert scan(nested_case).depth == 3
    # a closer of another kind never lowers the depth
    assert scan("RETURN [[[ END END END ))) [[[ 1").depth == 6


def test_pattern_size_is_limited() -> None:
    hops = "".join(f"-[]->(a{i + 1})" for i in range(LIMITS.max_pattern_rels + 1))
    with pytest.raises(QueryLimitError) as e:
        check_query("MATCH (a0)" + hops + " RETURN 1", LIMITS)
    assert e.value.detail["limit"] == "query_max_pattern_rels"  # type: ignore[index]
    check_query("MATCH (a)-[:CALLS*1..3]->(b)<-[r]-(c), (c)--(d) RETURN a.x - (b.y)", LIMITS)


def test_scan_is_linear_on_hostile_text() -> None:
    for text in ("' \\' " * 3_300, "/*" * 8_000, '"' + "\\" * 16_000, "[" * 16_000):
        start = time.perf_counter()
        scan(text)
        assert time.perf_counter() - start < 1.0, text[:10]


# ---- limits and refusals -------------------------------------------------------------------


def test_size_and_depth_limits_name_themselves() -> None:
    with pytest.raises(QueryLimitError) as e:
        check_query("RETURN 1 // " + "x" * LIMITS.max_chars, LIMITS)
    assert e.value.detail["limit"] == "query_max_chars"  # type: ignore[index]
    deep = "RETURN " + "[" * (LIMITS.max_depth + 1) + "1" + "]" * (LIMITS.max_depth + 1)
    with pytest.raises(QueryLimitError) as e:
        check_query(deep, LIMITS)
    assert e.value.detail == {  # type: ignore[comparison-overlap]
        "limit": "query_max_depth",
        "allowed": LIMITS.max_depth,
        "found": LIMITS.max_depth + 1,
    }
    at_limit = "RETURN " + "[" * LIMITS.max_depth + "1" + "]" * LIMITS.max_depth
    assert check_query(at_limit, LIMITS).depth == LIMITS.max_depth


@pytest.mark.parametrize("query", SETTING_CALLS)
def test_setting_calls_are_read_only_violations(query: str) -> None:
    with pytest.raises(ReadOnlyViolation, match=r"changes a database setting"):
        check_query(query, LIMITS)


@pytest.mark.parametrize(
    "query",
    [
        "CALL project_graph('g', ['Function'], ['CALLS'])",
        "CALL current_setting('home_directory') RETURN *",
        "CALL clear_warnings()",
        "CALL read_csv_serial('/etc/passwd') RETURN *",
        "CALL `threads`=1",
        "CALL",
        "MATCH (n) COMMENT ON TABLE Function IS 'x'",
        "UNINSTALL json",
    ],
)
def test_other_calls_and_admin_words_are_refused(query: str) -> None:
    with pytest.raises(ReadOnlyViolation):
        check_query(query, LIMITS)


@pytest.mark.parametrize(
    "query",
    [
        "CALL show_tables() RETURN *",
        "CALL TABLE_INFO('Function') RETURN name",
        "MATCH (call:Function) RETURN call.uid",
        "MATCH (f:Function) WHERE f.name = 'CALL threads=1' RETURN f // CALL threads=1",
    ],
)
def test_allowed_reads(query: str) -> None:
    check_query(query, LIMITS)


def test_call_check_is_optional_for_other_backends() -> None:
    check_query("CALL db.labels() YIELD label RETURN label", LIMITS, allowed_calls=None)
    with pytest.raises(ReadOnlyViolation):
        check_query("CALL db.labels() YIELD label RETURN label", LIMITS)


# ---- bounding rows in the query ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "params", "expected", "bounded"),
    [
        ("MATCH (a) RETURN a", None, "MATCH (a) RETURN a LIMIT 11", True),
        ("MATCH (a) RETURN a // note\n", None, "MATCH (a) RETURN a LIMIT 11 // note\n", True),
        ("RETURN 1 AS x;", None, "RETURN 1 AS x LIMIT 11;", True),
        ("MATCH (a) RETURN a LIMIT 5", None, "MATCH (a) RETURN a LIMIT 5", True),
        ("MATCH (a) RETURN a LIMIT 500", None, "MATCH (a) RETURN a LIMIT 11", True),
        ("MATCH (a) RETURN a LIMIT $n", {"n": 10**9}, "MATCH (a) RETURN a LIMIT 11", True),
        ("MATCH (a) RETURN a LIMIT $n", {"n": 3}, "MATCH (a) RETURN a LIMIT $n", True),
        ("MATCH (a) RETURN a LIMIT $n", {"n": "x"}, "MATCH (a) RETURN a LIMIT $n", False),
        ("MATCH (a) RETURN a LIMIT 2 + 3", None, "MATCH (a) RETURN a LIMIT 2 + 3", False),
        (
            "RETURN 1 AS x UNION ALL RETURN 2 AS x",
            None,
            "RETURN 1 AS x LIMIT 11 UNION ALL RETURN 2 AS x LIMIT 11",
            True,
        ),
        (
            "MATCH (a) WHERE EXISTS { MATCH (a)-->(b) RETURN b } RETURN a.limit",
            None,
            "MATCH (a) WHERE EXISTS { MATCH (a)-->(b) RETURN b } RETURN a.limit LIMIT 11",
            True,
        ),
        ("RETURN 'LIMIT 3' AS s", None, "RETURN 'LIMIT 3' AS s LIMIT 11", True),
    ],
)
def test_bound_rows(query: str, params: dict | None, expected: str, bounded: bool) -> None:
    assert bound_rows(query, scan(query), 11, params) == (expected, bounded)


# ---- on a real store -------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LadybugStore]:
    s = open_store(Settings(db_path=tmp_path / "g.lbug"), create=True)
    assert isinstance(s, LadybugStore)
    rows = [{"uid": f"fn:{i:04d}", "name": "n" * 100} for i in range(1_000)]
    s.write(B.nodes("Function", rows), loaded_by="t", run_id="1")
    yield s
    s.close()


def test_cross_product_is_cut_inside_the_engine(store: LadybugStore) -> None:
    start = time.perf_counter()
    res = store.query(
        "MATCH (a:Function),(b:Function),(c:Function) RETURN a.uid, b.uid, c.uid", row_cap=2_000
    )
    assert time.perf_counter() - start < 5
    assert res.table.num_rows == 2_000 and res.truncated
    # exactly the cap is not truncated
    res = store.query("MATCH (f:Function) RETURN f.uid", row_cap=1_000)
    assert res.table.num_rows == 1_000 and not res.truncated
    # internal callers without a cap get everything
    assert store.query("MATCH (f:Function) RETURN f.uid").table.num_rows == 1_000


def test_rows_are_read_one_by_one_when_the_query_cannot_be_bounded(
    store: LadybugStore,
) -> None:
    res = store.query(
        "MATCH (a:Function),(b:Function) RETURN a.uid AS a, b.uid AS b LIMIT 999999 + 1",
        row_cap=50,
    )
    assert res.truncated and res.table.num_rows == 50
    assert res.table.column_names == ["a", "b"]
    assert res.table.column("a").to_pylist() == ["fn:0000"] * 50


def test_result_bytes_are_capped(tmp_path: Path, store: LadybugStore) -> None:
    store.close()
    small = LadybugStore(tmp_path / "g.lbug", limits=QueryLimits(max_result_bytes=20_000))
    try:
        res = small.query("MATCH (f:Function) RETURN f.name ORDER BY f.uid", row_cap=1_000)
        assert res.truncated and 0 < res.table.num_rows < 1_000
        assert res.table.nbytes <= 20_000
        assert small.query("MATCH (f:Function) RETURN f.name", row_cap=1_000).truncated
        with pytest.raises(QueryLimitError, match="query_max_result_bytes"):
            small.query(
                "MATCH (f:Function) RETURN collect(f.name) AS names", row_cap=1_000
            )
    finally:
        small.close()


def test_timeout_is_an_error_never_rows(store: LadybugStore) -> None:
    start = time.perf_counter()
    with pytest.raises(QueryTimeoutError, match="timed out"):
        store.query(
            "MATCH (a:Function),(b:Function),(c:Function) WHERE a.uid + b.uid < c.uid "
            "RETURN count(*)",
            timeout_s=0.3,
            row_cap=10,
        )
    assert time.perf_counter() - start < 5


def _settings(conn: object, names: list[str]) -> dict[str, str]:
    out = {}
    for name in names:
        res = conn.execute(f"CALL current_setting('{name}') RETURN *")  # type: ignore[attr-defined]
        out[name] = str(res.get_as_arrow().column(0)[0].as_py())
    return out


def test_pooled_connections_never_carry_a_setting(store: LadybugStore) -> None:
    names = ["auto_checkpoint", "threads", "home_directory", "timeout"]
    names += ["debug_enable_multi_writes", "var_length_extend_max_depth"]
    assert store.query("RETURN 1 AS x").rows() == [{"x": 1}]  # opens a pooled reader
    conns = [*store._all_readers, store._write_conn]
    before = [_settings(conn, names) for conn in conns]
    for query in [*SETTING_CALLS, "CALL threads=7"] * 2:  # more tries than pooled connections
        with pytest.raises(ReadOnlyViolation):
            store.query(query, row_cap=10)
    assert store.query("RETURN 1 AS x").rows() == [{"x": 1}]
    for conn, was in zip(conns, before, strict=True):
        assert _settings(conn, names) == was


def test_cli_query_uses_the_same_guard(store: LadybugStore, tmp_path: Path) -> None:
    store.close()
    prodgraph = Path(sys.executable).parent / "prodgraph"
    db = str(tmp_path / "g.lbug")
    cases = {
        "CALL threads=1": "changes a database setting",
        "RETURN " + "[" * 2_000 + "1" + "]" * 2_000: "query_max_depth",
        "RETURN 1 // " + "x" * 20_000: "query_max_chars",
    }
    for query, message in cases.items():
        r = subprocess.run(
            [str(prodgraph), "query", query, "--db", db], capture_output=True, text=True
        )
        assert r.returncode != 0, r.stdout
        assert message in " ".join((r.stdout + r.stderr).split()), r.stdout + r.stderr
    r = subprocess.run(
        [str(prodgraph), "query", "MATCH (f:Function) RETURN count(*) AS n", "--db", db],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "1000" in r.stdout, r.stdout + r.stderr
