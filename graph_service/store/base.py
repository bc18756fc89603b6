"""The GraphStore protocol every backend implements, and its result types."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pyarrow as pa

from graph_service import schema
from graph_service.batch import Batch
from graph_service.store.guard import check_read_only_text

if TYPE_CHECKING:  # pandas costs ~1 s of start-up: only `to_pandas` needs it, and lazily
    import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "STORE_ID_Q",
    "GraphReader",
    "GraphStore",
    "PruneReport",
    "QueryResult",
    "WriteResult",
    "check_read_only_text",
    "new_store_id",
    "run_prune",
    "store_id",
]

# A store's identity: a random id written once, when the schema is first applied, and kept by
# every copy of the store (models belong to the store they were trained on, wherever it lives)
STORE_ID_Q = (
    f"MERGE (m:{schema.META_LABEL} {{key: 'store_id'}}) "
    "ON CREATE SET m.value = $v"
)


def new_store_id() -> str:
    import uuid

    return uuid.uuid4().hex


def store_id(store: GraphReader) -> str | None:
    """The id `apply_schema` gave this store; None for a store made before ids existed."""
    rows = store.query(
        f"MATCH (m:{schema.META_LABEL} {{key: 'store_id'}}) RETURN m.value AS v"
    ).rows()
    return str(rows[0]["v"]) if rows and rows[0]["v"] else None


@dataclass
class QueryResult:
    """Rows of a read-only query as Arrow; `truncated` when the row cap cut it."""

    table: pa.Table
    truncated: bool = False
    elapsed_ms: float = 0.0

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    def to_pandas(self) -> pd.DataFrame:
        return self.table.to_pandas()

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()


@dataclass
class WriteResult:
    """What an upsert did: rows written and rows skipped (edge endpoints missing)."""

    written: int = 0
    missing_endpoints: int = 0
    method: str = ""


@dataclass
class PruneReport:
    """Stale rows of one loader found (and deleted unless dry-run or over the cap)."""

    loaded_by: str
    keep_run: str
    stale: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    deleted: bool = False
    refused: str | None = None


@runtime_checkable
class GraphReader(Protocol):
    """The read side of a store: what loaders and models may use."""

    def query(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_s: float | None = None,
        row_cap: int | None = None,
    ) -> QueryResult: ...


@runtime_checkable
class GraphStore(GraphReader, Protocol):
    """One schema, two backends: the only way the project reaches a graph database."""

    backend: str
    # bumped by every write, delete and prune through this object: caches of derived data
    # (the risk model's snapshot) compare it to know they are stale
    generation: int

    def apply_schema(self) -> None: ...

    def schema_version(self) -> int | None: ...

    def check_schema(self) -> None: ...

    def write(self, batch: Batch, *, loaded_by: str, run_id: str) -> WriteResult: ...

    def prune(
        self, loaded_by: str, keep_run: str, *, cap: float, dry_run: bool = True
    ) -> PruneReport: ...

    def counts(self) -> dict[str, dict[str, int]]: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


PRUNE_COUNT = (
    "MATCH {pattern} WHERE x.loaded_by = $lb "
    "RETURN count(*) AS t, sum(CASE WHEN x.run_id <> $run THEN 1 ELSE 0 END) AS s"
)
PRUNE_DELETE = "MATCH {pattern} WHERE x.loaded_by = $lb AND x.run_id <> $run {verb} x"


def run_prune(
    loaded_by: str,
    keep_run: str,
    cap: float,
    dry_run: bool,
    count: Callable[[str, dict[str, Any]], tuple[int, int]],
    delete: Callable[[str, dict[str, Any]], None],
) -> PruneReport:
    """The backend-neutral prune: count stale rows per table, refuse over `cap`, then delete.

    `count(cypher, params)` returns (total, stale) of a PRUNE_COUNT statement; `delete` runs one.
    """
    report = PruneReport(loaded_by, keep_run)
    targets = [(n.label, f"(x:{n.label})", "DETACH DELETE") for n in schema.NODES]
    targets += [(r.type, f"()-[x:{r.type}]->()", "DELETE") for r in schema.RELS]
    params = {"lb": loaded_by, "run": keep_run}
    for name, pattern, _ in targets:
        total, stale = count(PRUNE_COUNT.format(pattern=pattern), params)
        if total:
            report.total[name], report.stale[name] = total, stale
    n_stale, n_total = sum(report.stale.values()), sum(report.total.values())
    if n_total and n_stale / n_total > cap:
        report.refused = (
            f"{n_stale} of {n_total} rows are stale ({n_stale / n_total:.0%}), over the "
            f"prune cap of {cap:.0%}: nothing deleted"
        )
        return report
    if dry_run or not n_stale:
        return report
    for name, pattern, verb in targets:
        if report.stale.get(name):
            delete(PRUNE_DELETE.format(pattern=pattern, verb=verb), params)
    report.deleted = True
    return report
