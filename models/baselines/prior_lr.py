"""Prior LR: the GNN's prior alone (lines added and the co-change features, no network)."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from models.baselines.flat_lr import signed_log1p
from models.config import RiskConfig
from models.history import COMMIT_FEATURES

logger = logging.getLogger(__name__)

__all__ = ["PriorLR"]


class PriorLR:
    """Class-balanced logistic regression on `RiskConfig.prior_features` (signed log1p,
    standardised): the fixed part of the GNN's commit logit, on its own, so `gnn − prior_lr` is
    what the networks (and the graph) add on top of it.

    Args:
        seed (int): unused (the solver is deterministic). (default: 0)
        features (list[str] | None): commit features (default: `RiskConfig().prior_features`).
    """

    def __init__(self, seed: int = 0, features: list[str] | None = None) -> None:
        names = RiskConfig().prior_features if features is None else features
        self.cols = [COMMIT_FEATURES.index(k) for k in names]
        self.model = make_pipeline(
            FunctionTransformer(signed_log1p),
            StandardScaler(),
            LogisticRegression(max_iter=2000, class_weight="balanced"),
        )
        self.constant: float | None = None

    def fit(self, features: np.ndarray, labels: np.ndarray) -> PriorLR:
        if len(np.unique(labels)) < 2:
            self.constant = float(labels.mean()) if len(labels) else 0.0
            return self
        self.model.fit(features[:, self.cols], labels)
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            return np.full(features.shape[0], self.constant)
        return self.model.predict_proba(features[:, self.cols])[:, 1]
