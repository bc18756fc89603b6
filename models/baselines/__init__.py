"""Baselines for change risk; each takes the raw COMMIT_FEATURES matrix of `models.history`."""

from __future__ import annotations

import logging

from models.baselines.flat_lr import FlatLR
from models.baselines.kamei_gb import KameiGB
from models.baselines.kamei_lr import KameiLR
from models.baselines.lapredict import LAPredict
from models.baselines.largest_first import LargestFirst
from models.baselines.prior_lr import PriorLR
from models.baselines.random_order import RandomOrder

logger = logging.getLogger(__name__)

__all__ = [
    "BASELINES",
    "FlatLR",
    "KameiGB",
    "KameiLR",
    "LAPredict",
    "LargestFirst",
    "PriorLR",
    "RandomOrder",
]

BASELINES = {
    "flat_lr": FlatLR,
    "lapredict": LAPredict,
    "kamei_lr": KameiLR,
    "kamei_gb": KameiGB,
    "largest_first": LargestFirst,
    "prior_lr": PriorLR,
    "random": RandomOrder,
}
