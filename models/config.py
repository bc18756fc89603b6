"""Configuration of the risk model: one pydantic model, passed down from the caller."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from pydantic import BaseModel, Field

from models.context import COCHANGE_FEATURES

logger = logging.getLogger(__name__)

__all__ = ["RiskConfig", "torch_threads"]


class RiskConfig(BaseModel):
    """Hyper-parameters and data choices of the GNN risk model (stored in `config.json`)."""

    hidden: int = Field(default=16, ge=4, description="Embedding width (per member).")
    layers: int = Field(default=2, ge=1, le=4, description="Message-passing layers.")
    epochs: int = Field(default=150, ge=1, description="Most training epochs (full batch).")
    patience: int = Field(
        default=20,
        ge=1,
        description="Stop once every member went this many epochs without a lower validation loss.",
    )
    ensemble: int = Field(
        default=5, ge=1, le=16, description="Networks averaged in logit space (a seed ensemble)."
    )
    lr: float = Field(default=0.01, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    dropout: float = Field(default=0.1, ge=0, lt=1)
    node_loss_weight: float = Field(default=0.5, ge=0, description="Weight of file/function loss.")
    max_neighbours: int = Field(
        default=8, ge=0, description="CALLS neighbours per touched function."
    )
    max_entities: int = Field(
        default=64, ge=1, description="Touched files/functions kept per commit."
    )
    validation_share: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="Time-latest share of training commits for early stopping and calibration.",
    )
    use_edges: bool = Field(default=True, description="False: the `gnn_no_edges` ablation.")
    prior_features: list[str] = Field(
        default_factory=lambda: ["la", *COCHANGE_FEATURES],
        description="Commit features of the prior: a logistic regression on them, fitted on "
        "the training commits, is a fixed part of the commit logit and the networks learn the "
        "rest (empty: no prior).",
    )
    seed: int = 0
    threads: int = Field(
        default=1, ge=1, description="Torch CPU threads (small sparse ops slow down with more)."
    )


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block with `n` torch CPU threads, restoring the previous setting after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
