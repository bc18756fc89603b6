"""Reaching the graph: `open_store(settings)` is the one place a backend is chosen."""

from __future__ import annotations

import logging
from pathlib import Path

from graph_service.settings import Settings
from graph_service.store.base import (
    GraphReader,
    GraphStore,
    PruneReport,
    QueryResult,
    WriteResult,
    check_read_only_text,
)

logger = logging.getLogger(__name__)

__all__ = [
    "GraphReader",
    "GraphStore",
    "PruneReport",
    "QueryResult",
    "WriteResult",
    "check_read_only_text",
    "open_store",
]


def open_store(
    settings: Settings,
    *,
    read_only: bool = False,
    create: bool = False,
    db_path: Path | None = None,
) -> GraphStore:
    """Open the configured backend. `create` applies the schema; otherwise it is checked."""
    store: GraphStore
    if settings.backend == "neo4j":
        from neo4j import GraphDatabase

        from graph_service.store.neo4j_store import Neo4jStore

        driver = GraphDatabase.driver(
            settings.neo4j_uri or "",
            auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        )
        store = Neo4jStore(
            driver, database=settings.neo4j_database, batch_size=settings.neo4j_batch_size
        )
    else:
        from graph_service.store.ladybug_store import LadybugStore

        store = LadybugStore(db_path or settings.db_path, read_only=read_only)
    try:
        if create:
            store.apply_schema()
        else:
            store.check_schema()
    except Exception:
        store.close()
        raise
    return store
