"""Training the GNN risk model on everything known up to a cutoff; `train(store, settings)`."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from graph_service.errors import CallerError, NotFoundError, OperatorError
from graph_service.settings import Settings
from graph_service.store.base import GraphReader
from models.calibration import IsotonicCalibrator
from models.config import RiskConfig, torch_threads
from models.dataset import GraphTables, load_tables
from models.egograph import EgoBatch, build_egos, subset
from models.gnn import RiskGNN
from models.history import COMMIT_FEATURES, History
from models.registry import RiskModel, save, store_identity

logger = logging.getLogger(__name__)

# who wants to hear about each epoch (a progress bar): (epoch done, most epochs)
_EPOCH_HOOK: ContextVar[Callable[[int, int], None] | None] = ContextVar("epoch_hook", default=None)


@contextmanager
def training_progress(hook: Callable[[int, int], None]) -> Iterator[None]:
    """Call `hook(epoch, epochs)` after every training epoch fitted inside this block."""
    token = _EPOCH_HOOK.set(hook)
    try:
        yield
    finally:
        _EPOCH_HOOK.reset(token)

__all__ = [
    "SMALL_HISTORY",
    "eligible_commits",
    "fit_gnn",
    "node_targets",
    "predict_raw",
    "split_validation",
    "train",
    "train_all",
    "training_progress",
]


# Histories shorter than this (non-merge commits) were where the GNN lost to LApredict on real
# repositories (docs/benchmarks/risk.md, "Small histories"): `train` says so.
SMALL_HISTORY = 1_000


def eligible_commits(h: History, cutoff: float = math.inf) -> np.ndarray:
    """Non-merge commits at or before `cutoff`, in time order (merges are not scored)."""
    return np.flatnonzero((h.t <= cutoff) & ~h.is_merge)


def node_targets(h: History, egos: EgoBatch, kind: str, cutoff: float) -> np.ndarray:
    commits = egos.commits[egos.owner[kind]]
    return np.array(
        [
            h.entity_label(int(c), int(e), cutoff)
            for c, e in zip(commits, egos.entity[kind], strict=True)
        ],
        dtype=np.float32,
    )


def predict_raw(net: RiskGNN, egos: EgoBatch) -> tuple[Tensor, dict[str, Tensor]]:
    net.eval()
    with torch.no_grad():
        return net(egos.data.x_dict, egos.data.edge_index_dict)


def _member_losses(
    net: RiskGNN,
    egos: EgoBatch,
    y: Tensor,
    node_y: dict[str, Tensor],
    pos_w: Tensor,
    node_weight: float,
    members: list[int] | None = None,
) -> Tensor:
    """Training loss of the ensemble members at positions `members` (default: all), shape
    [members]; their sum trains them all: members share no parameters, so each gets exactly
    its own gradient."""
    commit, nodes = net.forward_members(egos.data.x_dict, egos.data.edge_index_dict, members)
    loss = _bce(commit, y, pos_w)
    for kind, logits in nodes.items():
        mask = torch.from_numpy(egos.touched[kind])
        if mask.any() and node_weight > 0:
            loss = loss + node_weight * _bce(logits[:, mask], node_y[kind][mask], pos_w)
    return loss


def _bce(logits: Tensor, y: Tensor, pos_w: Tensor) -> Tensor:
    """Class-weighted binary cross-entropy per row of `logits` [members, n]."""
    per = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, y.expand_as(logits), pos_weight=pos_w, reduction="none"
    )
    return per.mean(-1)


def _egos(h: History, ix: np.ndarray, cfg: RiskConfig, cache: EgoBatch | None) -> EgoBatch:
    if cache is not None:
        return subset(cache, ix)
    return build_egos(h, ix, cfg.max_neighbours, cfg.max_entities)


class _EarlyStopping:
    """Keeps each member's weights from its epoch of lowest validation loss; a member stops
    training once it went `patience` epochs without improving."""

    def __init__(self, net: RiskGNN, patience: int) -> None:
        self.net, self.patience = net, patience
        n = len(net.members)
        self.best = [math.inf] * n
        self.since = [0] * n
        self.states: list[dict[str, Tensor] | None] = [None] * n

    def active(self) -> list[int]:
        """Positions of the members still training."""
        return [i for i, s in enumerate(self.since) if s < self.patience]

    def update(self, val_losses: Tensor, members: list[int] | None = None) -> bool:
        """Record one epoch's validation losses of `members` (default: all); True when every
        member has stopped."""
        for i, v in zip(
            range(len(self.best)) if members is None else members, val_losses.tolist(), strict=True
        ):
            if v < self.best[i]:
                self.best[i], self.since[i] = v, 0
                member = self.net.members[i]
                self.states[i] = {k: t.clone() for k, t in member.state_dict().items()}
            else:
                self.since[i] += 1
        return not self.active()

    def restore(self) -> None:
        for member, state in zip(self.net.members, self.states, strict=True):
            if state is not None:
                member.load_state_dict(state)


def _fit_net(
    h: History,
    fit_ix: np.ndarray,
    val: EgoBatch | None,
    y_val: np.ndarray | None,
    cutoff: float,
    cfg: RiskConfig,
    cache: EgoBatch | None,
) -> RiskGNN:
    """Full-batch Adam on the fit slice; early stopping per member on the validation slice."""
    torch.manual_seed(cfg.seed)
    egos = _egos(h, fit_ix, cfg, cache)
    net = RiskGNN(cfg.hidden, cfg.layers, cfg.dropout, cfg.use_edges, members=cfg.ensemble)
    net.fit_scaler(egos.data.x_dict)
    y = torch.from_numpy(h.labels(cutoff)[fit_ix]).float()
    _fit_size_prior(net, egos.data["commit"].x, y.numpy(), list(cfg.prior_features))
    node_y = {k: torch.from_numpy(node_targets(h, egos, k, cutoff)) for k in ("file", "function")}
    pos = float(y.sum())
    pos_w = torch.tensor(max((len(y) - pos) / max(pos, 1.0), 1.0) ** 0.5)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    stopper = _EarlyStopping(net, cfg.patience)
    yv = torch.from_numpy(y_val).float() if val is not None and y_val is not None else None
    hook = _EPOCH_HOOK.get()
    for epoch in range(cfg.epochs):
        if hook is not None:
            hook(epoch, cfg.epochs)
        active = stopper.active()  # stopped members get no gradient, so Adam leaves them be
        net.train()
        opt.zero_grad()
        losses = _member_losses(net, egos, y, node_y, pos_w, cfg.node_loss_weight, active)
        losses.sum().backward()
        opt.step()
        if val is not None and yv is not None:
            net.eval()
            with torch.no_grad():
                x, ei = val.data.x_dict, val.data.edge_index_dict
                logits, _ = net.forward_members(x, ei, active)
            if stopper.update(_bce(logits, yv, pos_w), active):
                logger.debug("early stop after %d epochs", epoch + 1)
                break
    stopper.restore()
    if hook is not None:
        hook(cfg.epochs, cfg.epochs)  # early stopping ends the bar too
    net.eval()
    return net


def _fit_size_prior(net: RiskGNN, x_commit: Tensor, y: np.ndarray, names: list[str]) -> None:
    """A class-balanced logistic regression of the label on the commit features `names` (log
    scaled already; standardised here, L2-regularised) becomes the network's fixed prior logit,
    expressed back on the unstandardised log features."""
    from sklearn.linear_model import LogisticRegression

    if not names or len(np.unique(y)) < 2:
        return
    cols = [COMMIT_FEATURES.index(k) for k in names]
    x = x_commit[:, cols].numpy().astype(np.float64)
    mean, std = x.mean(0), np.maximum(x.std(0), 1e-3)
    lr = LogisticRegression(max_iter=2000, class_weight="balanced").fit((x - mean) / std, y)
    coef = lr.coef_[0] / std
    w = torch.zeros(x_commit.shape[1])
    w[cols] = torch.from_numpy(coef).float()
    net.set_prior(w, float(lr.intercept_[0] - (coef * mean).sum()))


def split_validation(
    h: History, train_ix: np.ndarray, share: float
) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation): the validation slice is the time-latest `share` of `train_ix`."""
    train_ix = train_ix[np.argsort(h.t[train_ix], kind="stable")]
    n_val = max(1, int(len(train_ix) * share)) if len(train_ix) > 10 else 0
    return train_ix[: len(train_ix) - n_val], train_ix[len(train_ix) - n_val :]


def fit_gnn(
    h: History,
    train_ix: np.ndarray,
    cutoff: float,
    cfg: RiskConfig,
    version: str = "",
    fingerprint: str = "",
    cache: EgoBatch | None = None,
) -> RiskModel:
    """Fit on the time-earlier part of `train_ix`, calibrate on its time-latest slice.

    Labels are those known at `cutoff` (INDUCED.fixed_at / incident creation <= cutoff).
    `cache` (egos of a superset of commits, e.g. all of them) avoids rebuilding ego graphs.
    """
    fit_ix, val_ix = split_validation(h, train_ix, cfg.validation_share)
    n_val = len(val_ix)
    if len(fit_ix) == 0:
        raise OperatorError("not enough commits to train a risk model")
    labels = h.labels(cutoff)
    val = _egos(h, val_ix, cfg, cache) if n_val else None
    y_val = labels[val_ix] if n_val else None
    with torch_threads(cfg.threads):
        net = _fit_net(h, fit_ix, val, y_val, cutoff, cfg, cache)
        calibrator = IsotonicCalibrator()
        if val is not None and y_val is not None and calibrator.fits(y_val):
            logits, _ = predict_raw(net, val)
            calibrator.fit(torch.sigmoid(logits).numpy(), y_val)
        elif calibrator.fits(labels[train_ix]):
            # the time-latest slice has one class (recent bugs are not fixed yet, so unlabelled):
            # calibrate on the whole training window rather than predicting a constant
            logger.info("validation slice has one class: calibrating on the training window")
            all_egos = _egos(h, train_ix, cfg, cache)
            logits, _ = predict_raw(net, all_egos)
            calibrator.fit(torch.sigmoid(logits).numpy(), labels[train_ix])
    return RiskModel(
        net=net,
        config=cfg,
        calibrator=calibrator,
        version=version or time.strftime("%Y%m%dT%H%M%S", time.gmtime()),
        fingerprint=fingerprint,
        cutoff=None if math.isinf(cutoff) else cutoff,
    )


def _repositories(tables: GraphTables) -> list[str]:
    return sorted({r for r in tables.commits["repo"].tolist() if r})


def train(
    store: GraphReader,
    settings: Settings,
    config: RiskConfig | None = None,
    *,
    repo: str | None = None,
    pooled: bool = False,
) -> Path:
    """Train on the graph (labels known now) and save under `settings.model_dir`.

    The model records the store it was trained on (`registry.store_identity`), its
    repositories and the data fingerprint. In a store holding several repositories, give
    `repo` (a model of that repository's commits) or `pooled=True` (one model of all of them);
    `train_all` trains one per repository.
    """
    tables = load_tables(store)
    repos = _repositories(tables)
    if repo is None and not pooled and len(repos) > 1:
        raise CallerError(
            f"the store holds {len(repos)} repositories ({', '.join(repos)}): train one model "
            "per repository (`prodgraph train`, or `--repo NAME`) or a pooled one (`--pooled`)"
        )
    if repo is not None and repo not in repos:
        raise NotFoundError(f"no commits of repository {repo!r} in the graph (have: {repos})")
    here = store_identity(settings, store)
    return _train_on(tables, settings, config or RiskConfig(), repo, repos, pooled, here)


def train_all(
    store: GraphReader, settings: Settings, config: RiskConfig | None = None, pooled: bool = False
) -> list[Path]:
    """One model per repository of the store (or one pooled model): their artefact folders."""
    tables = load_tables(store)
    repos = _repositories(tables)
    cfg = config or RiskConfig()
    here = store_identity(settings, store)
    if pooled or len(repos) <= 1:
        return [_train_on(tables, settings, cfg, None, repos, pooled, here)]
    return [_train_on(tables, settings, cfg, r, repos, False, here) for r in repos]


def _train_on(
    tables: GraphTables,
    settings: Settings,
    cfg: RiskConfig,
    repo: str | None,
    repos: list[str],
    pooled: bool,
    identity: str,
) -> Path:
    h = History(tables)
    ix = eligible_commits(h)
    if repo is not None:
        ix = ix[tables.commits["repo"].to_numpy()[ix] == repo]
    known = int(h.labels()[ix].sum())
    if len(ix) < 10 or known == 0:
        raise OperatorError(
            f"cannot train{f' on {repo}' if repo else ''}: {len(ix)} commits and {known} known "
            "bug-introducing commits in the graph (load git history with fixes first)"
        )
    if len(ix) < SMALL_HISTORY:
        logger.warning(
            "%d commits to learn from: below about %d the risk model can rank changes worse "
            "than lines added alone (LApredict). Loading other repositories into the same "
            "store and training with --pooled learns from their history too; `prodgraph eval "
            "risk --repo PATH --pool OTHER...` measures both ways",
            len(ix),
            SMALL_HISTORY,
        )
    fp = tables.fingerprint()
    version = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + fp[:8]
    if repo is not None and len(repos) > 1:
        version += f"-{repo}"
    model = fit_gnn(h, ix, math.inf, cfg, version=version, fingerprint=fp)
    model.cutoff = float(h.t[ix].max())
    model.store = identity  # registry.store_identity of the store trained on
    model.repositories = [repo] if repo is not None else repos
    model.pooled = pooled and len(repos) > 1
    return save(model, settings.model_dir)
