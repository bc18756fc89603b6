"""Ranking metrics for change risk: ROC/PR-AUC, precision in the riskiest 10 %, Kamei's
effort-aware recall at 20 % effort and Popt; paired bootstrap intervals between two models."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

logger = logging.getLogger(__name__)

__all__ = [
    "METRICS",
    "effort_curve",
    "paired_bootstrap",
    "popt",
    "pr_auc",
    "precision_at",
    "recall_at_effort",
    "roc_auc",
    "weighted_mean",
]


# every model's figures, in this order, in the evaluation JSON and the report's table
METRICS = (
    "roc_auc",
    "pr_auc",
    "precision_at_10pct",
    "recall_at_20pct_effort",
    "popt",
    "ece",
    "brier",
)

def _order(scores: np.ndarray, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Riskiest first; ties broken by smaller effort first (then index), deterministically."""
    keys = [np.arange(len(scores))]
    if tiebreak is not None:
        keys.append(tiebreak)
    keys.append(-np.asarray(scores, dtype=float))
    return np.lexsort(keys)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(roc_auc_score(labels, scores)) if len(np.unique(labels)) == 2 else float("nan")


def pr_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(average_precision_score(labels, scores)) if labels.sum() > 0 else float("nan")


def precision_at(scores: np.ndarray, labels: np.ndarray, share: float = 0.1) -> float:
    """Precision in the riskiest `share` of commits: the share of bug-introducing commits among
    them (`precision_at_10pct` for 0.1; called "capture" here before, a name that means recall)."""
    k = max(1, round(share * len(scores)))
    top = _order(scores)[:k]
    return float(np.mean(labels[top])) if len(scores) else float("nan")


def effort_curve(
    scores: np.ndarray, labels: np.ndarray, effort: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of effort (x) and of bugs found (y) inspecting riskiest first."""
    effort = np.maximum(np.asarray(effort, float), 1.0)
    order = _order(scores, effort)
    x = np.concatenate([[0.0], np.cumsum(effort[order]) / effort.sum()])
    pos = max(labels.sum(), 1.0)
    y = np.concatenate([[0.0], np.cumsum(labels[order]) / pos])
    return x, y


def recall_at_effort(
    scores: np.ndarray, labels: np.ndarray, effort: np.ndarray, budget: float = 0.2
) -> float:
    """Kamei's effort-aware recall (`recall_at_20pct_effort` for 0.2): the share of all
    bug-introducing commits found among the commits inspected riskiest first (whole commits
    only) before their lines changed (added + deleted) exceed `budget` of the total."""
    if labels.sum() == 0:
        return float("nan")
    x, y = effort_curve(scores, labels, effort)
    return float(y[np.searchsorted(x, budget + 1e-12, side="right") - 1])


def popt(scores: np.ndarray, labels: np.ndarray, effort: np.ndarray) -> float:
    """Normalised area under the effort curve (Kamei et al. 2013):
    1 - (area(optimal) - area(model)) / (area(optimal) - area(worst))."""
    if labels.sum() == 0 or labels.sum() == len(labels):
        return float("nan")
    effort = np.maximum(np.asarray(effort, float), 1.0)
    density = labels / effort
    area = {}
    for name, s in (("model", scores), ("optimal", density), ("worst", -density)):
        x, y = effort_curve(np.asarray(s, float), labels, effort)
        area[name] = float(np.trapezoid(y, x))
    span = area["optimal"] - area["worst"]
    return float(1 - (area["optimal"] - area["model"]) / span) if span > 0 else float("nan")


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Mean of `values` weighted by `weights`, leaving NaN values (and zero weights) out."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    ok = ~np.isnan(values) & (weights > 0)
    return float(np.average(values[ok], weights=weights[ok])) if ok.any() else float("nan")


def _fast_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC-AUC by the rank-sum (Mann-Whitney) statistic, ties as half: equal to sklearn's."""
    pos = labels > 0
    n_pos, n_neg = int(pos.sum()), int(len(labels) - pos.sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


PAIRED_METRICS = {"roc_auc": _fast_auc, "precision_at_10pct": precision_at}


def paired_bootstrap(
    windows: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    metric: str,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Difference a - b of a window-averaged metric, with a 95 % percentile interval.

    `windows`: per test window (scores of a, scores of b, labels). Windows are weighted by their
    number of changes (as the headline metrics are). Each resample draws every window's changes
    with replacement (the same draw for both models: a paired comparison), so the interval says
    how much of a difference the test windows' sizes can resolve.
    """
    fn = PAIRED_METRICS[metric]
    rng = np.random.default_rng(seed)
    windows = [w for w in windows if len(w[2])]
    if not windows:
        nan = float("nan")
        return {"diff": nan, "ci95_low": nan, "ci95_high": nan, "p_not_above": nan}
    weights = np.array([len(y) for _, _, y in windows], dtype=float)

    def mean_diff(picks: list[np.ndarray]) -> float:
        diffs = np.array(
            [fn(a[i], y[i]) - fn(b[i], y[i]) for (a, b, y), i in zip(windows, picks, strict=True)]
        )
        return weighted_mean(diffs, weights)

    point = mean_diff([np.arange(len(y)) for _, _, y in windows])
    draws = np.array(
        [
            mean_diff([rng.integers(0, len(y), len(y)) for _, _, y in windows])
            for _ in range(resamples)
        ]
    )
    lo, hi = np.nanpercentile(draws, [2.5, 97.5])
    return {
        "diff": point,
        "ci95_low": float(lo),
        "ci95_high": float(hi),
        "p_not_above": float(np.mean(draws <= 0)),
    }
