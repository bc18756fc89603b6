"""The Neo4j backend's parts that need no server: result conversion on the driver's own graph
and temporal types, chunk counting on real `neo4j.Record`s, backend selection, notifications,
and the read-only refusal wording."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from neo4j import Record
from neo4j._codec.hydration.bolt.v1.hydration_handler import _GraphHydrator
from neo4j.time import Date, DateTime, Duration, Time

from graph_service import batch as B
from graph_service.errors import ReadOnlyViolation
from graph_service.settings import Settings
from graph_service.store import GraphStore, neo4j_driver, open_store
from graph_service.store.neo4j_store import Neo4jStore, written_rows
from graph_service.store.neo4j_values import column, plain, table

AUTHORED = DateTime(2024, 3, 5, 10, 11, 12, 345_000_000)  # what the server sends for a datetime
LOCAL = dt.datetime(2024, 3, 5, 10, 11, 12, 345_000)


def _graph() -> tuple[Any, Any, Any]:
    """A Commit, a Function and a MODIFIES between them, hydrated as the driver does."""
    h = _GraphHydrator()
    commit = h.hydrate_node(
        1, ["Commit"], {"uid": "commit:r:abc", "sha": "abc", "authored_at": AUTHORED}, "4:x:1"
    )
    fn = h.hydrate_node(2, ["Function"], {"uid": "fn:r:m.py:f", "name": "f"}, "4:x:2")
    rel = h.hydrate_relationship(
        7, 1, 2, "MODIFIES", {"added": 3, "at": AUTHORED}, "5:x:7", "4:x:1", "4:x:2"
    )
    path = h.hydrate_path([commit, fn], [rel], [1, 1])
    return commit, rel, path


def test_nested_temporal_values_in_nodes_relationships_and_paths_reach_arrow() -> None:
    commit, rel, path = _graph()
    out = table(["c", "r", "p"], [[plain(commit), plain(rel), plain(path)]]).to_pylist()[0]
    assert out["c"]["_LABEL"] == "Commit" and out["c"]["_ID"] == "4:x:1"
    assert out["c"]["authored_at"] == AUTHORED.to_native()
    assert isinstance(out["c"]["authored_at"], dt.datetime)
    assert out["r"]["_LABEL"] == "MODIFIES"
    assert (out["r"]["_SRC"], out["r"]["_DST"]) == ("4:x:1", "4:x:2")
    assert out["r"]["at"] == AUTHORED.to_native() and out["r"]["added"] == 3
    assert [n["_LABEL"] for n in out["p"]["_NODES"]] == ["Commit", "Function"]
    assert out["p"]["_RELS"][0]["_ID"] == "5:x:7"
    assert out["p"]["_NODES"][0]["authored_at"] == AUTHORED.to_native()


def test_temporal_and_nested_values_at_any_depth() -> None:
    values = {
        "d": Date(2024, 1, 2),
        "t": Time(3, 4, 5),
        "dur": Duration(days=2, seconds=30),
        "long": Duration(months=1),
        "deep": [{"when": AUTHORED}],
    }
    got = plain(values)
    assert got["d"] == dt.date(2024, 1, 2) and got["t"] == dt.time(3, 4, 5)
    assert got["dur"] == dt.timedelta(days=2, seconds=30)
    assert got["long"] == "P1M"
    assert got["deep"][0]["when"] == AUTHORED.to_native()
    # and the whole thing goes into Arrow
    assert table(["v"], [[got]]).num_rows == 1


def test_node_shape_matches_the_embedded_store(embedded_store: GraphStore) -> None:
    """`RETURN c` gives the same keys in the same order on both backends (ids differ)."""
    store = embedded_store
    store.write(
        B.nodes("Commit", [{"uid": "commit:r:abc", "sha": "abc", "authored_at": LOCAL}]),
        loaded_by="git",
        run_id="1",
    )
    embedded = store.query("MATCH (c:Commit) RETURN c").rows()[0]["c"]
    h = _GraphHydrator()
    props = {k: v for k, v in embedded.items() if not k.startswith("_") and v is not None}
    props["authored_at"] = DateTime(2024, 3, 5, 10, 11, 12, 345_000_000)
    node = h.hydrate_node(1, ["Commit"], props, "4:x:1")
    converted = table(["c"], [[plain(node)]]).to_pylist()[0]["c"]
    assert list(converted) == list(embedded)
    assert {k: v for k, v in converted.items() if k != "_ID"} == {
        k: v for k, v in embedded.items() if k != "_ID"
    }


def test_mixed_type_columns_become_text_or_float() -> None:
    assert column([1, "a", None]).to_pylist() == ["1", "a", None]
    assert column([1, 2.5]).to_pylist() == [1.0, 2.5]
    assert column([[1, 2], "x", True]).to_pylist() == ["[1, 2]", "x", "true"]
    assert column([1, 2]).to_pylist() == [1, 2]


def test_chunk_counts_read_the_records_column_not_its_values() -> None:
    # the record's `in` tests values: "c" in Record(c=1) is False, which hid missing edges
    assert "c" not in Record({"c": 1})
    assert written_rows([Record({"c": 1})], 2) == 1  # one edge created of two sent
    assert written_rows([Record({"c": 0})], 5) == 0
    assert written_rows([Record({"other": "c"})], 3) == 3  # no count column: all sent
    assert written_rows([], 4) == 4  # DELETE statements return nothing


class _Result:
    def __init__(
        self, query_type: str, rows: list[dict[str, Any]], statuses: tuple[Any, ...] = ()
    ) -> None:
        self.query_type, self._rows, self.gql_status_objects = query_type, rows, statuses

    def consume(self) -> _Result:
        return self

    def keys(self) -> list[str]:
        return list(self._rows[0]) if self._rows else []

    def __iter__(self) -> Any:
        return iter(Record(r) for r in self._rows)


class _Tx:
    """Records what `query` asks of a managed transaction; answers with a canned plan."""

    def __init__(
        self, query_type: str, rows: list[dict[str, Any]], statuses: tuple[Any, ...] = ()
    ) -> None:
        self.query_type, self.rows, self.statuses = query_type, rows, statuses
        self.calls: list[Any] = []

    def run(self, query: Any, parameters: dict[str, Any] | None = None) -> _Result:
        # inside execute_read the driver takes text only: a neo4j.Query raises TypeError
        if not isinstance(query, str):
            raise TypeError("Query object is only supported for session.run")
        self.calls.append((query, parameters))
        return _Result(self.query_type, self.rows, self.statuses)


class _Session:
    def __init__(self, tx: _Tx) -> None:
        self.tx = tx
        self.timeouts: list[Any] = []

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute_read(self, fn: Any) -> Any:
        self.timeouts.append(getattr(fn, "timeout", None))
        return fn(self.tx)


class _Driver:
    def __init__(self, tx: _Tx) -> None:
        self.session_ = _Session(tx)
        self.configs: list[dict[str, Any]] = []

    def session(self, **config: Any) -> _Session:
        self.configs.append(config)
        return self.session_

    def verify_connectivity(self) -> None:
        return None


def test_query_runs_text_with_the_timeout_on_the_transaction_function() -> None:
    tx = _Tx("r", [{"one": 1, "when": AUTHORED}])
    driver = _Driver(tx)
    res = Neo4jStore(driver).query("RETURN 1 AS one", {"p": 1}, timeout_s=2.5)  # type: ignore[arg-type]
    assert res.rows() == [{"one": 1, "when": AUTHORED.to_native()}]
    assert driver.session_.timeouts == [2.5]
    assert tx.calls == [("EXPLAIN RETURN 1 AS one", {"p": 1}), ("RETURN 1 AS one", {"p": 1})]


def test_ping_reads_through_the_query_path() -> None:
    """/readyz must fail when reads fail, not only when the socket does."""
    tx = _Tx("r", [{"one": 1}])
    assert Neo4jStore(_Driver(tx)).ping()  # type: ignore[arg-type]
    assert tx.calls[-1][0] == "RETURN 1 AS one"


@pytest.mark.parametrize(
    ("query_type", "words"),
    [("s", "schema statement"), ("w", "write query"), ("rw", "read-write query")],
)
def test_refusals_name_the_kind_of_statement(query_type: str, words: str) -> None:
    store = Neo4jStore(_Driver(_Tx(query_type, [])))  # type: ignore[arg-type]
    with pytest.raises(ReadOnlyViolation) as e:
        store.query("SHOW INDEXES")
    assert words in e.value.message and "(writes)" not in e.value.message


def test_an_explicit_embedded_path_forces_the_embedded_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODGRAPH_NEO4J_URI", "bolt://127.0.0.1:1")
    assert Settings().backend == "neo4j"
    assert Settings(db_path=tmp_path / "g.lbug").backend == "ladybug"
    s = open_store(Settings(), db_path=tmp_path / "g.lbug", create=True)
    try:
        assert s.backend == "ladybug"
    finally:
        s.close()


def test_the_product_variables_never_reach_a_test() -> None:
    import os

    assert not any(
        os.environ.get(v) for v in ("PRODGRAPH_NEO4J_URI", "PRODGRAPH_BACKEND", "PRODGRAPH_DB_PATH")
    )


def test_the_driver_asks_the_server_for_no_notifications() -> None:
    driver = neo4j_driver(Settings(backend="neo4j", neo4j_uri="bolt://127.0.0.1:1"))
    try:
        assert driver._pool.pool_config.notifications_min_severity == "OFF"
    finally:
        driver.close()


def test_each_embedder_has_its_own_tag_and_scores_are_cosine() -> None:
    from graph_service.triage.neo4j_vectors import (
        cosine_from_index_score,
        embedder_tag,
        index_name,
    )
    from graph_service.triage.vectors import HashingEmbedder, MiniLMEmbedder

    tags = {
        embedder_tag(MiniLMEmbedder()),
        embedder_tag(HashingEmbedder()),
        embedder_tag(HashingEmbedder(128)),
    }
    assert tags == {"all_minilm_l6_v2_d384", "hashing_256_d256", "hashing_128_d128"}
    assert index_name(HashingEmbedder()) == "ticket_embedding_hashing_256_d256"
    # the pair: the index said 0.7782 where the embedded store said 0.5561
    assert cosine_from_index_score((1 + 0.5561) / 2) == pytest.approx(0.5561)
    assert cosine_from_index_score(0.5) == pytest.approx(0.0)


def _status(gql_status: str, description: str) -> Any:
    """A GQL status object as a 5.26 server sends it with EXPLAIN's summary."""
    from neo4j._work.summary import GqlStatusObject

    return GqlStatusObject._from_status_metadata(
        {
            "gql_status": gql_status,
            "status_description": description,
            "neo4j_code": "Neo.ClientNotification.Statement.UnknownLabelWarning",  # notifications
            "diagnostic_record": {"_classification": "UNRECOGNIZED", "_severity": "WARNING"},
        }
    )


UNKNOWN_LABEL = _status(
    "01N50",
    "warn: unknown label. The label `Functio` does not exist in database `neo4j`. "
    "Verify that the spelling is correct.",
)


def test_an_unknown_label_is_refused_as_on_the_embedded_store() -> None:
    from graph_service.errors import QueryError

    tx = _Tx("r", [], (UNKNOWN_LABEL,))
    driver = _Driver(tx)
    with pytest.raises(QueryError) as e:
        Neo4jStore(driver).query("MATCH (f:Functio) RETURN f")  # type: ignore[arg-type]
    assert "label Functio" in e.value.message and e.value.detail == {"unknown": ["label Functio"]}
    assert [q for q, _ in tx.calls] == ["EXPLAIN MATCH (f:Functio) RETURN f"]  # never run
    # the read session asked for the UNRECOGNIZED warnings only
    config = driver.configs[-1]
    assert str(config["notifications_min_severity"]) == "NotificationMinimumSeverity.WARNING"
    off = {c.name for c in config["notifications_disabled_classifications"]}
    assert "UNRECOGNIZED" not in off and {"HINT", "PERFORMANCE", "DEPRECATION"} <= off


def test_declared_names_not_yet_in_the_database_and_properties_answer_rows() -> None:
    statuses = (
        _status(
            "01N51",
            "warn: unknown relationship type. The relationship type `DUPLICATE_OF` does not "
            "exist in database `neo4j`. Verify that the spelling is correct.",
        ),
        _status(
            "01N52",
            "warn: unknown property key. The property `label` does not exist in database "
            "`neo4j`. Verify that the spelling is correct.",
        ),
    )
    tx = _Tx("r", [{"n": 0}], statuses)
    store = Neo4jStore(_Driver(tx))  # type: ignore[arg-type]
    assert store.query("MATCH ()-[d:DUPLICATE_OF]->() RETURN count(d) AS n").rows() == [{"n": 0}]


def test_unknown_type_from_an_older_server_notification_is_refused() -> None:
    from neo4j._work.summary import GqlStatusObject

    from graph_service.errors import QueryError

    old = GqlStatusObject._from_notification_metadata(
        {
            "code": "Neo.ClientNotification.Statement.UnknownRelationshipTypeWarning",
            "title": "The provided relationship type is not in the database.",
            "description": "One of the relationship types in your query is not available in "
            "the database, make sure you didn't misspell it or that the label is available "
            "when you run this statement in your application (the missing relationship type "
            "is: CALL)",
            "severity": "WARNING",
            "category": "UNRECOGNIZED",
        }
    )
    store = Neo4jStore(_Driver(_Tx("r", [], (old,))))  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="relationship type CALL"):
        store.query("MATCH ()-[:CALL]->() RETURN 1")


def test_a_whole_number_beyond_64_bits_is_a_caller_error_before_anything_is_sent() -> None:
    from graph_service.errors import QueryError

    tx = _Tx("r", [])
    store = Neo4jStore(_Driver(tx))  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="fit in 64 bits") as e:
        store.query("RETURN $x AS x", {"x": {"a": [1, 2**64]}})
    assert e.value.detail == {"param": "x.a[1]"} and tx.calls == []
    store.query("RETURN $x AS x", {"x": [2**63 - 1, -(2**63), True]})  # the limits pass
