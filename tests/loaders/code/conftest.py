"""Fixtures of the code loader tests: the sample tree and a load helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders.base import LoadReport
from loaders.code import make_loader
from tests.loaders.code.code_sample_tree import write_tree


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "shop")


@pytest.fixture
def load(store: GraphStore) -> Callable[..., LoadReport]:
    """Ingest a tree into the test store with CLI-style options."""

    def run(root: Path, **options: str) -> LoadReport:
        loader = make_loader([str(root)], Settings(), {"repo": "shop", **options})
        return ingest(store, loader)

    return run


_VOLATILE = {"run_id", "loaded_by"}


def snapshot(store: GraphStore) -> dict[str, list[tuple[object, ...]]]:
    """Every node and edge with its properties (run stamps left out), sorted."""
    from graph_service import schema

    out: dict[str, list[tuple[object, ...]]] = {}
    for nt in schema.NODES:
        cols = [p.name for p in nt.all_props if p.name not in _VOLATILE]
        q = f"MATCH (n:{nt.label}) RETURN " + ", ".join(f"n.{c}" for c in cols)
        rows = [tuple(_freeze(v) for v in r.values()) for r in store.query(q).rows()]
        if rows:
            out[nt.label] = sorted(rows, key=repr)
    for rt in schema.RELS:
        cols = [p.name for p in rt.all_props if p.name not in _VOLATILE]
        q = f"MATCH (a)-[r:{rt.type}]->(b) RETURN a.uid, b.uid, " + ", ".join(
            f"r.{c}" for c in cols
        )
        rows = [tuple(_freeze(v) for v in r.values()) for r in store.query(q).rows()]
        if rows:
            out[rt.type] = sorted(rows, key=repr)
    return out


def _freeze(v: object) -> object:
    return tuple(v) if isinstance(v, list) else v


def call_edges(store: GraphStore) -> set[tuple[str, str, str]]:
    q = (
        "MATCH (a:Function)-[c:CALLS]->(b:Function) "
        "RETURN a.path + ':' + a.qualname AS x, b.path + ':' + b.qualname AS y, c.resolution AS r"
    )
    return {(r["x"], r["y"], r["r"]) for r in store.query(q).rows()}
