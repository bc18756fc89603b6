"""Renders the schema for analysts (docs/schema.md) and as a JSON catalogue."""

from __future__ import annotations

import logging
from typing import Any

from graph_service import schema

logger = logging.getLogger(__name__)

__all__ = ["catalog", "render_markdown"]


def render_markdown() -> str:
    """The analysts' reference: every label, key, property and relationship, from schema.py."""
    out = [
        "# prodgraph schema",
        "",
        f"Schema version **{schema.SCHEMA_VERSION}**. Generated from `graph_service/schema.py` by "
        "`prodgraph schema --markdown > docs/schema.md`; a test fails when this file is stale.",
        "",
        "Every node has a stable natural key `uid` (never the database's internal id). Every row "
        "carries `loaded_by` (the loader that last wrote it) and `run_id` (that load's run). "
        "Every relationship carries `source` (provenance) and `confidence` in [0, 1]. Times are "
        "UTC timestamps.",
        "",
        "## Node labels",
        "",
    ]
    for nt in schema.NODES:
        out += [f"### {nt.label}", "", nt.doc, "", f"Key: `uid` = `{nt.key_format}`", ""]
        out += ["| property | type | indexed | meaning |", "| --- | --- | --- | --- |"]
        for p in nt.all_props:
            idx = "key" if p.name == "uid" else ("yes" if p.indexed else "")
            out.append(f"| `{p.name}` | {p.type.value} | {idx} | {p.doc} |")
        out.append("")
    out += ["## Relationships", ""]
    for rt in schema.RELS:
        pairs = ", ".join(f"`({a})-[:{rt.type}]->({b})`" for a, b in rt.pairs)
        out += [f"### {rt.type}", "", rt.doc, "", f"Endpoints: {pairs}", ""]
        out += ["| property | type | meaning |", "| --- | --- | --- |"]
        out += [f"| `{p.name}` | {p.type.value} | {p.doc} |" for p in rt.all_props]
        out.append("")
    return "\n".join(out)


def catalog() -> dict[str, Any]:
    """Labels, relationship types and property keys (for linters, editors and the API)."""
    props: set[str] = set()
    for nt in schema.NODES:
        props.update(p.name for p in nt.all_props)
    for rt in schema.RELS:
        props.update(p.name for p in rt.all_props)
    return {
        "version": schema.SCHEMA_VERSION,
        "labels": [n.label for n in schema.NODES],
        "relationshipTypes": [r.type for r in schema.RELS],
        "propertyKeys": sorted(props),
        "nodes": {
            n.label: {
                "key": n.key_format,
                "properties": {p.name: p.type.value for p in n.all_props},
            }
            for n in schema.NODES
        },
        "relationships": {
            r.type: {
                "endpoints": [list(p) for p in r.pairs],
                "properties": {p.name: p.type.value for p in r.all_props},
            }
            for r in schema.RELS
        },
    }
