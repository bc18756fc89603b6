"""Read-side lookups for trace and ticket loads: Function matching by path suffix, name and line."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graph_service.errors import ProdgraphError
from graph_service.store.base import GraphReader

logger = logging.getLogger(__name__)

__all__ = ["FunctionIndex", "FunctionRow", "safe_query", "short_name"]


def safe_query(
    reader: GraphReader | None, cypher: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Rows of a read query; an empty list without a reader or when the store refuses it."""
    if reader is None:
        return []
    try:
        return reader.query(cypher, params, timeout_s=60.0).rows()
    except ProdgraphError as e:
        logger.warning("lookup failed, continuing without it: %s", e)
        return []


def short_name(qualified: str) -> str:
    """`pkg.mod.Class.method` / `pkg::Class::method` / `(*T).M` -> the bare function name."""
    name = qualified.replace("::", ".").rstrip(")")
    return name.rsplit(".", 1)[-1].split("(")[0] or qualified


@dataclass(frozen=True)
class FunctionRow:
    uid: str
    name: str
    qualname: str
    path: str
    start_line: int
    end_line: int


def _norm(path: str) -> str:
    return path.replace("\\", "/").lstrip("./")


def _path_match(frame_path: str, fn_path: str) -> int:
    """Length of the shared path suffix when one path ends with the other, else 0."""
    a, b = _norm(frame_path), _norm(fn_path)
    if not a or not b:
        return 0
    if a == b or a.endswith("/" + b):
        return len(b)
    if b.endswith("/" + a):
        return len(a)
    return 0


class FunctionIndex:
    """Function nodes whose short names were asked for, loaded with one query."""

    _QUERY = (
        "MATCH (f:Function) WHERE f.name IN $names AND (f.deleted IS NULL OR f.deleted = false) "
        "RETURN f.uid AS uid, f.name AS name, f.qualname AS qualname, f.path AS path, "
        "f.start_line AS start_line, f.end_line AS end_line"
    )

    def __init__(self, reader: GraphReader | None, names: Iterable[str]) -> None:
        wanted = sorted({n for n in names if n})
        self.by_name: dict[str, list[FunctionRow]] = {}
        if not wanted:
            return
        for r in safe_query(reader, self._QUERY, {"names": wanted}):
            row = FunctionRow(
                r["uid"],
                r["name"],
                r["qualname"] or r["name"],
                r["path"] or "",
                r["start_line"] or 0,
                r["end_line"] or 0,
            )
            self.by_name.setdefault(row.name, []).append(row)

    def match(
        self, path: str, function: str, line: int = 0, qualified: str = ""
    ) -> tuple[FunctionRow, float] | None:
        """Best Function for a frame or code attributes, with a confidence; None when unsure."""
        candidates = self.by_name.get(short_name(function), [])
        best: tuple[float, FunctionRow] | None = None
        for row in candidates:
            overlap = _path_match(path, row.path) if path else 0
            if path and not overlap:
                continue
            score = 0.5 + (0.3 if overlap else 0.0)
            if line and row.start_line <= line <= row.end_line:
                score += 0.15
            elif line and row.end_line:
                score -= 0.2
            qual = (qualified or function).replace("::", ".")
            if row.qualname and (qual == row.qualname or qual.endswith("." + row.qualname)):
                score += 0.05
            key = (score, overlap)
            if best is None or key > (best[0], _path_match(path, best[1].path) if path else 0):
                best = (score, row)
        if best is None:
            return None
        if not path and len(candidates) > 1 and best[0] < 0.55:
            return None  # a bare name shared by several functions: do not guess
        return best[1], round(min(best[0], 1.0), 2)
