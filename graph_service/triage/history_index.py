"""An in-memory index of the graph's history: who changed what and when, and which commits fixed
which tickets, so triage never scans the MODIFIES/AUTHORED/FIXES tables per request."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from graph_service.store.base import GraphReader
from graph_service.triage.code_index import StoreCache
from graph_service.triage.heap import snapshot_built

logger = logging.getLogger(__name__)

__all__ = ["HistoryIndex", "history_index"]

_COMMITS = (
    "MATCH (c:Commit) RETURN c.uid AS uid, c.sha AS sha, c.authored_at AS at, "
    "c.summary AS summary, c.risk_score AS risk, c.is_fix AS fix"
)
_MODIFIES = "MATCH (c:Commit)-[:MODIFIES]->(n:{label}) RETURN c.uid AS c, n.uid AS n"
_AUTHORED = (
    "MATCH (p:Person)-[:AUTHORED]->(c:Commit) RETURN p.uid AS p, p.name AS name, "
    "p.email AS email, c.uid AS c"
)
_FIXES = "MATCH (c:Commit)-[:FIXES]->(t:Ticket) RETURN c.uid AS c, t.uid AS t"
_BIG = 100_000_000


def _epoch(t: datetime | None) -> float:
    return t.timestamp() if isinstance(t, datetime) else float("nan")


@dataclass
class HistoryIndex:
    """Commits with their time, author and changed nodes; fixes per ticket."""

    commit_uid: list[str] = field(default_factory=list)
    commit_sha: list[str] = field(default_factory=list)
    commit_summary: list[str] = field(default_factory=list)
    commit_at: list[datetime | None] = field(default_factory=list)
    commit_ts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    commit_risk: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # the commit's message says it fixes something (Commit.is_fix)
    commit_fix: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    commit_pos: dict[str, int] = field(default_factory=dict)
    commit_author: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    people: list[tuple[str, str, str]] = field(default_factory=list)
    by_node: dict[str, np.ndarray] = field(default_factory=dict)
    commit_nodes: dict[int, list[str]] = field(default_factory=dict)
    fixes: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, store: GraphReader) -> HistoryIndex:
        h = cls()
        rows = store.query(_COMMITS, {}, row_cap=_BIG).rows()
        pos = {}
        for i, r in enumerate(rows):
            pos[r["uid"]] = i
            h.commit_uid.append(r["uid"])
            h.commit_sha.append(r["sha"] or "")
            h.commit_summary.append(r["summary"] or "")
            h.commit_at.append(r["at"])
        h.commit_ts = np.array([_epoch(t) for t in h.commit_at], dtype=np.float64)
        h.commit_risk = np.array([float(r["risk"] or 0.0) for r in rows], dtype=np.float64)
        h.commit_fix = np.array([bool(r["fix"]) for r in rows], dtype=bool)
        h.commit_pos = pos
        h.commit_author = np.full(len(rows), -1, dtype=np.int64)
        person_pos: dict[str, int] = {}
        for r in store.query(_AUTHORED, {}, row_cap=_BIG).rows():
            c = pos.get(r["c"])
            if c is None:
                continue
            p = person_pos.setdefault(r["p"], len(h.people))
            if p == len(h.people):
                h.people.append((r["p"], r["name"] or "", r["email"] or ""))
            h.commit_author[c] = p
        lists: dict[str, list[int]] = {}
        for label in ("Function", "File"):
            for r in store.query(_MODIFIES.format(label=label), {}, row_cap=_BIG).rows():
                c = pos.get(r["c"])
                if c is not None:
                    lists.setdefault(r["n"], []).append(c)
                    h.commit_nodes.setdefault(c, []).append(r["n"])
        h.by_node = {n: np.array(cs, dtype=np.int64) for n, cs in lists.items()}
        for r in store.query(_FIXES, {}, row_cap=_BIG).rows():
            c = pos.get(r["c"])
            if c is not None:
                h.fixes.setdefault(r["t"], []).append(c)
        logger.info("history index: %d commits, %d changed nodes", len(rows), len(lists))
        return h

    def changes(self, node: str, since: datetime | None, until: datetime) -> np.ndarray:
        """Commits that changed `node` in [since, until), newest first."""
        cs = self.by_node.get(node)
        if cs is None or cs.size == 0:
            return np.zeros(0, dtype=np.int64)
        ts = self.commit_ts[cs]
        mask = ts < _epoch(until)
        if since is not None:
            mask &= ts >= _epoch(since)
        kept = cs[mask]
        return kept[np.argsort(-self.commit_ts[kept], kind="stable")]


_INDEXES: StoreCache[HistoryIndex] = StoreCache()


def history_index(store: GraphReader) -> HistoryIndex:
    """The cached history index of `store`, rebuilt when the store's stamp changes."""
    return _INDEXES.get(store, lambda: _built(HistoryIndex.build(store)))


def _built(h: HistoryIndex) -> HistoryIndex:
    snapshot_built(len(h.commit_uid) + len(h.by_node))
    return h
