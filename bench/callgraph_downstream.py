"""What the call graph changes downstream: the same risk and triage evaluations on graphs built
with and without Python value flow (and the rules that ride on it: override, wrapper, property
read, field type), everything else equal.

Run:
  # risk: one run per arm with bench/risk.py, then the paired table from both predictions.csv
  .venv/bin/python bench/risk.py --eval-repo PATH --report out/<repo>-on
  .venv/bin/python bench/risk.py --eval-repo PATH --report out/<repo>-off \
      --code-option value_flow=false
  .venv/bin/python bench/callgraph_downstream.py risk out/<repo>-on out/<repo>-off [...]
  # triage: the eval's 26 traced cases, graphs built with the given code options in WORKDIR
  .venv/bin/python bench/callgraph_downstream.py triage --cases data/eval/triage_traced.jsonl \\
      --workdir DIR [--code-option value_flow=false] --out ab.json
  .venv/bin/python bench/callgraph_downstream.py compare on.json off.json

`risk` pairs each arm's per-commit predictions by (window, sha); the commits, windows and labels
must be the same in both (labels come from git history alone), else it stops. Each model's
ROC-AUC on the population, and on − off with a 95 % paired bootstrap interval.
`triage` runs `evaluate_triage` (the `prodgraph eval triage` figures) with the graphs' code
loads given `--code-option`, then per case the CALLS edges of its graph by resolution, and the
function candidates that reached the ranking through a CALLS neighbour of a traced frame
(signal `neighbor`, all candidates, not only the top 10) and whether a gold function is one.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from code_options import code_options, parse_options

from models.metrics import _fast_auc, paired_bootstrap, weighted_mean

MODELS = ("gnn", "gnn_no_edges", "flat_lr", "lapredict", "kamei_lr", "largest_first")
# the models whose inputs read CALLS (messages, callers' and callees' history); the others'
# scores must come out the same in both arms
_READ_CALLS = ("gnn", "gnn_no_edges", "flat_lr")
_CALLS = (
    "MATCH (a:Function)-[e:CALLS]->(:Function) RETURN e.resolution AS resolution, "
    "a.qualname AS caller"
)


def _rows(run: Path, population: str) -> dict[tuple[str, str], dict[str, str]]:
    with (run / "predictions.csv").open() as f:
        return {
            (r["window"], r["sha"]): r for r in csv.DictReader(f) if r["population"] == population
        }


def paired_windows(on: Path, off: Path, population: str, model: str) -> list[tuple[Any, ...]]:
    """Per window: (on scores, off scores, labels) for `model`, paired by sha."""
    a, b = _rows(on, population), _rows(off, population)
    if set(a) != set(b):
        raise SystemExit(
            f"{on} and {off} scored different commits ({len(set(a) ^ set(b))} differ): "
            "re-run both arms on the same clone"
        )
    out = []
    for w in sorted({k[0] for k in a}, key=int):
        keys = sorted(k for k in a if k[0] == w)
        y = np.array([float(a[k]["label"]) for k in keys])
        if not np.array_equal(y, [float(b[k]["label"]) for k in keys]):
            raise SystemExit(f"window {w}: labels differ between {on} and {off}")
        out.append(
            (
                np.array([float(a[k][model]) for k in keys]),
                np.array([float(b[k][model]) for k in keys]),
                y,
            )
        )
    return out


def _auc(windows: list[tuple[Any, ...]], i: int) -> float:
    sizes = np.array([len(w[2]) for w in windows], float)
    return weighted_mean(np.array([_fast_auc(w[i], w[2]) for w in windows]), sizes)


def graph_gain_change(
    on: Path, off: Path, population: str, resamples: int, seed: int = 0
) -> tuple[float, float, float]:
    """(gnn − gnn_no_edges) on minus the same off: does the fuller graph change what message
    passing adds? Point and 95 % interval, resampling each window's commits with the same draw
    for all four score columns (as `paired_bootstrap` does for two)."""
    g = paired_windows(on, off, population, "gnn")
    n = paired_windows(on, off, population, "gnn_no_edges")
    weights = np.array([len(w[2]) for w in g], float)

    def value(picks: list[np.ndarray]) -> float:
        per = [
            (_fast_auc(a[i], y[i]) - _fast_auc(c[i], y[i]))
            - (_fast_auc(b[i], y[i]) - _fast_auc(d[i], y[i]))
            for (a, b, y), (c, d, _), i in zip(g, n, picks, strict=True)
        ]
        return weighted_mean(np.array(per), weights)

    rng = np.random.default_rng(seed)
    point = value([np.arange(len(w[2])) for w in g])
    draws = [value([rng.integers(0, len(w[2]), len(w[2])) for w in g]) for _ in range(resamples)]
    lo, hi = np.nanpercentile(draws, [2.5, 97.5])
    return point, float(lo), float(hi)


def risk_table(pairs: list[tuple[Path, Path]], population: str, resamples: int) -> str:
    head = ["repository", "n", "buggy"]
    head += [f"{m} on / off" for m in MODELS] + [f"{m} on − off" for m in _READ_CALLS]
    head.append("(gnn − gnn_no_edges) on − off")
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for on, off in pairs:
        cells: list[str] = []
        for m in MODELS:
            w = paired_windows(on, off, population, m)
            if not cells:
                y = np.concatenate([x[2] for x in w])
                cells = [on.name.removesuffix("-on"), str(len(y)), f"{y.mean():.3f}"]
            cells.append(f"{_auc(w, 0):.3f} / {_auc(w, 1):.3f}")
        for m in _READ_CALLS:
            c = paired_bootstrap(
                paired_windows(on, off, population, m), "roc_auc", resamples=resamples
            )
            cells.append(f"{c['diff']:+.3f} [{c['ci95_low']:+.3f}, {c['ci95_high']:+.3f}]")
        d, lo, hi = graph_gain_change(on, off, population, resamples)
        cells.append(f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def graph_calls(db: Path) -> dict[str, Any]:
    """CALLS edges of a stored graph: per resolution, and how many leave module-level or
    class-body code (`<module>`, `Class.<body>`)."""
    from graph_service.settings import Settings
    from graph_service.store import open_store

    store = open_store(Settings(db_path=db, backend="ladybug"))
    try:
        rows = store.query(_CALLS, {}, row_cap=10_000_000).rows()
    finally:
        store.close()
    by = Counter(str(r["resolution"]) for r in rows)
    synthetic = sum(1 for r in rows if str(r["caller"]).endswith(("<module>", "<body>")))
    return {
        "total": len(rows),
        "by_resolution": dict(by.most_common()),
        "from_synthetic": synthetic,
    }


def _neighbours(case: dict[str, Any], workdir: Path, base: Path) -> dict[str, Any]:
    """Every function candidate of the case's ranking, and those reached through CALLS."""
    from graph_service.settings import Settings
    from graph_service.store import open_store
    from graph_service.triage import TriageConfig
    from graph_service.triage.engine import triage
    from graph_service.triage.evaluate import _time, build_graph
    from graph_service.triage.models import TicketInput

    repo = Path(case["repo_path"])
    db = build_graph(repo if repo.is_absolute() else base / repo, case["parent_sha"], workdir, 500)
    store = open_store(Settings(db_path=db))
    try:
        ticket = TicketInput(
            title=case.get("title", ""),
            body=case.get("body", ""),
            created=_time(case.get("created")),
        )
        result = triage(store, ticket, None, TriageConfig(top_k=200, body_text=True))
    finally:
        store.close()
    names = [f"{s.path}::{s.name}" for s in result.functions]
    reached = [n for n, s in zip(names, result.functions, strict=True) if s.signals.get("neighbor")]
    gold = set(case.get("gold_functions", []))
    return {
        "graph": str(db),
        "calls": graph_calls(db),
        "candidates": len(names),
        "via_calls": len(reached),
        "gold_via_calls": sorted(gold & set(reached)),
        "gold_rank": next((i + 1 for i, n in enumerate(names) if n in gold), None),
    }


def run_triage(cases: Path, workdir: Path, extra: dict[str, str]) -> dict[str, Any]:
    from graph_service.settings import Settings
    from graph_service.triage import TriageConfig
    from graph_service.triage.evaluate import _read_jsonl, evaluate_triage

    with code_options(extra):
        result = evaluate_triage(
            cases, workdir, Settings(), config=TriageConfig(top_k=10, body_text=True)
        )
        for row, (_, case, _) in zip(result["per_case"], _read_jsonl(cases), strict=True):
            if case is not None:
                row["issue"] = case.get("issue")
                row.update(_neighbours(case, workdir, cases.parent))
    result["code_options"] = extra
    return result


def _cell(s: dict[str, Any], kind: str) -> str:
    n = f"({s[kind]['cases']}) " if kind == "commits" else ""
    return n + " / ".join(f"{s[kind][k]:.3f}" for k in ("top1", "top5", "mrr"))


def compare(on: dict[str, Any], off: dict[str, Any]) -> str:
    """Files / functions / commits Top-1 / Top-5 / MRR per arm and group, and the cases whose
    ranks or CALLS-reached candidates differ."""
    lines = ["| cases | files on → off | functions on → off | commits on → off |"]
    lines.append("| --- | --- | --- | --- |")
    groups = [("all", on, off)] + [
        (g, on["groups"][g], off["groups"][g]) for g in sorted(on["groups"])
    ]
    for name, a, b in groups:
        cells = [f"{_cell(a, k)} → {_cell(b, k)}" for k in ("files", "functions", "commits")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| case | CALLS on / off | via CALLS on / off | gold via CALLS | ranks on → off |",
    ]
    lines.append("| --- | --- | --- | --- | --- |")
    for a, b in zip(on["per_case"], off["per_case"], strict=True):
        ranks = [f"{k[:4]} {a.get(k)}→{b.get(k)}" for k in ("files", "functions", "commits")]
        gold = f"{len(a.get('gold_via_calls', []))} / {len(b.get('gold_via_calls', []))}"
        lines.append(
            f"| {a.get('repo')} {a.get('issue')} | {a['calls']['total']} / {b['calls']['total']} "
            f"| {a['via_calls']} / {b['via_calls']} | {gold} | {', '.join(ranks)} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("risk", help="paired on − off ROC-AUC from ON_DIR OFF_DIR pairs")
    r.add_argument("dirs", type=Path, nargs="+")
    r.add_argument("--population", default="code")
    r.add_argument("--resamples", type=int, default=1000)
    t = sub.add_parser("triage", help="evaluate triage with these code-loader options")
    t.add_argument("--cases", type=Path, required=True)
    t.add_argument("--workdir", type=Path, required=True)
    t.add_argument("--code-option", action="append", default=[], metavar="KEY=VALUE")
    t.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare", help="the triage tables from two `triage` outputs")
    c.add_argument("on", type=Path)
    c.add_argument("off", type=Path)
    g = sub.add_parser("calls", help="CALLS edges of stored graphs by resolution")
    g.add_argument("dbs", type=Path, nargs="+")
    args = ap.parse_args()
    if args.cmd == "risk":
        if len(args.dirs) % 2:
            sys.exit("give ON_DIR OFF_DIR pairs")
        pairs = list(zip(args.dirs[::2], args.dirs[1::2], strict=True))
        print(risk_table(pairs, args.population, args.resamples))
    elif args.cmd == "triage":
        result = run_triage(args.cases, args.workdir, parse_options(args.code_option))
        args.out.write_text(json.dumps(result, indent=1, default=str))
        print(json.dumps({k: v for k, v in result.items() if k != "per_case"}, default=str))
    elif args.cmd == "compare":
        print(compare(json.loads(args.on.read_text()), json.loads(args.off.read_text())))
    else:
        for db in args.dbs:
            print(db, json.dumps(graph_calls(db)))


if __name__ == "__main__":
    main()
