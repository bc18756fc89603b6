"""Ticket embeddings on Neo4j: a `Ticket.embedding` property behind a native vector index.

On the embedded store the vectors live in a sidecar file with a faiss index
(`graph_service.triage.vectors`); on Neo4j they are stored on the nodes so every process and
the server-side index share them. Not exercised by the default test tier (no server here).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from graph_service.store.base import GraphReader
from graph_service.triage.vectors import Embedder, text_hash

logger = logging.getLogger(__name__)

__all__ = ["INDEX_DDL", "QUERY", "UPSERT", "is_neo4j", "nearest", "sync_embeddings"]

INDEX_NAME = "ticket_embedding"
INDEX_DDL = (
    f"CREATE VECTOR INDEX {INDEX_NAME} IF NOT EXISTS FOR (t:Ticket) ON t.embedding "
    "OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine'}}"
)
UPSERT = (
    "UNWIND $rows AS r MATCH (t:Ticket {uid: r.uid}) "
    "SET t.embedding = r.vector, t.embedding_hash = r.hash"
)
QUERY = (
    f"CALL db.index.vector.queryNodes('{INDEX_NAME}', $k, $vector) YIELD node, score "
    "RETURN node.uid AS uid, score"
)
_TEXTS = (
    "MATCH (t:Ticket) RETURN t.uid AS uid, t.title AS title, t.body AS body, "
    "t.embedding_hash AS hash"
)


def is_neo4j(store: Any) -> bool:
    return type(store).__name__ == "Neo4jStore"


def sync_embeddings(store: Any, embedder: Embedder, text_of: Any, batch: int = 1000) -> int:
    """Create the vector index and (re)encode tickets whose text changed; returns how many."""
    store._run_write(INDEX_DDL, {"dim": embedder.dim})
    rows = store.query(_TEXTS, {}, row_cap=50_000_000).rows()
    stale = []
    for r in rows:
        h = text_hash(text_of(r["title"] or "", r["body"] or ""))
        if r["hash"] != h:
            stale.append((r["uid"], h, text_of(r["title"] or "", r["body"] or "")))
    for k in range(0, len(stale), batch):
        chunk = stale[k : k + batch]
        vecs = embedder.encode([t for _, _, t in chunk])
        payload = [
            {"uid": u, "hash": h, "vector": [float(x) for x in v]}
            for (u, h, _), v in zip(chunk, vecs, strict=True)
        ]
        store._run_write(UPSERT, {"rows": payload})
    logger.info("neo4j: %d ticket embeddings written", len(stale))
    return len(stale)


def nearest(store: GraphReader, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The k nearest tickets by the server's vector index: (uid, cosine score)."""
    rows = store.query(QUERY, {"k": k, "vector": [float(x) for x in vector]}).rows()
    return [(r["uid"], float(r["score"])) for r in rows]
