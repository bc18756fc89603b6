"""Benchmark: what call resolution costs, against a bare tree-sitter parse of the same files.

Usage: .venv/bin/python bench/callgraph_speed.py ROOT [--baseline CHECKOUT] [--repeat N]

Three measures over ROOT's files (the loader's own walk and skips), each in a fresh child
process, N runs each (default 5), alternated (floor, extract, floor, extract, ...) so a busy
moment of a shared machine hits both sides of a pair; each extract is divided by the floor run
next to it, and the median of those ratios is reported with their spread (lowest, highest), for
wall-clock time and for the process's CPU time (steadier when other work shares the cores: the
target is claimed on CPU time); library imports happen before each timer (pyarrow's first array
imports pandas, 0.4-1.3 s here, once per process whatever the tree's size):
- floor: read + tree-sitter parse of every file, nothing kept;
- extract: the code loader's whole extraction without a store (walk, hash, parse with value-flow
  facts, symbol table, name resolution, the value-flow solve, every batch built), one process;
- one changed file: a full load into a fresh Ladybug store, then one Python file's text changed
  and the incremental extraction timed (what it re-parses and re-resolves), no writes.
`--baseline` runs the extract and the one-changed-file measures with another checkout of this
project (e.g. `git archive` of an older commit) on the same machine in the same run, for a
before/after ratio, and compares the graphs the two extracts produced (every CALLS and
CALLS_EXTERNAL edge with its properties, and every other batch's rows): a speed change must
not change an edge. The check runs after the timers, in the first pair only, both sides with
PYTHONHASHSEED=0 (a pass whose result follows set order would differ between any two runs).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["main"]

_HERE = Path(__file__).resolve().parents[1]


def _files(root: Path) -> list[str]:
    from loaders.code.loader import CodeConfig
    from loaders.code.walk import list_files

    cfg = CodeConfig(root=root)
    found = list_files(
        root,
        use_git=False,
        vendored_dirs=cfg.vendored_dirs,
        generated_globs=cfg.generated_globs,
        include_vendored=cfg.include_vendored,
        include_generated=cfg.include_generated,
    )
    return [c.path for c in found if not c.skip]


def child_floor(root: Path) -> dict[str, float]:
    from tree_sitter import Parser

    from loaders.code.languages import grammar, spec_for

    files = _files(root)
    start, cpu = time.perf_counter(), time.process_time()
    parsers: dict[str, Parser] = {}
    for path in files:
        spec = spec_for(path)
        if spec is None:
            continue
        parser = parsers.setdefault(spec.name, Parser(grammar(spec.name)))
        parser.parse((root / path).read_bytes())
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "files": len(files),
    }


def _warm_imports() -> float:
    """Import what a load imports lazily (pyarrow's first array imports pandas): seconds."""
    start = time.perf_counter()
    import pyarrow as pa

    pa.array([0], type=pa.int64())
    return time.perf_counter() - start


def child_extract(root: Path, dump: Path | None = None) -> dict[str, float]:
    from loaders.base import LoadReport
    from loaders.code.loader import CodeConfig, CodeLoader

    imports = _warm_imports()
    cfg = CodeConfig(root=root, repo="bench", use_git=False, incremental=False, workers=1)
    report = LoadReport("code")
    start, cpu = time.perf_counter(), time.process_time()
    found = list(CodeLoader(cfg).extract(report, None))
    seconds = time.perf_counter() - start
    out = {
        "seconds": seconds,
        "cpu": time.process_time() - cpu,
        "batches": len(found),
        "imports": round(imports, 3),
    }
    if dump is not None:  # after the timers
        dump.write_text(json.dumps(graph_rows(found), sort_keys=True))
    for key in ("call_sites", "call_sites_resolved", "call_edges_value_flow", "flow_seconds"):
        if key in report.stats:
            out[key] = float(report.stats[key])  # type: ignore[arg-type]
    return out


def graph_rows(batches: Sequence[object]) -> dict[str, list[str]]:
    """Every row of every node and edge batch, canonical and sorted, per label / edge type
    and endpoint pair (what two extracts of the same tree must agree on)."""
    from graph_service.batch import EdgeBatch, NodeBatch

    out: dict[str, list[str]] = {}
    for b in batches:
        if isinstance(b, NodeBatch):
            key = f"{b.label}{'/' + b.purpose if b.purpose else ''}"
        elif isinstance(b, EdgeBatch):
            key = f"{b.type} {b.src_label}->{b.dst_label}"
        else:
            continue
        rows = out.setdefault(key, [])
        rows += [json.dumps(r, sort_keys=True, default=str) for r in b.table.to_pylist()]
    return {k: sorted(v) for k, v in out.items()}


def compare_graphs(now: dict[str, list[str]], before: dict[str, list[str]]) -> list[str]:
    """Lines saying where two extracts' rows differ (none: identical)."""
    lines = []
    for key in sorted(set(now) | set(before)):
        a, b = set(now.get(key, [])), set(before.get(key, []))
        if a != b or len(now.get(key, [])) != len(before.get(key, [])):
            lines.append(f"  {key}: {len(a - b)} rows only now, {len(b - a)} only before")
    return lines


def child_changed(root: Path) -> dict[str, float]:
    import shutil

    from graph_service.ingest import ingest
    from graph_service.settings import Settings
    from graph_service.store import open_store
    from loaders.base import LoadReport
    from loaders.code.loader import CodeConfig, CodeLoader

    _warm_imports()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        shutil.copytree(root, tree)
        store = open_store(Settings(db_path=Path(tmp) / "g.lbug"), create=True)
        cfg = CodeConfig(root=tree, repo="bench", use_git=False, workers=1)
        ingest(store, CodeLoader(cfg))
        py = sorted(p for p in _files(tree) if p.endswith(".py"))
        target = tree / py[len(py) // 2]
        target.write_text(target.read_text() + "\n\ndef _bench_added():\n    return None\n")
        report = LoadReport("code")
        start, cpu = time.perf_counter(), time.process_time()
        batches = sum(1 for _ in CodeLoader(cfg).extract(report, store))
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        store.close()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "batches": batches,
        "files_parsed": float(report.stats.get("files_parsed", 0)),
    }


def _run(kind: str, root: Path, checkout: Path, dump: Path | None = None) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    cmd = [sys.executable, str(Path(__file__).resolve()), str(root), "--child", kind]
    if dump is not None:  # both sides with the same hash seed: set order cannot differ
        cmd += ["--dump", str(dump)]
        env["PYTHONHASHSEED"] = "0"
    out = subprocess.run(
        cmd, cwd=checkout, env=env, capture_output=True, text=True, check=True, timeout=900
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--baseline", type=Path, help="another checkout of this project")
    ap.add_argument("--repeat", type=int, default=5, help="pairs of floor and extract runs")
    ap.add_argument("--child", choices=["floor", "extract", "changed"], help=argparse.SUPPRESS)
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.child == "extract":
        print(json.dumps(child_extract(args.root, args.dump)))
        return
    if args.child:
        fn = {"floor": child_floor, "changed": child_changed}
        print(json.dumps(fn[args.child](args.root)))
        return
    runs: dict[str, list[dict[str, float]]] = {"floor": [], "extract": [], "baseline": []}
    changes: dict[str, list[dict[str, float]]] = {"changed": [], "baseline": []}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        dumps = (Path(tmp) / "now.json", Path(tmp) / "before.json")
        for n in range(args.repeat):  # alternated, so machine load hits every side alike
            check = n == 0 and args.baseline is not None
            runs["floor"].append(_run("floor", args.root, _HERE))
            runs["extract"].append(_run("extract", args.root, _HERE, dumps[0] if check else None))
            if args.baseline:
                runs["baseline"].append(
                    _run("extract", args.root, args.baseline, dumps[1] if check else None)
                )
            loads.append(os.getloadavg()[0])
        for _ in range(args.repeat):  # the incremental measure, alternated too
            changes["changed"].append(_run("changed", args.root, _HERE))
            if args.baseline:
                changes["baseline"].append(_run("changed", args.root, args.baseline))
        differ = (
            compare_graphs(*(json.loads(d.read_text()) for d in dumps)) if args.baseline else []
        )
    print(
        f"files: {int(runs['floor'][0]['files'])}; {args.repeat} pairs; 1-minute load average "
        f"{min(loads):.1f}-{max(loads):.1f}"
    )
    if args.baseline:
        print(
            "graph: identical to the baseline's (every node and edge row)"
            if not differ
            else "graph: DIFFERS from the baseline's\n" + "\n".join(differ)
        )
    for metric in ("seconds", "cpu"):  # wall clock, then CPU time (steadier on a busy machine)
        print(f"{metric}: median, x floor (median ratio), spread of the runs, spread of ratios")
        for key, v in runs.items():
            if not v:
                continue
            ratios = sorted(x[metric] / f[metric] for x, f in zip(v, runs["floor"], strict=True))
            spread = sorted(x[metric] for x in v)
            r = _median(v, metric)
            extra = {k: v for k, v in r.items() if k not in ("seconds", "cpu", "files", "batches")}
            print(
                f"  {key:9} {r[metric]:7.3f} s {_mid(ratios):5.1f}x  "
                f"({spread[0]:.3f}-{spread[-1]:.3f} s)  ({ratios[0]:.1f}-{ratios[-1]:.1f}x)  "
                + (str(extra) if metric == "seconds" else "")
            )
        if runs["baseline"]:
            pairs = zip(runs["extract"], runs["baseline"], strict=True)
            ratios = sorted(x[metric] / b[metric] for x, b in pairs)
            print(
                f"  extract / baseline, per pair: {_mid(ratios):.2f} "
                f"({ratios[0]:.2f}-{ratios[-1]:.2f})"
            )
        for key, v in changes.items():
            if v:
                spread = sorted(x[metric] for x in v)
                r = _median(v, metric)
                print(
                    f"  one changed file ({key}): {r[metric]:.3f} s "
                    f"({spread[0]:.3f}-{spread[-1]:.3f}), {int(r['files_parsed'])} files parsed"
                )


def _mid(values: list[float]) -> float:
    return values[(len(values) - 1) // 2]


def _median(runs: list[dict[str, float]], metric: str) -> dict[str, float]:
    """The run with the median `metric` (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda r: r[metric])
    return ordered[(len(ordered) - 1) // 2]


if __name__ == "__main__":
    main()
