"""As-of history: features of a change computed only from what existed at the change's time.

`History(tables)` indexes the events of `GraphTables` once (per-entity sorted event times with
prefix sums). Every query takes a time `t` and looks only at events strictly before `t`
(`np.searchsorted(..., side="left")`): prior churn, prior fixes, bugs known before `t`
(a label exists from its `known_at`, i.e. when the fix landed or the incident was opened),
author experience, Kamei's 14 change metrics, fan-in/fan-out and production traffic.

Static CALLS edges come from the code at head. To keep them from leaking the future into old
changes, an endpoint counts at `t` only if it existed at `t`: its first MODIFIES event is at
or before `t`. Functions with no MODIFIES event at all have an unknown birth and never count.
A call edge between two functions that both existed at `t` may still have been added later;
that residual approximation is documented in docs/risk.md.

Functions keep their identity through file renames (`GraphTables.renames`): a function changed
as `a.py:f` before `a.py` became `b.py` is the head's `b.py:f`, so its calls are the head's
calls of `b.py:f`, and a function's birth is that of its oldest name (see `_index_lineage`).
"""

from __future__ import annotations

import copy
import logging
import math
from collections import defaultdict
from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.context import V2_FEATURES, context_features
from models.dataset import CONTENT_COLUMNS, GraphTables, file_of

logger = logging.getLogger(__name__)

__all__ = [
    "COMMIT_FEATURES",
    "ENTITY_FEATURES",
    "KAMEI_FEATURES",
    "PERSON_FEATURES",
    "V2_ENTITY_FEATURES",
    "V2_FEATURES",
    "History",
]

DAY = 86400.0
YEAR = 365.25 * DAY
KAMEI_FEATURES = (
    "ns",
    "nd",
    "nf",
    "entropy",
    "la",
    "ld",
    "lt",
    "fix",
    "ndev",
    "age",
    "nuc",
    "exp",
    "rexp",
    "sexp",
)
EXTRA_FEATURES = (
    "n_functions",
    "prior_bugs_files",
    "prior_bugs_functions",
    "prior_fixes_files",
    "prior_fixes_functions",
    "author_bugs",
    "author_file_first",
    "fan_in",
    "fan_out",
    "traffic_rate",
    "error_rate",
    "is_merge",
)
# risk v2 (models.context): what the change does, its functions' history, their neighbours
COMMIT_FEATURES = KAMEI_FEATURES + EXTRA_FEATURES + V2_FEATURES
ENTITY_FEATURES = (
    "changes",
    "churn",
    "fixes",
    "bugs",
    "ndev",
    "days_since_last",
    "age_days",
    "la",
    "ld",
    "fan_in",
    "fan_out",
    "traffic_rate",
    "error_rate",
    "is_new",
    "author_changes",
    "touched",
    "tickets",
    "errors",
    *CONTENT_COLUMNS,
)
# the features added in risk v2: zeroed together for the with/without ablation
V2_ENTITY_FEATURES = ("tickets", "errors", *CONTENT_COLUMNS)
PERSON_FEATURES = ("exp", "rexp", "bugs", "fixes")


def _csr(keys: np.ndarray, n: int) -> np.ndarray:
    """Row pointers for rows already sorted by `keys` in [0, n)."""
    return np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=n))]).astype(np.int64)


def subsystem(path: str) -> str:
    return path.split("/", 1)[0] if "/" in path else "."


def directory(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "."


class History:
    """Indexed events with as-of queries (see module docstring)."""

    def __init__(self, tables: GraphTables) -> None:
        self.tables = tables
        c = tables.commits
        self.commit_uids: list[str] = c["uid"].tolist()
        self.commit_ix = {u: i for i, u in enumerate(self.commit_uids)}
        self.t = c["t"].to_numpy(dtype=float)
        self.la = c["la"].to_numpy(dtype=float)
        self.ld = c["ld"].to_numpy(dtype=float)
        self.nf_prop = c["nf"].to_numpy(dtype=float)
        self.is_merge = c["is_merge"].to_numpy(dtype=bool)
        authors = pd.Categorical(c["author"])
        self.author_uids: list[str] = list(authors.categories)
        self.author = authors.codes.astype(np.int64)
        self.is_fix = c["is_fix"].to_numpy(dtype=bool).copy()
        fix_dst = tables.induced.loc[tables.induced["method"] != "deployment", "dst"]
        for uid in fix_dst:
            if uid in self.commit_ix:
                self.is_fix[self.commit_ix[uid]] = True
        # code-changing commits (models.population); complete only when `tables` hold every
        # MODIFIES row of a commit (a neighbourhood holds a commit's rows of the touched
        # entities only, so features never depend on it)
        self.code_change = self._code_changes(tables.modifies)
        # a reformatting commit (the git loader's `cosmetic`) changes no code
        self.cosmetic = np.zeros(len(c), dtype=bool)
        if "cosmetic" in c.columns:
            self.cosmetic = c["cosmetic"].fillna(False).to_numpy(dtype=bool)
        self.code_change &= ~self.cosmetic
        self._index_entities(tables)
        self._index_bugs(tables.induced)
        self._index_authors()
        self._index_lineage(tables.renames)
        self._index_calls(tables.calls)
        self._index_traffic(tables.traffic)
        self._index_signals(tables.signals)

    # ---- indexing -----------------------------------------------------------------------
    def _code_changes(self, modifies: pd.DataFrame) -> np.ndarray:
        """Per commit: touches a code file (`models.population.is_code_path`) with a changed
        line (the git loader counts no cosmetic lines)."""
        from models.population import is_code_path

        files = modifies[(modifies["kind"] == "file") & (modifies["la"] + modifies["ld"] > 0)]
        code = files.loc[files["path"].map(is_code_path).astype(bool), "commit"].unique()
        return np.isin(np.array(self.commit_uids, dtype=object), code)

    def _index_entities(self, tables: GraphTables) -> None:
        m = tables.modifies.copy()
        m["row"] = np.arange(len(m))  # position in tables.modifies, for neighbourhood slices
        m = m[m["commit"].isin(self.commit_ix)]
        extra = pd.concat([tables.calls["src"], tables.calls["dst"], tables.traffic["function"]])
        last = m.drop_duplicates("entity", keep="last")  # the newest path/name of each entity
        known = dict(
            zip(
                last["entity"].tolist(),
                zip(
                    last["kind"].tolist(), last["path"].tolist(), last["name"].tolist(), strict=True
                ),
                strict=True,
            )
        )
        for uid in extra.astype(str).unique():
            known.setdefault(uid, ("function", "", uid.rsplit(":", 1)[-1]))
        self.ent_uids = sorted(known)  # uid order: independent of query result order
        self.ent_ix = {u: i for i, u in enumerate(self.ent_uids)}
        self.ent_kind = np.array([known[u][0] == "function" for u in self.ent_uids], dtype=bool)
        self.ent_path = [known[u][1] for u in self.ent_uids]
        self.ent_name = [known[u][2] for u in self.ent_uids]
        n_ent = len(self.ent_uids)
        m["ci"] = m["commit"].map(self.commit_ix).astype(np.int64)
        m["ei"] = m["entity"].map(self.ent_ix).astype(np.int64)
        m["t"] = self.t[m["ci"].to_numpy()]
        by_c = m.sort_values(["ci", "ei"])
        self.c_ptr = _csr(by_c["ci"].to_numpy(), len(self.commit_uids))
        self.c_ent = by_c["ei"].to_numpy()
        self.c_la = by_c["la"].to_numpy(dtype=float)
        self.c_ld = by_c["ld"].to_numpy(dtype=float)
        self.c_row = by_c["row"].to_numpy()
        self.c_content = np.zeros((len(by_c), len(CONTENT_COLUMNS)))
        for j, col in enumerate(CONTENT_COLUMNS):
            if col in by_c.columns:
                self.c_content[:, j] = by_c[col].fillna(0).to_numpy(dtype=float)
        by_e = m.sort_values(["ei", "t", "ci"])
        ei = by_e["ei"].to_numpy()
        self.e_ptr = _csr(ei, n_ent)
        self.ev_t = by_e["t"].to_numpy(dtype=float)
        self.ev_commit = by_e["ci"].to_numpy()
        self.ev_author = self.author[self.ev_commit]
        self.ev_row = by_e["row"].to_numpy()
        churn = (by_e["la"] + by_e["ld"]).to_numpy(dtype=float)
        net = (by_e["la"] - by_e["ld"]).to_numpy(dtype=float)
        fix = self.is_fix[self.ev_commit].astype(float)
        self.ev_cum_churn = self._seg_cumsum(churn)
        self.ev_cum_net = self._seg_cumsum(net)
        self.ev_cum_fix = self._seg_cumsum(fix)
        first = ~pd.DataFrame({"e": ei, "a": self.ev_author}).duplicated().to_numpy()
        self.ev_cum_newdev = self._seg_cumsum(first.astype(float))
        self.born = np.full(n_ent, np.inf)
        has = np.diff(self.e_ptr) > 0
        self.born[has] = self.ev_t[self.e_ptr[:-1][has]]
        # (author, entity) -> sorted event times, as one sorted key array (no per-pair objects)
        key = self.ev_author.astype(np.int64) * max(n_ent, 1) + ei
        order = np.lexsort((self.ev_t, key))
        self._ae_key = key[order]
        self._ae_t = self.ev_t[order]

    def author_entity_times(self, author: int, e: int) -> np.ndarray | None:
        """Sorted times at which `author` changed entity `e` (None if never)."""
        k = author * max(len(self.ent_uids), 1) + e
        lo = int(np.searchsorted(self._ae_key, k, side="left"))
        hi = int(np.searchsorted(self._ae_key, k, side="right"))
        return self._ae_t[lo:hi] if hi > lo else None

    def _seg_cumsum(self, values: np.ndarray) -> np.ndarray:
        """Inclusive prefix sums restarted at each entity segment, with a leading 0 per segment
        folded in: value at k is the sum of the segment's events before position k."""
        total = np.concatenate([[0.0], np.cumsum(values)])
        out = np.empty(len(values) + 1)
        out[:] = total
        return out

    def _prefix(self, cum: np.ndarray, e: int, k: int) -> float:
        """Sum of the first `k` events of entity `e` from a global prefix array."""
        start = self.e_ptr[e]
        return float(cum[start + k] - cum[start])

    def _index_bugs(self, induced: pd.DataFrame) -> None:
        known = induced[induced["src"].isin(self.commit_ix)]
        first = known.groupby("src")["known_at"].min()
        self.bug_known = np.full(len(self.commit_uids), np.inf)
        for uid, when in first.items():
            self.bug_known[self.commit_ix[uid]] = when
        ents: dict[int, list[float]] = defaultdict(list)
        auth: dict[int, list[float]] = defaultdict(list)
        for ci in np.flatnonzero(np.isfinite(self.bug_known)):
            for e in self.c_ent[self.c_ptr[ci] : self.c_ptr[ci + 1]]:
                ents[int(e)].append(self.bug_known[ci])
            auth[int(self.author[ci])].append(self.bug_known[ci])
        self.ent_bugs = {e: np.sort(v) for e, v in ents.items()}
        self.author_bugs = {a: np.sort(v) for a, v in auth.items()}
        fixes: dict[int, set[int]] = defaultdict(set)
        for src, dst in zip(known["src"], known["dst"], strict=True):
            if dst in self.commit_ix:
                d = self.commit_ix[dst]
                fixes[self.commit_ix[src]].update(
                    self.c_ent[self.c_ptr[d] : self.c_ptr[d + 1]].tolist()
                )
        self.fixed_entities = fixes
        self.induced_known = known

    def _index_authors(self) -> None:
        order = np.lexsort((self.t, self.author))
        self.a_ptr = _csr(self.author[order], len(self.author_uids))
        self.a_commit = order
        self.a_t = self.t[order]
        self.a_fix = np.concatenate([[0.0], np.cumsum(self.is_fix[order].astype(float))])
        subs: dict[tuple[int, str], list[float]] = defaultdict(list)
        for ci in range(len(self.commit_uids)):
            for s in {subsystem(self.ent_path[e]) for e in self._files(ci)}:
                subs[(int(self.author[ci]), s)].append(self.t[ci])
        self.author_sub = {k: np.sort(v) for k, v in subs.items()}

    def _index_lineage(self, renames: pd.DataFrame) -> None:
        """Functions that are one function under several names, through file renames.

        A function changed in `a.py` before `a.py` became `b.py` (and perhaps `c.py`) is the
        same function as `b.py`'s one of the same qualified name. `lin[e]` names the lineage of
        entity `e` (its smallest member), `lin_born` the lineage's first event; `lin_members`
        lists, for lineages of more than one name, the members in order of birth. Call edges
        (from the head snapshot) are indexed per lineage, so a change to an older name sees
        the calls of the function it became, and each neighbour as it was named at the time.
        """
        n = len(self.ent_uids)
        root = np.arange(n)

        def find(x: int) -> int:
            while root[x] != x:
                root[x] = root[root[x]]
                x = int(root[x])
            return x

        moves: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for commit, old, new in renames[["commit", "old", "new"]].itertuples(index=False):
            ci = self.commit_ix.get(commit)
            if ci is not None:
                moves[old].append((float(self.t[ci]), new))
        for v in moves.values():
            v.sort()
        moved = {old.split(":", 2)[-1] for old in moves}  # paths renamed away
        candidates = [
            e
            for e in np.flatnonzero(self.ent_kind & (np.diff(self.e_ptr) > 0))
            if self.ent_path[e] in moved
        ]
        linked: set[int] = set()
        for e in candidates:
            uid, q = self.ent_uids[e], self.ent_name[e]
            file = file_of(uid)
            if file is None or uid.rpartition(":")[2] != q:
                continue
            cur, t0 = file, self.ev_t[self.e_ptr[e + 1] - 1]
            for _ in range(64):  # a chain of renames (bounded: a cycle of renames ends here)
                step = next(((t, f) for t, f in moves.get(cur, ()) if t >= t0), None)
                if step is None:
                    break
                t0, cur = step
                j = self.ent_ix.get(f"fn:{cur[5:]}:{q}")
                if j is not None:
                    a, b = find(int(e)), find(j)
                    root[max(a, b)] = min(a, b)
                    linked.update((int(e), j))
        self.lin = np.arange(n, dtype=np.int64)
        for x in linked:
            self.lin[x] = find(x)
        self.lin_born = np.full(n, np.inf)
        np.minimum.at(self.lin_born, self.lin, self.born)
        self.lin_members: dict[int, np.ndarray] = {}
        if linked:
            members = np.array(sorted(linked), dtype=np.int64)
            members = members[np.lexsort((self.born[members], self.lin[members]))]
            reps = self.lin[members]
            starts = np.flatnonzero(np.r_[True, reps[1:] != reps[:-1]])
            for group in np.split(members, starts[1:]):
                self.lin_members[int(self.lin[group[0]])] = group  # oldest name first

    def _as_named_at(self, r: int, t: float) -> int:
        """The member of lineage `r` that was its name at `t` (the latest born by then)."""
        members = self.lin_members.get(r)
        if members is None:
            return r
        k = int(np.searchsorted(self.born[members], t, side="right"))
        return int(members[max(k - 1, 0)])

    def _index_calls(self, calls: pd.DataFrame) -> None:
        """`callees`/`callers`: the CALLS edges as stored; `lin_callees`/`lin_callers`: the
        same edges between lineages (what fan-in/fan-out and ego graphs count), an edge from
        its earliest `since` on (the time its call line took its current form)."""
        src = calls["src"].map(self.ent_ix).to_numpy(dtype=np.int64)
        dst = calls["dst"].map(self.ent_ix).to_numpy(dtype=np.int64)
        n = len(self.ent_uids)
        self.callees = self._adjacency(src, dst, n)
        self.callers = self._adjacency(dst, src, n)
        self.callee_rows = np.lexsort((dst, src))  # rows of `calls`, in adjacency order
        self.caller_rows = np.lexsort((src, dst))
        since = np.full(len(src), -np.inf)
        if "since" in calls.columns:
            since = np.nan_to_num(calls["since"].to_numpy(dtype=float), nan=-np.inf)
        edges = pd.DataFrame({"a": self.lin[src], "b": self.lin[dst], "since": since})
        edges = edges.groupby(["a", "b"], as_index=False)["since"].min()  # earliest call site
        a, b = edges["a"].to_numpy(np.int64), edges["b"].to_numpy(np.int64)
        w = edges["since"].to_numpy(float)
        self.lin_callees = self._adjacency(a, b, n)
        self.lin_callers = self._adjacency(b, a, n)
        self.lin_callee_since = w[np.lexsort((b, a))]
        self.lin_caller_since = w[np.lexsort((a, b))]

    def lineage(self, e: int) -> list[int]:
        """Every entity that is `e` under another name (with `e`), oldest first."""
        members = self.lin_members.get(int(self.lin[e]))
        return [e] if members is None else members.tolist()

    def _adjacency(self, a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        order = np.lexsort((b, a))
        return _csr(a[order], n), b[order]

    def _index_traffic(self, traffic: pd.DataFrame) -> None:
        self.traffic: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
        self.traffic_rows: dict[int, list[int]] = defaultdict(list)
        for row, (f, first, rate, err) in enumerate(traffic.itertuples(index=False)):
            if f in self.ent_ix:
                self.traffic[self.ent_ix[f]].append((first, rate, err))
                self.traffic_rows[self.ent_ix[f]].append(row)

    def _index_signals(self, signals: pd.DataFrame) -> None:
        """Tickets (bugs, incidents) and error signatures naming an entity, by the time each
        became known (`models.dataset.signals_frame`)."""
        self.signal_times: dict[tuple[int, str], np.ndarray] = {}
        grouped: dict[tuple[int, str], list[float]] = defaultdict(list)
        for uid, when, kind in signals[["entity", "t", "kind"]].itertuples(index=False):
            e = self.ent_ix.get(uid)
            if e is not None and np.isfinite(when):
                grouped[(e, str(kind))].append(float(when))
        self.signal_times = {k: np.sort(v) for k, v in grouped.items()}

    def signals_at(self, e: int, t: float) -> tuple[int, int]:
        """(tickets, error signatures) naming entity `e` known strictly before `t`."""
        counts = []
        for kind in ("ticket", "error"):
            arr = self.signal_times.get((e, kind))
            counts.append(0 if arr is None else int(np.searchsorted(arr, t, side="left")))
        return counts[0], counts[1]

    # ---- a proposed change -------------------------------------------------------------
    def with_change(
        self,
        uid: str,
        t: float,
        author: str | None,
        touched: Mapping[str, tuple[float, float]],
        totals: tuple[float, float, float],
    ) -> History | None:
        """A view of this history plus one proposed commit `uid` at `t` touching `touched`
        (entity uid -> lines added, deleted), with `totals` = (lines added, deleted, files).

        Features as of `t` only count events strictly before `t`, so the view shares every
        event index with this history and copies only per-commit arrays (a few per cent of
        the index). Scores equal those of a History rebuilt with the commit added. None when a
        touched entity is unknown here (the caller rebuilds from the store instead).
        """
        if any(u not in self.ent_ix for u in touched):
            return None
        pairs = sorted((self.ent_ix[u], la, ld) for u, (la, ld) in touched.items())
        ents = np.array([e for e, _, _ in pairs], dtype=np.int64)
        h = copy.copy(self)
        ci = len(self.commit_uids)
        h.commit_uids = [*self.commit_uids, uid]
        h.commit_ix = {**self.commit_ix, uid: ci}
        la, ld, nf = totals
        h.t, h.la, h.ld = np.append(self.t, t), np.append(self.la, la), np.append(self.ld, ld)
        h.nf_prop = np.append(self.nf_prop, nf)
        h.is_merge, h.is_fix = np.append(self.is_merge, False), np.append(self.is_fix, False)
        h.code_change = np.append(self.code_change, True)
        h.bug_known = np.append(self.bug_known, np.inf)
        who = author or "person:unknown"
        if who in self.author_uids:
            a = self.author_uids.index(who)
        else:  # a first-time author: no commits, no history
            a = len(self.author_uids)
            h.author_uids = [*self.author_uids, who]
            h.a_ptr = np.append(self.a_ptr, self.a_ptr[-1])
        h.author = np.append(self.author, a)
        h.c_ptr = np.append(self.c_ptr, self.c_ptr[-1] + len(ents))
        h.c_ent = np.concatenate([self.c_ent, ents])
        h.c_la = np.concatenate([self.c_la, [float(x) for _, x, _ in pairs]])
        h.c_ld = np.concatenate([self.c_ld, [float(x) for _, _, x in pairs]])
        h.c_row = np.concatenate([self.c_row, np.full(len(ents), -1, dtype=self.c_row.dtype)])
        h.c_content = np.concatenate([self.c_content, np.zeros((len(ents), len(CONTENT_COLUMNS)))])
        h.cosmetic = np.append(self.cosmetic, False)
        if np.any(self.born[ents] > t):  # an entity this change brings to life exists from t
            h.born = self.born.copy()
            h.born[ents] = np.minimum(h.born[ents], t)
            h.lin_born = self.lin_born.copy()
            np.minimum.at(h.lin_born, self.lin[ents], t)
        return h

    # ---- queries ------------------------------------------------------------------------
    def touched(self, ci: int) -> np.ndarray:
        return self.c_ent[self.c_ptr[ci] : self.c_ptr[ci + 1]]

    def _files(self, ci: int) -> list[int]:
        return [int(e) for e in self.touched(ci) if not self.ent_kind[e]]

    def n_prior(self, e: int, t: float) -> int:
        return int(np.searchsorted(self.ev_t[self.e_ptr[e] : self.e_ptr[e + 1]], t, side="left"))

    def known_bugs(self, e: int, t: float) -> int:
        arr = self.ent_bugs.get(e)
        return 0 if arr is None else int(np.searchsorted(arr, t, side="left"))

    def neighbours(self, e: int, t: float, cap: int) -> tuple[list[int], list[int]]:
        """Callees and callers of function `e` that existed at `t` (at most `cap` each), each
        under its name at `t`; a call counts only when its line took its form strictly before
        `t` (a commit does not see the calls it writes itself)."""
        out = []
        r = self.lin[e]
        for (ptr, nbr), since in (
            (self.lin_callees, self.lin_callee_since),
            (self.lin_callers, self.lin_caller_since),
        ):
            lo, hi = ptr[r], ptr[r + 1]
            row = nbr[lo:hi][(self.lin_born[nbr[lo:hi]] <= t) & (since[lo:hi] < t)]
            out.append([self._as_named_at(int(m), t) for m in row[:cap]])
        return out[0], out[1]

    def fan(self, e: int, t: float) -> tuple[int, int]:
        r = self.lin[e]
        if not self.ent_kind[e] or self.lin_born[r] > t:
            return 0, 0
        fan_in, fan_out = (
            int(
                np.count_nonzero(
                    (self.lin_born[nbr[ptr[r] : ptr[r + 1]]] <= t)
                    & (since[ptr[r] : ptr[r + 1]] < t)
                )
            )
            for (ptr, nbr), since in (
                (self.lin_callers, self.lin_caller_since),
                (self.lin_callees, self.lin_callee_since),
            )
        )
        return fan_in, fan_out

    def traffic_at(self, e: int, t: float) -> tuple[float, float]:
        live = [(r, err) for first, r, err in self.traffic.get(e, ()) if first < t]
        if not live:
            return 0.0, 0.0
        return sum(r for r, _ in live), max(err for _, err in live)

    def entity_state(
        self,
        e: int,
        t: float,
        author: int,
        la: float = 0.0,
        ld: float = 0.0,
        touched: bool = True,
        content: np.ndarray | None = None,
    ) -> np.ndarray:
        """ENTITY_FEATURES of entity `e` as of `t` (raw, before log/standardisation);
        `content`: what the change does to it (CONTENT_COLUMNS), for a touched function."""
        k = self.n_prior(e, t)
        start = self.e_ptr[e]
        last = self.ev_t[start + k - 1] if k else t
        first = self.ev_t[start] if k else t
        fan_in, fan_out = self.fan(e, t)
        rate, err = self.traffic_at(e, t)
        ae = self.author_entity_times(author, e)
        a_k = 0 if ae is None else int(np.searchsorted(ae, t, side="left"))
        tickets, errors = self.signals_at(e, t)
        own = np.zeros(len(CONTENT_COLUMNS)) if content is None else content
        base = np.array(
            [
                k,
                self._prefix(self.ev_cum_churn, e, k),
                self._prefix(self.ev_cum_fix, e, k),
                self.known_bugs(e, t),
                self._prefix(self.ev_cum_newdev, e, k),
                (t - last) / DAY,
                (t - first) / DAY,
                la,
                ld,
                fan_in,
                fan_out,
                rate,
                err,
                float(k == 0),
                a_k,
                float(touched),
                tickets,
                errors,
            ],
            dtype=float,
        )
        return np.concatenate([base, own])

    def person_state(self, a: int, t: float) -> np.ndarray:
        lo, hi = self.a_ptr[a], self.a_ptr[a + 1]
        k = int(np.searchsorted(self.a_t[lo:hi], t, side="left"))
        rexp = float(np.sum(1.0 / (1.0 + (t - self.a_t[lo : lo + k]) / YEAR)))
        bugs = self.author_bugs.get(a)
        nb = 0 if bugs is None else int(np.searchsorted(bugs, t, side="left"))
        return np.array([k, rexp, nb, self.a_fix[lo + k] - self.a_fix[lo]], dtype=float)

    def commit_features(self, ci: int) -> np.ndarray:
        """COMMIT_FEATURES of commit `ci` as of its own time (raw values)."""
        t, a = self.t[ci], int(self.author[ci])
        ents = self.touched(ci)
        lines = (
            self.c_la[self.c_ptr[ci] : self.c_ptr[ci + 1]]
            + self.c_ld[self.c_ptr[ci] : self.c_ptr[ci + 1]]
        )
        files = [i for i, e in enumerate(ents) if not self.ent_kind[e]]
        funcs = [i for i, e in enumerate(ents) if self.ent_kind[e]]
        paths = [self.ent_path[ents[i]] for i in files]
        file_lines = lines[files] if files else np.zeros(0)
        p = file_lines / file_lines.sum() if file_lines.sum() > 0 else np.zeros(0)
        entropy = float(-np.sum(p[p > 0] * np.log2(p[p > 0])))
        devs, prior_commits, ages, lt = set(), set(), [], 0.0
        bugs_f = fixes_f = 0.0
        author_first = 0.0
        for i in files:
            e = int(ents[i])
            k = self.n_prior(e, t)
            s = self.e_ptr[e]
            devs.update(self.ev_author[s : s + k].tolist())
            prior_commits.update(self.ev_commit[s : s + k].tolist())
            ages.append((t - self.ev_t[s + k - 1]) / DAY if k else 0.0)
            lt += max(self._prefix(self.ev_cum_net, e, k), 0.0)
            bugs_f += self.known_bugs(e, t)
            fixes_f += self._prefix(self.ev_cum_fix, e, k)
            ae = self.author_entity_times(a, e)
            author_first += float(ae is None or np.searchsorted(ae, t, side="left") == 0)
        person = self.person_state(a, t)
        sexp = sum(
            int(np.searchsorted(self.author_sub.get((a, s), np.zeros(0)), t, side="left"))
            for s in {subsystem(x) for x in paths}
        )
        fan_in = fan_out = bugs_fn = fixes_fn = rate = err = 0.0
        for i in funcs:
            e = int(ents[i])
            k = self.n_prior(e, t)
            bugs_fn += self.known_bugs(e, t)
            fixes_fn += self._prefix(self.ev_cum_fix, e, k)
            fi, fo = self.fan(e, t)
            fan_in, fan_out = fan_in + fi, fan_out + fo
            r, er = self.traffic_at(e, t)
            rate, err = rate + r, max(err, er)
        nf = len(files) if files else self.nf_prop[ci]
        base = np.array(
            [
                len({subsystem(x) for x in paths}),
                len({directory(x) for x in paths}),
                nf,
                entropy,
                self.la[ci],
                self.ld[ci],
                lt,
                float(self.is_fix[ci]),
                len(devs),
                float(np.mean(ages)) if ages else 0.0,
                len(prior_commits),
                person[0],
                person[1],
                sexp,
                len(funcs),
                bugs_f,
                bugs_fn,
                fixes_f,
                fixes_fn,
                person[2],
                author_first / max(len(files), 1),
                fan_in,
                fan_out,
                rate,
                err,
                float(self.is_merge[ci]),
            ],
            dtype=float,
        )
        return np.concatenate([base, context_features(self, ci)])

    # ---- labels -------------------------------------------------------------------------
    def labels(self, cutoff: float = math.inf) -> np.ndarray:
        """1 for commits known to be bug-introducing at `cutoff` (known_at <= cutoff)."""
        return (np.isfinite(self.bug_known) & (self.bug_known <= cutoff)).astype(np.float64)

    def entity_label(self, ci: int, e: int, cutoff: float = math.inf) -> float:
        """A touched file/function is buggy when its commit is and the fix changed it too."""
        if not np.isfinite(self.bug_known[ci]) or self.bug_known[ci] > cutoff:
            return 0.0
        return float(e in self.fixed_entities.get(ci, ()))
