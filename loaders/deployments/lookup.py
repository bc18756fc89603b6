"""Read-side look-ups a loader makes before it writes: which nodes exist, and who wrote them."""

from __future__ import annotations

import logging
from collections.abc import Collection

from graph_service import schema
from graph_service.store.base import GraphReader

logger = logging.getLogger(__name__)

__all__ = ["existing_nodes", "nodes_to_write"]

_CHUNK = 1000


def existing_nodes(
    reader: GraphReader | None, label: str, uids: Collection[str]
) -> dict[str, str | None]:
    """Stored `label` nodes among `uids`, mapped to the loader that last wrote each one."""
    schema.node(label)  # only declared labels are ever put into query text
    found: dict[str, str | None] = {}
    if reader is None or not uids:
        return found
    ordered = sorted(uids)
    query = (
        f"UNWIND $uids AS u MATCH (n:{label} {{uid: u}}) "
        "RETURN n.uid AS uid, n.loaded_by AS loaded_by"
    )
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        for row in reader.query(query, {"uids": chunk}, row_cap=len(chunk)).rows():
            found[row["uid"]] = row["loaded_by"]
    return found


def nodes_to_write(
    reader: GraphReader | None, label: str, uids: Collection[str], loaded_by: str
) -> set[str]:
    """The uids a loader may (re)write as bare nodes: missing ones, and ones it wrote itself.

    Nodes another loader wrote are left alone, so their properties and run stamps (which
    decide what a prune deletes) stay theirs.
    """
    stored = existing_nodes(reader, label, uids)
    return {u for u in uids if u not in stored or stored[u] == loaded_by}
