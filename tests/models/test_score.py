"""Scoring: one change from its neighbourhood equals the full-graph path; explanations name code."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graph_service.store import GraphStore
from models.egograph import build_egos
from models.history import History
from models.registry import RiskModel
from models.score import parse_diff, score_commit, score_diff, score_paths, write_scores
from models.synthetic import FRAGILE_UID
from models.train import predict_raw


def test_score_commit_matches_full_graph(
    synth_store: GraphStore,
    synth_history: History,
    trained: RiskModel,
    split: tuple[np.ndarray, np.ndarray, float],
) -> None:
    test = split[1][:8]
    logits, _ = predict_raw(trained.net, build_egos(synth_history, test))
    full = trained.calibrator(torch.sigmoid(logits).numpy())
    for ci, expected in zip(test, full, strict=True):
        sha = synth_history.commit_uids[ci].removeprefix("commit:")
        result = score_commit(synth_store, trained, sha)
        assert result.score == pytest.approx(expected, abs=1e-6)
        assert result.model_version == "test-model"
        assert result.nodes[0].kind == "commit"
        touched = {n.uid for n in result.nodes[1:]}
        assert touched == {synth_history.ent_uids[e] for e in synth_history.touched(ci)}
        assert all(0 <= n.score <= 1 for n in result.nodes)


def test_explanations_name_real_functions(synth_store: GraphStore, trained: RiskModel) -> None:
    result = score_paths(synth_store, trained, [FRAGILE_UID], author="dev0@example.com")
    texts = " | ".join(x.text for x in result.explanations)
    assert "`charge` (billing/payments.py)" in texts
    assert "earlier fixes changed" in texts
    assert result.target == "commit:proposed"
    caller = synth_store.query(
        "MATCH (a:Function)-[:CALLS]->(b:Function {uid: $u}) RETURN a.uid AS uid ORDER BY a.uid "
        "LIMIT 1",
        {"u": FRAGILE_UID},
    ).rows()[0]["uid"]
    nearby = score_paths(synth_store, trained, [caller])
    assert any("charge" in x.text for x in nearby.explanations), nearby.explanations
    assert nearby.score > score_paths(synth_store, trained, ["pkg3/mod3.py"]).score


def test_score_diff_maps_hunks_to_functions(synth_store: GraphStore, trained: RiskModel) -> None:
    diff = (
        "diff --git a/billing/payments.py b/billing/payments.py\n"
        "--- a/billing/payments.py\n+++ b/billing/payments.py\n"
        "@@ -1,3 +1,4 @@\n context\n-old line\n+new line\n+another\n"
    )
    parsed = parse_diff(diff)
    assert parsed["billing/payments.py"]["added"] == [2]
    assert parsed["billing/payments.py"]["deleted"] == [1]
    result = score_diff(synth_store, trained, diff)
    assert result.features["la"] == 2 and result.features["ld"] == 1
    assert "file:demo:billing/payments.py" in {n.uid for n in result.nodes}


def test_write_scores_round_trip(
    synth_store: GraphStore,
    trained: RiskModel,
    synth_history: History,
    split: tuple[np.ndarray, np.ndarray, float],
) -> None:
    uid = synth_history.commit_uids[split[1][0]]
    result = score_commit(synth_store, trained, uid)
    batches = write_scores([result])
    assert {b.label for b in batches} <= {"Commit", "File", "Function"}
    for b in batches:
        synth_store.write(b, loaded_by="risk", run_id="score")
    row = synth_store.query(
        "MATCH (c:Commit {uid: $u}) RETURN c.risk_score AS s, c.risk_model AS m, "
        "c.lines_added AS la",
        {"u": uid},
    ).rows()[0]
    assert row["s"] == result.score and row["m"] == "test-model"
    assert row["la"] == synth_history.la[split[1][0]]  # nothing else was overwritten


def test_explanations_never_contradict_themselves(
    synth_store: GraphStore,
    synth_history: History,
    trained: RiskModel,
    split: tuple[np.ndarray, np.ndarray, float],
) -> None:
    """Each factor once, with its direction: the author's features and node are one factor
    (never "710 earlier commits" raising the score while the author node lowers it)."""
    seen_lowering = False
    for ci in split[1][:25]:
        result = score_commit(synth_store, trained, synth_history.commit_uids[ci])
        xs = result.explanations
        assert 0 < len(xs) <= 5
        weights = [x.weight for x in xs]
        assert weights == sorted(weights, reverse=True)  # rises first, then what lowered it
        assert sum(x.kind == "author" for x in xs) <= 1
        assert not any("the author has" in x.text for x in xs)  # folded into the author factor
        uids = [x.uid for x in xs if x.uid]
        assert len(uids) == len(set(uids))
        assert all(x.direction == ("raises" if x.weight > 0 else "lowers") for x in xs)
        seen_lowering |= any(x.weight < 0 for x in xs)
    assert seen_lowering  # factors that lowered a score are listed too


def test_a_git_ref_or_a_shared_prefix_is_named_for_what_it_is(
    synth_store: GraphStore, trained: RiskModel
) -> None:
    """The API and the client take shas: `HEAD` is not "missing from the graph (load its
    repository first)" when the repository is loaded, and neither is a prefix of many shas."""
    from graph_service.errors import CallerError, NotFoundError

    for ref in ("HEAD", "main~3", "commit:main"):
        with pytest.raises(CallerError, match=r"is not a commit sha.*prodgraph risk") as e:
            score_commit(synth_store, trained, ref)
        assert not isinstance(e.value, NotFoundError)  # a 400 naming the input, not a 404
    with pytest.raises(CallerError, match="several commits") as e:
        score_commit(synth_store, trained, "000000")
    assert not isinstance(e.value, NotFoundError)
    with pytest.raises(NotFoundError, match="no commit 'abcdef12'"):
        score_commit(synth_store, trained, "abcdef12")


def test_scoring_imports_no_scikit_learn() -> None:
    """`prodgraph risk` loads a saved calibrator (two float lists) and never fits one: importing
    scikit-learn for it cost about 1.2 s of every call (7.3 s -> 6.1 s to import the scorer)."""
    import subprocess
    import sys

    code = (
        "import sys, models.score, models.registry, models.calibration\n"
        "assert 'sklearn' not in sys.modules, sorted(m for m in sys.modules if 'sklearn' in m)[:3]"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
