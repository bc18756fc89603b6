"""The Neo4j backend (official driver): constraints from the schema, batched UNWIND MERGE."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, cast

import pyarrow as pa
from neo4j import (
    READ_ACCESS,
    WRITE_ACCESS,
    Driver,
    NotificationMinimumSeverity,
    RoutingControl,
    unit_of_work,
)
from neo4j import exceptions as nx

from graph_service import schema
from graph_service.batch import Batch, DeleteEdgesFrom, DeleteNodes, EdgeBatch, NodeBatch, validate
from graph_service.errors import (
    ProdgraphError,
    QueryError,
    ReadOnlyViolation,
    SchemaMismatchError,
    TransientError,
)
from graph_service.store.base import (
    STORE_ID_Q,
    PruneReport,
    QueryResult,
    WriteResult,
    new_store_id,
    run_prune,
)
from graph_service.store.guard import NEO4J_READ_CALLS, QueryLimits, check_query
from graph_service.store.neo4j_checks import UNRECOGNIZED_ONLY, check_params, refuse_unknown_names
from graph_service.store.neo4j_values import plain
from graph_service.store.neo4j_values import table as result_table

logger = logging.getLogger(__name__)

__all__ = ["Neo4jStore", "neo4j_ddl", "written_rows"]

# EXPLAIN's query type: "r" reads, everything else is refused on the read-only path
_QUERY_TYPES = {
    "w": "a write query",
    "rw": "a read-write query",
    "s": "a schema statement (index or constraint)",
}


def neo4j_ddl() -> list[str]:
    """Uniqueness constraints on every key and indexes on declared properties (idempotent)."""
    stmts = [
        f"CREATE CONSTRAINT {schema.META_LABEL.lower()}_key IF NOT EXISTS "
        f"FOR (n:{schema.META_LABEL}) REQUIRE n.key IS UNIQUE"
    ]
    for nt in schema.NODES:
        low = nt.label.lower()
        stmts.append(
            f"CREATE CONSTRAINT {low}_uid IF NOT EXISTS FOR (n:{nt.label}) REQUIRE n.uid IS UNIQUE"
        )
        stmts += [
            f"CREATE INDEX {low}_{p.name} IF NOT EXISTS FOR (n:{nt.label}) ON (n.{p.name})"
            for p in nt.props
            if p.indexed
        ]
        stmts.append(
            f"CREATE INDEX {low}_loaded_by IF NOT EXISTS FOR (n:{nt.label}) ON (n.loaded_by)"
        )
    return stmts


def _map_error(e: Exception, what: str) -> ProdgraphError:
    if isinstance(e, (nx.ServiceUnavailable, nx.SessionExpired, nx.TransientError)):
        return TransientError(f"{what}: Neo4j is unavailable: {e}")
    if isinstance(e, nx.AuthError):
        return TransientError(f"{what}: Neo4j refused the credentials: {e}")
    code = getattr(e, "code", "") or ""
    if "AccessMode" in code or ("read" in str(e).lower() and "not allowed" in str(e).lower()):
        return ReadOnlyViolation(f"{what}: writes are refused on the read-only path ({e})")
    return QueryError(f"{what}: {getattr(e, 'message', None) or e}")


class Neo4jStore:
    """GraphStore on Neo4j. The driver is injected; `open_store` builds it from settings."""

    backend = "neo4j"

    def __init__(
        self,
        driver: Driver,
        *,
        database: str | None = None,
        batch_size: int = 5000,
        limits: QueryLimits | None = None,
    ):
        self._driver = driver
        self._database = database
        self.batch_size = batch_size
        self.limits = limits or QueryLimits()
        self.generation = 0

    def _session(self, write: bool) -> Any:
        if write:
            return self._driver.session(database=self._database, default_access_mode=WRITE_ACCESS)
        # reads hear the server's UNRECOGNIZED warnings (unknown label or type) and no others
        return self._driver.session(
            database=self._database,
            default_access_mode=READ_ACCESS,
            notifications_min_severity=NotificationMinimumSeverity.WARNING,
            notifications_disabled_classifications=UNRECOGNIZED_ONLY,
        )

    def _run_write(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        try:
            with self._session(True) as s:
                return list(s.execute_write(lambda tx: list(tx.run(cypher, dict(params or {})))))
        except nx.Neo4jError as e:
            raise _map_error(e, "write") from e
        except nx.DriverError as e:
            raise _map_error(e, "write") from e

    # ---- schema -------------------------------------------------------------------------
    def apply_schema(self) -> None:
        stored = self.schema_version()
        if stored is not None and stored > schema.SCHEMA_VERSION:
            raise SchemaMismatchError(
                f"Neo4j has prodgraph schema version {stored}, newer than this code "
                f"({schema.SCHEMA_VERSION}): upgrade prodgraph"
            )
        for stmt in neo4j_ddl():
            self._run_write(stmt)
        self._run_write(
            f"MERGE (m:{schema.META_LABEL} {{key: 'schema_version'}}) SET m.value = $v",
            {"v": str(schema.SCHEMA_VERSION)},
        )
        self._run_write(STORE_ID_Q, {"v": new_store_id()})

    def schema_version(self) -> int | None:
        rows = self._run_read(
            f"MATCH (m:{schema.META_LABEL} {{key: 'schema_version'}}) RETURN m.value AS v", {}
        )
        return int(rows[0]["v"]) if rows else None

    def check_schema(self) -> None:
        stored = self.schema_version()
        if stored != schema.SCHEMA_VERSION:
            raise SchemaMismatchError(
                f"Neo4j holds prodgraph schema {stored}, this code needs "
                f"{schema.SCHEMA_VERSION}: run `prodgraph init`"
            )

    # ---- writes -------------------------------------------------------------------------
    def write(self, batch: Batch, *, loaded_by: str, run_id: str) -> WriteResult:
        """Validate, then write in one transaction per `batch_size` rows."""
        batch = validate(batch)
        self.generation += 1
        if isinstance(batch, DeleteNodes):
            q = (
                f"UNWIND $rows AS u MATCH (n:{batch.label} {{uid: u}}) DETACH DELETE n "
                "RETURN count(*) AS c"
            )
            return self._chunks(q, list(batch.uids), "delete")
        if isinstance(batch, DeleteEdgesFrom):
            q = (
                f"UNWIND $rows AS u MATCH (:{batch.src_label} {{uid: u}})-[r:{batch.type}]->() "
                "DELETE r RETURN count(*) AS c"
            )
            return self._chunks(q, list(batch.uids), "delete")
        if len(batch) == 0:
            return WriteResult(0, 0, "empty")
        rows = _rows(batch.table, loaded_by, run_id)
        if isinstance(batch, NodeBatch):
            q = (
                f"UNWIND $rows AS row MERGE (n:{batch.label} {{uid: row.uid}}) "
                "SET n += row RETURN count(*) AS c"
            )
        else:
            assert isinstance(batch, EdgeBatch)
            q = (
                f"UNWIND $rows AS row MATCH (a:{batch.src_label} {{uid: row.src}}) "
                f"MATCH (b:{batch.dst_label} {{uid: row.dst}}) "
                f"MERGE (a)-[r:{batch.type}]->(b) SET r += row.props RETURN count(*) AS c"
            )
            rows = [{"src": r.pop("src"), "dst": r.pop("dst"), "props": r} for r in rows]
        return self._chunks(q, rows, "merge")

    def _chunks(self, q: str, rows: list[Any], method: str) -> WriteResult:
        written = 0
        for i in range(0, len(rows), self.batch_size):
            chunk = rows[i : i + self.batch_size]
            written += written_rows(self._run_write(q, {"rows": chunk}), len(chunk))
        missing = len(rows) - written if method == "merge" else 0
        return WriteResult(written, missing, method)

    def meta(self, key: str) -> str | None:
        """A value of the store's own metadata node (`schema_version`, `demo`, ...)."""
        rows = self._run_read(
            f"MATCH (m:{schema.META_LABEL} {{key: $key}}) RETURN m.value AS v", {"key": key}
        )
        return rows[0]["v"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._run_write(
            f"MERGE (m:{schema.META_LABEL} {{key: $key}}) SET m.value = $v",
            {"key": key, "v": value},
        )

    def data_nodes(self) -> int:
        """Nodes other than the metadata node."""
        rows = self._run_read(f"MATCH (n) WHERE NOT n:{schema.META_LABEL} RETURN count(n) AS c", {})
        return int(rows[0]["c"])

    def delete_all(self, batch: int = 10_000) -> int:
        """Delete every data node (metadata kept), `batch` nodes per transaction."""
        self.generation += 1
        q = (
            f"MATCH (n) WHERE NOT n:{schema.META_LABEL} WITH n LIMIT $n "
            "DETACH DELETE n RETURN count(*) AS c"
        )
        deleted = 0
        while True:
            done = written_rows(self._run_write(q, {"n": batch}), 0)
            deleted += done
            if done < batch:
                return deleted

    def prune(
        self, loaded_by: str, keep_run: str, *, cap: float, dry_run: bool = True
    ) -> PruneReport:
        """Delete rows `loaded_by` wrote in runs other than `keep_run`, unless over `cap`."""

        def count(cypher: str, params: dict[str, Any]) -> tuple[int, int]:
            rows = self._run_read(cypher, params)
            return (int(rows[0]["t"]), int(rows[0]["s"] or 0)) if rows else (0, 0)

        def delete(cypher: str, params: dict[str, Any]) -> None:
            self._run_write(cypher, params)

        if not dry_run:
            self.generation += 1
        return run_prune(loaded_by, keep_run, cap, dry_run, count, delete)

    # ---- reads --------------------------------------------------------------------------
    def _run_read(self, cypher: str, params: Mapping[str, Any]) -> list[Any]:
        try:
            records, _, _ = self._driver.execute_query(
                cypher, dict(params), routing_=RoutingControl.READ, database_=self._database
            )
        except (nx.Neo4jError, nx.DriverError) as e:
            raise _map_error(e, "read") from e
        return list(records)

    def query(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_s: float | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        """One read-only statement in a READ access-mode transaction, after EXPLAIN says 'r'
        and names no label or relationship type outside the schema.

        The timeout goes on the transaction function (`unit_of_work`): inside a managed
        transaction `tx.run` takes text and parameters only.
        """
        check_query(cypher, self.limits, allowed_calls=NEO4J_READ_CALLS)  # the shared guard
        start = time.perf_counter()
        cap = row_cap if row_cap is not None else 1 << 62
        args = dict(params or {})
        check_params(args)

        @unit_of_work(timeout=timeout_s)
        def work(tx: Any) -> tuple[list[str], list[list[Any]], bool]:
            plan = tx.run("EXPLAIN " + cypher, args).consume()
            if plan.query_type not in ("r", None):
                what = _QUERY_TYPES.get(plan.query_type, f"of type {plan.query_type!r}")
                raise ReadOnlyViolation(
                    f"read-only query path: the statement is {what} and is refused",
                    {"query_type": plan.query_type},
                )
            refuse_unknown_names(getattr(plan, "gql_status_objects", ()))
            result = tx.run(cypher, args)
            keys, rows = list(result.keys()), cast(list[list[Any]], [])
            for record in result:
                if len(rows) == cap:
                    return keys, rows, True
                rows.append([plain(v) for v in record.values()])
            return keys, rows, False

        try:
            with self._session(False) as s:
                keys, rows, truncated = s.execute_read(work)
        except (nx.Neo4jError, nx.DriverError) as e:
            raise _map_error(e, "query") from e
        table = result_table(keys, rows)
        return QueryResult(table, truncated, (time.perf_counter() - start) * 1000)

    def counts(self) -> dict[str, dict[str, int]]:
        nodes = {
            n.label: self._run_read(f"MATCH (n:{n.label}) RETURN count(n) AS c", {})[0]["c"]
            for n in schema.NODES
        }
        edges = {
            r.type: self._run_read(f"MATCH ()-[r:{r.type}]->() RETURN count(r) AS c", {})[0]["c"]
            for r in schema.RELS
        }
        return {"nodes": nodes, "edges": edges}

    def ping(self) -> bool:
        """The server answers a read through the same path as every query (not just a socket)."""
        try:
            self._driver.verify_connectivity()
        except (nx.Neo4jError, nx.DriverError) as e:
            raise _map_error(e, "ping") from e
        self.query("RETURN 1 AS one", timeout_s=10.0)
        return True

    def close(self) -> None:
        self._driver.close()


def written_rows(records: list[Any], sent: int) -> int:
    """Rows one chunk wrote: its `c` column when the statement returns one, else all it sent.

    (A `neo4j.Record`'s `in` tests its values, not its keys: read the column with `get`.)
    """
    c = records[0].get("c") if records else None
    return sent if c is None else int(c)


def _rows(table: pa.Table, loaded_by: str, run_id: str) -> list[dict[str, Any]]:
    """Row maps without nulls: a null means "unknown", so an upsert never erases a value."""
    rows = [{k: v for k, v in r.items() if v is not None} for r in table.to_pylist()]
    for r in rows:
        r["loaded_by"], r["run_id"] = loaded_by, run_id
    return rows
