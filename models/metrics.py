"""Ranking metrics for change risk: ROC/PR-AUC, capture@10%, effort-aware Recall@20% and Popt."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

logger = logging.getLogger(__name__)

__all__ = ["capture_at", "effort_curve", "popt", "pr_auc", "recall_at_effort", "roc_auc"]


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


def capture_at(scores: np.ndarray, labels: np.ndarray, share: float = 0.1) -> float:
    """Share of bug-introducing commits among the riskiest `share` of commits (precision@k%)."""
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
    """Share of bug-introducing commits among the commits inspected (riskiest first, whole
    commits only) before their lines changed exceed `budget` of the total."""
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
