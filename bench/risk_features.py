"""Which of risk v2's feature groups help the flat models: per group, on the `code` population.

Run: .venv/bin/python bench/risk_features.py STORE [STORE ...] [--model flat_lr]
Each STORE is the embedded database an evaluation loaded (`bench/risk.py --eval-repo` keeps it
under its work folder, `risk-eval-*/eval.lbug`). The windows, censoring horizon, validation
slice and calibration are exactly `models.evaluate`'s; only logistic models are fitted (seconds
per repository), each on the v1 features plus one v2 group, or all of them, against the v1
features alone in the same run, with a 95 % paired bootstrap interval on ROC-AUC.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from graph_service.settings import Settings
from graph_service.store import open_store
from models.config import RiskConfig
from models.context import CONTENT_FEATURES, FUNCTION_HISTORY_FEATURES, NEIGHBOUR_FEATURES
from models.dataset import load_tables
from models.evaluate import _baseline_probs, _windows, censoring_horizon
from models.history import COMMIT_FEATURES, V2_FEATURES, History
from models.metrics import paired_bootstrap
from models.population import code_change_mask
from models.train import eligible_commits

logger = logging.getLogger(__name__)

GROUPS = {
    "content": CONTENT_FEATURES,
    "function history": FUNCTION_HISTORY_FEATURES,
    "neighbours": NEIGHBOUR_FEATURES,
    "all v2": V2_FEATURES,
}


def _ci(c: dict[str, float]) -> str:
    return f"{c['diff']:+.3f} [{c['ci95_low']:+.3f}, {c['ci95_high']:+.3f}]"


def _run(store_path: Path, model: str, cutoffs: int) -> list[str]:
    store = open_store(Settings(db_path=store_path, backend="ladybug"), read_only=True)
    try:
        h = History(load_tables(store))
    finally:
        store.close()
    cfg = RiskConfig()
    ix = eligible_commits(h)
    ix = ix[np.argsort(h.t[ix], kind="stable")]
    feats = np.zeros((len(h.commit_uids), len(COMMIT_FEATURES)))
    feats[ix] = np.stack([h.commit_features(int(i)) for i in ix])
    v2 = [COMMIT_FEATURES.index(k) for k in V2_FEATURES]
    code, truth = code_change_mask(h), h.labels()
    spans = _windows(len(ix), cutoffs, 0.4)
    horizon = censoring_horizon(h, ix[: spans[0][0]])
    end = float(h.t[ix].max())
    variants: dict[str, list[np.ndarray]] = {"v1": [], **{g: [] for g in GROUPS}}
    ys: list[np.ndarray] = []
    for a, b in spans:
        train, test = ix[:a], ix[a:b]
        keep = code[test] & (h.t[test] <= end - horizon)
        ys.append(truth[test][keep])
        for name in variants:
            x = feats.copy()
            kept = set(GROUPS.get(name, ()))
            x[:, [i for i, k in zip(v2, V2_FEATURES, strict=True) if k not in kept]] = 0.0
            p = _baseline_probs(model, x, h, train, test, float(h.t[train].max()), cfg)
            variants[name].append(p[keep])
    repos = sorted({r for r in h.tables.commits["repo"] if r}) or [store_path.parent.name]
    cells = [", ".join(repos), str(sum(len(y) for y in ys))]
    for g in GROUPS:
        pairs = [(s, base, y) for s, base, y in zip(variants[g], variants["v1"], ys, strict=True)]
        cells.append(_ci(paired_bootstrap(pairs, "roc_auc")))
    return cells


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("stores", type=Path, nargs="+")
    ap.add_argument("--model", default="flat_lr", choices=("flat_lr",))
    ap.add_argument("--cutoffs", type=int, default=5)
    args = ap.parse_args()
    head = ["repository", "n (code, matured)", *[f"+{g} − v1" for g in GROUPS]]
    print(f"{args.model}: ROC-AUC on `code`, v1 features plus each group minus v1 alone\n")
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for s in args.stores:
        print("| " + " | ".join(_run(s, args.model, args.cutoffs)) + " |")


if __name__ == "__main__":
    main()
