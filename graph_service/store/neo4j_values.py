"""Neo4j result values to the plain Python and Arrow shapes the embedded store returns."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from neo4j.graph import Node, Path, Relationship
from neo4j.spatial import Point
from neo4j.time import Date, DateTime, Duration, Time

from graph_service import schema

logger = logging.getLogger(__name__)

__all__ = ["HIDDEN_PREFIX", "column", "plain", "table"]

# Properties only Neo4j keeps (ticket embeddings behind the vector index): never returned.
HIDDEN_PREFIX = "embedding"


def plain(v: Any) -> Any:
    """One Neo4j value as the embedded store returns it.

    Nodes become `{_ID, _LABEL, <schema properties in schema order>, ...}`, relationships
    `{_SRC, _DST, _LABEL, _ID, ...}` and paths `{_NODES, _RELS}` (Ladybug's shapes, with
    Neo4j element ids for ids); temporal values become `datetime`/`date`/`time`/`timedelta`
    at any depth.
    """
    if isinstance(v, Node):
        return _node(v)
    if isinstance(v, Relationship):
        return _rel(v)
    if isinstance(v, Path):
        return {"_NODES": [_node(n) for n in v.nodes], "_RELS": [_rel(r) for r in v.relationships]}
    if isinstance(v, (DateTime, Date, Time)):
        return v.to_native()
    if isinstance(v, Duration):
        return _duration(v)
    if isinstance(v, Point):
        return list(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def _props(label: str, props: dict[str, Any], declared: Sequence[schema.Prop]) -> dict[str, Any]:
    out = {p.name: plain(props.get(p.name)) for p in declared}
    out.update(
        (k, plain(x)) for k, x in props.items() if k not in out and not k.startswith(HIDDEN_PREFIX)
    )
    return out


def _node(n: Node) -> dict[str, Any]:
    labels = sorted(n.labels)
    label = next((lb for lb in labels if lb in _NODE_PROPS), labels[0] if labels else "")
    head: dict[str, Any] = {"_ID": n.element_id, "_LABEL": label}
    return head | _props(label, dict(n.items()), _NODE_PROPS.get(label, ()))


def _rel(r: Relationship) -> dict[str, Any]:
    head: dict[str, Any] = {
        "_SRC": r.start_node.element_id if r.start_node is not None else None,
        "_DST": r.end_node.element_id if r.end_node is not None else None,
        "_LABEL": r.type,
        "_ID": r.element_id,
    }
    return head | _props(r.type, dict(r.items()), _REL_PROPS.get(r.type, ()))


def _duration(d: Duration) -> Any:
    """A duration without months as `timedelta` (as Ladybug's intervals); else ISO text."""
    if d.months:
        return str(d)
    return dt.timedelta(days=d.days, seconds=d.seconds, microseconds=d.nanoseconds // 1000)


_NODE_PROPS: dict[str, tuple[schema.Prop, ...]] = {n.label: n.all_props for n in schema.NODES}
_REL_PROPS: dict[str, tuple[schema.Prop, ...]] = {r.type: r.all_props for r in schema.RELS}


def column(values: list[Any]) -> pa.Array:
    """An Arrow column; a column of mixed types (`UNWIND [1, 'a'] AS x`) becomes text.

    Integers mixed with floats become floats, as on the embedded store; any other mix keeps
    strings as they are and writes the other values as JSON (`1`, `true`, `[1, 2]`).
    """
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    kinds = {type(x) for x in values if x is not None}
    if kinds <= {int, float}:
        return pa.array([None if x is None else float(x) for x in values], pa.float64())
    return pa.array(
        [x if x is None or isinstance(x, str) else _text(x) for x in values], pa.string()
    )


def _text(x: Any) -> str:
    return json.dumps(x, default=str, sort_keys=False)


def table(keys: list[str], rows: list[list[Any]]) -> pa.Table:
    """Rows of plain values as an Arrow table with the query's column order."""
    return pa.table({k: column([r[i] for r in rows]) for i, k in enumerate(keys)})
