"""Ticket embeddings on Neo4j: stored on the Ticket nodes, one property and index per embedder.

On the embedded store the vectors live in a sidecar file (`graph_service.triage.vectors`); on
Neo4j they are stored on the nodes so every process shares them and nothing is re-encoded.
Each embedder (name and dimension) has its own property `embedding_<tag>`, text hash
`embedding_hash_<tag>` and vector index `ticket_embedding_<tag>`: switching embedders
(MiniLM 384 → hashing 256) never mixes dimensions, and switching back re-encodes nothing.

Scores are cosine everywhere. `similar` searches the vectors read back from the nodes with the
same `VectorIndex` the embedded store uses, so rankings are identical across backends; the
server's index (which scores `(1 + cosine) / 2`) answers only when no such copy is loaded,
and its scores are converted back to cosine.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from typing import Any

import numpy as np

from graph_service.store.base import GraphReader
from graph_service.triage.vectors import Embedder, VectorIndex, text_hash

logger = logging.getLogger(__name__)

__all__ = [
    "cosine_from_index_score",
    "embedder_tag",
    "index_name",
    "is_neo4j",
    "nearest",
    "sync_embeddings",
]

LEGACY_INDEX = "ticket_embedding"  # one index for every embedder (before tags): dropped


def embedder_tag(embedder: Embedder) -> str:
    """`all_minilm_l6_v2_d384`, `hashing_256_d256`: the embedder's name and dimension."""
    slug = re.sub(r"[^a-z0-9]+", "_", embedder.name.lower()).strip("_")
    return f"{slug}_d{int(embedder.dim)}"


def index_name(embedder: Embedder) -> str:
    return f"ticket_embedding_{embedder_tag(embedder)}"


def cosine_from_index_score(score: float) -> float:
    """Neo4j's cosine vector index scores `(1 + cos) / 2`; the rest of prodgraph uses cos."""
    return 2.0 * float(score) - 1.0


def is_neo4j(store: Any) -> bool:
    return type(store).__name__ == "Neo4jStore"


class _Loaded:
    """The vectors of one embedder as read back from the nodes, searchable locally."""

    def __init__(self, tag: str, uids: list[str], index: VectorIndex) -> None:
        self.tag, self.uids, self.index = tag, uids, index


_LOADED: weakref.WeakKeyDictionary[Any, _Loaded] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def sync_embeddings(store: Any, embedder: Embedder, text_of: Any, batch: int = 1000) -> int:
    """Create this embedder's index, (re)encode tickets whose text changed, load the vectors.

    Returns how many tickets were encoded.
    """
    tag = embedder_tag(embedder)
    prop, hprop = f"embedding_{tag}", f"embedding_hash_{tag}"
    store._run_write(f"DROP INDEX {LEGACY_INDEX} IF EXISTS")
    store._run_write(
        f"CREATE VECTOR INDEX {index_name(embedder)} IF NOT EXISTS FOR (t:Ticket) ON t.{prop} "
        f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(embedder.dim)}, "
        "`vector.similarity_function`: 'cosine'}}"
    )
    rows = store.query(
        f"MATCH (t:Ticket) RETURN t.uid AS uid, t.title AS title, t.body AS body, "
        f"t.{hprop} AS hash",
        {},
        row_cap=50_000_000,
        timeout_s=3600,
    ).rows()
    stale = []
    for r in rows:
        text = text_of(r["title"] or "", r["body"] or "")
        h = text_hash(text)
        if r["hash"] != h:
            stale.append((r["uid"], h, text))
    for k in range(0, len(stale), batch):
        chunk = stale[k : k + batch]
        vecs = embedder.encode([t for _, _, t in chunk])
        payload = [
            {"uid": u, "hash": h, "vector": [float(x) for x in v]}
            for (u, h, _), v in zip(chunk, vecs, strict=True)
        ]
        store._run_write(
            f"UNWIND $rows AS r MATCH (t:Ticket {{uid: r.uid}}) "
            f"SET t.{prop} = r.vector, t.{hprop} = r.hash",
            {"rows": payload},
        )
    if stale:
        logger.info("neo4j: %d ticket embeddings written (%s)", len(stale), tag)
    _load(store, embedder, tag, prop)
    return len(stale)


def _load(store: Any, embedder: Embedder, tag: str, prop: str) -> None:
    rows = store.query(
        f"MATCH (t:Ticket) WHERE t.{prop} IS NOT NULL RETURN t.uid AS uid, t.{prop} AS v "
        "ORDER BY uid",
        {},
        row_cap=50_000_000,
        timeout_s=3600,
    ).rows()
    mat = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    for i, r in enumerate(rows):
        mat[i] = np.asarray(r["v"], dtype=np.float32)
    with _LOCK:
        _LOADED[store] = _Loaded(tag, [r["uid"] for r in rows], VectorIndex(mat))


def nearest(store: GraphReader, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The k nearest tickets to `vector`: (uid, cosine), best first.

    From the vectors `sync_embeddings` loaded when their dimension matches (the same search
    as the embedded store); otherwise from the server's vector index, scores converted.
    """
    with _LOCK:
        loaded = _LOADED.get(store)
    if loaded is not None and loaded.index.vectors.shape[1] == vector.shape[-1]:
        return [(loaded.uids[i], s) for i, s in loaded.index.search(vector, k)]
    names = store._run_read(  # type: ignore[attr-defined]
        "SHOW VECTOR INDEXES YIELD name, options "
        "WHERE options.indexConfig.`vector.dimensions` = $dim AND name STARTS WITH "
        "'ticket_embedding_' RETURN name ORDER BY name LIMIT 1",
        {"dim": int(vector.shape[-1])},
    )
    if not names:
        return []
    rows = store.query(
        "CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score "
        "RETURN node.uid AS uid, score",
        {"index": names[0]["name"], "k": k, "vector": [float(x) for x in vector]},
    ).rows()
    return [(r["uid"], cosine_from_index_score(r["score"])) for r in rows]
