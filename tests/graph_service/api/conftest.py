"""API fixtures: the fixture graph on each backend, keys of each role, a TestClient."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from graph_service.api import create_app
from graph_service.api.auth import hash_key
from graph_service.settings import Settings
from graph_service.store import open_store
from tests.conftest import StoreBackend
from tests.fixtures.graph import build_fixture_graph

KEYS = {"reader": "read-secret", "writer": "write-secret", "admin": "admin-secret"}


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture graph, built once; each test gets its own copy of the folder."""
    root = tmp_path_factory.mktemp("fixture-graph")
    store = open_store(Settings(db_path=root / "graph.lbug"), create=True)
    build_fixture_graph(store)
    store.close()
    return root


@pytest.fixture
def settings(tmp_path: Path, fixture_db: Path, backend: StoreBackend) -> Settings:
    """The service's settings over the fixture graph, on each backend: the embedded one a copy
    of the session's, the Neo4j one built into the wiped test database."""
    if backend.name == "neo4j":
        store = backend.open()
        try:
            build_fixture_graph(store)
        finally:
            store.close()
        where: dict[str, Any] = backend.settings.model_dump(
            include={"backend", "neo4j_uri", "neo4j_user", "neo4j_password", "neo4j_database"}
        )
    else:
        shutil.copytree(fixture_db, tmp_path / "db")
        where = {"db_path": tmp_path / "db" / "graph.lbug"}
    return Settings(
        **where,
        model_dir=tmp_path / "models",
        api_keys=[
            f"reader:{hash_key(KEYS['reader'])}",
            {"name": "ci", "role": "writer", "sha256": hash_key(KEYS["writer"])},
            f"admin:{hash_key(KEYS['admin'])}",
        ],
        webhook_secret=SecretStr("hook-secret"),
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c
