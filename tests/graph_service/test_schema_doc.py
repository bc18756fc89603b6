"""docs/schema.md is generated from the schema and must not go stale."""

from __future__ import annotations

from pathlib import Path

from graph_service import schema
from graph_service.schema_doc import catalog, render_markdown
from graph_service.store.ladybug_store import ladybug_ddl
from graph_service.store.neo4j_store import neo4j_ddl

ROOT = Path(__file__).resolve().parents[2]


def test_schema_doc_is_up_to_date() -> None:
    text = (ROOT / "docs" / "schema.md").read_text()
    assert text.strip() == render_markdown().strip(), (
        "docs/schema.md is stale: run `prodgraph schema --markdown > docs/schema.md`"
    )


def test_every_label_and_type_is_documented_and_derived() -> None:
    doc = render_markdown()
    ddl = "\n".join(ladybug_ddl())
    constraints = "\n".join(neo4j_ddl())
    for n in schema.NODES:
        assert f"### {n.label}" in doc
        assert f"NODE TABLE IF NOT EXISTS {n.label}(" in ddl
        assert f"FOR (n:{n.label}) REQUIRE n.uid IS UNIQUE" in constraints
    for r in schema.RELS:
        assert f"### {r.type}" in doc
        assert f"REL TABLE IF NOT EXISTS {r.type}(" in ddl
    cat = catalog()
    assert set(cat["labels"]) == {n.label for n in schema.NODES}
    assert "uid" in cat["propertyKeys"]


def test_rel_endpoints_name_known_labels() -> None:
    labels = {n.label for n in schema.NODES}
    for r in schema.RELS:
        for a, b in r.pairs:
            assert a in labels and b in labels, r.type
