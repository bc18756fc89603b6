"""The suspect scorer: a documented default weighting, or a logistic regression fitted on
past tickets whose fixing commits say which functions and files were at fault."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from graph_service.store.base import GraphReader
from graph_service.triage.code_index import StoreCache
from graph_service.triage.models import TicketInput, TriageConfig
from graph_service.triage.signals import FUNCTION_SIGNALS

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_WEIGHTS", "Scorer", "fit_scorer", "scorer_for"]

# Default weighting (no labelled history): a frame in the trace dominates, then the error's
# known location and past fixes, then text and history. Test code and files that hold no
# code (documents, lock files, images) are pushed down.
DEFAULT_WEIGHTS: dict[str, float] = {
    "trace": 3.0,
    "trace_line": 0.5,
    "raised_in": 2.0,
    "neighbor": 0.8,
    "callee": 1.0,
    "bm25": 1.5,
    "file_bm25": 0.75,
    "body_bm25": 1.0,
    "name_mention": 1.0,
    "path_mention": 1.0,
    "recent_change": 0.3,
    "churn": 0.15,
    # shown as evidence and fitted by the learned scorer; no measurable gain by default
    "fix_history": 0.0,
    "deploy": 1.0,
    "past_fix": 1.5,
    "same_error_fix": 2.0,
    "is_test": -1.5,
    "non_code": -1.0,
}

_TRAINING = (
    "MATCH (c:Commit)-[:FIXES]->(t:Ticket) WHERE t.created_at IS NOT NULL "
    "RETURN DISTINCT t.uid AS uid, t.title AS title, t.body AS body, t.created_at AS created "
    "ORDER BY created DESC LIMIT $n"
)


@dataclass
class Scorer:
    """A linear score over the signals (a logit when learned)."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    bias: float = 0.0
    name: str = "default"
    trained_on: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        return FUNCTION_SIGNALS

    def score(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return np.zeros(0)
        w = np.array([self.weights.get(n, 0.0) for n in self.names])
        return x @ w + self.bias


def fit_scorer(store: GraphReader, config: TriageConfig, max_tickets: int = 200) -> Scorer | None:
    """Fit on past tickets with FIXES edges; None when there are too few of them.

    Each past ticket is triaged as of its creation time (later commits and tickets are not
    visible to it); the candidates its fixing commits modified are the positives.
    """
    from graph_service.triage.engine import collect, static_signals
    from graph_service.triage.fixes import fixes_of

    rows = store.query(_TRAINING, {"n": max_tickets}).rows()
    if len(rows) < config.min_training_tickets:
        return None
    plain = config.model_copy(update={"learned": False})
    xs: list[list[float]] = []
    ys: list[int] = []
    used = 0
    for r in rows:
        gold = {u for f in fixes_of(store, [r["uid"]]) for u in f.functions + f.files}
        if not gold:
            continue
        t = TicketInput(
            title=r["title"] or "", body=r["body"] or "", created=r["created"], uid=r["uid"]
        )
        _, code, cands, _ = collect(store, t, plain)
        static_signals(code, cands)
        hit = False
        for table, uids in ((cands.fn, code.fn_uid), (cands.file, code.file_uid)):
            for key, sig in table.items():
                xs.append([sig.get(n, 0.0) for n in FUNCTION_SIGNALS])
                ys.append(int(uids[key] in gold))
                hit = hit or ys[-1] == 1
        used += int(hit)
    if used < config.min_training_tickets or len(set(ys)) < 2:
        logger.info("scorer: %d usable labelled tickets, keeping the default weighting", used)
        return None
    from sklearn.linear_model import LogisticRegression  # seconds to import: only to fit

    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=500)
    model.fit(np.array(xs), np.array(ys))
    weights = dict(zip(FUNCTION_SIGNALS, (float(w) for w in model.coef_[0]), strict=True))
    logger.info("scorer: fitted on %d tickets, %d candidates", used, len(ys))
    return Scorer(weights, float(model.intercept_[0]), "learned", used)


_SCORERS: StoreCache[Scorer] = StoreCache()


def scorer_for(store: GraphReader, config: TriageConfig) -> Scorer:
    """The learned scorer for `store` when possible (cached per store stamp), else the default."""
    if not config.learned:
        return Scorer()
    return _SCORERS.get(store, lambda: fit_scorer(store, config) or Scorer())
