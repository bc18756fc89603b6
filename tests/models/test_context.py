"""Risk v2's features: what a change does to its functions, their history, their neighbours'
tickets and errors, reformatting commits; read from a real store, as of the change's time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from graph_service import schema
from graph_service.batch import edges, nodes
from graph_service.store import GraphStore
from models.config import RiskConfig
from models.context import (
    COCHANGE_FEATURES,
    CONTENT_FEATURES,
    FUNCTION_HISTORY_FEATURES,
    NEIGHBOUR_FEATURES,
)
from models.dataset import CONTENT_COLUMNS, load_tables
from models.egograph import build_egos, without_v2
from models.evaluate import ABLATION_MODELS, evaluate_history
from models.history import (
    COMMIT_FEATURES,
    ENTITY_FEATURES,
    V2_ENTITY_FEATURES,
    V2_FEATURES,
    History,
)
from models.population import NO_CODE_LABEL, code_change_mask
from models.registry import RiskModel
from models.score import score_commit

W = {"loaded_by": "test", "run_id": "ctx"}
_C = {k: i for i, k in enumerate(COMMIT_FEATURES)}
_E = {k: i for i, k in enumerate(ENTITY_FEATURES)}
needs_content = pytest.mark.skipif(
    schema.rel("MODIFIES").prop("conds_added") is None,
    reason="the schema declares no MODIFIES syntax deltas (git loader's content columns)",
)


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _with_functions(h: History, at_least: int) -> int:
    """A late commit (not a merge) touching at least `at_least` functions that have a past."""
    for ci in range(len(h.commit_uids) - 1, 0, -1):
        fns = [e for e in h.touched(ci) if h.ent_kind[e] and h.n_prior(e, h.t[ci]) > 0]
        if len(fns) >= at_least and not h.is_merge[ci] and h.code_change[ci]:
            return ci
    raise AssertionError("no such commit in the synthetic history")


def test_function_history_and_neighbour_aggregates_by_hand(synth_history: History) -> None:
    h = synth_history
    ci = _with_functions(h, 2)
    t = h.t[ci]
    f = h.commit_features(ci)
    fns = [int(e) for e in h.touched(ci) if h.ent_kind[e]]
    assert f[_C["fn_changes"]] == sum(h.n_prior(e, t) for e in fns) > 0
    authors = {int(a) for e in fns for a in h.ev_author[h.e_ptr[e] : h.e_ptr[e] + h.n_prior(e, t)]}
    assert f[_C["fn_ndev"]] == len(authors)
    firsts = [h.ev_t[h.e_ptr[e]] for e in fns if h.n_prior(e, t)]
    assert f[_C["fn_age_days"]] == pytest.approx((t - min(firsts)) / 86400)
    assert 0 < f[_C["fn_days_since_last"]] <= f[_C["fn_age_days"]]
    nbrs: set[int] = set()
    for e in fns:
        callees, callers = h.neighbours(e, t, 8)
        nbrs.update(m for m in (*callees, *callers) if m not in fns)
    assert f[_C["nbr_count"]] == len(nbrs)
    assert f[_C["nbr_bugs"]] == sum(h.known_bugs(m, t) for m in nbrs)
    # a history with neighbours' fixes and bugs somewhere: the aggregates are not always zero
    ix = np.arange(1, len(h.commit_uids))
    feats = np.stack([h.commit_features(int(i)) for i in ix[-200:]])
    for name in ("nbr_count", "nbr_fixes", "nbr_bugs", "fn_changes", "fn_ndev"):
        assert feats[:, _C[name]].max() > 0, name


def test_every_new_feature_is_in_the_flat_set() -> None:
    assert COMMIT_FEATURES[-len(V2_FEATURES) :] == V2_FEATURES
    assert V2_FEATURES == (
        CONTENT_FEATURES + FUNCTION_HISTORY_FEATURES + NEIGHBOUR_FEATURES + COCHANGE_FEATURES
    )
    assert set(V2_ENTITY_FEATURES) <= set(ENTITY_FEATURES)


@needs_content
def test_syntax_deltas_are_read_and_summed_per_commit(
    tmp_path: Path, trained: RiskModel, store_factory: Callable[[Path], GraphStore]
) -> None:
    store = store_factory(tmp_path / "g.lbug")
    try:
        h0 = History(load_tables(store))
        ci = _with_functions(h0, 2)
        uid = h0.commit_uids[ci]
        fns = [h0.ent_uids[e] for e in h0.touched(ci) if h0.ent_kind[e]]
        assert not h0.commit_features(ci)[[_C[k] for k in CONTENT_FEATURES]].any()
        rows = [
            {
                "src": uid,
                "dst": fn,
                "conds_added": 2,
                "calls_removed": 1 + k,
                "excepts_added": 0,
                "signature_changed": k == 0,
                "source": "git",
                "confidence": 1.0,
            }
            for k, fn in enumerate(fns)
        ]
        store.write(edges("MODIFIES", "Commit", "Function", rows), **W)
        h1 = History(load_tables(store))
        ci1 = h1.commit_ix[uid]
        f = h1.commit_features(ci1)
        assert f[_C["conds_added"]] == 2 * len(fns)
        assert f[_C["calls_removed"]] == sum(1 + k for k in range(len(fns)))
        assert f[_C["signature_changed"]] == 1
        assert f[_C["loops_added"]] == 0
        # the lines of the edges are untouched (an upsert of the same edge, not a new one)
        np.testing.assert_array_equal(
            h0.commit_features(ci)[[_C["la"], _C["ld"]]], f[[_C["la"], _C["ld"]]]
        )
        # each touched function node carries what this change did to it
        egos = build_egos(h1, [ci1])
        fn_rows = egos.raw["function"][egos.touched["function"]]
        assert sorted(fn_rows[:, _E["calls_removed"]]) == [1 + k for k in range(len(fns))]
        # the store's neighbourhood reads give the same features as the full export
        scored = score_commit(store, trained, uid).features
        assert [scored[k] for k in CONTENT_FEATURES] == [float(f[_C[k]]) for k in CONTENT_FEATURES]
        # a later commit does not see this commit's deltas as its own
        later = ci1 + 1 if ci1 + 1 < len(h1.commit_uids) else ci1 - 1
        assert h1.commit_features(later)[_C["conds_added"]] in (0, 2 * len(fns))
    finally:
        store.close()


def test_tickets_and_errors_count_only_from_when_they_were_known(
    tmp_path: Path, trained: RiskModel, store_factory: Callable[[Path], GraphStore]
) -> None:
    store = store_factory(tmp_path / "g.lbug")
    try:
        h0 = History(load_tables(store))
        ci = _with_functions(h0, 1)
        uid, t = h0.commit_uids[ci], float(h0.t[ci])
        fn = next(int(e) for e in h0.touched(ci) if h0.ent_kind[e])
        callees, callers = h0.neighbours(fn, t, 8)
        assert callees or callers, "the synthetic history gives touched functions neighbours"
        nbr = h0.ent_uids[(callees or callers)[0]]
        store.write(
            nodes(
                "Ticket",
                [
                    {"uid": "ticket:t:1", "key": "1", "kind": "bug", "created_at": _ts(t - 86400)},
                    {"uid": "ticket:t:2", "key": "2", "kind": "bug", "created_at": _ts(t + 86400)},
                    {"uid": "ticket:t:3", "key": "3", "kind": "question", "created_at": _ts(0)},
                ],
            ),
            **W,
        )
        store.write(
            nodes(
                "ErrorSignature",
                [
                    {"uid": "err:a", "fingerprint": "a", "first_seen": _ts(t - 3600)},
                    {"uid": "err:b", "fingerprint": "b", "first_seen": _ts(t)},  # not before t
                ],
            ),
            **W,
        )
        mention = {"how": "frame", "source": "ticket", "confidence": 1.0}
        store.write(
            edges(
                "MENTIONS",
                "Ticket",
                "Function",
                [{"src": f"ticket:t:{k}", "dst": nbr, **mention} for k in (1, 2, 3)],
            ),
            **W,
        )
        raised = {"line": 3, "source": "trace", "confidence": 1.0}
        store.write(
            edges(
                "RAISED_IN",
                "ErrorSignature",
                "Function",
                [{"src": s, "dst": nbr, **raised} for s in ("err:a", "err:b")],
            ),
            **W,
        )
        h1 = History(load_tables(store))
        e = h1.ent_ix[nbr]
        assert h1.signals_at(e, t) == (1, 1)  # the later ticket, the question, err:b: no
        assert h1.signals_at(e, t + 2 * 86400) == (2, 2)
        f = h1.commit_features(h1.commit_ix[uid])
        assert f[_C["nbr_tickets"]] >= 1 and f[_C["nbr_errors"]] >= 1
        egos = build_egos(h1, [h1.commit_ix[uid]])
        neighbours = egos.raw["function"][~egos.touched["function"]]
        assert neighbours[:, _E["tickets"]].max() >= 1  # the GNN gets them as messages
        scored = score_commit(store, trained, uid).features  # the store's neighbourhood path
        assert scored["nbr_tickets"] == f[_C["nbr_tickets"]]
        assert scored["nbr_errors"] == f[_C["nbr_errors"]]
    finally:
        store.close()


@pytest.mark.skipif(
    schema.node("Commit").prop("cosmetic") is None, reason="no Commit.cosmetic in the schema"
)
def test_a_reformatting_commit_is_not_code_changing(
    tmp_path: Path, trained: RiskModel, store_factory: Callable[[Path], GraphStore]
) -> None:
    store = store_factory(tmp_path / "g.lbug")
    try:
        h0 = History(load_tables(store))
        ci = _with_functions(h0, 1)
        uid = h0.commit_uids[ci]
        assert score_commit(store, trained, uid).score is not None
        store.write(nodes("Commit", [{"uid": uid, "cosmetic": True}]), **W)
        h1 = History(load_tables(store))
        assert not code_change_mask(h1)[h1.commit_ix[uid]]
        assert code_change_mask(h1).sum() == code_change_mask(h0).sum() - 1
        result = score_commit(store, trained, uid)
        assert result.score is None and result.label == NO_CODE_LABEL
    finally:
        store.close()


def test_without_v2_zeroes_exactly_the_new_features(synth_history: History) -> None:
    h = synth_history
    ix = np.arange(len(h.commit_uids) - 60, len(h.commit_uids))
    egos = build_egos(h, ix)
    v1 = without_v2(egos)
    new_c = [_C[k] for k in V2_FEATURES]
    new_e = [_E[k] for k in V2_ENTITY_FEATURES]
    assert egos.data["commit"].x[:, new_c].abs().sum() > 0  # something to remove
    assert v1.data["commit"].x[:, new_c].abs().sum() == 0
    assert v1.data["function"].x[:, new_e].abs().sum() == 0
    old_c = [i for i in range(len(COMMIT_FEATURES)) if i not in new_c]
    assert (v1.data["commit"].x[:, old_c] == egos.data["commit"].x[:, old_c]).all()
    for et in egos.data.edge_types:
        assert (v1.data[et].edge_index == egos.data[et].edge_index).all()
    assert egos.data["commit"].x[:, new_c].abs().sum() > 0  # the original is left alone


def test_evaluation_with_the_feature_ablation(synth_history: History) -> None:
    result = evaluate_history(
        synth_history, cutoffs=2, config=RiskConfig(epochs=5, hidden=8, ensemble=1), ablation=True
    )
    code = result["populations"]["code"]
    assert set(ABLATION_MODELS) <= set(code["models"])
    for m in ABLATION_MODELS:
        c = code["comparisons"][f"gnn_vs_{m}"]["roc_auc"]
        assert c["ci95_low"] <= c["diff"] <= c["ci95_high"]
    assert set(result["predictions"]["models"]) >= set(ABLATION_MODELS)
    # the v1 flat model really is another model (it lost the new columns)
    assert (
        result["predictions"]["models"]["flat_lr_v1"] != result["predictions"]["models"]["flat_lr"]
    )


def test_content_columns_match_the_schema() -> None:
    declared = [c for c in CONTENT_COLUMNS if schema.rel("MODIFIES").prop(c) is not None]
    assert declared in ([], list(CONTENT_COLUMNS))  # all or none: the loader declares them together
