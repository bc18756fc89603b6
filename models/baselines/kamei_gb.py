"""Kamei-GB: gradient boosting on Kamei's 14 change metrics."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from models.baselines.kamei_lr import kamei_columns

logger = logging.getLogger(__name__)

__all__ = ["KameiGB"]


class KameiGB:
    """Histogram gradient boosting on the 14 Kamei metrics (log1p; trees need no scaling).

    Args:
        seed (int): random seed of the booster. (default: 0)
        max_iter (int): boosting rounds. (default: 200)
        learning_rate (float): shrinkage. (default: 0.05)
    """

    def __init__(self, seed: int = 0, max_iter: int = 200, learning_rate: float = 0.05) -> None:
        self.model = HistGradientBoostingClassifier(
            max_iter=max_iter,
            learning_rate=learning_rate,
            max_leaf_nodes=15,
            l2_regularization=1.0,
            random_state=seed,
        )
        self.constant: float | None = None

    def fit(self, features: np.ndarray, labels: np.ndarray) -> KameiGB:
        if len(np.unique(labels)) < 2:
            self.constant = float(labels.mean()) if len(labels) else 0.0
            return self
        self.model.fit(np.log1p(np.maximum(kamei_columns(features), 0.0)), labels)
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            return np.full(features.shape[0], self.constant)
        return self.model.predict_proba(np.log1p(np.maximum(kamei_columns(features), 0.0)))[:, 1]
