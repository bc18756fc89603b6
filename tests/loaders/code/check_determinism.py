"""Load one tree in several processes with different PYTHONHASHSEED values and compare graphs.

Usage: .venv/bin/python -m tests.loaders.code.check_determinism ROOT [--seeds 1 2 3]

For trees too large for the suite (pallets/flask: ~20 s a load here); the suite's
`test_code_determinism.py` checks a small tree the same way through a Ladybug store. Each
process runs the code loader's whole extraction (no git, one worker, no store) and writes every
row of every node and edge batch, canonical and sorted; the rows of each seed are compared with
the first seed's. Exit status 1 when any differ, with the rows that differ.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["main"]

_ROOT = Path(__file__).resolve().parents[3]


def _rows(root: Path) -> dict[str, list[str]]:
    from graph_service.batch import EdgeBatch, NodeBatch
    from loaders.base import LoadReport
    from loaders.code.loader import CodeConfig, CodeLoader

    cfg = CodeConfig(root=root, repo="check", use_git=False, incremental=False, workers=1)
    out: dict[str, list[str]] = {}
    for b in CodeLoader(cfg).extract(LoadReport("code"), None):
        if isinstance(b, NodeBatch):
            key = b.label
        elif isinstance(b, EdgeBatch):
            key = f"{b.type} {b.src_label}->{b.dst_label}"
        else:
            continue
        rows = [json.dumps(r, sort_keys=True, default=str) for r in b.table.to_pylist()]
        out.setdefault(key, []).extend(rows)
    return {k: sorted(v) for k, v in out.items()}


def _child(root: Path, seed: str, dump: Path) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(_ROOT)}
    cmd = [sys.executable, "-m", "tests.loaders.code.check_determinism", str(root)]
    subprocess.run([*cmd, "--dump", str(dump)], cwd=_ROOT, env=env, check=True, timeout=1800)


def compare(first: dict[str, list[str]], other: dict[str, list[str]]) -> list[str]:
    """Lines naming the rows two loads disagree on (none: the same graph)."""
    lines = []
    for key in sorted(set(first) | set(other)):
        a, b = first.get(key, []), other.get(key, [])
        if a != b:
            new, gone = sorted(set(b) - set(a)), sorted(set(a) - set(b))
            lines.append(f"  {key}: {len(new)} rows only here, {len(gone)} gone")
            lines += [f"    + {r}" for r in new[:5]] + [f"    - {r}" for r in gone[:5]]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--seeds", nargs="+", default=["1", "2", "3"])
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.dump is not None:
        args.dump.write_text(json.dumps(_rows(args.root)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        graphs = {}
        for seed in args.seeds:
            dump = Path(tmp) / f"{seed}.json"
            _child(args.root, seed, dump)
            graphs[seed] = json.loads(dump.read_text())
    first = graphs[args.seeds[0]]
    failed = False
    for seed in args.seeds:
        calls = len(graphs[seed].get("CALLS Function->Function", []))
        external = len(graphs[seed].get("CALLS_EXTERNAL Function->External", []))
        diff = compare(first, graphs[seed])
        print(f"PYTHONHASHSEED={seed}: {calls} CALLS, {external} CALLS_EXTERNAL rows", end="")
        print(f"; differs from seed {args.seeds[0]}:" if diff else "; identical")
        for line in diff:
            print(line)
        failed = failed or bool(diff)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
