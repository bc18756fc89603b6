"""Metrics on hand-computed cases."""

from __future__ import annotations

import numpy as np

from models.calibration import IsotonicCalibrator, brier, ece
from models.metrics import capture_at, popt, recall_at_effort, roc_auc


def test_capture_and_roc() -> None:
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], dtype=float)
    s = np.linspace(1, 0, 10)
    assert capture_at(s, y, 0.1) == 1.0  # the riskiest commit is buggy
    assert capture_at(-s, y, 0.1) == 1.0
    assert capture_at(s, y, 0.2) == 0.5
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
