"""A whole-graph snapshot for load-twice tests: every row and its properties, minus run stamps."""

from __future__ import annotations

from typing import Any

from graph_service import schema
from graph_service.store import GraphStore


def snapshot(store: GraphStore) -> dict[str, list[dict[str, Any]]]:
    """Every node and relationship with its properties, minus the per-run stamp."""
    out: dict[str, list[dict[str, Any]]] = {}
    for nt in schema.NODES:
        rows = store.query(f"MATCH (n:{nt.label}) RETURN n ORDER BY n.uid").rows()
        out[nt.label] = [_clean(r["n"]) for r in rows]
    for rt in schema.RELS:
        rows = store.query(
            f"MATCH (a)-[r:{rt.type}]->(b) RETURN a.uid AS src, b.uid AS dst, r ORDER BY src, dst"
        ).rows()
        out[rt.type] = [{"src": r["src"], "dst": r["dst"], **_clean(r["r"])} for r in rows]
    return out


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("_") and k != "run_id"}
