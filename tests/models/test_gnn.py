"""The risk network: ensemble averaging, loading single-network weights, early stopping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from models.config import RiskConfig
from models.egograph import build_egos
from models.explain import attributions
from models.gnn import RiskGNN
from models.history import History
from models.registry import RiskModel, load, save
from models.train import _EarlyStopping, fit_gnn, predict_raw


def _egos(h: History, split: tuple[np.ndarray, np.ndarray, float]):  # type: ignore[no-untyped-def]
    return build_egos(h, split[1][:40])


def test_ensemble_forward_is_the_mean_of_member_logits(
    synth_history: History, split: tuple[np.ndarray, np.ndarray, float]
) -> None:
    egos = _egos(synth_history, split)
    torch.manual_seed(0)
    net = RiskGNN(hidden=8, members=3).eval()
    net.fit_scaler(egos.data.x_dict)
    with torch.no_grad():
        commit, nodes = net(egos.data.x_dict, egos.data.edge_index_dict)
        each = [m(net.scale(egos.data.x_dict), egos.data.edge_index_dict) for m in net.members]
    torch.testing.assert_close(commit, torch.stack([c for c, _ in each]).mean(0))
    torch.testing.assert_close(
        nodes["function"], torch.stack([n["function"] for _, n in each]).mean(0)
    )
    # members are initialised differently, so averaging them is not a no-op
    assert not torch.allclose(each[0][0], each[1][0])


def test_members_must_be_positive() -> None:
    with pytest.raises(ValueError, match="members"):
        RiskGNN(members=0)


def test_single_network_weights_load_into_one_member(
    synth_history: History, split: tuple[np.ndarray, np.ndarray, float]
) -> None:
    """A state_dict written before ensembles (keys without `members.0.`) still loads."""
    egos = _egos(synth_history, split)
    net = RiskGNN(hidden=8).eval()
    net.fit_scaler(egos.data.x_dict)
    old = {k.replace("members.0.", ""): v for k, v in net.state_dict().items()}
    assert "commit_head.weight" in old and "mean_commit" in old
    back = RiskGNN(hidden=8).eval()
    back.load_state_dict(old)
    a, _ = predict_raw(net, egos)
    b, _ = predict_raw(back, egos)
    assert torch.equal(a, b)


def test_pre_ensemble_artefact_loads(tmp_path: Path, trained: RiskModel) -> None:
    """An artefact folder from before ensembles: old keys, no `ensemble` in its config."""
    single = RiskModel(
        net=RiskGNN(trained.config.hidden, trained.config.layers, members=1).eval(),
        config=trained.config.model_copy(update={"ensemble": 1}),
        calibrator=trained.calibrator,
        version="old-layout",
    )
    folder = save(single, tmp_path)
    state = torch.load(folder / "model.pt", weights_only=True)
    torch.save({k.replace("members.0.", ""): v for k, v in state.items()}, folder / "model.pt")
    manifest = json.loads((folder / "config.json").read_text())
    del manifest["config"]["ensemble"], manifest["config"]["patience"]
    (folder / "config.json").write_text(json.dumps(manifest))
    back = load(folder)
    assert len(back.net.members) == 1
    for k, v in single.net.state_dict().items():
        assert torch.equal(v, back.net.state_dict()[k]), k


def test_ensemble_artefact_round_trip_and_explanations(
    tmp_path: Path, synth_history: History, split: tuple[np.ndarray, np.ndarray, float]
) -> None:
    train, _, cutoff = split
    cfg = RiskConfig(epochs=10, hidden=8, ensemble=3)
    model = fit_gnn(synth_history, train, cutoff, cfg, version="ens")
    assert len(model.net.members) == 3
    back = load(save(model, tmp_path))
    assert len(back.net.members) == 3
    egos = _egos(synth_history, split)
    a, _ = predict_raw(model.net, egos)
    b, _ = predict_raw(back.net, egos)
    assert torch.equal(a, b)
    logit, attr = attributions(back.net, build_egos(synth_history, split[1][:1]))
    assert np.isfinite(logit) and np.abs(attr["commit"]).sum() > 0


def test_early_stopping_keeps_each_members_best_weights() -> None:
    net = RiskGNN(hidden=4, members=2)
    stopper = _EarlyStopping(net, patience=2)
    snapshots = []
    for losses in ([1.0, 1.0], [0.5, 2.0], [0.7, 2.0], [0.9, 2.0]):
        snapshots.append([{k: v.clone() for k, v in m.state_dict().items()} for m in net.members])
        stopped = stopper.update(torch.tensor(losses))
        with torch.no_grad():
            for p in net.parameters():
                p.add_(1.0)  # a training step
    assert stopped  # member 0: best at step 1, then 2 worse; member 1: best at step 0
    stopper.restore()
    for i, best_step in ((0, 1), (1, 0)):
        for k, v in net.members[i].state_dict().items():
            assert torch.equal(v, snapshots[best_step][i][k]), (i, k)


def test_early_stopping_waits_for_every_member() -> None:
    stopper = _EarlyStopping(RiskGNN(hidden=4, members=2), patience=2)
    assert not stopper.update(torch.tensor([1.0, 1.0]))
    assert not stopper.update(torch.tensor([2.0, 0.5]))
    assert not stopper.update(torch.tensor([2.0, 0.4]))  # member 1 still improving
    assert stopper.active() == [1]  # member 0 stopped: it trains no further
    assert not stopper.update(torch.tensor([0.6]), [1])
    assert stopper.update(torch.tensor([0.6]), [1])
    assert stopper.active() == []


def test_fused_ensemble_equals_the_mean_of_its_members() -> None:
    from models.egograph import EDGE_TYPES, NODE_DIMS
    from models.gnn import fuse

    torch.manual_seed(3)
    net = RiskGNN(8, 2, 0.1, True, members=4).eval()
    for k in NODE_DIMS:
        getattr(net, f"mean_{k}").normal_()
        getattr(net, f"std_{k}").uniform_(0.5, 2.0)
    n = {"commit": 3, "file": 5, "function": 17, "person": 3}
    x = {k: torch.randn(n[k], d) for k, d in NODE_DIMS.items()}
    edges = {
        et: torch.stack([torch.randint(0, n[et[0]], (12,)), torch.randint(0, n[et[2]], (12,))])
        for et in EDGE_TYPES
    }
    fused = fuse(net)
    assert len(fused.members) == 1 and fused.members[0].hidden == 32
    (a, a_nodes), (b, b_nodes) = net(x, edges), fused(x, edges)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    for k in a_nodes:
        torch.testing.assert_close(a_nodes[k], b_nodes[k], atol=1e-5, rtol=1e-5)
    # gradients w.r.t. the inputs (the explanations) agree too
    grads = []
    for model in (net, fused):
        xs = {k: v.clone().requires_grad_(True) for k, v in x.items()}
        model(xs, edges)[0][0].backward()
        grads.append(xs["commit"].grad)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-5, rtol=1e-5)
    assert fuse(RiskGNN(8, members=1)) is not None
