"""Embedded Ladybug backend: typed tables from the schema, COPY first loads, LOAD FROM upserts."""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ladybug
import numpy as np
import pyarrow as pa

from graph_service import schema
from graph_service.batch import Batch, DeleteEdgesFrom, DeleteNodes, EdgeBatch, NodeBatch, validate
from graph_service.errors import (
    ProdgraphError,
    QueryError,
    QueryLimitError,
    QueryTimeoutError,
    ReadOnlyViolation,
    SchemaMismatchError,
    StoreLockedError,
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
from graph_service.store.guard import QueryLimits, bound_rows, check_query

logger = logging.getLogger(__name__)

__all__ = ["LadybugStore", "ladybug_ddl"]

READERS = 4  # concurrent read connections per store
# worker threads one read may use: half the cores, so one runaway read cannot take every
# worker from the point reads beside it (measured in docs/security.md)
READER_THREADS = max(1, (os.cpu_count() or 2) // 2)
# Ladybug's refusal of a read-only open after a writer died mid-checkpoint
_RECOVERY_PENDING = "checkpoint recovery is pending"
_COL = "c_"  # prefix of frame columns, so they never collide with query variables


def ladybug_ddl() -> list[str]:
    """CREATE statements for every table of the schema (idempotent)."""
    stmts = [
        f"CREATE NODE TABLE IF NOT EXISTS {schema.META_LABEL}(key STRING PRIMARY KEY, value STRING)"
    ]
    for nt in schema.NODES:
        cols = ", ".join(
            f"{p.name} {p.type.value}" + (" PRIMARY KEY" if p.name == "uid" else "")
            for p in nt.all_props
        )
        stmts.append(f"CREATE NODE TABLE IF NOT EXISTS {nt.label}({cols})")
    for rt in schema.RELS:
        pairs = ", ".join(f"FROM {a} TO {b}" for a, b in rt.pairs)
        cols = "".join(f", {p.name} {p.type.value}" for p in rt.all_props)
        stmts.append(f"CREATE REL TABLE IF NOT EXISTS {rt.type}({pairs}{cols})")
    return stmts


def _map_error(e: Exception, what: str) -> ProdgraphError:
    msg = str(e).strip()
    if "read-only" in msg.lower() or "read only" in msg.lower():
        return ReadOnlyViolation(f"{what}: writes are refused on the read-only path ({msg})")
    if "interrupted" in msg.lower() or "timeout" in msg.lower():
        return QueryTimeoutError(
            f"{what}: the query timed out and was stopped: narrow it (a LIMIT, a shorter "
            "path, a selective MATCH)",
            {"reason": msg},
        )
    if "buffer pool" in msg.lower() or "out of memory" in msg.lower():
        return TransientError(f"{what}: the store ran out of memory: {msg}")
    return QueryError(f"{what}: {msg}")


class LadybugStore:
    """GraphStore on an embedded Ladybug database (one folder/file on disk, one writer process)."""

    backend = "ladybug"

    def __init__(
        self, path: Path | str, *, read_only: bool = False, limits: QueryLimits | None = None
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.limits = limits or QueryLimits()
        self.generation = 0
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise SchemaMismatchError(
                f"no prodgraph store at {self.path}: run `prodgraph init` or an ingest first"
            )
        self._db = self._open_database(read_only)
        self._write_conn = ladybug.Connection(self._db)
        self._write_lock = threading.Lock()
        # read connections, one per concurrent reader: Ladybug runs read-only transactions
        # side by side (and beside the one writer); opened on demand, at most READERS
        self._readers: queue.LifoQueue[Any] = queue.LifoQueue()
        self._reader_slots = threading.BoundedSemaphore(READERS)
        self._all_readers: list[Any] = []
        self._readers_lock = threading.Lock()

    def _open_database(self, read_only: bool) -> Any:
        """Open the database; a read-only open first completes a crashed writer's recovery.

        After a writer is killed during a checkpoint, Ladybug refuses read-only opens until a
        read-write open replays the pending checkpoint. When no other process holds the store,
        this open does that replay (it only finishes what was committed) and then opens
        read-only; when one does, the error says to retry after it finishes.
        """
        try:
            return ladybug.Database(str(self.path), read_only=read_only)
        except RuntimeError as e:
            if not (read_only and _RECOVERY_PENDING in str(e)):
                raise self._open_error(e) from e
        logger.warning("store %s: completing a crashed writer's recovery before reading", self.path)
        try:
            ladybug.Database(str(self.path)).close()  # the read-write open replays the checkpoint
            return ladybug.Database(str(self.path), read_only=True)
        except RuntimeError as e:
            if _RECOVERY_PENDING in str(e) or "lock" in str(e).lower():
                raise TransientError(
                    f"the embedded store {self.path} has a checkpoint recovery pending from a "
                    "writer that stopped mid-checkpoint, and another process holds it for "
                    "writing: retry when that process finishes; if none runs, any writing "
                    f"command (`prodgraph init --db {self.path}`) completes the recovery",
                    {"path": str(self.path)},
                ) from e
            raise self._open_error(e) from e

    def _open_error(self, e: RuntimeError) -> ProdgraphError:
        msg = str(e)
        m = re.search(r"held by PID (\d+)", msg)
        if m or "lock" in msg.lower():
            holder = f"process {m.group(1)}" if m else "another process"
            return StoreLockedError(
                f"the embedded store {self.path} is open for writing by {holder} "
                "(for example `prodgraph serve`). Only one process may write to it: stop that "
                "process, or send data through its API (POST /v1/ingest/...), or query it "
                "read-only.",
                {"path": str(self.path), "holder": holder},
            )
        return TransientError(f"cannot open the embedded store {self.path}: {msg}")

    # ---- schema -------------------------------------------------------------------------
    def apply_schema(self) -> None:
        """Create missing tables and columns, then record the schema version (idempotent)."""
        stored = self.schema_version()
        if stored is not None and stored > schema.SCHEMA_VERSION:
            raise SchemaMismatchError(
                f"store {self.path} has schema version {stored}, newer than this prodgraph "
                f"({schema.SCHEMA_VERSION}): upgrade prodgraph"
            )
        with self._write_lock:
            for stmt in ladybug_ddl():
                self._write_conn.execute(stmt)
            self._add_missing_columns()
            self._write_conn.execute(
                f"MERGE (m:{schema.META_LABEL} {{key: 'schema_version'}}) SET m.value = $v",
                {"v": str(schema.SCHEMA_VERSION)},
            )
            self._write_conn.execute(STORE_ID_Q, {"v": new_store_id()})

    def _add_missing_columns(self) -> None:
        tables: list[tuple[str, tuple[schema.Prop, ...]]] = [
            (n.label, n.all_props) for n in schema.NODES
        ] + [(r.type, r.all_props) for r in schema.RELS]
        for name, props in tables:
            info = _arrow(_single(self._write_conn.execute(f"CALL table_info('{name}') RETURN *")))
            have = set(info.column("name").to_pylist())
            for p in props:
                if p.name not in have:
                    logger.info("adding column %s.%s", name, p.name)
                    self._write_conn.execute(f"ALTER TABLE {name} ADD {p.name} {p.type.value}")

    def schema_version(self) -> int | None:
        try:
            res = self._write_conn.execute(
                f"MATCH (m:{schema.META_LABEL} {{key: 'schema_version'}}) RETURN m.value"
            )
        except RuntimeError:
            return None
        rows = _arrow(_single(res)).column(0).to_pylist()
        return int(rows[0]) if rows else None

    def check_schema(self) -> None:
        """Raise SchemaMismatchError unless the stored version is this code's version."""
        stored = self.schema_version()
        if stored != schema.SCHEMA_VERSION:
            found = "no schema" if stored is None else f"schema version {stored}"
            raise SchemaMismatchError(
                f"store {self.path} has {found}, this prodgraph needs version "
                f"{schema.SCHEMA_VERSION}: run `prodgraph init --db {self.path}` to create or "
                "upgrade it",
                {"stored": stored, "expected": schema.SCHEMA_VERSION},
            )

    # ---- writes -------------------------------------------------------------------------
    def write(self, batch: Batch, *, loaded_by: str, run_id: str) -> WriteResult:
        """Validate then write one batch atomically (one statement); nothing on failure."""
        if self.read_only:
            raise ReadOnlyViolation(f"store {self.path} is open read-only")
        batch = validate(batch)
        if len(batch) == 0:
            return WriteResult(0, 0, "empty")
        with self._write_lock:
            self.generation += 1
            try:
                if isinstance(batch, NodeBatch):
                    return self._write_nodes(batch, loaded_by, run_id)
                if isinstance(batch, EdgeBatch):
                    return self._write_edges(batch, loaded_by, run_id)
                return self._delete(batch)
            except (RuntimeError, ValueError, TypeError) as e:
                raise _map_error(e, f"writing {_describe(batch)}") from e

    def _count(self, pattern: str) -> int:
        res = _single(self._write_conn.execute(f"MATCH {pattern} RETURN count(*)"))
        return int(_arrow(res).column(0)[0].as_py())

    def _write_nodes(self, batch: NodeBatch, loaded_by: str, run_id: str) -> WriteResult:
        nt = schema.node(batch.label)
        table = _stamp(batch.table, loaded_by, run_id)
        # COPY is safe while no row of the batch is stored yet: nothing can collide
        if self._count(f"(n:{nt.label})") == 0 or self._none_stored(
            table, f"(n:{nt.label} {{uid: {_COL}uid}})", "uid"
        ):
            full = _full_table(table, [(p.name, p.type.arrow) for p in nt.all_props])
            self._write_conn.execute(f"COPY {nt.label} FROM full")
            return WriteResult(full.num_rows, 0, "copy")
        frame = _prefixed(table)
        sets = ", ".join(
            f"n.{c} = coalesce({_COL}{c}, n.{c})" for c in table.column_names if c != "uid"
        )
        q = f"LOAD FROM frame MERGE (n:{nt.label} {{uid: {_COL}uid}})"
        self._write_conn.execute(q + (f" SET {sets}" if sets else ""))
        return WriteResult(frame.num_rows, 0, "merge")

    def _write_edges(self, batch: EdgeBatch, loaded_by: str, run_id: str) -> WriteResult:
        rt = schema.rel(batch.type)
        table = _stamp(batch.table, loaded_by, run_id)
        # COPY is safe while no source of the batch has an edge of this type and endpoint
        # pair (a first load, or new commits' edges): nothing can be duplicated
        if self._count(
            f"(:{batch.src_label})-[r:{rt.type}]->(:{batch.dst_label})"
        ) == 0 or self._none_stored(
            table,
            f"(a:{batch.src_label} {{uid: {_COL}uid}})-[r:{rt.type}]->(:{batch.dst_label})",
            "src",
        ):
            copied = self._copy_edges(batch, rt, table)
            if copied is not None:
                return copied
        frame = _prefixed(table)
        sets = ", ".join(
            f"r.{c} = coalesce({_COL}{c}, r.{c})"
            for c in table.column_names
            if c not in ("src", "dst")
        )
        q = (
            f"LOAD FROM frame MATCH (a:{batch.src_label} {{uid: {_COL}src}}) "
            f"MATCH (b:{batch.dst_label} {{uid: {_COL}dst}}) "
            f"MERGE (a)-[r:{rt.type}]->(b)" + (f" SET {sets}" if sets else "") + " RETURN count(*)"
        )
        res = _single(self._write_conn.execute(q))
        written = int(_arrow(res).column(0)[0].as_py())
        return WriteResult(written, frame.num_rows - written, "merge")

    def _none_stored(self, table: pa.Table, pattern: str, key: str) -> bool:
        """Whether no stored row matches `pattern` for any distinct `key` of the batch."""
        frame = pa.table({f"{_COL}uid": table.column(key).unique()})  # noqa: F841
        res = _single(self._write_conn.execute(f"LOAD FROM frame MATCH {pattern} RETURN count(*)"))
        return int(res.get_as_arrow().column(0)[0].as_py()) == 0

    def _copy_edges(
        self, batch: EdgeBatch, rt: schema.RelType, table: pa.Table
    ) -> WriteResult | None:
        """First load of an empty rel table: bulk COPY; None when an endpoint is missing."""
        cols = [("src", pa.string()), ("dst", pa.string())]
        full = _full_table(table, cols + [(p.name, p.type.arrow) for p in rt.all_props])
        opts = f" (from='{batch.src_label}', to='{batch.dst_label}')" if len(rt.pairs) > 1 else ""
        try:
            self._write_conn.execute(f"COPY {rt.type} FROM full{opts}")
        except RuntimeError as e:
            logger.debug("COPY %s fell back to MERGE: %s", rt.type, e)
            return None
        return WriteResult(full.num_rows, 0, "copy")

    def _delete(self, batch: DeleteNodes | DeleteEdgesFrom) -> WriteResult:
        frame = pa.table({f"{_COL}uid": pa.array(list(batch.uids), pa.string())})  # noqa: F841
        if isinstance(batch, DeleteNodes):
            q = (
                f"LOAD FROM frame MATCH (n:{batch.label} {{uid: {_COL}uid}}) DETACH DELETE n "
                "RETURN count(*) AS n"
            )
        else:
            q = (
                f"LOAD FROM frame MATCH (a:{batch.src_label} {{uid: {_COL}uid}})"
                f"-[r:{batch.type}]->() DELETE r RETURN count(*) AS n"
            )
        result = self._write_conn.execute(q)
        deleted = int(result.get_all()[0][0])  # type: ignore[union-attr,index]
        return WriteResult(deleted, 0, "delete")  # what was there, not what was asked

    def prune(
        self, loaded_by: str, keep_run: str, *, cap: float, dry_run: bool = True
    ) -> PruneReport:
        """Delete rows `loaded_by` wrote in runs other than `keep_run`, unless over `cap`."""

        def count(cypher: str, params: dict[str, Any]) -> tuple[int, int]:
            row = _arrow(_single(self._write_conn.execute(cypher, params))).to_pylist()[0]
            return int(row["t"]), int(row["s"] or 0)

        def delete(cypher: str, params: dict[str, Any]) -> None:
            self._write_conn.execute(cypher, params)

        with self._write_lock:
            if not dry_run:
                self.generation += 1
            return run_prune(loaded_by, keep_run, cap, dry_run, count, delete)

    # ---- reads --------------------------------------------------------------------------
    def query(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_s: float | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        """Run one read-only statement in a READ ONLY transaction with a timeout and a row cap.

        The guard checks the text first (size, nesting, writes, CALL). With a row cap, the
        query itself is limited to `row_cap + 1` rows (see `bound_rows`), at most `row_cap`
        rows are converted, and the converted rows stop at `limits.max_result_bytes`; both
        cuts set `truncated`. The timeout covers execution (the engine interrupts it) and
        conversion (checked once rows are converted): past it, QueryTimeoutError, never rows.
        """
        scanned = check_query(cypher, self.limits)
        timeout = timeout_s or 30.0
        start = time.perf_counter()
        deadline = start + timeout
        text, bounded = cypher, False
        if row_cap is not None:
            text, bounded = bound_rows(cypher, scanned, row_cap + 1, params)
        with self._reader() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            conn.set_query_timeout(max(1, int(timeout * 1000)))
            try:
                conn.execute("BEGIN TRANSACTION READ ONLY")
            except RuntimeError as e:
                raise _map_error(e, "starting a read transaction") from e
            try:
                res = _single(conn.execute(text, dict(params or {})))
                _check_deadline(deadline, timeout, "running it")
                table, truncated = _collect(res, row_cap, bounded)
            except (RuntimeError, ValueError, TypeError) as e:
                raise _map_error(e, "query") from e
            finally:
                try:
                    conn.execute("ROLLBACK")
                except RuntimeError:
                    pass
        if row_cap is not None and table.nbytes > self.limits.max_result_bytes:
            table = _fit_bytes(table, self.limits.max_result_bytes)
            truncated = True
        _check_deadline(deadline, timeout, "converting its result")
        return QueryResult(table, truncated, (time.perf_counter() - start) * 1000)

    def counts(self) -> dict[str, dict[str, int]]:
        with self._write_lock:
            return {
                "nodes": {n.label: self._count(f"(n:{n.label})") for n in schema.NODES},
                "edges": {r.type: self._count(f"()-[r:{r.type}]->()") for r in schema.RELS},
            }

    def ping(self) -> bool:
        with self._reader() as conn:
            _single(conn.execute("RETURN 1"))
        return True

    @contextmanager
    def _reader(self) -> Iterator[Any]:
        """A read connection of this thread's own for the duration of one statement."""
        with self._reader_slots:
            try:
                conn = self._readers.get_nowait()
            except queue.Empty:
                conn = ladybug.Connection(self._db)
                conn.set_max_threads_for_exec(READER_THREADS)
                with self._readers_lock:
                    self._all_readers.append(conn)
            try:
                yield conn
            finally:
                self._readers.put(conn)

    def close(self) -> None:
        for conn in (*self._all_readers, self._write_conn):
            conn.close()
        self._db.close()


def _arrow(res: Any) -> pa.Table:
    """The result as Arrow, in chunks of its own size: Ladybug's default chunk (10M values
    over the columns) is allocated even for one row and costs ~0.5 ms per point query."""
    return res.get_as_arrow(max(1, min(res.get_num_tuples(), 1_000_000)))


def _collect(res: Any, row_cap: int | None, bounded: bool) -> tuple[pa.Table, bool]:
    """At most `row_cap` rows of the result as Arrow, and whether rows were left out.

    A bounded query (see `bound_rows`) holds at most a few times `row_cap + 1` rows: convert
    them all, then cut. Otherwise the result may be huge (a cross product is counted, not
    made, until it is read): read only `row_cap` rows, one at a time.
    """
    n = res.get_num_tuples()
    if row_cap is None or n <= row_cap:
        return _arrow(res), False
    if bounded:
        return _arrow(res).slice(0, row_cap), True
    names = res.get_column_names()
    rows = res.get_n(row_cap)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for values in columns:
        try:
            arrays.append(pa.array(list(values)))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return pa.Table.from_arrays(arrays, names=names), True


def _fit_bytes(table: pa.Table, budget: int) -> pa.Table:
    """The longest first rows of `table` within `budget` bytes (QueryLimitError if none)."""
    lo, hi = 0, table.num_rows  # table.slice(0, lo) fits; table.slice(0, hi + 1) does not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if table.slice(0, mid).nbytes <= budget:
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        raise QueryLimitError(
            f"one row of this result is over the per-request result limit of {budget:,} bytes "
            "(query_max_result_bytes): return fewer or smaller columns",
            {"limit": "query_max_result_bytes", "allowed": budget},
        )
    return table.slice(0, lo)


def _check_deadline(deadline: float, timeout: float, what: str) -> None:
    if time.perf_counter() > deadline:
        raise QueryTimeoutError(
            f"the query timed out while {what} (timeout {timeout:g} s) and was stopped: "
            "narrow it (a LIMIT, a shorter path, a selective MATCH)",
            {"timeout_s": timeout},
        )


def _single(res: Any) -> Any:
    if isinstance(res, list):
        raise ReadOnlyViolation("only one statement per query is allowed")
    return res


def _describe(batch: Batch) -> str:
    if isinstance(batch, NodeBatch | DeleteNodes):
        return f"{batch.label} nodes"
    return f"{batch.type} edges"


def _stamp(table: pa.Table, loaded_by: str, run_id: str) -> pa.Table:
    zeros = pa.array(np.zeros(table.num_rows, dtype=np.int64))
    for name, value in (("loaded_by", loaded_by), ("run_id", run_id)):
        col = pa.array([value], pa.string()).take(zeros)
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, col)
        else:
            table = table.append_column(name, col)
    return table


def _prefixed(table: pa.Table) -> pa.Table:
    return table.rename_columns([_COL + c for c in table.column_names])


def _full_table(table: pa.Table, columns: list[tuple[str, pa.DataType]]) -> pa.Table:
    arrays = [
        table.column(name) if name in table.column_names else pa.nulls(table.num_rows, type_)
        for name, type_ in columns
    ]
    return pa.table(arrays, names=[name for name, _ in columns])
