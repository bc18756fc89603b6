"""`prodgraph export neo4j-import` throughput against reading the same rows, in one run.

    .venv/bin/python bench/neo4j_export.py [--nodes N] [--edges M]
        [--out docs/benchmarks/neo4j_export.md]

A synthetic call graph goes into a fresh embedded store; then (1) the floor: every row the
export writes, read from the store as Arrow and written with Arrow's own CSV writer (no typed
header, no quoting rules, no array or datetime formatting), and (2) the export itself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.store import _calls, _functions


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--edges", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    from graph_service import batch as B
    from graph_service import schema
    from graph_service.settings import Settings
    from graph_service.store import open_store
    from graph_service.store.neo4j_import import export_neo4j_import

    with tempfile.TemporaryDirectory(prefix="pgexport-") as tmp:
        root = Path(tmp)
        store = open_store(Settings(backend="ladybug", db_path=root / "g.lbug"), create=True)
        calls = _calls(a.nodes, a.edges)
        store.write(B.nodes("Function", _functions(a.nodes)), loaded_by="bench", run_id="1")
        store.write(B.edges("CALLS", "Function", "Function", calls), loaded_by="bench", run_id="1")
        t0 = time.perf_counter()
        (root / "floor").mkdir()
        node_cols = ", ".join(f"n.{p.name} AS {p.name}" for p in schema.node("Function").all_props)
        rel_cols = ", ".join(f"r.{p.name} AS {p.name}" for p in schema.rel("CALLS").all_props)
        for name, q in (
            ("Function", f"MATCH (n:Function) RETURN {node_cols}"),
            (
                "CALLS",
                f"MATCH (a:Function)-[r:CALLS]->(b:Function) "
                f"RETURN a.uid AS src, b.uid AS dst, {rel_cols}",
            ),
        ):
            table = store.query(q, row_cap=None, timeout_s=3600).table
            for i, field in enumerate(table.schema):  # lists joined, as the export does
                if pa.types.is_list(field.type):
                    table = table.set_column(i, field.name, pc.binary_join(table[i], ";"))
            pacsv.write_csv(table, root / "floor" / f"{name}.csv")
        floor_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        out = export_neo4j_import(store, root / "export")
        export_s = time.perf_counter() - t1
        size = sum(f.stat().st_size for f in out.files if f.exists())
        store.close()
    rows = a.nodes + calls.num_rows
    ratio = export_s / floor_s
    text = "\n".join(
        [
            f"Command: `.venv/bin/python bench/neo4j_export.py --nodes {a.nodes} "
            f"--edges {a.edges}`",
            "",
            f"Graph: {a.nodes:,} Function nodes, {calls.num_rows:,} CALLS edges in a fresh "
            "embedded store.",
            "",
            "| path | seconds | rows/s | ratio |",
            "| --- | --- | --- | --- |",
            f"| floor: read as Arrow + Arrow's CSV writer | {floor_s:.1f} | "
            f"{rows / floor_s:,.0f} | 1.00x |",
            f"| `export neo4j-import` (typed headers, every label and type, script) | "
            f"{export_s:.1f} | {rows / export_s:,.0f} | {ratio:.2f}x |",
            "",
            f"Files: {size / 1e6:.0f} MB.",
        ]
    )
    print(text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text("## Neo4j import export (bench/neo4j_export.py)\n\n" + text + "\n")


if __name__ == "__main__":
    main()
