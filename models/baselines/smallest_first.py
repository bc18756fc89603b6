"""Smallest change first: the effort-aware naive ranking (less churn = inspect earlier)."""

from __future__ import annotations

import logging

import numpy as np

from models.history import COMMIT_FEATURES

logger = logging.getLogger(__name__)

__all__ = ["SmallestFirst"]

_LA, _LD = COMMIT_FEATURES.index("la"), COMMIT_FEATURES.index("ld")


class SmallestFirst:
    """Score = 1 / (1 + lines added + lines deleted); needs no training.

    Args:
        seed (int): unused, for a uniform constructor. (default: 0)
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray) -> SmallestFirst:
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + features[:, _LA] + features[:, _LD])
