"""`GET /v1/schema`: the graph's labels, relationship types and properties, from the schema."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from pydantic import BaseModel, Field

from graph_service import schema
from graph_service.api.deps import ReaderDep, StateDep

logger = logging.getLogger(__name__)

__all__ = ["GraphSchema", "LabelInfo", "PropertyInfo", "RelationshipInfo", "describe", "router"]

router = APIRouter(prefix="/v1/schema", tags=["schema"])


class PropertyInfo(BaseModel):
    name: str
    type: str = Field(description="Ladybug type: STRING, INT64, DOUBLE, BOOLEAN, TIMESTAMP, ...")
    doc: str


class LabelInfo(BaseModel):
    label: str
    key_format: str = Field(description="How the natural key `uid` is built, e.g. fn:<repo>:...")
    key_prefix: str = Field(description="The fixed start of every uid of this label, e.g. `fn:`.")
    doc: str
    properties: list[PropertyInfo]


class RelationshipInfo(BaseModel):
    type: str
    pairs: list[tuple[str, str]] = Field(description="(from label, to label) pairs it connects.")
    doc: str
    properties: list[PropertyInfo]


class GraphSchema(BaseModel):
    """Everything an editor needs for completion, and how to tell a node's label by its uid."""

    backend: str
    schema_version: int
    labels: list[LabelInfo]
    relationships: list[RelationshipInfo]
    property_keys: list[str] = Field(description="Every property name, sorted, no duplicates.")


def _props(props: tuple[schema.Prop, ...]) -> list[PropertyInfo]:
    return [PropertyInfo(name=p.name, type=p.type.value, doc=p.doc) for p in props]


def describe(backend: str) -> GraphSchema:
    """The declared schema (graph_service.schema) as the API's JSON shape."""
    labels = [
        LabelInfo(
            label=n.label,
            key_format=n.key_format,
            key_prefix=n.key_format.split(":", 1)[0] + ":",
            doc=n.doc,
            properties=_props(n.all_props),
        )
        for n in schema.NODES
    ]
    rels = [
        RelationshipInfo(
            type=r.type, pairs=list(r.pairs), doc=r.doc, properties=_props(r.all_props)
        )
        for r in schema.RELS
    ]
    keys = {p.name for n in schema.NODES for p in n.all_props}
    keys |= {p.name for r in schema.RELS for p in r.all_props}
    return GraphSchema(
        backend=backend,
        schema_version=schema.SCHEMA_VERSION,
        labels=labels,
        relationships=rels,
        property_keys=sorted(keys),
    )


@router.get("", response_model=GraphSchema)
def get_schema(state: StateDep, _: ReaderDep) -> GraphSchema:
    """Labels (with their uid prefix), relationship types and properties of the graph."""
    return describe(state.store.backend)


@router.get("/counts")
def get_counts(state: StateDep, _: ReaderDep) -> dict[str, dict[str, int]]:
    """Rows per node label and relationship type (the explorer's home page)."""
    return state.read("counts", state.store.counts)
