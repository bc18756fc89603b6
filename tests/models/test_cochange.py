"""Co-change features and the GNN's prior: counted by hand on a real store's history, strictly
before the change, the same from the store's neighbourhood reads as from the full export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graph_service.store import GraphStore
from models.config import RiskConfig
from models.context import (
    COCHANGE_CAP,
    COCHANGE_FEATURES,
    COCHANGE_MAX_TOUCHED,
    COCHANGE_OWN,
    COCHANGE_RECENT,
)
from models.egograph import build_egos
from models.gnn import RiskGNN, fuse
from models.history import COMMIT_FEATURES, History
from models.registry import RiskModel
from models.score import score_commit
from models.train import fit_gnn, predict_raw

_C = {k: i for i, k in enumerate(COMMIT_FEATURES)}


def _by_hand(h: History, ci: int) -> dict[str, float]:
    """The co-change features of commit `ci` from first principles: scan every commit."""
    t, own = h.t[ci], {int(e) for e in h.touched(ci)}
    lines = h.c_la[h.c_ptr[ci] : h.c_ptr[ci + 1]] + h.c_ld[h.c_ptr[ci] : h.c_ptr[ci + 1]]
    ranked = sorted(range(len(lines)), key=lambda i: (-lines[i], i))[:COCHANGE_OWN]
    together: dict[int, int] = {}
    missing = 0.0
    for e in (int(h.touched(ci)[i]) for i in ranked):
        earlier = [
            c
            for c in range(len(h.commit_uids))
            if h.t[c] < t and e in {int(x) for x in h.touched(c)}
        ]
        earlier.sort(key=lambda c: h.t[c])
        mine: dict[int, int] = {}
        for c in earlier[-COCHANGE_RECENT:]:
            if h.is_merge[c] or len(h.touched(c)) > COCHANGE_MAX_TOUCHED:
                continue
            for m in {int(x) for x in h.touched(c)} - own:
                if h.ent_kind[m] == h.ent_kind[e]:
                    mine[m] = mine.get(m, 0) + 1
        for m, n in mine.items():
            together[m] = together.get(m, 0) + n
            if n >= 2:
                missing = max(missing, n / min(len(earlier), COCHANGE_RECENT))
    partners = sorted(together, key=lambda m: (-together[m], m))[:COCHANGE_CAP]
    fixes = 0.0
    for m in partners:
        fixes += sum(
            bool(h.is_fix[c])
            for c in range(len(h.commit_uids))
            if h.t[c] < t and m in {int(x) for x in h.touched(c)}
        )
    return {
        "cc_partners": float(len(partners)),
        "cc_missing_conf": missing,
        "cc_fixes": fixes,
        "cc_bugs": float(sum(h.known_bugs(m, t) for m in partners)),
    }


def _late_commits(h: History, n: int) -> list[int]:
    out = []
    for ci in range(len(h.commit_uids) - 1, 0, -1):
        if not h.is_merge[ci] and len(h.touched(ci)) > 0:
            out.append(ci)
        if len(out) == n:
            break
    return out


def test_cochange_features_match_a_count_by_hand(synth_history: History) -> None:
    h = synth_history
    seen_missing = False
    for ci in _late_commits(h, 12):
        f = h.commit_features(ci)
        expected = _by_hand(h, ci)
        for name, value in expected.items():
            assert f[_C[name]] == pytest.approx(value), (ci, name)
        seen_missing |= expected["cc_missing_conf"] > 0
    assert seen_missing, "the synthetic history has habitual partners left out"
    feats = np.stack([h.commit_features(ci) for ci in _late_commits(h, 120)])
    for name in ("cc_partners", "cc_missing_conf", "cc_fixes", "cc_bugs"):
        assert feats[:, _C[name]].max() > 0, name


def test_store_reads_give_the_same_cochange_features(
    synth_store: GraphStore, synth_history: History, trained: RiskModel
) -> None:
    """`score_commit` without a snapshot reads the partners' events from the store (the
    co-change hop of `models.neighbourhood`): the same features as the full export."""
    h = synth_history
    for ci in _late_commits(h, 6):
        full = h.commit_features(ci)
        scored = score_commit(synth_store, trained, h.commit_uids[ci]).features
        for name in COCHANGE_FEATURES:
            assert scored[name] == pytest.approx(full[_C[name]]), (ci, name)


def test_the_prior_is_lines_added_and_cochange_and_adds_to_every_logit(
    synth_history: History, split: tuple[np.ndarray, np.ndarray, float]
) -> None:
    train, test, cutoff = split
    model = fit_gnn(synth_history, train, cutoff, RiskConfig(epochs=5, hidden=8, ensemble=2))
    net = model.net
    w = net.prior_w.numpy()
    used = {COMMIT_FEATURES[i] for i in np.flatnonzero(w)}
    assert "la" in used and used <= {"la", *COCHANGE_FEATURES}
    assert w[_C["la"]] > 0  # more lines added, riskier, as LApredict learns
    egos = build_egos(synth_history, test[:30])
    with torch.no_grad():
        members, _ = net.forward_members(egos.data.x_dict, egos.data.edge_index_dict)
        nets = [m(net.scale(egos.data.x_dict), egos.data.edge_index_dict)[0] for m in net.members]
    prior = net.prior(egos.data["commit"].x)
    torch.testing.assert_close(members, torch.stack(nets) + prior)
    a, _ = predict_raw(net, egos)
    b, _ = predict_raw(fuse(net), egos)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_no_prior_features_no_prior_and_old_weights_load(
    synth_history: History, split: tuple[np.ndarray, np.ndarray, float]
) -> None:
    train, test, cutoff = split
    cfg = RiskConfig(epochs=3, hidden=8, ensemble=1, prior_features=())
    net = fit_gnn(synth_history, train, cutoff, cfg).net
    assert not net.prior_w.any() and float(net.prior_b) == 0.0
    old = {k: v for k, v in net.state_dict().items() if not k.startswith("prior_")}
    back = RiskGNN(hidden=8)
    back.load_state_dict(old)  # a model saved before the prior existed: no prior
    egos = build_egos(synth_history, test[:10])
    torch.testing.assert_close(predict_raw(net, egos)[0], predict_raw(back.eval(), egos)[0])


def test_every_cochange_feature_can_be_named_in_an_explanation() -> None:
    from models.explain import _FEATURE_TEXT

    for name in COCHANGE_FEATURES:
        text = _FEATURE_TEXT[name].format(v=3.0, p=75.0, r="1")
        assert "{" not in text and text, name
