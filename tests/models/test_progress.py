"""Training reports each epoch to whoever asked (the CLI's progress bar), and only to them."""

from __future__ import annotations

import numpy as np

from models.config import RiskConfig
from models.history import History
from models.train import fit_gnn, training_progress


def test_each_epoch_is_reported_and_the_bar_ends_full(
    synth_history: History, split: tuple[np.ndarray, np.ndarray, float]
) -> None:
    train, _, cutoff = split
    seen: list[tuple[int, int]] = []
    with training_progress(lambda done, most: seen.append((done, most))):
        fit_gnn(synth_history, train, cutoff, RiskConfig(epochs=4, patience=100))
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    assert [d for d, _ in seen[:-1]] == [0, 1, 2, 3]
    after: list[tuple[int, int]] = []
    fit_gnn(synth_history, train, cutoff, RiskConfig(epochs=2))  # outside the block: silent
    assert after == [] and len(seen) == 5
