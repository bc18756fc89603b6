"""The GraphStore protocol every backend implements, and its result types."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd
import pyarrow as pa

from graph_service.batch import Batch
from graph_service.errors import ReadOnlyViolation

logger = logging.getLogger(__name__)

__all__ = [
    "GraphReader",
    "GraphStore",
    "PruneReport",
    "QueryResult",
    "WriteResult",
    "check_read_only_text",
]


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


_WRITE_WORDS = re.compile(
    r"(?<![:.$\w])(?<!:\s)(CREATE|MERGE|SET|DELETE|DETACH|REMOVE|DROP|ALTER|COPY|LOAD|INSTALL|ATTACH|"
    r"EXPORT|IMPORT|CHECKPOINT|BEGIN|COMMIT|ROLLBACK|USE|FOREACH)\b(?!\s*:)",
    re.IGNORECASE,
)
_STRINGS_AND_COMMENTS = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.DOTALL
)


def check_read_only_text(cypher: str) -> None:
    """Refuse text that contains a write or transaction keyword outside strings and comments.

    A first guard only; each backend also runs reads in a read-only transaction or mode.
    """
    code = _STRINGS_AND_COMMENTS.sub(" ", cypher)
    stripped = code.strip().rstrip(";")
    if ";" in stripped:
        raise ReadOnlyViolation("only one statement per query is allowed")
    m = _WRITE_WORDS.search(code)
    if m:
        word = m.group(1).upper()
        raise ReadOnlyViolation(
            f"read-only query path: {word} is a write or admin clause and is refused",
            {"clause": word},
        )
