"""Graph rows for parsed files: uids, node properties and the DEFINES/CONTAINS edges."""

from __future__ import annotations

import logging
import posixpath
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from graph_service.schema import synthetic_caller
from loaders.code.calls import ResolvedCall
from loaders.code.flow import BUILTIN
from loaders.code.flow_edges import ExternalCall, ExtraFunction
from loaders.code.parse import ParsedFile
from loaders.code.resolve import SymbolTable

logger = logging.getLogger(__name__)

__all__ = [
    "Uids",
    "call_rows",
    "caller_bodies",
    "class_rows",
    "defines_rows",
    "external_call_rows",
    "external_rows",
    "file_row",
    "function_rows",
    "to_table",
]

Row = dict[str, Any]


class Uids:
    """Natural keys of one repository's code nodes."""

    def __init__(self, repo: str) -> None:
        self.repo = repo
        self.repo_uid = f"repo:{repo}"

    def file(self, path: str) -> str:
        return f"file:{self.repo}:{path}"

    def cls(self, path: str, qualname: str) -> str:
        return f"class:{self.repo}:{path}:{qualname}"

    def fn(self, path: str, qualname: str) -> str:
        return f"fn:{self.repo}:{path}:{qualname}"

    def ext(self, qualname: str) -> str:
        return f"ext:{self.repo}:{qualname}"


def to_table(rows: list[Row], types: dict[str, pa.DataType]) -> pa.Table:
    """Rows that share their keys -> an Arrow table typed by the schema (columnar, fast)."""
    keys = tuple(rows[0])
    if any(tuple(r) != keys for r in rows):  # rows differ in keys or key order
        union = dict.fromkeys(k for r in rows for k in r)
        return pa.table({k: pa.array([r.get(k) for r in rows], type=types[k]) for k in union})
    columns = zip(*(r.values() for r in rows), strict=True)
    return pa.table({k: pa.array(col, type=types[k]) for k, col in zip(keys, columns, strict=True)})


def file_row(uids: Uids, parsed: ParsedFile, content_hash: str) -> Row:
    return {
        "uid": uids.file(parsed.path),
        "path": parsed.path,
        "repo": uids.repo,
        "language": parsed.language,
        "loc": parsed.loc,
        "is_test": parsed.is_test,
        "content_hash": content_hash,
        "parse_status": "syntax_error" if parsed.has_error else "ok",
        "deleted": False,
    }


def class_rows(uids: Uids, parsed: ParsedFile) -> Iterator[Row]:
    for c in parsed.classes:
        yield {
            "uid": uids.cls(parsed.path, c.qualname),
            "name": c.name,
            "qualname": c.qualname,
            "path": parsed.path,
            "language": parsed.language,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "bases": c.bases,
        }


def caller_bodies(parsed: ParsedFile) -> list[str]:
    """Module-level ("") and class-body (class qualname) code that makes calls, in order."""
    return sorted({cs.body for cs in parsed.calls if cs.body is not None})


def function_rows(
    uids: Uids, parsed: ParsedFile, extra: Iterable[ExtraFunction] = ()
) -> Iterator[Row]:
    bodies = [
        (synthetic_caller(o), parsed.bodies[o].start_line, parsed.bodies[o].end_line)
        for o in caller_bodies(parsed)
    ]
    bodies += [(x.qualname, x.start_line, x.end_line) for x in extra]
    for qual, start, end in bodies:
        yield {
            "uid": uids.fn(parsed.path, qual),
            "name": qual.rpartition(".")[2],
            "qualname": qual,
            "path": parsed.path,
            "language": parsed.language,
            "start_line": start,
            "end_line": end,
            "loc": 0,
            "complexity": 1,
            "params": [],
            "is_test": False,
            "docstring": "",
            "deleted": False,
        }
    for f in parsed.functions:
        yield {
            "uid": uids.fn(parsed.path, f.qualname),
            "name": f.name,
            "qualname": f.qualname,
            "path": parsed.path,
            "language": parsed.language,
            "start_line": f.start_line,
            "end_line": f.end_line,
            "loc": f.loc,
            "complexity": f.complexity,
            "params": f.params,
            "is_test": f.is_test,
            "docstring": f.docstring or "",
            "deleted": False,
        }


def defines_rows(
    uids: Uids, parsed: ParsedFile, table: SymbolTable, extra: Iterable[ExtraFunction] = ()
) -> tuple[list[Row], list[Row], list[Row]]:
    """(File->Class, File->Function, Class->Function) rows of one file."""
    file_uid = uids.file(parsed.path)
    meta = {"source": "static", "confidence": 1.0}
    file_cls = [
        {"src": file_uid, "dst": uids.cls(parsed.path, c.qualname), **meta} for c in parsed.classes
    ]
    file_fn: list[Row] = []
    cls_fn: list[Row] = []
    own = {c.qualname for c in parsed.classes}
    owners = [(o, synthetic_caller(o)) for o in caller_bodies(parsed)]
    owners += [(x.owner or "", x.qualname) for x in extra]  # a lambda: defined by the file
    for body, qual in owners:
        dst = uids.fn(parsed.path, qual)
        src = uids.cls(parsed.path, body) if body in own else file_uid
        (cls_fn if body in own else file_fn).append({"src": src, "dst": dst, **meta})
    for f in parsed.functions:
        dst = uids.fn(parsed.path, f.qualname)
        owner = _owner_file(parsed, f.class_name, own, table) if f.class_name else None
        if owner is not None and f.class_name is not None:
            cls_fn.append({"src": uids.cls(owner, f.class_name), "dst": dst, **meta})
        else:
            file_fn.append({"src": file_uid, "dst": dst, **meta})
    return file_cls, file_fn, cls_fn


def _owner_file(
    parsed: ParsedFile, class_name: str, own: set[str], table: SymbolTable
) -> str | None:
    if class_name in own:
        return parsed.path
    if parsed.language == "go":  # a method may be declared in another file of its package
        directory = posixpath.dirname(parsed.path)
        hits = (
            [
                f
                for f in table.index.go_files(directory, include_tests=True)
                if class_name in table.files[f].classes
            ]
            if table.files
            else []
        )
        return hits[0] if len(hits) == 1 else None
    return None


def call_rows(uids: Uids, path: str, calls: list[ResolvedCall]) -> Iterator[Row]:
    for c in calls:
        yield {
            "src": uids.fn(path, c.caller),
            "dst": uids.fn(c.callee_path, c.callee),
            "source": "static",
            "confidence": c.confidence,
            "resolution": c.resolution,
            "line": c.line,
            "count": c.count,
        }


def external_rows(uids: Uids, calls: dict[str, list[ExternalCall]]) -> Iterator[Row]:
    """One External node per qualified name the calls reach (sorted: stable batches)."""
    for q in sorted({c.qualname for found in calls.values() for c in found}):
        top = q.partition(".")[0]
        if top == BUILTIN:
            package, kind = "builtins", "builtin"
        else:
            package = top
            kind = "stdlib" if top in sys.stdlib_module_names else "package"
        yield {
            "uid": uids.ext(q),
            "repo": uids.repo,
            "qualname": q,
            "name": q.rpartition(".")[2],
            "package": package,
            "kind": kind,
        }


def external_call_rows(uids: Uids, path: str, calls: list[ExternalCall]) -> Iterator[Row]:
    for c in calls:
        yield {
            "src": uids.fn(path, c.caller),
            "dst": uids.ext(c.qualname),
            "source": "static",
            "confidence": c.confidence,
            "resolution": c.resolution,
            "line": c.line,
            "count": c.count,
        }
