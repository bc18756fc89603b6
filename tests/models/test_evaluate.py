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
    assert result["default_model"] == "gnn"
    assert set(result["populations"]) == {"all", "code"}
    code = result["populations"]["code"]
    assert 0 < code["commits"] <= result["commits"]
    for pop in result["populations"].values():
        for key in ("models", "models_equal_windows", "models_uncensored"):
            assert set(pop[key]) == set(MODEL_NAMES)
            for m in MODEL_NAMES:
                assert set(pop[key][m]) == set(METRICS)
    for a, b in zip(result["folds"], result["folds"][1:], strict=False):
        assert b["cutoff"] > a["cutoff"] and b["train"] > a["train"]  # rolling, time-ordered
    models = code["models"]
    assert models["random"]["roc_auc"] < models["gnn"]["roc_auc"]
    assert all(0 <= models[m]["brier"] <= 1 for m in MODEL_NAMES)
    assert not math.isnan(models["kamei_lr"]["popt"])
    others = [m for m in MODEL_NAMES if m != "gnn"]
    assert set(code["comparisons"]) == {f"gnn_vs_{m}" for m in others}  # paired, with intervals
    for name in code["comparisons"]:
        for metric in ("roc_auc", "precision_at_10pct"):
            c = code["comparisons"][name][metric]
            assert c["ci95_low"] <= c["diff"] <= c["ci95_high"]
    kamei = code["comparisons"]["gnn_vs_kamei_lr"]["roc_auc"]["diff"]
    assert kamei == pytest.approx(models["gnn"]["roc_auc"] - models["kamei_lr"]["roc_auc"])
    json.dumps({k: v for k, v in result.items() if k != "predictions"})  # plain JSON
    path = write_report(result, tmp_path / "report")
    text = path.read_text()
    assert "| gnn |" in text and "| lapredict |" in text and "| flat_lr |" in text
    assert "| gnn − kamei_lr |" in text and "| gnn − gnn_no_edges |" in text
    assert "Code-changing commits (headline)" in text
    for png in ("roc.png", "calibration.png", "capture.png"):
        assert (tmp_path / "report" / png).stat().st_size > 1000


def test_pooled_training_tests_on_the_target_only(synth_history: History) -> None:
    """With `target`, windows are cut from the target's commits and every model trains on all
    commits known up to each cutoff (the others' too), never on a test commit."""
    import numpy as np

    from models.train import eligible_commits

    h = synth_history
    ix = eligible_commits(h)
    ix = ix[np.argsort(h.t[ix], kind="stable")]
    target = {h.commit_uids[i] for i in ix[::2]}  # every other change stands for "this repo"
    result = evaluate_history(
        h, cutoffs=3, config=RiskConfig(epochs=5, hidden=8, ensemble=1), target=target
    )
    tix = np.array([i for i in ix if h.commit_uids[i] in target])
    assert result["commits"] == len(tix) and result["pooled_commits"] == len(ix)
    assert sum(f["test"] for f in result["folds"]) == len(tix) - int(len(tix) * 0.4)
    for fold in result["folds"]:
        known = int((h.t[ix] <= fold["cutoff"]).sum())
        own = int((h.t[tix] <= fold["cutoff"]).sum())
        assert own < fold["train"] <= known  # the other commits train too, the future does not


def test_pooled_repositories_need_distinct_names(tmp_path: Path) -> None:
    from graph_service.errors import CallerError
    from graph_service.settings import Settings
    from models.evaluate import evaluate_repo

    (tmp_path / "a" / "app").mkdir(parents=True)
    (tmp_path / "b" / "app").mkdir(parents=True)
    with pytest.raises(CallerError, match="distinct folder names"):
        evaluate_repo(
            tmp_path / "a" / "app", tmp_path / "w", Settings(), pool=[tmp_path / "b" / "app"]
        )


def test_predictions_csv_reproduces_the_headline(synth_history: History, tmp_path: Path) -> None:
    """predictions.csv holds exactly the rows behind the headline: recomputing each window's
    ROC-AUC from it and weighting by window size gives the reported figure; censored commits
    (within the horizon of the end of history) are not among them."""
    import csv

    import numpy as np
    from sklearn.metrics import roc_auc_score

    from models.evaluate import write_predictions

    h = synth_history
    result = evaluate_history(
        h, cutoffs=3, config=RiskConfig(epochs=5, hidden=8, ensemble=1), repo="synthetic"
    )
    path = write_predictions(result, tmp_path / "out" / "predictions.csv")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["sha", "window", "population", "label", *MODEL_NAMES]
    for pop in ("all", "code"):
        mine = [r for r in rows if r["population"] == pop]
        assert len(mine) == result["populations"][pop]["test_commits"]
        aucs, sizes = [], []
        for w in sorted({r["window"] for r in mine}):
            part = [r for r in mine if r["window"] == w]
            y = [int(r["label"]) for r in part]
            aucs.append(roc_auc_score(y, [float(r["gnn"]) for r in part]))
            sizes.append(len(part))
        expected = result["populations"][pop]["models"]["gnn"]["roc_auc"]
        assert np.average(aucs, weights=sizes) == pytest.approx(expected, abs=1e-4)
    horizon = result["horizon_days"] * 86400
    assert horizon > 0 and result["populations"]["all"]["censored_test_commits"] > 0
    end = result["end_of_history"]
    t = {u.removeprefix("commit:"): h.t[i] for i, u in enumerate(h.commit_uids)}
    assert all(t[r["sha"]] <= end - horizon + 86400 for r in rows)  # horizon rounded to 0.1 d


def test_censoring_horizon_is_the_median_fix_delay_known_at_the_cutoff() -> None:
    import types

    import numpy as np

    from models.evaluate import censoring_horizon

    day = 86400.0
    t = np.arange(10) * day
    known = np.full(10, np.inf)
    known[[1, 2, 3]] = t[[1, 2, 3]] + np.array([2, 4, 6]) * day  # fixed 2, 4 and 6 days later
    known[4] = 100 * day  # fixed after the cutoff: not known yet, left out
    h = types.SimpleNamespace(t=t, bug_known=known)
    assert censoring_horizon(h, np.arange(10)) == pytest.approx(4 * day)  # type: ignore[arg-type]
    # at day 5 only the first fix (day 3) is known: the later ones are not used yet
    assert censoring_horizon(h, np.arange(6)) == pytest.approx(2 * day)  # type: ignore[arg-type]
