"""Benchmark: the code loader's Python CALLS edges scored on PyCG's micro-benchmark.

Usage: .venv/bin/python bench/pycg_eval.py PATH [--json OUT] [--show-misses] [--category C]

PATH is a checkout (or `git archive` export) of the public PyCG repository
(github.com/vitsalis/PyCG) or its `micro-benchmark/` folder; none of its files belong to this
project. Every case folder `snippets/<category>/<case>/` holding a `callgraph.json` is loaded
with the code loader on its own (the case folder is the repository root, no git, one process,
no store: the CALLS batches are read as the loader yields them) and its edges are renamed to
the benchmark's naming: `<dotted module>.<qualname>`, the module's own code as `<dotted
module>`. Scoring follows the benchmark: an edge is a (caller, callee) pair of the expected
`callgraph.json`; edges into `<builtin>.*` and into modules outside the case folder count as
expected edges the loader cannot produce (it keeps in-repository calls only).

Reported: precision and recall over all edges and per category; per case, *complete* (no
expected edge missed) and *sound* (no reported edge outside the expected ones); and recall
over the in-repository edges alone (both ends defined in the case folder), the most a graph of
the repository's own functions can reach.
PyCG 0.0.8's own figures on the same benchmark (measured on this machine, recorded in
docs/call_graph_eval.md): precision 97.6 %, recall 93.2 %.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph_service.batch import EdgeBatch
from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader

logger = logging.getLogger(__name__)

__all__ = ["bench_name", "case_edges", "main", "score"]

PYCG_RECORDED = {"precision": 0.976, "recall": 0.932}
_REPO = "case"
Edge = tuple[str, str]


def _module_of(path: str) -> str:
    stem = path[: -len(".py")] if path.endswith(".py") else path
    parts = stem.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def bench_name(uid: str) -> str:
    """`fn:case:pkg/mod.py:Cls.f` -> `pkg.mod.Cls.f`; synthetic module/class-body callers ->
    the module / the class (the benchmark names module-level code by the module); an External
    node `ext:case:<qualified name>` -> its name (`<builtin>.print`, `ext.func`)."""
    if uid.startswith(f"ext:{_REPO}:"):
        return uid[len(f"ext:{_REPO}:") :]
    _, _, rest = uid.partition(f"fn:{_REPO}:")
    path, _, qual = rest.partition(":")
    module = _module_of(path)
    if qual == "<module>":
        return module
    if qual.endswith(".<body>"):
        qual = qual[: -len(".<body>")]
    return f"{module}.{qual}" if module else qual


def case_edges(case: Path) -> tuple[set[Edge], dict[Edge, str]]:
    """Load one case folder; its CALLS edges in the benchmark's naming (and how resolved)."""
    cfg = CodeConfig(root=case, repo=_REPO, use_git=False, incremental=False, workers=1)
    report = LoadReport("code")
    edges: set[Edge] = set()
    how: dict[Edge, str] = {}
    for batch in CodeLoader(cfg).extract(report, None):
        if isinstance(batch, EdgeBatch) and batch.type in ("CALLS", "CALLS_EXTERNAL"):
            cols = batch.table.to_pydict()
            for src, dst, res in zip(cols["src"], cols["dst"], cols["resolution"], strict=True):
                e = (bench_name(src), bench_name(dst))
                edges.add(e)
                how[e] = res
    return edges, how


def expected_edges(case: Path) -> set[Edge]:
    data = json.loads((case / "callgraph.json").read_text())
    return {(k, v) for k, vs in data.items() for v in vs}


def in_repo(case: Path, edges: set[Edge]) -> set[Edge]:
    """Expected edges whose both ends are defined in the case folder (not `<builtin>.*` nor a
    module the case imports from outside): the ones a repository graph can hold."""
    modules = {_module_of(str(p.relative_to(case))) for p in case.rglob("*.py")}

    def ours(name: str) -> bool:
        return any(name == m or name.startswith(m + ".") for m in modules if m)

    return {e for e in edges if ours(e[0]) and ours(e[1])}


def _cases(root: Path) -> list[Path]:
    snippets = root / "snippets"
    if not snippets.is_dir():
        snippets = root / "micro-benchmark" / "snippets"
    if not snippets.is_dir():
        raise SystemExit(f"{root}: no snippets/ or micro-benchmark/snippets/ folder")
    return sorted(p.parent for p in snippets.glob("*/*/callgraph.json"))


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 1.0


def score(results: list[tuple[str, str, set[Edge], set[Edge], set[Edge]]]) -> dict[str, object]:
    """results: (category, case, expected, in-repo expected, predicted) -> figures per
    category and in all."""
    cats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cat, _, exp, ours, pred in results:
        for key in (cat, "all"):
            c = cats[key]
            c["cases"] += 1
            c["expected"] += len(exp)
            c["expected_in_repo"] += len(ours)
            c["correct_in_repo"] += len(ours & pred)
            c["predicted"] += len(pred)
            c["correct"] += len(exp & pred)
            c["complete"] += not (exp - pred)
            c["sound"] += not (pred - exp)
            c["exact"] += exp == pred
    out: dict[str, object] = {}
    for key, c in sorted(cats.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        out[key] = {
            **c,
            "precision": _ratio(c["correct"], c["predicted"]),
            "recall": _ratio(c["correct"], c["expected"]),
            "recall_in_repo": _ratio(c["correct_in_repo"], c["expected_in_repo"]),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", type=Path, help="checkout of github.com/vitsalis/PyCG")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--show-misses", action="store_true", help="print missed and wrong edges")
    ap.add_argument("--category", help="only this category")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    results = []
    start = time.perf_counter()
    for case in _cases(args.path):
        cat, name = case.parent.name, case.name
        if args.category and cat != args.category:
            continue
        exp = expected_edges(case)
        pred, how = case_edges(case)
        results.append((cat, name, exp, in_repo(case, exp), pred))
        if args.show_misses and exp != pred:
            for e in sorted(exp - pred):
                print(f"  miss  {cat}/{name}: {e[0]} -> {e[1]}")
            for e in sorted(pred - exp):
                print(f"  wrong {cat}/{name}: {e[0]} -> {e[1]} ({how[e]})")
    seconds = round(time.perf_counter() - start, 2)
    figures = score(results)
    print(
        f"{'category':14} {'cases':>5} {'edges':>5} {'P':>6} {'R':>6} {'compl':>5} {'sound':>5}"
        f" {'in-repo':>7} {'R in-repo':>9}"
    )
    for key, c in figures.items():
        assert isinstance(c, dict)
        print(
            f"{key:14} {c['cases']:5d} {c['expected']:5d} {c['precision'] * 100:6.1f} "
            f"{c['recall'] * 100:6.1f} {c['complete']:5d} {c['sound']:5d}"
            f" {c['expected_in_repo']:7d} {c['recall_in_repo'] * 100:9.1f}"
        )
    print(
        f"PyCG 0.0.8 (recorded): P {PYCG_RECORDED['precision'] * 100:.1f} "
        f"R {PYCG_RECORDED['recall'] * 100:.1f}; this run {seconds} s"
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "seconds": seconds}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
