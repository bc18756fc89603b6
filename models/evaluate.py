"""Honest evaluation: rolling time-ordered splits, every model on the same splits, one run.

For each of `cutoffs` windows: train on every change up to the cutoff with the labels known at
the cutoff (fit on the earlier part, calibrate on the time-latest `validation_share`), then
test on the next window against all labels known at the end of the data. Never random splits.
Metrics are averaged over the windows.
"""

from __future__ import annotations

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
from models.egograph import build_egos, subset
from models.history import History
from models.metrics import (
    PAIRED_METRICS,
    capture_at,
    paired_bootstrap,
    popt,
    pr_auc,
    recall_at_effort,
    roc_auc,
)
from models.train import eligible_commits, fit_gnn, predict_raw, split_validation

logger = logging.getLogger(__name__)

__all__ = ["METRICS", "MODEL_NAMES", "evaluate", "evaluate_history", "evaluate_repo"]

MODEL_NAMES = (
    "gnn",
    "gnn_no_edges",
    "lapredict",
    "kamei_lr",
    "kamei_gb",
    "smallest_first",
    "random",
)
COMPARED = ("lapredict", "kamei_lr")  # the baselines the GNN must beat, compared paired
METRICS = ("roc_auc", "pr_auc", "capture_at_10", "recall_at_20_effort", "popt", "ece", "brier")


def _metrics(probs: np.ndarray, labels: np.ndarray, effort: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": roc_auc(probs, labels),
        "pr_auc": pr_auc(probs, labels),
        "capture_at_10": capture_at(probs, labels, 0.1),
        "recall_at_20_effort": recall_at_effort(probs, labels, effort, 0.2),
        "popt": popt(probs, labels, effort),
        "ece": ece(probs, labels),
        "brier": brier(probs, labels),
    }


def _windows(n: int, cutoffs: int, min_train_share: float) -> list[tuple[int, int]]:
    start = int(n * min_train_share)
    edges = np.linspace(start, n, cutoffs + 1).astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


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
    h: History, feats: np.ndarray, egos: Any, train: np.ndarray, test: np.ndarray, cfg: RiskConfig
) -> dict[str, np.ndarray]:
    cutoff = float(h.t[train].max())
    out: dict[str, np.ndarray] = {}
    test_egos = subset(egos, test)
    for name, use_edges in (("gnn", True), ("gnn_no_edges", False)):
        model = fit_gnn(
            h, train, cutoff, cfg.model_copy(update={"use_edges": use_edges}), cache=egos
        )
        with torch_threads(cfg.threads):
            logits, _ = predict_raw(model.net, test_egos)
        out[name] = model.calibrator(torch.sigmoid(logits).numpy())
    for name in BASELINES:
        out[name] = _baseline_probs(name, feats, h, train, test, cutoff, cfg)
    return out


def evaluate_history(
    h: History,
    cutoffs: int = 5,
    config: RiskConfig | None = None,
    repo: str = "",
    min_train_share: float = 0.4,
    keep_predictions: bool = True,
    target: Collection[str] | None = None,
) -> dict[str, Any]:
    """Rolling-origin evaluation of every model over `cutoffs` time windows of `h`.

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
    feats = np.stack([h.commit_features(int(i)) for i in ix])
    feats_all = np.zeros((len(h.commit_uids), feats.shape[1]))
    feats_all[ix] = feats
    egos = build_egos(h, ix, cfg.max_neighbours, cfg.max_entities)
    effort_all = h.la + h.ld
    folds: list[dict[str, Any]] = []
    pooled: dict[str, list[np.ndarray]] = {m: [] for m in MODEL_NAMES}
    pooled_y: list[np.ndarray] = []
    pooled_effort: list[np.ndarray] = []
    for a, b in _windows(len(tix), cutoffs, min_train_share):
        train, test = tix[:a], tix[a:b]
        if target is not None:  # everything known up to the cutoff, any repository
            known = ix[h.t[ix] <= h.t[train].max()]
            train = known[~np.isin(known, test)]
        with threadpool_limits(cfg.threads):  # OpenMP boosting crawls on shared small machines
            probs = _fold(h, feats_all, egos, train, test, cfg)
        y, effort = truth[test], effort_all[test]
        folds.append(
            {
                "train": len(train),
                "test": len(test),
                "test_buggy_rate": float(y.mean()),
                "cutoff": float(h.t[train].max()),
                "models": {m: _metrics(probs[m], y, effort) for m in MODEL_NAMES},
            }
        )
        for m in MODEL_NAMES:
            pooled[m].append(probs[m])
        pooled_y.append(y)
        pooled_effort.append(effort)
        logger.info("fold %d/%d done (%.0f s)", len(folds), cutoffs, time.perf_counter() - start)
    windows = list(zip(pooled["gnn"], pooled_y, strict=True))
    comparisons = {
        f"gnn_vs_{base}": {
            metric: paired_bootstrap(
                [(g, b, y) for (g, y), b in zip(windows, pooled[base], strict=True)], metric
            )
            for metric in PAIRED_METRICS
        }
        for base in COMPARED
    }
    result: dict[str, Any] = {
        "repo": repo,
        "commits": len(tix),
        "buggy_rate": float(truth[tix].mean()),
        "models": {
            m: {k: float(np.nanmean([f["models"][m][k] for f in folds])) for k in METRICS}
            for m in MODEL_NAMES
        },
        "comparisons": comparisons,
        "cutoffs": len(folds),
        "folds": folds,
        "seconds": round(time.perf_counter() - start, 1),
        "config": cfg.model_dump(),
    }
    if target is not None:
        result["pooled_commits"] = len(ix)
    if keep_predictions:
        result["predictions"] = {
            "labels": np.concatenate(pooled_y).tolist(),
            "effort": np.concatenate(pooled_effort).tolist(),
            "models": {m: np.concatenate(v).tolist() for m, v in pooled.items()},
        }
    return result


def evaluate(
    store: GraphReader,
    cutoffs: int = 5,
    *,
    config: RiskConfig | None = None,
    repo: str = "",
    min_train_share: float = 0.4,
    keep_predictions: bool = True,
    target: Collection[str] | None = None,
) -> dict[str, Any]:
    """Evaluate every model on the graph in `store` (see `evaluate_history`)."""
    h = History(load_tables(store))
    return evaluate_history(h, cutoffs, config, repo, min_train_share, keep_predictions, target)


def evaluate_repo(
    repo_path: str | Path,
    workdir: str | Path,
    settings: Settings,
    *,
    cutoffs: int = 5,
    config: RiskConfig | None = None,
    git_options: dict[str, str] | None = None,
    pool: Sequence[str | Path] = (),
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
        result = evaluate(store, cutoffs, config=config, repo=repo_path.name, target=target)
        result["load_seconds"] = round(load_s, 1)
        if pool_paths:
            result["pool"] = names[1:]
        return result
    finally:
        store.close()
