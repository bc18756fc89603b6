"""Honest evaluation: rolling time-ordered splits, every model on the same splits, one run.

For each of `cutoffs` windows: train on every change up to the cutoff with the labels known at
the cutoff (fit on the earlier part, calibrate on the time-latest `validation_share`), then
test on the next window against all labels known at the end of the data. Never random splits.

Two populations are reported: `all` test commits and `code` (code-changing ones,
`models.population`), the headline. Only *matured* test commits count in the headline: those
at least a censoring horizon (the median time from introduction to fix of the bugs known at the
first cutoff) before the end of the history, since a recent change's bug may not be fixed yet.
Windows are weighted by their commit count; the equal-weight and uncensored averages are
reported next to them.
"""

from __future__ import annotations

import csv
import itertools
import logging
import math
import shutil
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from graph_service.errors import CallerError, OperatorError
from graph_service.settings import Settings
from graph_service.store.base import GraphReader
from models.baselines import BASELINES
from models.calibration import IsotonicCalibrator, brier, ece
from models.config import RiskConfig, torch_threads
from models.dataset import load_tables
from models.egograph import build_egos, subset, without_v2
from models.history import COMMIT_FEATURES, DAY, V2_FEATURES, History
from models.metrics import (
    METRICS,
    PAIRED_METRICS,
    paired_bootstrap,
    popt,
    pr_auc,
    precision_at,
    recall_at_effort,
    roc_auc,
    weighted_mean,
)
from models.population import POPULATIONS, code_change_mask
from models.train import eligible_commits, fit_gnn, predict_raw, split_validation

logger = logging.getLogger(__name__)

__all__ = [
    "ABLATION_MODELS",
    "DEFAULT_MODEL",
    "METRICS",
    "MODEL_NAMES",
    "censoring_horizon",
    "evaluate",
    "evaluate_history",
    "evaluate_repo",
    "write_predictions",
]

MODEL_NAMES = (
    "gnn",
    "gnn_no_edges",
    "flat_lr",
    "lapredict",
    "kamei_lr",
    "kamei_gb",
    "largest_first",
    "prior_lr",
    "random",
)
# with `ablation=True`: the GNN and flat LR again on the same splits without risk v2's features
# (models.context, zeroed: `models.egograph.without_v2`), so "with minus without" is paired
ABLATION_MODELS = ("gnn_v1", "flat_lr_v1")
DEFAULT_MODEL = "gnn"  # what `prodgraph train` ships; compared paired against every other model


def _metrics(probs: np.ndarray, labels: np.ndarray, effort: np.ndarray) -> dict[str, float]:
    if len(labels) == 0:
        return dict.fromkeys(METRICS, float("nan"))
    return {
        "roc_auc": roc_auc(probs, labels),
        "pr_auc": pr_auc(probs, labels),
        "precision_at_10pct": precision_at(probs, labels, 0.1),
        "recall_at_20pct_effort": recall_at_effort(probs, labels, effort, 0.2),
        "popt": popt(probs, labels, effort),
        "ece": ece(probs, labels),
        "brier": brier(probs, labels),
    }


def _windows(n: int, cutoffs: int, min_train_share: float) -> list[tuple[int, int]]:
    start = int(n * min_train_share)
    edges = np.linspace(start, n, cutoffs + 1).astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def censoring_horizon(h: History, train: np.ndarray) -> float:
    """Median seconds from introduction to the fix becoming known, over the bug-introducing
    commits of `train` whose labels were known at its last commit (0 when there are none)."""
    cutoff = float(h.t[train].max())
    known = h.bug_known[train]
    ok = np.isfinite(known) & (known <= cutoff)
    return float(np.median(known[ok] - h.t[train][ok])) if ok.any() else 0.0


def _baseline_probs(
    name: str,
    feats: np.ndarray,
    h: History,
    train: np.ndarray,
    test: np.ndarray,
    cutoff: float,
    cfg: RiskConfig,
) -> np.ndarray:
    fit_ix, val_ix = split_validation(h, train, cfg.validation_share)
    y = h.labels(cutoff)
    model = BASELINES[name](seed=cfg.seed).fit(feats[fit_ix], y[fit_ix])
    cal = IsotonicCalibrator().fit(model.score(feats[val_ix]), y[val_ix])
    return cal(model.score(feats[test]))


def _fold(
    h: History,
    feats: np.ndarray,
    egos: Any,
    train: np.ndarray,
    test: np.ndarray,
    cfg: RiskConfig,
    egos_v1: Any = None,
) -> dict[str, np.ndarray]:
    cutoff = float(h.t[train].max())
    out: dict[str, np.ndarray] = {}
    runs = [("gnn", True, egos), ("gnn_no_edges", False, egos)]
    if egos_v1 is not None:
        runs.append(("gnn_v1", True, egos_v1))
    for name, use_edges, cache in runs:
        model = fit_gnn(
            h, train, cutoff, cfg.model_copy(update={"use_edges": use_edges}), cache=cache
        )
        with torch_threads(cfg.threads):
            logits, _ = predict_raw(model.net, subset(cache, test))
        out[name] = model.calibrator(torch.sigmoid(logits).numpy())
    for name in BASELINES:
        out[name] = _baseline_probs(name, feats, h, train, test, cutoff, cfg)
    if egos_v1 is not None:
        v1 = feats.copy()
        v1[:, [COMMIT_FEATURES.index(k) for k in V2_FEATURES]] = 0.0
        out["flat_lr_v1"] = _baseline_probs("flat_lr", v1, h, train, test, cutoff, cfg)
    return out


def _average(
    folds: list[dict[str, Any]], pop: str, key: str, weighted: bool, names: tuple[str, ...]
) -> dict[str, Any]:
    """Per model, each metric averaged over the windows (weighted by commit count or not)."""
    count = "matured" if key == "models" else "test"
    w = np.array([f["populations"][pop][count] for f in folds], dtype=float)
    if not weighted:
        w = (w > 0).astype(float)
    return {
        m: {
            k: weighted_mean(np.array([f["populations"][pop][key][m][k] for f in folds]), w)
            for k in METRICS
        }
        for m in names
    }


def _population_result(
    folds: list[dict[str, Any]],
    windows: list[dict[str, np.ndarray]],
    pop: str,
    n: int,
    names: tuple[str, ...] = MODEL_NAMES,
) -> dict[str, Any]:
    matured = sum(f["populations"][pop]["matured"] for f in folds)
    tested = sum(f["populations"][pop]["test"] for f in folds)
    buggy = sum(f["populations"][pop]["matured_buggy"] for f in folds)
    pairs = [(w[DEFAULT_MODEL], w["y"]) for w in windows]
    return {
        "commits": n,
        "test_commits": matured,
        "censored_test_commits": tested - matured,
        "test_buggy_rate": buggy / matured if matured else float("nan"),
        "models": _average(folds, pop, "models", True, names),
        "models_equal_windows": _average(folds, pop, "models", False, names),
        "models_uncensored": _average(folds, pop, "models_uncensored", True, names),
        "comparisons": {
            f"{DEFAULT_MODEL}_vs_{other}": {
                metric: paired_bootstrap(
                    [(a, w[other], y) for (a, y), w in zip(pairs, windows, strict=True)], metric
                )
                for metric in PAIRED_METRICS
            }
            for other in names
            if other != DEFAULT_MODEL
        },
    }


def evaluate_history(
    h: History,
    cutoffs: int = 5,
    config: RiskConfig | None = None,
    repo: str = "",
    min_train_share: float = 0.4,
    keep_predictions: bool = True,
    target: Collection[str] | None = None,
    ablation: bool = False,
) -> dict[str, Any]:
    """Rolling-origin evaluation of every model over `cutoffs` time windows of `h`, on the
    `all` and `code` populations (see the module docstring).

    `ablation`: also `ABLATION_MODELS`, the GNN and flat LR without risk v2's features, on the
    same splits (so `gnn_vs_gnn_v1` is the features' paired contribution).

    `target` (commit uids, e.g. one repository's of a store holding several): the windows are
    cut from those commits only, and every model trains on all commits of `h` up to each
    cutoff, the target's and the others' alike, with the labels known at the cutoff: pooled
    ("cross-project") training, nothing from after the cutoff.
    """
    cfg = config or RiskConfig()
    ix = eligible_commits(h)
    ix = ix[np.argsort(h.t[ix], kind="stable")]
    tix = ix
    if target is not None:
        wanted = set(target)
        tix = ix[np.fromiter((h.commit_uids[i] in wanted for i in ix), bool, len(ix))]
    truth = h.labels(math.inf)
    if len(tix) < 20 * cutoffs or truth[tix].sum() < 2:
        raise OperatorError(
            f"too little history to evaluate: {len(tix)} commits, {int(truth[tix].sum())} buggy"
        )
    start = time.perf_counter()
    code = code_change_mask(h)
    feats = np.stack([h.commit_features(int(i)) for i in ix])
    feats_all = np.zeros((len(h.commit_uids), feats.shape[1]))
    feats_all[ix] = feats
    egos = build_egos(h, ix, cfg.max_neighbours, cfg.max_entities)
    egos_v1 = without_v2(egos) if ablation else None
    names = MODEL_NAMES + (ABLATION_MODELS if ablation else ())
    effort_all = h.la + h.ld
    spans = _windows(len(tix), cutoffs, min_train_share)
    horizon = censoring_horizon(h, tix[: spans[0][0]])
    end = float(h.t[tix].max())
    folds: list[dict[str, Any]] = []
    windows: dict[str, list[dict[str, np.ndarray]]] = {p: [] for p in POPULATIONS}
    kept: list[dict[str, Any]] = []
    for k, (a, b) in enumerate(spans):
        train, test = tix[:a], tix[a:b]
        if target is not None:  # everything known up to the cutoff, any repository
            known = ix[h.t[ix] <= h.t[train].max()]
            train = known[~np.isin(known, test)]
        with threadpool_limits(cfg.threads):  # OpenMP boosting crawls on shared small machines
            probs = _fold(h, feats_all, egos, train, test, cfg, egos_v1)
        y, effort = truth[test], effort_all[test]
        matured = h.t[test] <= end - horizon
        fold: dict[str, Any] = {
            "train": len(train),
            "test": len(test),
            "test_buggy_rate": float(y.mean()),
            "cutoff": float(h.t[train].max()),
            "populations": {},
        }
        for pop in POPULATIONS:
            sel = np.ones(len(test), bool) if pop == "all" else code[test]
            mat = sel & matured
            fold["populations"][pop] = {
                "test": int(sel.sum()),
                "matured": int(mat.sum()),
                "matured_buggy": int(y[mat].sum()),
                "models": {m: _metrics(probs[m][mat], y[mat], effort[mat]) for m in names},
                "models_uncensored": {
                    m: _metrics(probs[m][sel], y[sel], effort[sel]) for m in names
                },
            }
            windows[pop].append({"y": y[mat], **{m: probs[m][mat] for m in names}})
        folds.append(fold)
        kept.append(
            {
                "sha": [h.commit_uids[int(i)].removeprefix("commit:") for i in test],
                "window": [k] * len(test),
                "code": code[test].tolist(),
                "matured": matured.tolist(),
                "label": y.tolist(),
                "effort": effort.tolist(),
                "models": {m: probs[m].tolist() for m in names},
            }
        )
        logger.info("fold %d/%d done (%.0f s)", len(folds), cutoffs, time.perf_counter() - start)
    counts = {"all": len(tix), "code": int(code[tix].sum())}
    result: dict[str, Any] = {
        "repo": repo,
        "commits": len(tix),
        "buggy_rate": float(truth[tix].mean()),
        "default_model": DEFAULT_MODEL,
        "populations": {
            p: _population_result(folds, windows[p], p, counts[p], names) for p in POPULATIONS
        },
        "horizon_days": round(horizon / DAY, 1),
        "end_of_history": end,
        "cutoffs": len(folds),
        "folds": folds,
        "seconds": round(time.perf_counter() - start, 1),
        "config": cfg.model_dump(),
    }
    if target is not None:
        result["pooled_commits"] = len(ix)
    if keep_predictions:
        result["predictions"] = {
            key: [x for part in kept for x in part[key]]
            for key in ("sha", "window", "code", "matured", "label", "effort")
        } | {"models": {m: [x for part in kept for x in part["models"][m]] for m in names}}
    return result


def write_predictions(result: dict[str, Any], path: Path) -> Path:
    """`predictions.csv`: one row per matured test commit and population it belongs to
    (`all`, and `code` again for a code-changing one): sha, window, population, label, then one
    score column per model. These rows are exactly the ones behind the headline metrics."""
    pred = result["predictions"]
    names = list(pred["models"])  # MODEL_NAMES, then ABLATION_MODELS when they ran
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["sha", "window", "population", "label", *names])
        for pop in POPULATIONS:
            for i, sha in enumerate(pred["sha"]):
                if not pred["matured"][i] or (pop == "code" and not pred["code"][i]):
                    continue
                scores = [repr(float(pred["models"][m][i])) for m in names]
                out.writerow([sha, pred["window"][i], pop, int(pred["label"][i]), *scores])
    return path


def evaluate(
    store: GraphReader,
    cutoffs: int = 5,
    *,
    config: RiskConfig | None = None,
    repo: str = "",
    min_train_share: float = 0.4,
    keep_predictions: bool = True,
    target: Collection[str] | None = None,
    ablation: bool = False,
) -> dict[str, Any]:
    """Evaluate every model on the graph in `store` (see `evaluate_history`)."""
    h = History(load_tables(store))
    return evaluate_history(
        h, cutoffs, config, repo, min_train_share, keep_predictions, target, ablation
    )


def evaluate_repo(
    repo_path: str | Path,
    workdir: str | Path,
    settings: Settings,
    *,
    cutoffs: int = 5,
    config: RiskConfig | None = None,
    git_options: dict[str, str] | None = None,
    pool: Sequence[str | Path] = (),
    ablation: bool = False,
) -> dict[str, Any]:
    """Load a repository (code + git loaders) into a fresh embedded store and evaluate it.

    `pool`: more repositories loaded into the same store; the windows are still cut from
    `repo_path`'s commits, and every model trains on all repositories' commits up to each
    cutoff (`evaluate_history(target=...)`).
    """
    from graph_service.ingest import ingest
    from graph_service.store import open_store
    from loaders.code import make_loader as code_loader
    from loaders.git import make_loader as git_loader

    repo_path = Path(repo_path)
    pool_paths = [Path(p) for p in pool]
    names = [p.resolve().name for p in [repo_path, *pool_paths]]
    if len(set(names)) != len(names):
        raise CallerError(f"repositories to pool need distinct folder names, got {names}")
    db = Path(workdir) / "eval.lbug"
    if db.exists():
        shutil.rmtree(db) if db.is_dir() else db.unlink()
    local = settings.model_copy(update={"db_path": db, "backend": "ladybug"})
    store = open_store(local, create=True)
    try:
        t0 = time.perf_counter()
        for path in [repo_path, *pool_paths]:
            for loader in (
                code_loader([str(path)], local, {}),
                git_loader([str(path)], local, dict(git_options or {})),
            ):
                report = ingest(store, loader)
                logger.info("%s %s: %s", path.name, loader.name, dict(report.written))
        load_s = time.perf_counter() - t0
        target = None
        if pool_paths:
            rows = store.query(
                "MATCH (c:Commit) WHERE c.repo = $repo RETURN c.uid AS uid", {"repo": names[0]}
            ).rows()
            target = [r["uid"] for r in rows]
        result = evaluate(
            store, cutoffs, config=config, repo=repo_path.name, target=target, ablation=ablation
        )
        result["load_seconds"] = round(load_s, 1)
        if pool_paths:
            result["pool"] = names[1:]
        return result
    finally:
        store.close()
