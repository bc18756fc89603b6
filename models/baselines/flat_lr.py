"""Flat LR: logistic regression on exactly the GNN's commit input features, no graph."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

logger = logging.getLogger(__name__)

__all__ = ["FlatLR", "signed_log1p"]


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """log(1 + |x|) with the sign of x (counts and sizes are heavy-tailed)."""
    return np.sign(x) * np.log1p(np.abs(x))


class FlatLR:
    """Class-balanced logistic regression on every COMMIT_FEATURES column (signed log1p,
    standardised): the GNN's own commit features without the ego graph, so GNN − flat_lr is
    what the graph network adds.

    Args:
        seed (int): unused (the solver is deterministic). (default: 0)
        c (float): inverse L2 regularisation strength. (default: 1.0)
    """

    def __init__(self, seed: int = 0, c: float = 1.0) -> None:
        self.model = make_pipeline(
            FunctionTransformer(signed_log1p),
            StandardScaler(),
            LogisticRegression(C=c, max_iter=2000, class_weight="balanced"),
        )
        self.constant: float | None = None

    def fit(self, features: np.ndarray, labels: np.ndarray) -> FlatLR:
        if len(np.unique(labels)) < 2:
            self.constant = float(labels.mean()) if len(labels) else 0.0
            return self
        self.model.fit(features, labels)
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            return np.full(features.shape[0], self.constant)
        return self.model.predict_proba(features)[:, 1]
