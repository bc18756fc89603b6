"""Similar past tickets: BM25 + sentence embeddings + fingerprint equality + graph proximity."""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from graph_service.batch import Batch, edges
from graph_service.store.base import GraphReader
from graph_service.triage.code_index import store_stamp
from graph_service.triage.heap import settle, snapshot_built
from graph_service.triage.models import SimilarTicket, TicketInput, TriageConfig
from graph_service.triage.neo4j_vectors import is_neo4j, nearest, sync_embeddings
from graph_service.triage.parse import read_ticket
from graph_service.triage.text import BM25Index, tokenize
from graph_service.triage.vectors import EmbeddingCache, VectorIndex, make_embedder

logger = logging.getLogger(__name__)

__all__ = [
    "WEIGHTS",
    "TicketIndex",
    "duplicate_batches",
    "similar",
    "text_key",
    "ticket_index",
]

# Default weighting of the similarity signals (sum of the weights of the signals present).
WEIGHTS = {"embedding": 0.5, "bm25": 0.35, "fingerprint": 0.4, "graph": 0.15}

_TICKETS = (
    "MATCH (t:Ticket) RETURN t.uid AS uid, t.key AS key, t.title AS title, t.body AS body, "
    "t.created_at AS created, t.fingerprint AS fp, t.status AS status ORDER BY uid"
)  # one order on every backend: ties in score keep it
# Every ticket's graph neighbours, read once with the index (the ticket loader writes these
# edges with their tickets, so they change with the store's stamp): per request, a look-up of
# a hundred candidates cost ~200 ms on Ladybug at 1M nodes.
_NEIGHBOURS = (
    "MATCH (t:Ticket)-[:MENTIONS|AFFECTS|REPORTS]->(n) RETURN t.uid AS ticket, n.uid AS node"
)
# declared duplicates (not the model's suggestions), read once with the index like the above
_DUPS = (
    "MATCH (t:Ticket)-[d:DUPLICATE_OF]->(o:Ticket) WHERE d.source <> 'model' "
    "RETURN t.uid AS ticket, o.uid AS orig"
)


def text_key(title: str | None, body: str | None) -> str:
    """A ticket's text up to whitespace: the same key means the same ticket resubmitted."""
    text = " ".join(f"{title or ''}\n{body or ''}".split())
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16] if text else ""


def ticket_text(title: str, body: str) -> str:
    """The text embedded for a ticket: the title, then the start of the body."""
    return f"{title or ''}\n{(body or '')[:1500]}"


@dataclass
class TicketIndex:
    """Every Ticket of the store with its BM25 terms, embedding and fingerprint."""

    uid: list[str] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    created: list[datetime | None] = field(default_factory=list)
    created_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    has_text: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    text_key: list[str] = field(default_factory=list)
    pos: dict[str, int] = field(default_factory=dict)
    by_fp: dict[str, list[int]] = field(default_factory=dict)
    bm25: BM25Index | None = None
    vectors: VectorIndex | None = None
    embedder: Any = None
    remote: Any = None  # a Neo4j store whose vector index answers nearest-neighbour queries
    nodes: dict[str, set[str]] = field(default_factory=dict)  # ticket uid -> graph neighbours
    duplicate_of: dict[str, str] = field(default_factory=dict)  # declared duplicates

    @classmethod
    def build(
        cls, rows: Sequence[dict[str, Any]], config: TriageConfig, cache_path: Path | None
    ) -> TicketIndex:
        idx = cls()
        texts = []
        for i, r in enumerate(rows):
            idx.uid.append(r["uid"])
            idx.key.append(r.get("key") or "")
            idx.title.append(r.get("title") or "")
            idx.status.append(r.get("status") or "")
            idx.created.append(r.get("created"))
            idx.pos[r["uid"]] = i
            idx.text_key.append(text_key(r.get("title"), r.get("body")))
            if r.get("fp"):
                idx.by_fp.setdefault(r["fp"], []).append(i)
            texts.append(ticket_text(r.get("title") or "", r.get("body") or ""))
        idx.has_text = np.array(
            [bool((r.get("title") or "").strip() or (r.get("body") or "").strip()) for r in rows],
            dtype=bool,
        )
        idx.created_s = np.array(
            [c.timestamp() if isinstance(c, datetime) else np.nan for c in idx.created]
        )
        docs = [
            tokenize(r.get("title") or "") * 2 + tokenize((r.get("body") or "")[:20_000])
            for r in rows
        ]
        idx.bm25 = BM25Index(docs)
        idx.embedder = make_embedder(config.embedder)
        if idx.embedder is not None and idx.has_text.any():  # placeholders only: no model
            vecs = EmbeddingCache(cache_path, idx.embedder).vectors(idx.uid, texts)
            idx.vectors = VectorIndex(vecs)
        return idx

    def query_idf(self, tokens: Sequence[str]) -> float:
        """An upper bound of a BM25 score for the query: maps scores into about [0, 1]."""
        assert self.bm25 is not None
        ids = sorted(set(self.bm25.vocab.lookup(tokens)))
        return float(self.bm25.idf[ids].sum() * 1.2) if ids else 1.0


_CACHE: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], str, TicketIndex]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def sidecar_dir(store: GraphReader) -> Path | None:
    """Folder beside the embedded store's file for triage caches; None for a server store."""
    path = getattr(store, "path", None)
    return Path(path).with_suffix(".triage") if path else None


def ticket_index(store: GraphReader, config: TriageConfig) -> TicketIndex:
    """The cached ticket index of `store` (rebuilt when the store's stamp changes)."""
    stamp = store_stamp(store)
    with _LOCK:
        hit = _CACHE.get(store)
        if hit and hit[0] == stamp and hit[1] == config.embedder:
            return hit[2]
    rows = store.query(_TICKETS, {}, row_cap=50_000_000).rows()
    side = sidecar_dir(store)
    if is_neo4j(store):
        idx = TicketIndex.build(rows, config.model_copy(update={"embedder": "none"}), None)
        idx.embedder = make_embedder(config.embedder)
        if idx.embedder is not None:
            sync_embeddings(store, idx.embedder, ticket_text)
            idx.remote = store
    else:
        idx = TicketIndex.build(rows, config, side / "ticket_embeddings.arrow" if side else None)
    for r in store.query(_NEIGHBOURS, {}, row_cap=50_000_000).rows():
        idx.nodes.setdefault(r["ticket"], set()).add(r["node"])
    for r in store.query(_DUPS, {}, row_cap=50_000_000).rows():
        idx.duplicate_of[r["ticket"]] = r["orig"]
    with _LOCK:
        _CACHE[store] = (stamp, config.embedder, idx)
    snapshot_built(len(idx.uid))
    return idx


def similar(
    store: GraphReader,
    ticket: TicketInput,
    k: int = 10,
    config: TriageConfig | None = None,
    *,
    nodes: set[str] | None = None,
) -> list[SimilarTicket]:
    """Past tickets most like `ticket`, best first, each with the signals that matched.

    `nodes` are graph nodes the ticket is known to touch (mapped frames, its service); when
    None they are read from the ticket text. Only tickets created before `ticket.created`
    count when it is set; the ticket itself (`ticket.uid`, or a stored ticket with the same
    title and body: the ticket pasted again) never does, nor do tickets without
    text (placeholders made from "Fixes #N" in commit messages). Scores below
    `config.similar_min_score` are left out.
    """
    config = config or TriageConfig()
    idx = ticket_index(store, config)
    settle()  # a ticket index built just now leaves the cyclic collector's full passes
    if not idx.has_text.any():  # no ticket, or only placeholders ("Fixes #N"): none to show,
        return []  # and the ticket's embedding (loading the model: seconds) would go unused
    parsed = read_ticket(ticket)
    tokens = tokenize(ticket.title) * 2 + tokenize(ticket.body[:20_000])
    pool = max(k * 5, 50)
    signals: dict[int, dict[str, float]] = {}
    assert idx.bm25 is not None
    bound = idx.query_idf(tokens)
    for i, s in idx.bm25.top(tokens, pool):
        signals.setdefault(i, {})["bm25"] = min(s / bound, 1.0)
    if idx.embedder is not None and (idx.vectors is not None or idx.remote is not None):
        q = idx.embedder.encode([ticket_text(ticket.title, ticket.body)])[0]
        if idx.remote is not None:
            hits = [(idx.pos[u], s) for u, s in nearest(idx.remote, q, pool) if u in idx.pos]
        else:
            hits = idx.vectors.search(q, pool) if idx.vectors is not None else []
        for i, s in hits:
            signals.setdefault(i, {})["embedding"] = max(s, 0.0)
    if parsed.fingerprint:
        for i in idx.by_fp.get(parsed.fingerprint, []):
            signals.setdefault(i, {})["fingerprint"] = 1.0
    cutoff = ticket.created.timestamp() if ticket.created else math.inf
    own = text_key(ticket.title, ticket.body)
    cand = [
        i
        for i in signals
        if idx.uid[i] != ticket.uid
        and idx.text_key[i] != own
        and idx.has_text[i]
        and not (idx.created_s[i] >= cutoff)  # NaN dates stay
    ]
    _fill_missing(idx, cand, signals, tokens, bound, ticket)
    if nodes is None:
        nodes = _ticket_nodes(store, ticket, parsed)
    if nodes:
        for i in cand:
            theirs = idx.nodes.get(idx.uid[i], set())
            if theirs:
                signals[i]["graph"] = len(nodes & theirs) / math.sqrt(len(nodes) * len(theirs))
    scored = sorted(
        ((sum(WEIGHTS[s] * v for s, v in signals[i].items()), i) for i in cand), reverse=True
    )
    scored = [(s, i) for s, i in scored if s >= config.similar_min_score][:k]
    return [
        SimilarTicket(
            uid=idx.uid[i],
            key=idx.key[i],
            title=idx.title[i],
            status=idx.status[i],
            created_at=idx.created[i],
            score=round(score, 4),
            signals={s: round(v, 4) for s, v in signals[i].items()},
            duplicate_of=idx.duplicate_of.get(idx.uid[i]),
        )
        for score, i in scored
    ]


def _fill_missing(
    idx: TicketIndex,
    cand: list[int],
    signals: dict[int, dict[str, float]],
    tokens: list[str],
    bound: float,
    ticket: TicketInput,
) -> None:
    """Give every candidate both text scores, not only the ones its own retriever found."""
    assert idx.bm25 is not None
    need_bm25 = [i for i in cand if "bm25" not in signals[i]]
    if need_bm25:
        sub = idx.bm25.matrix[need_bm25]
        ids = idx.bm25.vocab.lookup(tokens)
        if ids:
            uniq, counts = np.unique(np.asarray(ids), return_counts=True)
            vals = np.asarray(sub[:, uniq] @ counts.astype(np.float32)).ravel()
            for i, v in zip(need_bm25, vals, strict=True):
                signals[i]["bm25"] = min(float(v) / bound, 1.0)
    need_emb = [i for i in cand if "embedding" not in signals[i]]
    if need_emb and idx.vectors is not None and idx.embedder is not None:
        q = idx.embedder.encode([ticket_text(ticket.title, ticket.body)])[0]
        sims = idx.vectors.vectors[need_emb] @ q
        for i, v in zip(need_emb, sims, strict=True):
            signals[i]["embedding"] = max(float(v), 0.0)


def _ticket_nodes(store: GraphReader, ticket: TicketInput, parsed: Any) -> set[str]:
    from graph_service.triage.code_index import code_index

    out = {f"svc:{ticket.service}"} if ticket.service else set()
    if parsed.fingerprint:
        out.add(f"err:{parsed.fingerprint}")
    code = code_index(store)
    for fr in parsed.frames:
        hit = code.map_frame(fr.path, fr.function, fr.line)
        if hit is not None:
            out.add(code.file_uid[hit.file])
            if hit.function >= 0:
                out.add(code.fn_uid[hit.function])
    return out


def duplicate_batches(
    ticket_uid: str, found: Sequence[SimilarTicket], threshold: float
) -> list[Batch]:
    """DUPLICATE_OF edges (source `model`) to tickets scoring at or above `threshold`.

    Returned for the caller to write; nothing is written here.
    """
    rows = [
        {
            "src": ticket_uid,
            "dst": s.uid,
            "source": "model",
            "confidence": min(s.score, 1.0),
            "score": s.score,
        }
        for s in found
        if s.score >= threshold and s.uid != ticket_uid
    ]
    return [edges("DUPLICATE_OF", "Ticket", "Ticket", rows)] if rows else []
