"""Largest change first: the size ranking (more lines changed = riskier), with no training."""

from __future__ import annotations

import logging

import numpy as np

from models.history import COMMIT_FEATURES

logger = logging.getLogger(__name__)

__all__ = ["LargestFirst"]

_LA, _LD = COMMIT_FEATURES.index("la"), COMMIT_FEATURES.index("ld")


class LargestFirst:
    """Score = n / (1 + n) for n = lines added + lines deleted (more lines, higher; inside
    [0, 1) as the calibrators expect); needs no training.

    The floor every learned model must clear: on real histories, size alone ranks
    bug-introducing changes well above chance.

    Args:
        seed (int): unused, for a uniform constructor. (default: 0)
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray) -> LargestFirst:
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        n = np.maximum(features[:, _LA] + features[:, _LD], 0.0)
        return n / (1.0 + n)
