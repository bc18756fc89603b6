"""The fixture graph on each backend for the query tests (the embedded one built once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph_service.queries import NamedQuery, load_library
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from tests.conftest import StoreBackend
from tests.fixtures.graph import build_fixture_graph


@pytest.fixture(scope="session")
def embedded_fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    path = tmp_path_factory.mktemp("cypher") / "graph.lbug"
    store = open_store(Settings(db_path=path), create=True)
    build_fixture_graph(store)
    yield store
    store.close()


@pytest.fixture
def fixture_store(request: pytest.FixtureRequest, backend: StoreBackend) -> Iterator[GraphStore]:
    """The fixture graph on each backend: the embedded one built once per session, the Neo4j
    one per test (every Neo4j test wipes the one test database it shares)."""
    if backend.name == "ladybug":
        yield request.getfixturevalue("embedded_fixture_store")
        return
    store = backend.open()
    try:
        build_fixture_graph(store)
        yield store
    finally:
        store.close()


@pytest.fixture(scope="session")
def library() -> dict[str, NamedQuery]:
    return load_library()
