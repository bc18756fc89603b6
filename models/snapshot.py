"""A warm in-memory `History` of the whole graph for a long-running scorer (the API service).

Scoring from the store reads a change's neighbourhood with a dozen primary-key queries per call
(hundreds of milliseconds on a large graph); scoring from an indexed snapshot reads nothing.
`SnapshotCache` holds one snapshot per store, built on a background thread and replaced when the
store has been written to since (`GraphStore.generation`, bumped by every write in this
process) or, on a server other processes write to (Neo4j), when it is older than `max_age_s`.
While no fresh snapshot exists, callers get `None` and score from the store, so a request never
waits for a build and never sees data older than the store's.

`neighbourhood(history, ...)` slices the snapshot's tables to exactly the rows that
`models.neighbourhood.load_neighbourhood` reads from the store, so a proposed change (a diff or
a set of paths) scores the same from either source.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from graph_service.store.base import GraphReader
from models.dataset import GraphTables, load_tables
from models.history import History
from models.neighbourhood import table_renames, with_other_names

logger = logging.getLogger(__name__)

__all__ = ["Snapshot", "SnapshotCache", "neighbourhood"]


@dataclass(frozen=True)
class Snapshot:
    history: History
    generation: int
    built_at: float  # time.monotonic()
    build_s: float


def _generation(store: GraphReader) -> int:
    return int(getattr(store, "generation", 0))


class SnapshotCache:
    """The newest snapshot of one store; `current()` never blocks on a build."""

    def __init__(self, store: GraphReader, *, max_age_s: float | None = None) -> None:
        self._store = store
        self._max_age_s = max_age_s
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None
        self.last_error: str | None = None
        self._closed = False

    def _fresh(self, snap: Snapshot | None) -> bool:
        if snap is None or snap.generation != _generation(self._store):
            return False
        return self._max_age_s is None or time.monotonic() - snap.built_at <= self._max_age_s

    def current(self) -> History | None:
        """The fresh snapshot's History, or None (and a rebuild starts in the background)."""
        snap = self._snapshot
        if self._fresh(snap):
            return snap.history if snap else None
        self.refresh()
        return None

    def refresh(self) -> None:
        """Start a background build unless one is running (or the cache is closed)."""
        with self._lock:
            if self._closed or (self._building is not None and self._building.is_alive()):
                return
            self._building = threading.Thread(target=self._build, name="risk-snapshot", daemon=True)
            self._building.start()

    def build_now(self) -> Snapshot:
        """Build synchronously (tests, benchmarks, warm-up) and keep the result."""
        return self._build()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running build; True when a fresh snapshot is available afterwards."""
        thread = self._building
        if thread is not None:
            thread.join(timeout)
        return self._fresh(self._snapshot)

    def close(self, timeout: float = 60.0) -> None:
        """No more builds; wait for a running one (it reads the store, which is closing)."""
        with self._lock:
            self._closed = True
        self.wait(timeout)

    def status(self) -> str:
        snap = self._snapshot
        if self._fresh(snap) and snap is not None:
            return f"fresh: {len(snap.history.commit_uids)} commits, built in {snap.build_s:.1f} s"
        if self.last_error:
            return f"failed: {self.last_error}"
        return "building" if self._building is not None and self._building.is_alive() else "stale"

    def _build(self) -> Snapshot:
        generation = _generation(self._store)
        start = time.perf_counter()
        try:
            history = History(load_tables(self._store))
        except Exception as e:  # a failed build leaves the store path in charge
            self.last_error = f"{type(e).__name__}: {e}"
            logger.warning("risk snapshot build failed: %s", self.last_error)
            raise
        snap = Snapshot(history, generation, time.monotonic(), time.perf_counter() - start)
        self._snapshot = snap
        self.last_error = None
        logger.info(
            "risk snapshot: %d commits, %d entities in %.1f s",
            len(history.commit_uids),
            len(history.ent_uids),
            snap.build_s,
        )
        return snap


def _ents(h: History, uids: Sequence[str]) -> list[int]:
    return [h.ent_ix[u] for u in uids if u in h.ent_ix]


def _cochanged(
    h: History, commit_uids: Sequence[str], follow: list[int], own: set[int]
) -> tuple[set[int], list[int]]:
    """`models.neighbourhood._cochanged` on the snapshot: the modification rows of the latest
    earlier commits of `follow` (at most `COCHANGE_MAX_TOUCHED` + 1 of each kind for a sweeping
    commit, as the store reads them), and the partners whose events the co-change features
    read (those commits' entities not in `own`, sweeping commits' left out)."""
    from models.context import COCHANGE_MAX_TOUCHED, COCHANGE_RECENT

    scored = [h.t[h.commit_ix[u]] for u in commit_uids if u in h.commit_ix]
    until = max(scored) if scored else float("inf")
    out: set[int] = set()
    rows: set[int] = set()
    for e in follow:
        lo, hi = h.e_ptr[e], h.e_ptr[e + 1]
        k = int(np.searchsorted(h.ev_t[lo:hi], until, side="right"))
        first = lo + max(0, k - COCHANGE_RECENT - 2) if scored else lo
        for c in h.ev_commit[first : lo + k].tolist():
            touched = h.touched(c)
            src = h.c_row[h.c_ptr[c] : h.c_ptr[c + 1]]
            if len(touched) <= COCHANGE_MAX_TOUCHED:
                rows.update(src.tolist())
                out.update(int(m) for m in touched.tolist() if int(m) not in own)
            else:  # sweeping: enough rows to be recognised as such
                is_fn = h.ent_kind[touched]
                for part in (src[~is_fn], src[is_fn]):
                    rows.update(part[: COCHANGE_MAX_TOUCHED + 1].tolist())
    return rows, sorted(out)


def neighbourhood(
    h: History,
    commit_uids: Sequence[str],
    files: Sequence[str],
    functions: Sequence[str],
    authors: Sequence[str],
) -> GraphTables:
    """The rows of `h.tables` that `load_neighbourhood` would read for the same arguments."""
    t = h.tables

    def calls_of(fns: list[str]) -> pd.DataFrame:
        rows: set[int] = set()
        for e in _ents(h, fns):
            for (ptr, _), order in ((h.callees, h.callee_rows), (h.callers, h.caller_rows)):
                rows.update(order[ptr[e] : ptr[e + 1]].tolist())
        return t.calls.iloc[sorted(rows)]

    call_frame, fn_uids, renames = with_other_names(functions, calls_of, table_renames(t.renames))
    all_fns = _ents(h, fn_uids)
    rows: set[int] = set()
    for e in _ents(h, files) + all_fns:
        rows.update(h.ev_row[h.e_ptr[e] : h.e_ptr[e + 1]].tolist())
    hop_rows, partners = _cochanged(
        h, commit_uids, _ents(h, [*files, *functions]), set(_ents(h, files) + all_fns)
    )
    rows |= hop_rows
    for e in partners:
        rows.update(h.ev_row[h.e_ptr[e] : h.e_ptr[e + 1]].tolist())
    mine: set[int] = set()
    for a in authors:
        if a not in h.author_uids:
            continue
        ai = h.author_uids.index(a)
        for ci in h.a_commit[h.a_ptr[ai] : h.a_ptr[ai + 1]].tolist():
            mine.add(ci)
            lo, hi = h.c_ptr[ci], h.c_ptr[ci + 1]
            ents, src = h.c_ent[lo:hi], h.c_row[lo:hi]
            rows.update(src[~h.ent_kind[ents]].tolist())  # the author's file events
    modifies = t.modifies.iloc[sorted(rows)].reset_index(drop=True)
    commit_pos = set(modifies["commit"].map(h.commit_ix).dropna().astype(int).tolist())
    commit_pos |= mine | {h.commit_ix[u] for u in commit_uids if u in h.commit_ix}
    commit_pos |= {h.commit_ix[u] for u in renames["commit"] if u in h.commit_ix}
    commits = t.commits.iloc[sorted(commit_pos)].reset_index(drop=True)
    wanted = set(commits["uid"])
    induced = t.induced[t.induced["src"].isin(wanted) | t.induced["dst"].isin(wanted)]
    traffic_rows = sorted(r for e in all_fns for r in h.traffic_rows.get(e, ()))
    named = set(files) | {h.ent_uids[e] for e in all_fns} | {h.ent_uids[e] for e in partners}
    return GraphTables(
        commits=commits,
        modifies=modifies,
        induced=induced.reset_index(drop=True),
        calls=call_frame,
        traffic=t.traffic.iloc[traffic_rows].reset_index(drop=True),
        renames=renames,
        signals=t.signals[t.signals["entity"].isin(named)].reset_index(drop=True),
    )
