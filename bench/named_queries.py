"""Benchmark: call-graph named queries on Ladybug, the library's forms vs plain walks.

Usage: .venv/bin/python bench/named_queries.py [--functions N] [--fanout K] [--repeat R]

Builds a synthetic call graph in a fresh embedded store (callers uniform, callees drawn with
a Zipf-like skew so a few hub functions are called from everywhere), then times `callers`,
`callees` (hops 3) and `blast_radius` for the biggest hub, a 99th-percentile function and a
leaf, two ways: the baseline walk form a first draft would use (`[:CALLS*1..3]` or, for
blast_radius, `UNWIND $uids ... [:CALLS*0..3]`, with `min(length(p))`: every path
enumerated) and the library's Ladybug text (`* SHORTEST 1..3`, `IN $uids` seeds). The floor,
measured in the same run, is a primary-key lookup of the same function. Both forms' rows are
compared.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from graph_service.batch import edges, nodes
from graph_service.errors import QueryError
from graph_service.queries import load_library
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store

logger = logging.getLogger(__name__)

__all__ = ["main"]

LOOKUP = "MATCH (f:Function {uid: $uid}) RETURN f.uid"
_TAIL = (
    "RETURN {v}.uid AS uid, {v}.qualname AS qualname, {v}.path AS path, min(length(p)) AS depth "
    "ORDER BY depth, uid LIMIT 1000"
)
WALK = {
    "callers": "MATCH p = (caller:Function)-[:CALLS*1..3]->(f:Function {uid: $uid}) "
    "WHERE length(p) <= $hops AND caller <> f " + _TAIL.format(v="caller"),
    "callees": "MATCH p = (f:Function {uid: $uid})-[:CALLS*1..3]->(callee:Function) "
    "WHERE length(p) <= $hops AND callee <> f " + _TAIL.format(v="callee"),
    "blast_radius": "UNWIND $uids AS changed_uid MATCH (changed:Function {uid: changed_uid}) "
    "MATCH p = (f:Function)-[:CALLS*0..3]->(changed) WITH f, min(length(p)) AS depth "
    "ORDER BY depth, f.uid LIMIT 500 "
    "OPTIONAL MATCH (op:Operation)-[:IMPLEMENTED_BY]->(f) "
    "OPTIONAL MATCH (svc:Service)-[:EXPOSES]->(op) "
    "RETURN f.uid AS uid, f.qualname AS qualname, f.path AS path, depth, "
    "collect(DISTINCT op.uid) AS operations, collect(DISTINCT svc.uid) AS services "
    "ORDER BY depth, uid",
}


def build(store: GraphStore, n: int, fanout: int, seed: int) -> np.ndarray:
    """Write n functions and about n * fanout CALLS; returns each function's in-degree."""
    rng = np.random.default_rng(seed)
    uids = np.array([f"fn:bench:m{i // 50}.py:f{i}" for i in range(n)], dtype=object)
    store.write(
        nodes("Function", pa.table({"uid": pa.array(uids, pa.string())})),
        loaded_by="bench",
        run_id="1",
    )
    m = n * fanout
    src = rng.integers(0, n, m)
    ranks = np.minimum(rng.zipf(1.6, m) - 1, n - 1)
    dst = rng.permutation(n)[ranks]
    keep = src != dst
    pairs = np.unique(np.stack([src[keep], dst[keep]], axis=1), axis=0)
    table = pa.table(
        {
            "src": pa.array(uids[pairs[:, 0]], pa.string()),
            "dst": pa.array(uids[pairs[:, 1]], pa.string()),
            "source": pa.array(["static"] * len(pairs), pa.string()),
            "confidence": pa.array(np.ones(len(pairs)), pa.float64()),
        }
    )
    store.write(edges("CALLS", "Function", "Function", table), loaded_by="bench", run_id="1")
    return np.bincount(pairs[:, 1], minlength=n)


def _time(
    store: GraphStore, text: str, params: dict[str, object], repeat: int
) -> tuple[float, list]:
    times, rows = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            rows = store.query(text, params, timeout_s=60).rows()
        except QueryError as e:
            logger.warning("query failed or timed out: %s", e)
            return float("inf"), []
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), rows


def _diff(walk: list[dict], lib: list[dict]) -> str:
    """Why the rows differ: the depths each form found for the functions both returned."""
    if not walk:
        return "walk failed"
    lib_depth = {r["uid"]: r["depth"] for r in lib}
    zero = [
        r["uid"]
        for r in lib
        if r["depth"] == 0 and r["uid"] not in {w["uid"] for w in walk if w["depth"] == 0}
    ]
    other = sum(1 for r in walk if r["uid"] in lib_depth and lib_depth[r["uid"]] != r["depth"])
    return f"no: walk lacks {len(zero)} depth-0 row(s), {other} other depth(s) differ"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=20_000)
    parser.add_argument("--fanout", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    lib = load_library()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Settings(db_path=Path(tmp) / "g.lbug"), create=True)
        start = time.perf_counter()
        indeg = build(store, args.functions, args.fanout, args.seed)
        build_s = time.perf_counter() - start
        order = np.argsort(indeg)
        picks = {"hub": order[-1], "mid": order[int(len(order) * 0.99)], "leaf": order[0]}
        lines = [
            f"Synthetic call graph: {args.functions:,} functions, {int(indeg.sum()):,} CALLS "
            f"(built in {build_s:.1f} s); median of {args.repeat} warm runs; Ladybug 0.22.",
            "",
            "| query | target (in-degree) | rows | floor: key lookup ms | walk ms | "
            "library ms | library / walk | same rows |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for kind, i in picks.items():
            uid = f"fn:bench:m{i // 50}.py:f{i}"
            floor, _ = _time(store, LOOKUP, {"uid": uid}, args.repeat)
            for name in WALK:
                q = lib[name]
                bound = q.bind(
                    {"uids": [uid]} if name == "blast_radius" else {"uid": uid, "hops": 3}
                )
                walk_ms, walk_rows = _time(store, WALK[name], bound, args.repeat)
                lib_ms, lib_rows = _time(store, q.text("ladybug"), bound, args.repeat)
                same = "yes" if walk_rows == lib_rows else _diff(walk_rows, lib_rows)
                lines.append(
                    f"| {name} | {kind} ({indeg[i]}) | {len(lib_rows)} | {floor:.2f} | "
                    f"{walk_ms:.1f} | {lib_ms:.1f} | {lib_ms / walk_ms:.2f} | {same} |"
                )
        store.close()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
