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
- **co-change** (`COCHANGE_FEATURES`): the files and functions that changed together with the
  changed ones in their latest earlier commits (`cochange_partners`): how many, how strongly
  the change leaves a habitual partner out, and what the partners have been through (fixes,
  known bug-introducing changes, tickets and error signatures naming them), strictly before `t`.
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
    "COCHANGE_FEATURES",
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
# the files and functions that historically changed together with the changed ones
COCHANGE_FEATURES = (
    "cc_partners",
    "cc_missing_conf",
    "cc_fixes",
    "cc_bugs",
    "cc_tickets",
    "cc_errors",
)
V2_FEATURES = CONTENT_FEATURES + FUNCTION_HISTORY_FEATURES + NEIGHBOUR_FEATURES + COCHANGE_FEATURES
# callers (and callees) per changed function, as `RiskConfig.max_neighbours` for the ego graph
NEIGHBOUR_CAP = 8
# co-change: the latest earlier commits read per changed entity, and partners kept per commit
COCHANGE_RECENT = 16
COCHANGE_CAP = 32
# bounds on the work per change: its largest changes only, and no sweeping earlier commits
# (a mass rename or reformat couples everything with everything and says nothing)
COCHANGE_OWN = 8
COCHANGE_MAX_TOUCHED = 32


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


def cochange_partners(
    h: History, ents: np.ndarray, lines: np.ndarray, t: float
) -> tuple[list[int], float]:
    """The files and functions that changed together with `ents` in their latest
    `COCHANGE_RECENT` earlier commits each, strictly before `t`, not among `ents`: the
    `COCHANGE_CAP` most frequent, and the highest confidence (changes together / changes of
    the entity, at least two together) of a partner this change leaves out. Only the
    `COCHANGE_OWN` entities with the most changed `lines` are followed, and earlier commits
    that are merges or touch more than `COCHANGE_MAX_TOUCHED` entities are skipped."""
    own = set(ents.tolist())
    together: dict[int, int] = {}
    missing = 0.0
    follow = ents[np.argsort(-lines, kind="stable")[:COCHANGE_OWN]] if len(ents) else ents
    for e in follow.tolist():
        k = h.n_prior(e, t)
        if k == 0:
            continue
        s = h.e_ptr[e]
        mine: dict[int, int] = {}
        for c in h.ev_commit[s + max(0, k - COCHANGE_RECENT) : s + k].tolist():
            touched = h.touched(c)
            if h.is_merge[c] or len(touched) > COCHANGE_MAX_TOUCHED:
                continue
            for m in touched.tolist():
                if m not in own and h.ent_kind[m] == h.ent_kind[e]:
                    mine[m] = mine.get(m, 0) + 1
        seen = min(k, COCHANGE_RECENT)
        for m, n in mine.items():
            together[m] = together.get(m, 0) + n
            if n >= 2:
                missing = max(missing, n / seen)
    ranked = sorted(together, key=lambda m: (-together[m], m))[:COCHANGE_CAP]
    return ranked, missing


def _cochange(h: History, ents: np.ndarray, lines: np.ndarray, t: float) -> list[float]:
    partners, missing = cochange_partners(h, ents, lines, t)
    fixes = bugs = tickets = errors = 0.0
    for m in partners:
        fixes += h._prefix(h.ev_cum_fix, m, h.n_prior(m, t))
        bugs += h.known_bugs(m, t)
        n_tickets, n_errors = h.signals_at(m, t)
        tickets, errors = tickets + n_tickets, errors + n_errors
    return [float(len(partners)), missing, fixes, bugs, tickets, errors]


def context_features(h: History, ci: int) -> np.ndarray:
    """V2_FEATURES of commit `ci` as of its own time (raw values)."""
    t = float(h.t[ci])
    lo, hi = h.c_ptr[ci], h.c_ptr[ci + 1]
    ents = h.c_ent[lo:hi]
    is_fn = h.ent_kind[ents]
    funcs = ents[is_fn]
    content = h.c_content[lo:hi][is_fn].sum(0) if len(funcs) else np.zeros(len(CONTENT_FEATURES))
    return np.concatenate(
        [
            content,
            _function_history(h, funcs, t),
            _neighbours(h, funcs, t),
            _cochange(h, ents, h.c_la[lo:hi] + h.c_ld[lo:hi], t),
        ]
    ).astype(float)
