"""A backtest a person can read: the risk model as of a cutoff, on the code changes after it.

`backtest(store)` trains the GNN with only what was known at a cutoff (features as of each
commit, labels whose fix was known by then: `fit_gnn`), scores the next `window` code-changing
commits, and ranks the same commits by lines added (the LApredict-style baseline) for
comparison. The cutoff comes from the history itself (`CUTOFF_RULE`): the bug-introducing
commits the graph knows today, never an outside answer key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from graph_service.errors import OperatorError
from graph_service.store.base import GraphReader
from models.config import RiskConfig, torch_threads
from models.dataset import load_tables
from models.egograph import build_egos
from models.history import History
from models.population import code_change_mask
from models.train import eligible_commits, fit_gnn, predict_raw

__all__ = ["CUTOFF_RULE", "Backtest", "backtest", "backtest_history"]

MIN_WINDOW = 10
CUTOFF_RULE = (
    "The window: the code changes centred on the middle one of the bug-introducing code "
    "changes the graph knows today; the cutoff: just before the window."
)


@dataclass
class Backtest:
    """The window's commits in time order, with the model's and the baseline's view of them."""

    cutoff: float  # unix seconds: the newest commit the model learned from
    train_commits: int
    train_bugs: int  # bug-introducing commits known at the cutoff
    shas: list[str] = field(default_factory=list)
    risk: np.ndarray = field(default_factory=lambda: np.zeros(0))  # calibrated probability
    raw: np.ndarray = field(default_factory=lambda: np.zeros(0))  # uncalibrated, for ranking
    lines_added: np.ndarray = field(default_factory=lambda: np.zeros(0))
    t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # commit times
    bug_known_at: np.ndarray = field(default_factory=lambda: np.zeros(0))  # inf: none known
    rule: str = CUTOFF_RULE

    def top(self, k: int = 5, by: str = "model") -> list[int]:
        """Window positions of the `k` highest ranked commits (`by`: model or lines_added);
        ties go to the earlier commit."""
        key = self.raw if by == "model" else self.lines_added
        order = np.lexsort((np.arange(len(key)), -key))
        return [int(i) for i in order[:k]]

    def hits(self, buggy: set[str], k: int = 5, by: str = "model") -> int:
        """How many of `buggy` (full shas) the ranking puts in its top `k`."""
        return sum(self.shas[i] in buggy for i in self.top(k, by))

    def known_buggy(self) -> set[str]:
        """Window commits the graph knows today as bug-introducing."""
        return {s for s, b in zip(self.shas, self.bug_known_at, strict=True) if np.isfinite(b)}


def _cutoff_position(code_ix: np.ndarray, labels: np.ndarray, window: int) -> int:
    """Index into `code_ix` of the first code change after the cutoff (see CUTOFF_RULE)."""
    bugs = np.flatnonzero(labels[code_ix] > 0)
    if len(bugs) == 0:
        raise OperatorError("no bug-introducing code changes known: nothing to backtest against")
    start = int(bugs[(len(bugs) - 1) // 2]) - window // 2
    # keep a full window when the history allows, and something to learn from before it
    return max(1, min(start, len(code_ix) - window))


def backtest_history(h: History, window: int = 30, config: RiskConfig | None = None) -> Backtest:
    """Train as of the cutoff (CUTOFF_RULE) and score the next `window` code changes (at most
    half of the history's code changes)."""
    cfg = config or RiskConfig()
    ix = eligible_commits(h)
    ix = ix[np.argsort(h.t[ix], kind="stable")]
    code_ix = ix[code_change_mask(h)[ix]]
    window = min(window, len(code_ix) // 2)  # keep half the code changes to learn from
    if window < MIN_WINDOW:
        raise OperatorError(
            f"too little history to backtest: {len(code_ix)} code-changing commits "
            f"(need {2 * MIN_WINDOW})"
        )
    pos = _cutoff_position(code_ix, h.labels(math.inf), window)
    test = code_ix[pos : pos + window]
    cutoff = float(np.nextafter(h.t[test[0]], -np.inf))
    train = eligible_commits(h, cutoff)
    known = int(h.labels(cutoff)[train].sum())
    if known == 0:
        raise OperatorError(
            "no bug-introducing commit was known before the backtest's cutoff: load more history"
        )
    model = fit_gnn(h, train, cutoff, cfg)
    with torch_threads(cfg.threads):
        logits, _ = predict_raw(
            model.net, build_egos(h, test, cfg.max_neighbours, cfg.max_entities)
        )
    raw = torch.sigmoid(logits).numpy().astype(float)
    return Backtest(
        cutoff=float(h.t[train].max()),
        train_commits=len(train),
        train_bugs=known,
        shas=[h.commit_uids[int(i)].removeprefix("commit:") for i in test],
        risk=np.asarray(model.calibrator(raw), dtype=float),
        raw=raw,
        lines_added=h.la[test].astype(float),
        t=h.t[test].astype(float),
        bug_known_at=h.bug_known[test].astype(float),
    )


def backtest(store: GraphReader, window: int = 30, config: RiskConfig | None = None) -> Backtest:
    """`backtest_history` on the graph in `store`."""
    return backtest_history(History(load_tables(store)), window, config)
