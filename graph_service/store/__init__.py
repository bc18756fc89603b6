"""Reaching the graph: `open_store(settings)` is the one place a backend is chosen."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

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
    "neo4j_driver",
    "open_store",
]


def open_store(
    settings: Settings,
    *,
    read_only: bool = False,
    create: bool = False,
    db_path: Path | None = None,
) -> GraphStore:
    """Open the configured backend. `create` applies the schema; otherwise it is checked.

    An explicit `db_path` opens the embedded store at that path whatever the backend setting.
    """
    from graph_service.store.guard import QueryLimits

    store: GraphStore
    limits = QueryLimits(
        settings.query_max_chars,
        settings.query_max_depth,
        settings.query_max_result_bytes,
        settings.query_max_pattern_rels,
    )
    if settings.backend == "neo4j" and db_path is None:
        from graph_service.store.neo4j_store import Neo4jStore

        store = Neo4jStore(
            neo4j_driver(settings),
            database=settings.neo4j_database,
            batch_size=settings.neo4j_batch_size,
            limits=limits,
        )
    else:
        from graph_service.store.ladybug_store import LadybugStore

        store = LadybugStore(db_path or settings.db_path, read_only=read_only, limits=limits)
    try:
        if create:
            store.apply_schema()
        else:
            store.check_schema()
    except Exception:
        store.close()
        raise
    return store


def neo4j_driver(settings: Settings) -> Any:
    """The driver for `settings.neo4j_uri`, with the server's notifications switched off.

    Notifications (deprecations, cartesian-product hints) would reach every command's output
    as `WARNING neo4j.notifications` log lines; `PRODGRAPH_LOG=debug` does not bring them back,
    run the statement in Neo4j Browser to see them.
    """
    from neo4j import GraphDatabase, NotificationMinimumSeverity

    # reads turn the server's unknown-name warnings on for themselves (and raise on them):
    # the driver's log of notifications stays quiet, as it is with them off
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    return GraphDatabase.driver(
        settings.neo4j_uri or "",
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        notifications_min_severity=NotificationMinimumSeverity.OFF,
    )
