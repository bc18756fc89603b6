"""PRECEDES: consecutive deployments of one service and environment, merged with the store's."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from graph_service.store.base import GraphReader
from loaders.deployments.records import DeploymentRecord

logger = logging.getLogger(__name__)

__all__ = ["ChainPlan", "plan_precedes"]

# Every stored deployment of the services a load touches (one scan, whatever the groups).
STORED_QUERY = (
    "MATCH (d:Deployment) WHERE d.service IN $services "
    "RETURN d.uid AS uid, d.service AS service, d.environment AS environment, "
    "d.started_at AS started_at"
)
# The current successors of some stored deployments (primary-key look-ups).
NEXT_QUERY = (
    "UNWIND $uids AS u MATCH (d:Deployment {uid: u})-[:PRECEDES]->(n:Deployment) "
    "RETURN d.uid AS uid, n.uid AS next"
)


@dataclass
class ChainPlan:
    """Edges to drop (every PRECEDES leaving these uids) and the links to (re)write."""

    delete_from: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)


def plan_precedes(records: Iterable[DeploymentRecord], reader: GraphReader | None) -> ChainPlan:
    """Link each service/environment's deployments in started_at order (uid breaks ties).

    With a reader, stored deployments of the same group around the new ones join the
    chain: a later file links from the latest stored deployment, a backfill is spliced in,
    and a stored link that no longer holds is deleted first. Loading twice plans the same.
    """
    groups: dict[tuple[str, str], dict[str, datetime]] = defaultdict(dict)
    for rec in records:
        groups[(rec.service, rec.environment)][rec.uid] = rec.started_at
    stored = _stored(reader, groups)
    points: dict[tuple[str, str], dict[str, datetime]] = {}
    for key, new in groups.items():
        points[key] = _neighbourhood(new, stored.get(key, []))
    known = {u for rows in stored.values() for _, u in rows}
    current = _successors(reader, [u for pts in points.values() for u in pts if u in known])
    plan = ChainPlan()
    for key in sorted(points):
        order = [u for u, _ in sorted(points[key].items(), key=lambda kv: (kv[1], kv[0]))]
        pairs = list(pairwise(order))
        plan.links.extend(pairs)
        wanted = dict(pairs)
        for uid in order:
            nexts = current.get(uid, set())
            want = wanted.get(uid)
            if nexts and nexts != ({want} if want else set()) and uid != order[-1]:
                plan.delete_from.append(uid)
    return plan


def _stored(
    reader: GraphReader | None, groups: dict[tuple[str, str], dict[str, datetime]]
) -> dict[tuple[str, str], list[tuple[datetime, str]]]:
    out: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    if reader is None:
        return out
    services = sorted({service for service, _ in groups})
    for row in reader.query(STORED_QUERY, {"services": services}).rows():
        key = (row["service"], row["environment"])
        if key in groups and row["started_at"] is not None:
            out[key].append((row["started_at"], row["uid"]))
    return out


def _neighbourhood(
    new: dict[str, datetime], stored: list[tuple[datetime, str]]
) -> dict[str, datetime]:
    """The new deployments, stored ones inside their time window, and the nearest outside."""
    lo, hi = min(new.values()), max(new.values())
    points = dict(new)
    before = max(((t, u) for t, u in stored if t < lo and u not in new), default=None)
    after = min(((t, u) for t, u in stored if t > hi and u not in new), default=None)
    for t, u in stored:
        if lo <= t <= hi or (t, u) in (before, after):
            points.setdefault(u, t)
    return points


def _successors(reader: GraphReader | None, uids: list[str]) -> dict[str, set[str]]:
    current: dict[str, set[str]] = {}
    if reader is None or not uids:
        return current
    ordered = sorted(set(uids))
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        for row in reader.query(NEXT_QUERY, {"uids": chunk}).rows():
            current.setdefault(row["uid"], set()).add(row["next"])
    return current
