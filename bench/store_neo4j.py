"""The transactional load path into Neo4j, measured against the driver alone in the same run.

    PRODGRAPH_NEO4J_URI=bolt://host:7687 PRODGRAPH_NEO4J_PASSWORD=... \\
        .venv/bin/python bench/store.py --backend neo4j --wipe [--nodes N] [--edges M]
        [--batch-sizes 1000,5000,20000] [--workers 1,2,4] [--out docs/benchmarks/store_neo4j.md]

The floor is the driver's own batched `UNWIND $rows MERGE ... SET n += row` (the form Neo4j's
users write) with the same rows, run stamps included, at each batch size and number of
parallel writer threads; prodgraph's path is `GraphStore.write` (validation, stamping,
batches of `PRODGRAPH_NEO4J_BATCH_SIZE`). The benchmark deletes every node of the configured
database first, so it refuses to run without `--wipe`. For a first load of millions of rows,
`prodgraph export neo4j-import` + `neo4j-admin database import full` is the faster way.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

__all__ = ["int_list", "run"]

NODE_MERGE = "UNWIND $rows AS row MERGE (n:Function {uid: row.uid}) SET n += row"


def _stamped_rows(table: pa.Table) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    for r in rows:
        r["loaded_by"], r["run_id"] = "bench", "1"
    return rows


def _raw_nodes(driver: Any, database: str | None, rows: list[dict[str, Any]], batch: int,
               workers: int) -> float:  # fmt: skip
    """Seconds the driver alone takes to MERGE `rows` in `batch`-row transactions."""
    chunks = [rows[i : i + batch] for i in range(0, len(rows), batch)]

    def write(chunk: list[dict[str, Any]]) -> None:
        with driver.session(database=database) as s:
            s.execute_write(lambda tx: tx.run(NODE_MERGE, {"rows": chunk}).consume())

    t = time.perf_counter()
    if workers == 1:
        for c in chunks:
            write(c)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(write, chunks))
    return time.perf_counter() - t


def run(a: Any, functions: Any, calls: Any, latencies: Any) -> str:
    """Every measurement on the configured server; returns the markdown table."""
    from graph_service import batch as B
    from graph_service.settings import Settings
    from graph_service.store import neo4j_driver, open_store

    settings = Settings(backend="neo4j")
    store: Any = open_store(settings, create=True)
    held = store.data_nodes()
    if held and not a.wipe:
        raise SystemExit(
            f"the Neo4j database at {settings.neo4j_uri} holds {held:,} nodes: the benchmark "
            "deletes every node first; run it with --wipe on a database you can empty"
        )
    driver = neo4j_driver(settings)
    fn, edges = functions(a.nodes), calls(a.nodes, a.edges)
    rows = _stamped_rows(fn)
    lines = [
        f"Command: `PRODGRAPH_NEO4J_URI=... .venv/bin/python bench/store.py --backend neo4j "
        f"--wipe --nodes {a.nodes} --edges {a.edges}`",
        "",
        f"Server: {settings.neo4j_uri}; {a.nodes:,} Function nodes, "
        f"{edges.num_rows:,} CALLS edges.",
        "",
        "| path | batch | writer threads | nodes/s |",
        "| --- | --- | --- | --- |",
    ]
    best = 0.0
    for batch in a.batch_sizes:
        for workers in a.workers:
            store.delete_all()
            secs = _raw_nodes(driver, settings.neo4j_database, rows, batch, workers)
            rate = len(rows) / secs
            best = max(best, rate)
            lines.append(f"| driver UNWIND MERGE (floor) | {batch:,} | {workers} | {rate:,.0f} |")
    store.delete_all()
    t0 = time.perf_counter()
    store.write(B.nodes("Function", fn), loaded_by="bench", run_id="1")
    t1 = time.perf_counter()
    res = store.write(
        B.edges("CALLS", "Function", "Function", edges), loaded_by="bench", run_id="1"
    )
    t2 = time.perf_counter()
    changed = functions(min(100_000, a.nodes), version=1)
    t3 = time.perf_counter()
    store.write(B.nodes("Function", changed), loaded_by="bench", run_id="2")
    t4 = time.perf_counter()
    counts = store.counts()
    assert counts["nodes"]["Function"] == a.nodes, counts
    assert counts["edges"]["CALLS"] == edges.num_rows == res.written, (counts, res)
    node_rate = a.nodes / (t1 - t0)
    lines += [
        f"| prodgraph GraphStore.write | {store.batch_size:,} | 1 | {node_rate:,.0f} "
        f"({node_rate / best:.2f}x the best floor) |",
        "",
        f"prodgraph edges: {edges.num_rows / (t2 - t1):,.0f} edges/s; incremental upsert of "
        f"{changed.num_rows:,} changed nodes: {changed.num_rows / (t4 - t3):,.0f} rows/s.",
        "",
    ]
    lat = latencies(store, a.nodes)
    for q in ("lookup", "callers_1hop", "blast_radius_3"):
        lines.append(f"- {q}: p50 {lat[f'{q}_p50_ms']:.2f} ms, p99 {lat[f'{q}_p99_ms']:.2f} ms")
    store.delete_all()
    store.close()
    driver.close()
    return "\n".join(lines)


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]
