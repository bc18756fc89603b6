"""As-of correctness: events after t never change a feature or prediction of a change before t."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from graph_service.batch import DeleteNodes, edges, nodes
from graph_service.store import GraphStore
from models.dataset import load_tables
from models.egograph import build_egos
from models.history import History
from models.registry import RiskModel
from models.score import score_commit
from models.train import predict_raw


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _snapshot(
    h: History, model: RiskModel, uids: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ix = [h.commit_ix[u] for u in uids]
    feats = np.stack([h.commit_features(i) for i in ix])
    egos = build_egos(h, ix)
    logits, _ = predict_raw(model.net, egos)
    return feats, egos.raw["function"], torch.sigmoid(logits).numpy()


def _perturb_future(store: GraphStore, h: History, t: float) -> None:
    """Edit, delete and add events strictly after `t`."""
    after = [u for u, ct in zip(h.commit_uids, h.t, strict=True) if ct > t]
    before = [u for u, ct in zip(h.commit_uids, h.t, strict=True) if 0 < ct < t][-40:]
    w = {"loaded_by": "test", "run_id": "perturb"}
    store.write(
        nodes("Commit", [{"uid": u, "lines_added": 999, "is_fix": True} for u in after[5:40]]), **w
    )
    store.write(DeleteNodes("Commit", tuple(after[40:60])), **w)
    late = _ts(h.t[h.commit_ix[after[0]]] + 3600)
    store.write(
        edges(
            "INDUCED",
            "Commit",
            "Commit",
            [
                {
                    "src": b,
                    "dst": after[1],
                    "method": "szz",
                    "fixed_at": late,
                    "source": "git",
                    "confidence": 1.0,
                }
                for b in before
            ],
        ),
        **w,
    )
    targets = [h.ent_uids[e] for u in before for e in h.touched(h.commit_ix[u]) if h.ent_kind[e]]
    store.write(
        nodes(
            "Function", [{"uid": "fn:demo:late.py:newcomer", "name": "newcomer", "path": "late.py"}]
        ),
        **w,
    )
    store.write(
        edges(
            "MODIFIES",
            "Commit",
            "Function",
            [
                {
                    "src": after[2],
                    "dst": "fn:demo:late.py:newcomer",
                    "lines_added": 5,
                    "lines_deleted": 0,
                    "change": "added",
                    "source": "git",
                    "confidence": 1.0,
                },
                *(
                    {
                        "src": after[3],
                        "dst": f,
                        "lines_added": 7,
                        "lines_deleted": 1,
                        "change": "modified",
                        "source": "git",
                        "confidence": 1.0,
                    }
                    for f in targets[:20]
                ),
            ],
        ),
        **w,
    )
    store.write(
        edges(
            "CALLS",
            "Function",
            "Function",
            [
                {"src": "fn:demo:late.py:newcomer", "dst": f, "source": "static", "confidence": 1.0}
                for f in targets[:20]
            ],
        ),
        **w,
    )


def test_future_events_change_nothing_before_t(
    tmp_path: Path, trained: RiskModel, store_factory: Callable[[Path], GraphStore]
) -> None:
    store = store_factory(tmp_path / "g.lbug")
    try:
        h0 = History(load_tables(store))
        t = float(np.quantile(h0.t, 0.6)) + 1.0
        probe = [u for u, ct in zip(h0.commit_uids, h0.t, strict=True) if 0 < ct < t][-150:]
        before = _snapshot(h0, trained, probe)
        scored = [score_commit(store, trained, u).score for u in probe[-3:]]
        _perturb_future(store, h0, t)
        h1 = History(load_tables(store))
        assert len(h1.commit_uids) < len(h0.commit_uids)  # the perturbation really happened
        after = _snapshot(h1, trained, probe)
        for a, b in zip(before, after, strict=True):
            np.testing.assert_array_equal(a, b)
        assert scored == [score_commit(store, trained, u).score for u in probe[-3:]]
    finally:
        store.close()


def test_past_events_do_change_features(
    tmp_path: Path, trained: RiskModel, store_factory: Callable[[Path], GraphStore]
) -> None:
    """The control: the same kind of edit *before* t is visible (the test above can fail)."""
    store = store_factory(tmp_path / "g.lbug")
    try:
        h0 = History(load_tables(store))
        t = float(np.quantile(h0.t, 0.6)) + 1.0
        probe = [u for u, ct in zip(h0.commit_uids, h0.t, strict=True) if 0 < ct < t][-150:]
        before = _snapshot(h0, trained, probe)
        early = [u for u, ct in zip(h0.commit_uids, h0.t, strict=True) if 0 < ct < t][-300:-200]
        store.write(
            edges(
                "INDUCED",
                "Commit",
                "Commit",
                [
                    {
                        "src": b,
                        "dst": probe[0],
                        "method": "szz",
                        "fixed_at": _ts(h0.t[h0.commit_ix[probe[0]]]),
                        "source": "git",
                        "confidence": 1.0,
                    }
                    for b in early
                ],
            ),
            loaded_by="test",
            run_id="p",
        )
        after = _snapshot(History(load_tables(store)), trained, probe)
        assert not np.array_equal(before[0], after[0])
        assert not np.array_equal(before[2], after[2])
    finally:
        store.close()
