"""Shared fixtures: a fresh embedded store on disk, and the store backends to run against.

Backends for tests come only from the tests' own variables: the Neo4j leg runs when
`PRODGRAPH_TEST_NEO4J_URI` (+ `_USER`, `_PASSWORD`, optional `_DATABASE`) is set and is
skipped, with that reason, otherwise. The product's own `PRODGRAPH_BACKEND`,
`PRODGRAPH_NEO4J_*` and `PRODGRAPH_DB_PATH` are removed for the whole session, so they never
send a test (or a command a test starts) to another store.

Every test that takes `store`, `any_store` or `backend` runs once per backend (`[ladybug]`,
`[neo4j]`). A test about the embedded store itself (its files, locks, crash recovery) is
marked `@pytest.mark.embedded_only` and gets no Neo4j leg.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store

BACKENDS = ["ladybug", "neo4j"]
# fixture params: the Neo4j leg carries the `neo4j` mark (`-m "not neo4j"` leaves it out)
BACKEND_PARAMS = [pytest.param("ladybug"), pytest.param("neo4j", marks=pytest.mark.neo4j)]
NEO4J_SKIP = "Neo4j leg: set PRODGRAPH_TEST_NEO4J_URI (and _USER, _PASSWORD) to run it"
_PRODUCT_BACKEND_VARS = (
    "PRODGRAPH_BACKEND",
    "PRODGRAPH_DB_PATH",
    "PRODGRAPH_NEO4J_URI",
    "PRODGRAPH_NEO4J_USER",
    "PRODGRAPH_NEO4J_PASSWORD",
    "PRODGRAPH_NEO4J_DATABASE",
)


EMBEDDED_ONLY = "embedded_only"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{EMBEDDED_ONLY}: about the embedded store itself (files, locks, recovery): no Neo4j leg",
    )
    config.addinivalue_line("markers", "neo4j: the Neo4j leg of a test run on every backend")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the Neo4j leg of tests marked embedded_only (they are not backend-agnostic)."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker(EMBEDDED_ONLY) and item.get_closest_marker("neo4j")
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = {id(i) for i in dropped}
        items[:] = [i for i in items if id(i) not in gone]


@pytest.fixture(scope="session", autouse=True)
def _no_product_backend() -> Iterator[None]:
    """The product's backend variables never redirect a test: removed for the session."""
    with pytest.MonkeyPatch.context() as mp:
        for var in _PRODUCT_BACKEND_VARS:
            mp.delenv(var, raising=False)
        yield


_LOCATION_FIELDS = {
    "backend",
    "db_path",
    "neo4j_uri",
    "neo4j_user",
    "neo4j_password",
    "neo4j_database",
}


@dataclass
class StoreBackend:
    """One store backend for a test: its settings, and the variables that select it."""

    name: str
    settings: Settings
    env: dict[str, str] = field(default_factory=dict)

    def open(self, *, create: bool = True) -> GraphStore:
        return open_store(self.settings, create=create)

    def use_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point `Settings()` (and commands started by the test) at this backend."""
        for var, value in self.env.items():
            monkeypatch.setenv(var, value)

    @property
    def db_args(self) -> list[str]:
        """The CLI's store arguments: `--db PATH` for the embedded store, none for Neo4j (its
        variables select it; an explicit `--db` would force the embedded store)."""
        return ["--db", str(self.settings.db_path)] if self.name == "ladybug" else []

    @property
    def location(self) -> dict[str, Any]:
        """The settings fields that name this store, to build other `Settings` around it."""
        return self.settings.model_dump(include=_LOCATION_FIELDS)

    def with_settings(self, **update: Any) -> Settings:
        """This backend's settings with `update` applied (API keys, limits, ...)."""
        return self.settings.model_copy(update=update)


def neo4j_test_settings(tmp_path: Path) -> Settings:
    """Settings of the test Neo4j server; skips the test when none is configured."""
    uri = os.environ.get("PRODGRAPH_TEST_NEO4J_URI")
    if not uri:
        pytest.skip(NEO4J_SKIP)
    return Settings(
        backend="neo4j",
        neo4j_uri=uri,
        neo4j_user=os.environ.get("PRODGRAPH_TEST_NEO4J_USER", "neo4j"),
        neo4j_password=SecretStr(os.environ.get("PRODGRAPH_TEST_NEO4J_PASSWORD", "")),
        neo4j_database=os.environ.get("PRODGRAPH_TEST_NEO4J_DATABASE") or None,
        model_dir=tmp_path / "models",
    )


def wipe_neo4j(settings: Settings) -> None:
    """Empty the test server's database: every node, and the vector indexes triage made."""
    store = open_store(settings, create=True)
    try:
        run_write, run_read = store._run_write, store._run_read  # type: ignore[attr-defined]
        run_write("MATCH (n) DETACH DELETE n")
        for row in run_read("SHOW VECTOR INDEXES YIELD name RETURN name", {}):
            run_write(f"DROP INDEX `{row['name']}` IF EXISTS")
        store.apply_schema()
    finally:
        store.close()


def make_backend(name: str, tmp_path: Path) -> StoreBackend:
    """A fresh, empty backend `name` (the Neo4j one wiped; skipped when not configured)."""
    if name == "neo4j":
        settings = neo4j_test_settings(tmp_path)
        wipe_neo4j(settings)
        env = {
            "PRODGRAPH_BACKEND": "neo4j",
            "PRODGRAPH_NEO4J_URI": settings.neo4j_uri or "",
            "PRODGRAPH_NEO4J_USER": settings.neo4j_user,
            "PRODGRAPH_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        }
        if settings.neo4j_database:
            env["PRODGRAPH_NEO4J_DATABASE"] = settings.neo4j_database
        return StoreBackend(name, settings, env)
    db = tmp_path / "graph.lbug"
    settings = Settings(backend="ladybug", db_path=db, model_dir=tmp_path / "models")
    env = {"PRODGRAPH_BACKEND": "ladybug", "PRODGRAPH_DB_PATH": str(db)}
    return StoreBackend(name, settings, env)


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    """Each backend in turn, empty: end-to-end tests run on both (Neo4j when configured)."""
    return make_backend(request.param, tmp_path)


@pytest.fixture
def store(backend: StoreBackend) -> Iterator[GraphStore]:
    """A fresh, empty store of each backend (the embedded one at `tmp_path / "graph.lbug"`)."""
    s = backend.open()
    yield s
    s.close()


@pytest.fixture
def any_store(store: GraphStore) -> GraphStore:
    """The same as `store`: the contract suite's name for it."""
    return store


@pytest.fixture
def embedded_store(tmp_path: Path) -> Iterator[GraphStore]:
    """A fresh embedded store (always embedded, whatever the environment says)."""
    s = open_store(Settings(backend="ladybug", db_path=tmp_path / "graph.lbug"), create=True)
    yield s
    s.close()
