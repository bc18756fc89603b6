"""The commits that fixed given tickets, with the files and functions they changed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from graph_service.store.base import GraphReader
from graph_service.triage.models import FixRef

logger = logging.getLogger(__name__)

__all__ = ["Q_FIXES", "fixes_of"]

Q_FIXES = (
    "UNWIND $uids AS u MATCH (c:Commit)-[:FIXES]->(t:Ticket {uid: u}) "
    "RETURN u AS ticket, c.uid AS uid, c.sha AS sha, c.summary AS summary, "
    "c.message AS message, c.authored_at AS at"
)
_CHANGED = (
    "UNWIND $cs AS cu MATCH (c:Commit {{uid: cu}})-[:MODIFIES]->(n:{label}) "
    "RETURN cu AS cmt, n.uid AS node, n.path AS path LIMIT 20000"
)


def fixes_of(
    store: GraphReader, tickets: Sequence[str], before: datetime | None = None
) -> list[FixRef]:
    """Fixing commits of `tickets` (only those authored before `before` when given)."""
    if not tickets:
        return []
    rows = store.query(Q_FIXES, {"uids": list(tickets)}).rows()
    if before is not None:
        rows = [r for r in rows if r["at"] is None or r["at"] < before]
    if not rows:
        return []
    commits = sorted({r["uid"] for r in rows})
    files: dict[str, list[str]] = {}
    functions: dict[str, list[str]] = {}
    for label, out in (("File", files), ("Function", functions)):
        for r in store.query(_CHANGED.format(label=label), {"cs": commits}).rows():
            out.setdefault(r["cmt"], []).append(r["node"])
    return [
        FixRef(
            sha=r["sha"] or "",
            uid=r["uid"],
            summary=r["summary"] or "",
            message=r["message"] or "",
            authored_at=r["at"],
            ticket=r["ticket"],
            files=sorted(files.get(r["uid"], [])),
            functions=sorted(functions.get(r["uid"], [])),
        )
        for r in rows
    ]
