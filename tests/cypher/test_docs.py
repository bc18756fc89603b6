"""docs/cypher.md lists the library as it is; each Ladybug variant says why it exists."""

from __future__ import annotations

from pathlib import Path

from graph_service.queries import library_markdown, load_library

ROOT = Path(__file__).resolve().parents[2]


def test_docs_table_is_current() -> None:
    docs = (ROOT / "docs" / "cypher.md").read_text(encoding="utf-8")
    assert library_markdown() in docs, (
        "docs/cypher.md is stale: paste `python -m graph_service.queries table` into it"
    )


def test_every_ladybug_variant_starts_with_its_reason() -> None:
    for name, q in load_library().items():
        if q.ladybug_text is None:
            continue
        first = (ROOT / "cypher" / f"{name}.ladybug.cypher").read_text().splitlines()[0]
        assert first.startswith("// ") and len(first) > 20, name
        assert q.ladybug_text != q.neo4j_text, name
