"""Random ranking: the floor every model must beat."""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["RandomOrder"]


class RandomOrder:
    """Scores drawn uniformly at random (a seeded generator).

    Args:
        seed (int): random seed. (default: 0)
    """

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def fit(self, features: np.ndarray, labels: np.ndarray) -> RandomOrder:
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.rng.random(features.shape[0]), dtype=float)
