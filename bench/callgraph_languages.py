"""Benchmark: CALLS edges and resolved call sites on real repositories, against a baseline.

Usage:
  git -C . archive <rev> | tar -x -C /tmp/baseline     # the project at an earlier revision
  .venv/bin/python bench/callgraph_languages.py --baseline /tmp/baseline REPO [REPO ...]
      [--current PATH] [--repeat 3] [--sample 20] [--seed 0] [--json out.json]

Each repository is loaded (extraction only, no store, one process) by the baseline's code loader
and by this tree's, each in its own child process, alternating, `--repeat` times in the same
run; the seconds are the fastest of each (the machine is shared, so the minimum is the figure
least disturbed by other work). Printed per repository: call sites,
resolved sites and their share, CALLS edges, edges by resolution, extraction seconds; then
`--sample` edges only the current loader makes, with the source line of the call, for checking
by hand.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["main"]

HERE = Path(__file__).resolve().parents[1]

_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from graph_service.batch import EdgeBatch
from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader
report = LoadReport("code")
loader = CodeLoader(CodeConfig(root=sys.argv[2], repo="r", use_git=False, workers=1))
start = time.perf_counter()
edges = []
for batch in loader.extract(report):
    if isinstance(batch, EdgeBatch) and batch.type == "CALLS":
        for row in batch.table.to_pylist():
            edges.append([row["src"][5:], row["dst"][5:], row["resolution"],
                          row["confidence"], row["line"]])
seconds = time.perf_counter() - start
print(json.dumps({"stats": report.stats, "edges": edges, "seconds": seconds}))
"""


def _extract(tree: Path, repo: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tree.resolve()), str(repo.resolve())],
        capture_output=True,
        text=True,
        cwd=tree,
    )
    if out.returncode != 0:
        raise SystemExit(f"loader of {tree} failed on {repo}:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _line(repo: Path, path: str, line: int) -> str:
    try:
        lines = (repo / path).read_text("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip()[:110] if 0 < line <= len(lines) else ""


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    stats = run["stats"]
    sites, resolved = stats.get("call_sites", 0), stats.get("call_sites_resolved", 0)
    return {
        "call_sites": sites,
        "resolved": resolved,
        "share": round(resolved / sites, 3) if sites else 0.0,
        "edges": len(run["edges"]),
        "by_resolution": dict(Counter(e[2] for e in run["edges"]).most_common()),
        "seconds": round(run["seconds"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("repos", nargs="+", type=Path)
    ap.add_argument("--baseline", type=Path, required=True, help="the project at a baseline rev")
    ap.add_argument("--current", type=Path, default=HERE, help="the project to measure")
    ap.add_argument("--repeat", type=int, default=3, help="timed extractions of each tree")
    ap.add_argument("--sample", type=int, default=20, help="new edges shown per repository")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write every figure and sampled edge here")
    args = ap.parse_args(argv)
    report: dict[str, Any] = {}
    for repo in args.repos:
        before, after = _extract(args.baseline, repo), _extract(args.current, repo)
        for _ in range(args.repeat - 1):
            before["seconds"] = min(before["seconds"], _extract(args.baseline, repo)["seconds"])
            after["seconds"] = min(after["seconds"], _extract(args.current, repo)["seconds"])
        old = {(e[0], e[1]) for e in before["edges"]}
        new = [e for e in after["edges"] if (e[0], e[1]) not in old]
        gone = len(old - {(e[0], e[1]) for e in after["edges"]})
        rng = random.Random(args.seed)
        sample = rng.sample(new, min(args.sample, len(new)))
        entry: dict[str, Any] = {
            "before": _summary(before),
            "after": _summary(after),
            "new_edges": len(new),
            "removed_edges": gone,
            "new_by_resolution": dict(Counter(e[2] for e in new).most_common()),
            "sample": [
                {
                    "caller": e[0],
                    "callee": e[1],
                    "resolution": e[2],
                    "confidence": e[3],
                    "source": _line(repo, e[0].split(":", 1)[0], e[4]),
                }
                for e in sample
            ],
        }
        report[repo.name] = entry
        b, a = entry["before"], entry["after"]
        print(f"== {repo.name}")
        print(
            f"  before: {b['resolved']}/{b['call_sites']} sites ({b['share']:.1%}), "
            f"{b['edges']} edges, {b['seconds']} s"
        )
        print(
            f"  after:  {a['resolved']}/{a['call_sites']} sites ({a['share']:.1%}), "
            f"{a['edges']} edges, {a['seconds']} s"
        )
        print(f"  new edges {len(new)} {entry['new_by_resolution']}, removed {gone}")
        print(f"  extraction time after/before: {a['seconds'] / max(b['seconds'], 1e-9):.2f}x")
        for s in entry["sample"]:
            print(f"    {s['resolution']:<20} {s['caller']} -> {s['callee']}")
            print(f"      | {s['source']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
