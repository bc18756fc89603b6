"""Evaluation: every model on the same rolling time splits; the report writes markdown + plots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from models.config import RiskConfig
from models.evaluate import METRICS, MODEL_NAMES, evaluate_history
from models.history import History
from models.report import write_report


def test_evaluate_and_report(synth_history: History, tmp_path: Path) -> None:
    result = evaluate_history(
        synth_history, cutoffs=5, config=RiskConfig(epochs=15, hidden=8), repo="synthetic"
    )
    assert result["cutoffs"] == 5 and len(result["folds"]) == 5
    assert set(result["models"]) == set(MODEL_NAMES)
    for m in MODEL_NAMES:
        assert set(result["models"][m]) == set(METRICS)
    for a, b in zip(result["folds"], result["folds"][1:], strict=False):
        assert b["cutoff"] > a["cutoff"] and b["train"] > a["train"]  # rolling, time-ordered
    assert result["models"]["random"]["roc_auc"] < result["models"]["gnn"]["roc_auc"]
    assert all(0 <= result["models"][m]["brier"] <= 1 for m in MODEL_NAMES)
    assert not math.isnan(result["models"]["kamei_lr"]["popt"])
    for name in ("gnn_vs_lapredict", "gnn_vs_kamei_lr"):  # paired, with an interval
        for metric in ("roc_auc", "capture_at_10"):
            c = result["comparisons"][name][metric]
            assert c["ci95_low"] <= c["diff"] <= c["ci95_high"]
    kamei = result["comparisons"]["gnn_vs_kamei_lr"]["roc_auc"]["diff"]
    models = result["models"]
    assert kamei == pytest.approx(models["gnn"]["roc_auc"] - models["kamei_lr"]["roc_auc"])
    json.dumps(result)  # plain JSON
    path = write_report(result, tmp_path / "report")
    text = path.read_text()
    assert "| gnn |" in text and "| lapredict |" in text
    assert "| gnn − kamei_lr |" in text
    for png in ("roc.png", "calibration.png", "capture.png"):
        assert (tmp_path / "report" / png).stat().st_size > 1000
