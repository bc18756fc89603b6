"""The fixture graph in a real Ladybug store, built once per session for the query tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph_service.queries import NamedQuery, load_library
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from tests.fixtures.graph import build_fixture_graph


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    path = tmp_path_factory.mktemp("cypher") / "graph.lbug"
    store = open_store(Settings(db_path=path), create=True)
    build_fixture_graph(store)
    yield store
    store.close()


@pytest.fixture(scope="session")
def library() -> dict[str, NamedQuery]:
    return load_library()
