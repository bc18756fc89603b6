"""The per-repository risk table on one population, from `eval risk` outputs (predictions.csv).

Run: .venv/bin/python bench/risk_table.py DIR [DIR ...] [--population code] [--model gnn]
     .venv/bin/python bench/risk_table.py DIR [DIR ...] --ablation   (runs made with --ablation)
Each DIR holds the `predictions.csv` of one repository (`prodgraph eval risk --out DIR` or
`bench/risk.py --eval-repo PATH --report DIR`). Every figure is recomputed from the per-commit
scores: each model's ROC-AUC (windows weighted by size) and `--model` minus each other model
with a 95 % paired bootstrap interval, so any model can be the reference without re-running.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from models.metrics import _fast_auc, paired_bootstrap, weighted_mean

COLUMNS = (
    "gnn",
    "gnn_no_edges",
    "flat_lr",
    "prior_lr",
    "lapredict",
    "kamei_lr",
    "largest_first",
)
# present when the run had --ablation (risk v2's features zeroed, same splits)
ABLATION = ("gnn_v1", "flat_lr_v1")


def _windows(path: Path, population: str) -> tuple[list[dict[str, np.ndarray]], list[str]]:
    with path.open() as f:
        rows = [r for r in csv.DictReader(f) if r["population"] == population]
    models = [k for k in rows[0] if k not in ("sha", "window", "population", "label")]
    out = []
    for w in sorted({r["window"] for r in rows}, key=int):
        part = [r for r in rows if r["window"] == w]
        win = {"y": np.array([float(r["label"]) for r in part])}
        win |= {m: np.array([float(r[m]) for r in part]) for m in models}
        out.append(win)
    return out, models


def _ci(c: dict[str, float]) -> str:
    return f"{c['diff']:+.3f} [{c['ci95_low']:+.3f}, {c['ci95_high']:+.3f}]"


def _auc(windows: list[dict[str, np.ndarray]], m: str) -> float:
    sizes = np.array([len(w["y"]) for w in windows], float)
    return weighted_mean(np.array([_fast_auc(w[m], w["y"]) for w in windows]), sizes)


def _ablation(dirs: list[Path], population: str, resamples: int) -> None:
    """ROC-AUC with and without risk v2's features (runs with --ablation), paired intervals."""
    pairs = (("gnn", "gnn_v1"), ("flat_lr", "flat_lr_v1"), ("gnn", "flat_lr"))
    head = ["repository", "n", "gnn", "gnn_v1", "flat_lr", "flat_lr_v1"]
    head += [f"{a} − {b}" for a, b in pairs]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for d in dirs:
        windows, models = _windows(d / "predictions.csv", population)
        if not set(ABLATION) <= set(models):
            print(f"| {d.name} | (no --ablation columns) |")
            continue
        n = sum(len(w["y"]) for w in windows)
        cells = [d.name, str(n)]
        cells += [f"{_auc(windows, m):.3f}" for m in ("gnn", "gnn_v1", "flat_lr", "flat_lr_v1")]
        cells += [
            _ci(
                paired_bootstrap(
                    [(w[a], w[b], w["y"]) for w in windows], "roc_auc", resamples=resamples
                )
            )
            for a, b in pairs
        ]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dirs", type=Path, nargs="+")
    ap.add_argument("--population", default="code")
    ap.add_argument("--model", default="gnn", help="the reference model (minus each other)")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument(
        "--ablation",
        action="store_true",
        help="the features' table instead: each model with and without risk v2's features",
    )
    args = ap.parse_args()
    if args.ablation:
        _ablation(args.dirs, args.population, args.resamples)
        return
    others = [m for m in COLUMNS if m != args.model]
    head = ["repository", "n", "buggy", *COLUMNS, *[f"{args.model} − {m}" for m in others]]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    means: dict[str, list[float]] = {m: [] for m in COLUMNS}
    for d in args.dirs:
        windows, models = _windows(d / "predictions.csv", args.population)
        for w in windows:  # runs made before a model existed: its column stays empty
            w |= {m: np.full(len(w["y"]), np.nan) for m in COLUMNS if m not in models}
        sizes = np.array([len(w["y"]) for w in windows], float)
        y = np.concatenate([w["y"] for w in windows])
        aucs = {
            m: weighted_mean(np.array([_fast_auc(w[m], w["y"]) for w in windows]), sizes)
            for m in COLUMNS
        }
        for m in COLUMNS:
            means[m].append(aucs[m])
        diffs = [
            _ci(
                paired_bootstrap(
                    [(w[args.model], w[m], w["y"]) for w in windows],
                    "roc_auc",
                    resamples=args.resamples,
                )
            )
            for m in others
        ]
        cells = [d.name, str(len(y)), f"{y.mean():.3f}", *[f"{aucs[m]:.3f}" for m in COLUMNS]]
        print("| " + " | ".join([*cells, *diffs]) + " |")
    mean_cells = ["mean", "", "", *[f"{np.mean(means[m]):.3f}" for m in COLUMNS]]
    print("| " + " | ".join(mean_cells + [""] * len(others)) + " |")


if __name__ == "__main__":
    main()
