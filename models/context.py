"""What a change does and what surrounds it: the commit features added in risk v2.

Three groups, each computed as of the commit's time `t` (events strictly before `t`) and
appended to `models.history.COMMIT_FEATURES`, so the flat models (`flat_lr`) see them as well
as the GNN's commit node:

- **content** (`CONTENT_FEATURES`): sums over the changed functions of the git loader's syntax
  deltas (conditions, loops, exception handling, calls and returns added/removed, signature
  changes; `models.dataset.CONTENT_COLUMNS`). Zero where the store has none.
- **function history** (`FUNCTION_HISTORY_FEATURES`): the changed functions' own past: earlier
  changes, distinct earlier authors, age of the oldest, days since the most recent change, the
  share that are new. (Their earlier fixes and bug-introducing changes were already
  `prior_fixes_functions` / `prior_bugs_functions`.)
- **neighbours** (`NEIGHBOUR_FEATURES`): the callers and callees of the changed functions that
  existed at `t` (the same ones, under the same cap, as the ego graph's call neighbours): what
  they have been through: fixes, known bug-introducing changes, tickets and error signatures
  naming them, production traffic and error share. The GNN sees the same facts as neighbour
  node states and passes them as messages; these flat aggregates are there so the ablation
  (`gnn` against `flat_lr`) shows whether message passing adds anything beyond them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from models.dataset import CONTENT_COLUMNS

if TYPE_CHECKING:
    from models.history import History

logger = logging.getLogger(__name__)

__all__ = [
    "CONTENT_FEATURES",
    "FUNCTION_HISTORY_FEATURES",
    "NEIGHBOUR_CAP",
    "NEIGHBOUR_FEATURES",
    "V2_FEATURES",
    "context_features",
]

DAY = 86400.0
CONTENT_FEATURES = CONTENT_COLUMNS
FUNCTION_HISTORY_FEATURES = (
    "fn_changes",
    "fn_ndev",
    "fn_age_days",
    "fn_days_since_last",
    "fn_new_share",
)
NEIGHBOUR_FEATURES = (
    "nbr_count",
    "nbr_fixes",
    "nbr_bugs",
    "nbr_tickets",
    "nbr_errors",
    "nbr_traffic_rate",
    "nbr_error_rate",
)
V2_FEATURES = CONTENT_FEATURES + FUNCTION_HISTORY_FEATURES + NEIGHBOUR_FEATURES
# callers (and callees) per changed function, as `RiskConfig.max_neighbours` for the ego graph
NEIGHBOUR_CAP = 8


def _function_history(h: History, funcs: np.ndarray, t: float) -> list[float]:
    changes, authors, ages, since, new = 0.0, set(), [], [], 0
    for e in funcs.tolist():
        k = h.n_prior(e, t)
        s = h.e_ptr[e]
        if k == 0:
            new += 1
            continue
        changes += k
        authors.update(h.ev_author[s : s + k].tolist())
        ages.append((t - h.ev_t[s]) / DAY)
        since.append((t - h.ev_t[s + k - 1]) / DAY)
    return [
        changes,
        float(len(authors)),
        max(ages) if ages else 0.0,
        min(since) if since else 0.0,
        new / len(funcs) if len(funcs) else 0.0,
    ]


def _neighbours(h: History, funcs: np.ndarray, t: float) -> list[float]:
    own = set(funcs.tolist())
    seen: set[int] = set()
    for e in funcs.tolist():
        callees, callers = h.neighbours(e, t, NEIGHBOUR_CAP)
        seen.update(m for m in (*callees, *callers) if m not in own)
    fixes = bugs = tickets = errors = rate = err = 0.0
    for m in sorted(seen):
        k = h.n_prior(m, t)
        fixes += h._prefix(h.ev_cum_fix, m, k)
        bugs += h.known_bugs(m, t)
        n_tickets, n_errors = h.signals_at(m, t)
        tickets, errors = tickets + n_tickets, errors + n_errors
        r, er = h.traffic_at(m, t)
        rate, err = rate + r, max(err, er)
    return [float(len(seen)), fixes, bugs, tickets, errors, rate, err]


def context_features(h: History, ci: int) -> np.ndarray:
    """V2_FEATURES of commit `ci` as of its own time (raw values)."""
    t = float(h.t[ci])
    lo, hi = h.c_ptr[ci], h.c_ptr[ci + 1]
    ents = h.c_ent[lo:hi]
    is_fn = h.ent_kind[ents]
    funcs = ents[is_fn]
    content = h.c_content[lo:hi][is_fn].sum(0) if len(funcs) else np.zeros(len(CONTENT_FEATURES))
    return np.concatenate(
        [content, _function_history(h, funcs, t), _neighbours(h, funcs, t)]
    ).astype(float)
