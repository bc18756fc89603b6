"""Baselines for change risk; each takes the raw COMMIT_FEATURES matrix of `models.history`."""

from __future__ import annotations

import logging

from models.baselines.kamei_gb import KameiGB
from models.baselines.kamei_lr import KameiLR
from models.baselines.lapredict import LAPredict
from models.baselines.random_order import RandomOrder
from models.baselines.smallest_first import SmallestFirst

logger = logging.getLogger(__name__)

__all__ = ["BASELINES", "KameiGB", "KameiLR", "LAPredict", "RandomOrder", "SmallestFirst"]

BASELINES = {
    "lapredict": LAPredict,
    "kamei_lr": KameiLR,
    "kamei_gb": KameiGB,
    "smallest_first": SmallestFirst,
    "random": RandomOrder,
}
