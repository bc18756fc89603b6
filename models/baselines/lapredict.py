"""LApredict: logistic regression on lines added alone."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression

from models.history import COMMIT_FEATURES

logger = logging.getLogger(__name__)

__all__ = ["LAPredict"]

_LA = COMMIT_FEATURES.index("la")


class LAPredict:
    """Logistic regression on log(1 + lines added).

    Zeng et al., "Deep just-in-time defect prediction: how far are we?" (ISSTA 2021) showed this
    one-feature model matches deep JIT models; it is the bar a graph model must clear.

    Args:
        seed (int): unused (the model is deterministic). (default: 0)
    """

    def __init__(self, seed: int = 0) -> None:
        self.model = LogisticRegression(max_iter=1000)
        self.constant: float | None = None

    def _x(self, features: np.ndarray) -> np.ndarray:
        return np.log1p(np.maximum(features[:, [_LA]], 0.0))

    def fit(self, features: np.ndarray, labels: np.ndarray) -> LAPredict:
        if len(np.unique(labels)) < 2:
            self.constant = float(labels.mean()) if len(labels) else 0.0
            return self
        self.model.fit(self._x(features), labels)
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            return np.full(features.shape[0], self.constant)
        return self.model.predict_proba(self._x(features))[:, 1]
