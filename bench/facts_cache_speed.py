"""Benchmark: one changed file loaded by a new process, with and without a facts folder.

Usage: .venv/bin/python bench/facts_cache_speed.py ROOT [--repeat N]

ROOT's tree is copied to a temporary folder and loaded into a fresh embedded store with a facts
folder (`CodeConfig.facts_cache`); then one Python file changes and the incremental extraction
(no writes) is timed N times in new processes, alternately without the folder (every Python
file's value-flow facts extracted again: the baseline) and with it (facts read by content hash).
Medians and spreads of wall and CPU time; the ratio is with / without, same run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loaders.code.loader import CodeConfig

logger = logging.getLogger(__name__)

__all__ = ["main"]

_HERE = Path(__file__).resolve().parents[1]


def _config(tree: Path, facts: str) -> CodeConfig:
    from loaders.code.loader import CodeConfig

    cache = Path(facts) if facts != "-" else None
    return CodeConfig(root=tree, repo="bench", use_git=False, workers=1, facts_cache=cache)


def child(tree: Path, db: Path, facts: str) -> dict[str, float]:
    import pyarrow as pa

    from graph_service.settings import Settings
    from graph_service.store import open_store
    from loaders.base import LoadReport
    from loaders.code.loader import CodeLoader

    pa.array([0])  # pyarrow imports pandas on its first array: outside the timer
    store = open_store(Settings(db_path=db))
    report = LoadReport("code")
    start, cpu = time.perf_counter(), time.process_time()
    sum(1 for _ in CodeLoader(_config(tree, facts)).extract(report, store))
    out = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
    store.close()
    extracted = report.stats.get("flow_facts_extracted", 0)
    out["extracted"] = float(extracted) if isinstance(extracted, (int, float)) else 0.0
    return out


def _run(tree: Path, db: Path, facts: str) -> dict[str, float]:
    cmd = [sys.executable, str(Path(__file__).resolve()), str(tree), "--child", str(db), facts]
    env = {**os.environ, "PYTHONPATH": str(_HERE)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=900)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.child:
        print(json.dumps(child(args.root, Path(args.child[0]), args.child[1])))
        return
    from graph_service.ingest import ingest
    from graph_service.settings import Settings
    from graph_service.store import open_store
    from loaders.code.loader import CodeLoader

    with tempfile.TemporaryDirectory() as tmp:
        tree, db, facts = Path(tmp) / "tree", Path(tmp) / "g.lbug", Path(tmp) / "facts"
        shutil.copytree(args.root, tree)
        store = open_store(Settings(db_path=db), create=True)
        ingest(store, CodeLoader(_config(tree, str(facts))))
        store.close()
        py = sorted(p for p in tree.rglob("*.py") if "_bench_" not in p.name)
        target = py[len(py) // 2]
        target.write_text(target.read_text() + "\n\ndef _bench_added():\n    return None\n")
        runs: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
        for _ in range(args.repeat):  # interleaved: machine load hits both alike
            runs["without"].append(_run(tree, db, "-"))
            runs["with"].append(_run(tree, db, str(facts)))
    print(f"changed {target.relative_to(tree)}; load average {os.getloadavg()[0]:.1f}")
    mid = {}
    for key, found in runs.items():
        for metric in ("seconds", "cpu"):
            values = sorted(r[metric] for r in found)
            mid[(key, metric)] = statistics.median(values)
            print(
                f"  {key:8} facts folder  {metric:7} median {mid[(key, metric)]:7.3f} s "
                f"({values[0]:.3f}-{values[-1]:.3f}), facts extracted {int(found[0]['extracted'])}"
            )
    for metric in ("seconds", "cpu"):
        ratio = mid[("with", metric)] / mid[("without", metric)]
        print(f"  with / without ({metric}): {ratio:.2f}")


if __name__ == "__main__":
    main()
