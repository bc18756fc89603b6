"""Shared fixtures: a fresh embedded store on disk, and the store backends to run against."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store

BACKENDS = ["ladybug", "neo4j"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GraphStore]:
    s = open_store(Settings(db_path=tmp_path / "graph.lbug"), create=True)
    yield s
    s.close()


def _neo4j_store() -> GraphStore:
    uri = os.environ.get("PRODGRAPH_NEO4J_URI")
    if not uri:
        pytest.skip("Neo4j leg: set PRODGRAPH_NEO4J_URI (and _USER/_PASSWORD) to run it")
    settings = Settings(backend="neo4j")
    s = open_store(settings, create=True)
    s._run_write("MATCH (n) DETACH DELETE n")  # type: ignore[attr-defined]
    s.apply_schema()
    return s


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """The same contract suite runs on every backend (Neo4j only when configured)."""
    if request.param == "neo4j":
        s = _neo4j_store()
    else:
        s = open_store(Settings(db_path=tmp_path / "graph.lbug"), create=True)
    yield s
    s.close()
