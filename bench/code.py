"""Benchmark: the code loader end to end (torch's Python files -> a fresh store) vs its floor.

Usage: .venv/bin/python bench/code.py [--limit N] [--root PATH] [--repeat N] [--workers N]

The floor is bare tree-sitter work over the same files in one process: read, parse, and run
the same two queries (definitions/imports/calls and the complexity query, combined into one pass
as the loader runs them) with nothing kept.
The loader run adds everything else: walking, hashing, symbol extraction (in its parser
processes), repository-wide resolution, batch building and writing to Ladybug. The target is
on lines per wall-second; CPU time is reported summed over all processes (the loader's parser
processes included). Each measurement runs in a fresh child process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["main"]

DEFAULT_ROOT = (
    Path(sys.prefix)
    / "lib"
    / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    / ("site-packages/torch")
)
TARGET = 0.60


def _peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM on Linux (getrusage also counts the spawning parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _loader_files(root: Path, limit: int | None) -> list[str]:
    """The files the loader parses (same walk and skips), so both runs see the same input."""
    from loaders.code import language_for
    from loaders.code.loader import CodeConfig
    from loaders.code.walk import list_files, skip_reason_for_content

    cfg = CodeConfig(root=root, use_git=False)
    out = []
    for cand in list_files(
        root,
        use_git=False,
        vendored_dirs=cfg.vendored_dirs,
        generated_globs=cfg.generated_globs,
        include_vendored=False,
        include_generated=False,
    ):
        if cand.skip or language_for(cand.path) != "python":
            continue
        full = root / cand.path
        if full.stat().st_size > cfg.max_file_bytes:
            continue
        if skip_reason_for_content(full.read_bytes(), include_generated=False):
            continue
        out.append(cand.path)
        if limit and len(out) >= limit:
            break
    return out


def child_floor(root: Path, files: list[str]) -> dict[str, float]:
    from tree_sitter import Parser, QueryCursor

    from loaders.code.languages import combined_query, grammar

    parser = Parser(grammar("python"))
    query = combined_query("python")  # both queries in one pass, as the loader runs them
    lines = 0
    start, cpu = time.perf_counter(), time.process_time()
    for rel in files:
        data = (root / rel).read_bytes()
        lines += data.count(b"\n")
        tree = parser.parse(data)
        QueryCursor(query).matches(tree.root_node)
    secs, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": secs,
        "cpu": cpu,
        "lines": lines,
        "files": len(files),
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_loader(root: Path, files: list[str], workers: int | None) -> dict[str, float]:
    from graph_service.ingest import ingest
    from graph_service.settings import Settings
    from graph_service.store import open_store
    from loaders.code.loader import CodeConfig, CodeLoader

    lines = sum((root / rel).read_bytes().count(b"\n") for rel in files)
    wanted = set(files)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Settings(db_path=Path(tmp) / "g.lbug"), create=True)
        config = CodeConfig(
            root=root,
            repo="torch",
            use_git=False,
            limit_files=len(files),
            languages=("python",),
            workers=workers,
        )
        loader = CodeLoader(config)
        start, cpu, kids = time.perf_counter(), time.process_time(), _children_cpu()
        report = ingest(store, loader)
        secs, cpu = time.perf_counter() - start, time.process_time() - cpu
        workers_cpu = _children_cpu() - kids  # parser processes, reaped by the end of the load
        counts = store.counts()
        loaded = {r["p"] for r in store.query("MATCH (f:File) RETURN f.path AS p").rows()}
        store.close()
    parsed = report.stats.get("files_parsed", 0)
    return {
        "seconds": secs,
        "cpu": cpu + workers_cpu,
        "workers_cpu": workers_cpu,
        "parse_workers": report.stats.get("parse_workers", 0),
        "files_in_process": report.stats.get("parse_files_in_process", 0),
        "lines": lines,
        "files": parsed,
        "peak_rss_mb": _peak_rss_mb(),
        "workers_peak_rss_mb": report.stats.get("parse_worker_peak_rss_mb", 0.0),
        "parse_seconds": report.stats.get("parse_seconds", 0.0),
        "functions": counts["nodes"]["Function"],
        "classes": counts["nodes"]["Class"],
        "calls": counts["edges"]["CALLS"],
        "imports": counts["edges"]["IMPORTS"],
        "call_sites": report.stats.get("call_sites", 0),
        "call_sites_resolved": report.stats.get("call_sites_resolved", 0),
        "same_files": float(loaded == wanted),
    }


def _run_child(kind: str, args: argparse.Namespace, files_json: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, "--root", str(args.root)]
    cmd += ["--files", str(files_json)]
    if args.workers is not None:
        cmd += ["--workers", str(args.workers)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--limit", type=int, default=None, help="at most N files")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the fastest counts")
    ap.add_argument(
        "--workers", type=int, default=None, help="loader parser processes (default: its own)"
    )
    ap.add_argument("--child", choices=["floor", "loader"], help=argparse.SUPPRESS)
    ap.add_argument("--files", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        files = json.loads(args.files.read_text())
        if args.child == "floor":
            print(json.dumps(child_floor(args.root, files)))
        else:
            print(json.dumps(child_loader(args.root, files, args.workers)))
        return
    files = _loader_files(args.root, args.limit)
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        files_json = Path(tmp) / "files.json"
        files_json.write_text(json.dumps(files))
        for rel in files:  # warm the page cache for both runs
            (args.root / rel).read_bytes()
        floors, loaders = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            floors.append(_run_child("floor", args, files_json))
            loaders.append(_run_child("loader", args, files_json))
            loads.append(os.getloadavg()[0])
    _print(args, floors, loaders, loads)


def _print(
    args: argparse.Namespace,
    floors: list[dict[str, float]],
    loaders: list[dict[str, float]],
    loads: list[float],
) -> None:
    floor, loader = min(floors, key=_wall), min(loaders, key=_wall)
    f_cpu_s, l_cpu_s = min(map(_cpu, floors)), min(map(_cpu, loaders))
    f_wall, l_wall = floor["lines"] / floor["seconds"], loader["lines"] / loader["seconds"]
    f_cpu, l_cpu = floor["lines"] / f_cpu_s, loader["lines"] / l_cpu_s
    ratio = l_wall / f_wall
    opts = f" --limit {args.limit}" if args.limit else ""
    opts += f" --workers {args.workers}" if args.workers else ""
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    each = ", ".join(f"{r['seconds']:.1f}" for r in floors)
    each_l = ", ".join(f"{r['seconds']:.1f}" for r in loaders)
    print(f"""## Code loader (bench/code.py)

Command: `.venv/bin/python bench/code.py{opts} --repeat {args.repeat}` (interleaved runs; \
the fastest of each side counts; {os.cpu_count()} cores, 1-minute load average \
{min(loads):.1f}-{max(loads):.1f} during the runs)

Input: {int(floor["files"])} Python files (.py and .pyi) of the installed torch package, \
{int(floor["lines"]):,} lines (the loader parsed {int(loader["files"])}; same set: \
{bool(loader["same_files"])}). Graph: {int(loader["functions"]):,} functions, \
{int(loader["classes"]):,} classes, {int(loader["calls"]):,} CALLS edges \
({int(loader["call_sites_resolved"]):,} of {int(loader["call_sites"]):,} call sites, module \
level and class bodies included, resolved by name), {int(loader["imports"]):,} IMPORTS edges. \
{_parsing(loader)}

| measure | floor: parse + same queries | code loader, end to end into Ladybug | ratio / target |
| --- | --- | --- | --- |
| wall time | {floor["seconds"]:.1f} s (runs: {each}) | {loader["seconds"]:.1f} s \
(runs: {each_l}; walk+hash+parse: {loader["parse_seconds"]:.1f} s) | |
| CPU time, all processes | {f_cpu_s:.1f} s | {l_cpu_s:.1f} s \
(parser processes: {min(r["workers_cpu"] for r in loaders):.1f} s) | |
| lines per wall-second | {f_wall:,.0f} | {l_wall:,.0f} | {ratio:.0%} of floor \
(target >= {TARGET:.0%}) {verdict} |
| lines per CPU-second | {f_cpu:,.0f} | {l_cpu:,.0f} | {l_cpu / f_cpu:.0%} of floor |
| peak RSS | {floor["peak_rss_mb"]:.0f} MB | {loader["peak_rss_mb"]:.0f} MB{_worker_rss(loader)} | |
""")


def _parsing(loader: dict[str, float]) -> str:
    if not loader["parse_workers"]:
        return "The loader parsed in its own process."
    return (
        f"The loader parsed in {int(loader['parse_workers'])} worker processes; its own "
        f"process parsed {int(loader['files_in_process'])} files while waiting for them."
    )


def _worker_rss(loader: dict[str, float]) -> str:
    if not loader["parse_workers"]:
        return ""
    return f" (+ {loader['workers_peak_rss_mb']:.0f} MB per parser process)"


def _wall(r: dict[str, float]) -> float:
    return r["seconds"]


def _cpu(r: dict[str, float]) -> float:
    return r["cpu"]


if __name__ == "__main__":
    main()
