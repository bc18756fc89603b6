"""Merging aggregations of different inputs (files aggregated in parallel processes)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from loaders.traces.accumulators import ServiceAcc, Traffic

if TYPE_CHECKING:
    from loaders.traces.aggregate import Aggregator

logger = logging.getLogger(__name__)

__all__ = ["absorb"]


def absorb(mine: Aggregator, other: Aggregator) -> None:
    """Add `other` to `mine`; spans left unmatched on either side are paired now."""
    for name, acc in other.services.items():
        svc = mine.services.setdefault(name, ServiceAcc())
        for attr in ("namespace", "language", "version", "environment"):
            if getattr(acc, attr):
                setattr(svc, attr, getattr(acc, attr))
        for op_name, op in acc.ops.items():
            cur = svc.ops.get(op_name)
            if cur is None:
                svc.ops[op_name] = op
            else:
                cur.merge(op)
                cur.route = op.route or cur.route
    tables: list[tuple[dict[Any, Traffic], dict[Any, Traffic]]] = [
        (mine.calls, other.calls),
        (mine.svc_deps, other.svc_deps),
        (mine.res_deps, other.res_deps),
        (mine.lone_svc, other.lone_svc),
        (mine.lone_res, other.lone_res),
    ]
    for table, theirs in tables:
        for key, t in theirs.items():
            mine._traffic(table, key).merge(t)
    mine.resources.update(other.resources)
    for key, conf in other.lone_conf.items():
        mine.lone_conf[key] = min(mine.lone_conf.get(key, 1.0), conf)
    mine.pending.absorb_serving(other.pending)
    for k, n in other.impl.items():
        mine.impl[k] = mine.impl.get(k, 0) + n
    mine.exceptions.merge(other.exceptions)
    mine.problems += other.problems
    mine.warnings += other.warnings
    for item, n in other._suppressed.items():
        mine._suppressed[item] = mine._suppressed.get(item, 0) + n
    mine.spans += other.spans
    for sid, half in other._clients.items():
        mine._client(sid, half)
    for pid, (key, err, _) in other._servers.items():
        mine._server(pid, key, err)
