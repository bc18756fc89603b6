"""Metrics on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from models.calibration import IsotonicCalibrator, brier, ece
from models.metrics import popt, precision_at, recall_at_effort, roc_auc


def test_precision_at_share_and_roc() -> None:
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], dtype=float)
    s = np.linspace(1, 0, 10)
    assert precision_at(s, y, 0.1) == 1.0  # the riskiest commit is buggy
    assert precision_at(-s, y, 0.1) == 1.0
    assert precision_at(s, y, 0.2) == 0.5
    assert roc_auc(s, y) == 0.5


def test_effort_aware_metrics() -> None:
    y = np.array([1, 0, 0, 1], dtype=float)
    effort = np.array([10, 10, 10, 70], dtype=float)
    perfect = y / effort
    assert recall_at_effort(perfect, y, effort, 0.2) == 0.5
    assert popt(perfect, y, effort) == 1.0
    assert popt(-perfect, y, effort) == 0.0
    assert 0.0 < popt(np.array([0.1, 0.2, 0.3, 0.4]), y, effort) < 1.0


def test_calibration_metrics() -> None:
    y = np.array([0, 0, 1, 1], dtype=float)
    assert ece(np.array([0.0, 0.0, 1.0, 1.0]), y) == 0.0
    assert brier(np.full(4, 0.5), y) == 0.25
    cal = IsotonicCalibrator().fit(np.array([0.1, 0.2, 0.8, 0.9]), y)
    out = cal(np.array([-5.0, 0.15, 0.85, 5.0]))
    assert np.all((out >= 0) & (out <= 1)) and out[0] < out[-1]
    assert IsotonicCalibrator.from_dict(cal.to_dict())(np.array([0.85]))[0] == out[2]


def test_platt_with_few_positives_is_not_overconfident() -> None:
    """3 positives that the scores separate perfectly: hard 0/1 targets would push the sigmoid
    to 0.1 % / 99.9 %; Platt's targets keep the probabilities where 100 examples support them."""
    from models.calibration import IsotonicCalibrator

    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.uniform(0.0, 0.4, 97), [0.8, 0.85, 0.9]])
    labels = np.concatenate([np.zeros(97), np.ones(3)])
    cal = IsotonicCalibrator().fit(scores, labels)
    probs = cal(scores)
    assert np.all(np.diff(cal(np.linspace(0, 1, 50))) >= 0)  # still monotone
    assert probs[-1] < 0.9
    assert probs[-1] > 10 * probs[:97].mean()  # and still separates them


def test_fast_auc_equals_sklearn_with_ties() -> None:
    from sklearn.metrics import roc_auc_score

    from models.metrics import _fast_auc

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    s = np.round(rng.random(400) + 0.3 * y, 1)  # many ties
    assert _fast_auc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_paired_bootstrap_resolves_real_differences_only() -> None:
    from models.metrics import paired_bootstrap

    rng = np.random.default_rng(5)
    windows_good, windows_noise, windows_same = [], [], []
    for _ in range(5):
        y = (rng.random(300) < 0.2).astype(int)
        good = y + rng.normal(0, 0.6, 300)  # informative
        weak = y + rng.normal(0, 3.0, 300)  # barely
        other = y + rng.normal(0, 3.0, 300)
        windows_good.append((good, weak, y))
        windows_noise.append((weak, other, y))
        windows_same.append((weak, weak, y))
    for metric in ("roc_auc", "precision_at_10pct"):
        clear = paired_bootstrap(windows_good, metric, resamples=300)
        assert clear["diff"] > 0 and clear["ci95_low"] > 0 and clear["p_not_above"] < 0.05
        same = paired_bootstrap(windows_same, metric, resamples=100)
        assert same["diff"] == same["ci95_low"] == same["ci95_high"] == 0.0
    unresolved = paired_bootstrap(windows_noise, "roc_auc", resamples=300)
    assert unresolved["ci95_low"] < 0 < unresolved["ci95_high"]
