"""Probability calibration (isotonic, fitted on a time-later validation slice), ECE and Brier."""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["IsotonicCalibrator", "brier", "ece"]


_TIEBREAK = 1e-6
_MIN_POSITIVES_FOR_ISOTONIC = 30


class IsotonicCalibrator:
    """Monotone map from raw scores to probabilities; serialisable as two float lists.

    Isotonic with enough positives, Platt scaling below that; the validation base rate when
    the slice has a single class.
    """

    def __init__(self, xs: list[float] | None = None, ys: list[float] | None = None) -> None:
        self.xs = list(xs or [])
        self.ys = list(ys or [])

    def fits(self, labels: np.ndarray) -> bool:
        """Whether `labels` hold both classes, so a calibration map can be learned from them."""
        return len(np.unique(np.asarray(labels))) >= 2

    def fit(self, scores: np.ndarray, labels: np.ndarray) -> IsotonicCalibrator:
        scores = np.asarray(scores, dtype=float)
        labels = np.asarray(labels, dtype=float)
        rate = float(labels.mean()) if len(labels) else 0.0
        if len(np.unique(labels)) < 2 or len(np.unique(scores)) < 2:
            self.xs, self.ys = [0.0], [rate]
            return self
        if labels.sum() < _MIN_POSITIVES_FOR_ISOTONIC:
            return self._fit_platt(scores, labels, rate)
        from sklearn.isotonic import IsotonicRegression  # fitting only: scoring needs numpy

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, labels)
        self.xs = iso.X_thresholds_.astype(float).tolist()
        self.ys = iso.y_thresholds_.astype(float).tolist()
        return self

    def _fit_platt(self, scores: np.ndarray, labels: np.ndarray, rate: float) -> IsotonicCalibrator:
        """Few positives: isotonic steps would say 0 for most changes; a sigmoid on the logit
        (Platt scaling) is smoother. Platt's own targets are used, (N+ + 1) / (N+ + 2) for
        positives and 1 / (N- + 2) for negatives instead of 1 and 0 (Platt 1999; Lin, Lin and
        Weng 2007): with a handful of positives, hard targets give a near-vertical sigmoid and
        probabilities of 0.1 % or 99.9 % that the data cannot support. Stored as a dense
        monotone table, like isotonic."""
        logit = np.log(np.clip(scores, 1e-6, 1 - 1e-6) / (1 - np.clip(scores, 1e-6, 1 - 1e-6)))
        pos, neg = float(labels.sum()), float(len(labels) - labels.sum())
        target = np.where(labels > 0, (pos + 1) / (pos + 2), 1 / (neg + 2))
        # soft targets as weights: each change once as a positive (weight t), once as a negative
        x = np.concatenate([logit, logit]).reshape(-1, 1)
        y = np.concatenate([np.ones(len(logit)), np.zeros(len(logit))])
        weights = np.concatenate([target, 1 - target])
        from sklearn.linear_model import LogisticRegression  # fitting only

        lr = LogisticRegression(C=10.0).fit(x, y, sample_weight=weights)
        if lr.coef_[0, 0] <= 0:  # the scores carry no usable order: predict the base rate
            self.xs, self.ys = [0.0], [rate]
            return self
        grid = np.linspace(0.0, 1.0, 201)
        g = np.clip(grid, 1e-6, 1 - 1e-6)
        self.xs = grid.tolist()
        self.ys = lr.predict_proba(np.log(g / (1 - g)).reshape(-1, 1))[:, 1].tolist()
        return self

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=float)
        if not self.xs:
            return np.clip(scores, 0.0, 1.0)
        # a vanishing monotone term keeps the raw ranking inside isotonic steps (ties cost AUC)
        tiebreak = _TIEBREAK * np.clip(scores, 0.0, 1.0)
        if len(self.xs) == 1:
            return np.full(scores.shape, self.ys[0]) + tiebreak
        return np.clip(np.interp(scores, self.xs, self.ys), 1e-3, 1 - 1e-3) + tiebreak

    def to_dict(self) -> dict[str, list[float]]:
        return {"xs": self.xs, "ys": self.ys}

    @classmethod
    def from_dict(cls, d: dict[str, list[float]]) -> IsotonicCalibrator:
        return cls(d.get("xs"), d.get("ys"))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    probs, labels = np.asarray(probs, float), np.asarray(labels, float)
    if len(probs) == 0:
        return float("nan")
    idx = np.minimum((probs * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.mean() * abs(probs[sel].mean() - labels[sel].mean())
    return float(total)


def brier(probs: np.ndarray, labels: np.ndarray) -> float:
    probs, labels = np.asarray(probs, float), np.asarray(labels, float)
    return float(np.mean((probs - labels) ** 2)) if len(probs) else float("nan")
