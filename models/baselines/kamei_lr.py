"""Kamei-LR: logistic regression on Kamei's 14 change metrics (log-transformed, standardised)."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from models.history import COMMIT_FEATURES, KAMEI_FEATURES

logger = logging.getLogger(__name__)

__all__ = ["KameiLR", "kamei_columns"]


def kamei_columns(features: np.ndarray) -> np.ndarray:
    """The 14 Kamei metrics out of the COMMIT_FEATURES matrix."""
    return features[:, [COMMIT_FEATURES.index(k) for k in KAMEI_FEATURES]]


class KameiLR:
    """Kamei et al., "A large-scale empirical study of just-in-time quality assurance"
    (IEEE TSE 2013): logistic regression on NS, ND, NF, Entropy, LA, LD, LT, FIX, NDEV, AGE,
    NUC, EXP, REXP, SEXP after log1p and standardisation, class-balanced.

    Args:
        seed (int): unused (the solver is deterministic). (default: 0)
        c (float): inverse L2 regularisation strength. (default: 1.0)
    """

    def __init__(self, seed: int = 0, c: float = 1.0) -> None:
        self.model = make_pipeline(
            FunctionTransformer(lambda x: np.log1p(np.maximum(x, 0.0))),
            StandardScaler(),
            LogisticRegression(C=c, max_iter=2000, class_weight="balanced"),
        )
        self.constant: float | None = None

    def fit(self, features: np.ndarray, labels: np.ndarray) -> KameiLR:
        if len(np.unique(labels)) < 2:
            self.constant = float(labels.mean()) if len(labels) else 0.0
            return self
        self.model.fit(kamei_columns(features), labels)
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            return np.full(features.shape[0], self.constant)
        return self.model.predict_proba(kamei_columns(features))[:, 1]
