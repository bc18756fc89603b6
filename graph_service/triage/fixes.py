"""The commits that fixed given tickets, with the files and functions they changed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from graph_service.store.base import GraphReader
from graph_service.triage.history_index import HistoryIndex
from graph_service.triage.models import FixRef

logger = logging.getLogger(__name__)

__all__ = ["Q_FIXES", "fixes_from_index", "fixes_of"]

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


def fixes_from_index(
    hist: HistoryIndex, tickets: Sequence[str], before: datetime | None = None
) -> list[FixRef]:
    """`fixes_of` answered from the in-memory history index (no store round trip)."""
    out = []
    for t in tickets:
        for ci in hist.fixes.get(t, []):
            at = hist.commit_at[ci]
            if before is not None and at is not None and at >= before:
                continue
            nodes = hist.commit_nodes.get(ci, [])
            out.append(
                FixRef(
                    sha=hist.commit_sha[ci],
                    uid=hist.commit_uid[ci],
                    summary=hist.commit_summary[ci],
                    message=hist.commit_summary[ci],
                    authored_at=at,
                    ticket=t,
                    files=sorted(n for n in nodes if n.startswith("file:")),
                    functions=sorted(n for n in nodes if n.startswith("fn:")),
                )
            )
    return out
