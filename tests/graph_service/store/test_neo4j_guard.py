"""The Neo4j store runs the same read guard as the embedded one, before any statement is sent:
no server is needed to show that a refused text never reaches the driver."""

from __future__ import annotations

from typing import Any

import pytest

from graph_service.errors import QueryLimitError, ReadOnlyViolation
from graph_service.store.guard import QueryLimits
from graph_service.store.neo4j_store import Neo4jStore


class _NoDriver:
    """A driver that fails the test if anything is sent to it."""

    def session(self, **_: Any) -> Any:
        raise AssertionError("a refused query reached the driver")


@pytest.mark.parametrize(
    ("cypher", "error"),
    [
        ("RETURN " + "[" * 2000 + "1" + "]" * 2000 + " AS x", QueryLimitError),
        ("RETURN '" + "x" * 10_000 + "' AS x", QueryLimitError),
        ("CALL dbms.setConfigValue('db.logs.query.enabled', 'OFF')", ReadOnlyViolation),
        ("CALL apoc.create.node(['X'], {}) YIELD node RETURN node", ReadOnlyViolation),
        ("MATCH (n) DETACH DELETE n", ReadOnlyViolation),
    ],
)
def test_refused_before_the_server(cypher: str, error: type[Exception]) -> None:
    store = Neo4jStore(_NoDriver(), limits=QueryLimits(max_chars=8_192))  # type: ignore[arg-type]
    with pytest.raises(error):
        store.query(cypher)
