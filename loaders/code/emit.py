"""Batches of one code load: deletions of stale facts, then nodes, then the edges between them."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_service import schema
from graph_service.batch import Batch, DeleteEdgesFrom, DeleteNodes, edges, nodes
from graph_service.schema import synthetic_caller
from loaders.base import LoadReport
from loaders.code import incremental as inc
from loaders.code.calls import one_per_pair, resolve_bases, resolve_calls
from loaders.code.declared import DeclaredTypes
from loaders.code.declared_protocols import DeclaredProtocols
from loaders.code.dispatch import Overrides, PropertyReads, Wrappers
from loaders.code.field_types import FieldTypes
from loaders.code.flow_edges import FlowCalls, flow_calls, merge_calls, read_facts
from loaders.code.flow_facts import FlowFacts
from loaders.code.parse import ParsedFile
from loaders.code.resolve import SymbolTable
from loaders.code.rows import (
    Uids,
    call_rows,
    caller_bodies,
    class_rows,
    defines_rows,
    external_call_rows,
    external_rows,
    file_row,
    function_rows,
    to_table,
)
from loaders.code.walk import git_info

logger = logging.getLogger(__name__)

__all__ = ["BatchEmitter", "RunState"]


@dataclass
class RunState:
    """State of one extraction run."""

    parsed: dict[str, ParsedFile] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    unchanged: set[str] = field(default_factory=set)
    present: set[str] = field(default_factory=set)
    go_modules: dict[str, str] = field(default_factory=dict)
    python_bytes: int = 0  # Python source present (read) in this run


class BatchEmitter:
    """Turns the parsed files of a run into schema batches, in the order the store needs."""

    def __init__(
        self, uids: Uids, batch_rows: int, root: Path, facts_cache: Path | None = None
    ) -> None:
        self.uids = uids
        self.batch_rows = batch_rows
        self.root = root
        self.facts_cache = facts_cache  # value-flow facts kept on disk (None: in memory only)
        self.flow = FlowCalls()
        self.flow_solved = False  # value flow ran: whole-program facts (overrides) may be used
        self.facts: dict[str, FlowFacts] = {}

    def solve_flow(self, report: LoadReport, run: RunState, table: SymbolTable) -> None:
        """Python value flow over every parsed file (before the nodes: it may add callers)."""
        start = time.perf_counter()
        facts = read_facts(self.root, run.parsed, report.stats, run.hashes, self.facts_cache)
        report.stats["flow_facts_seconds"] = round(time.perf_counter() - start, 3)
        self.flow = flow_calls(table, run.parsed, facts)
        self.flow_solved = True
        self.facts = facts
        report.stats["flow_seconds"] = round(time.perf_counter() - start, 3)

    def chunks(self, label: str, rows: Iterator[dict[str, Any]]) -> Iterator[Batch]:
        types = {f.name: f.type for f in schema.arrow_schema_for_node(label)}
        for buf in _batched(rows, self.batch_rows):
            yield nodes(label, to_table(buf, types))

    def edge_chunks(
        self, type_: str, src: str, dst: str, rows: Iterator[dict[str, Any]]
    ) -> Iterator[Batch]:
        types = {f.name: f.type for f in schema.arrow_schema_for_rel(type_)}
        for buf in _batched(rows, self.batch_rows):
            yield edges(type_, src, dst, to_table(buf, types))

    def deletions(
        self, run: RunState, stored: inc.StoredState, deleted: list[str]
    ) -> Iterator[Batch]:
        """Remove what changed/deleted files stored before; their current facts follow."""
        u = self.uids
        known = set(stored.hashes) | stored.deleted  # new files have nothing to remove
        touched = sorted((set(run.parsed) & known) | set(deleted))
        old_fns = [u.fn(p, q) for p in touched for q in stored.functions.get(p, {})]
        old_classes = {(p, q) for p in touched for q in stored.classes.get(p, {})}
        now_classes = {(p, c.qualname) for p, f in run.parsed.items() for c in f.classes}
        file_uids = tuple(u.file(p) for p in touched)
        if old_fns:
            yield DeleteEdgesFrom("CALLS", "Function", tuple(old_fns))
            yield DeleteEdgesFrom("CALLS_EXTERNAL", "Function", tuple(old_fns))
        if file_uids:
            yield DeleteEdgesFrom("DEFINES", "File", file_uids)
            yield DeleteEdgesFrom("IMPORTS", "File", file_uids)
        if old_classes:
            class_uids = tuple(u.cls(p, q) for p, q in sorted(old_classes))
            yield DeleteEdgesFrom("DEFINES", "Class", class_uids)
            yield DeleteEdgesFrom("INHERITS", "Class", class_uids)
        gone = sorted(old_classes - now_classes)
        if gone:
            yield DeleteNodes("Class", tuple(u.cls(p, q) for p, q in gone))

    def node_batches(
        self, run: RunState, stored: inc.StoredState | None, deleted: list[str]
    ) -> Iterator[Batch]:
        u = self.uids
        repo_row = {"uid": u.repo_uid, "name": u.repo, "path": str(self.root.resolve())}
        repo_row.update(git_info(self.root))
        yield nodes("Repository", [repo_row])
        files = [file_row(u, p, inc.PENDING_HASH) for p in run.parsed.values()]
        files += [{"uid": u.file(p), "deleted": True} for p in deleted]
        yield from self.chunks("File", iter(files))
        yield from self.chunks("Class", (r for p in run.parsed.values() for r in class_rows(u, p)))
        yield from self.chunks(
            "Function",
            (
                r
                for path, p in run.parsed.items()
                for r in function_rows(u, p, self.flow.extra.get(path, ()))
            ),
        )
        yield from self.chunks("External", external_rows(u, self.flow.external))
        if stored is not None:
            yield from self._unused_externals(run, stored, deleted)
            gone = []
            for path in sorted(set(run.parsed) | set(deleted)):
                now = (
                    {f.qualname for f in run.parsed[path].functions}
                    | {synthetic_caller(o) for o in caller_bodies(run.parsed[path])}
                    | {x.qualname for x in self.flow.extra.get(path, ())}
                    if path in run.parsed
                    else set()
                )
                gone += [u.fn(path, q) for q in stored.functions.get(path, {}) if q not in now]
            if gone:
                yield from self.chunks("Function", ({"uid": g, "deleted": True} for g in gone))

    def _unused_externals(
        self, run: RunState, stored: inc.StoredState, deleted: list[str]
    ) -> Iterator[Batch]:
        """External nodes only the rewritten files called, and they no longer do."""
        touched = set(run.parsed) | set(deleted)
        keep = {c.qualname for calls in self.flow.external.values() for c in calls}
        keep |= {q for p, qs in stored.external.items() if p not in touched for q in qs}
        gone = {q for qs in stored.external.values() for q in qs} - keep
        if gone:
            yield DeleteNodes("External", tuple(self.uids.ext(q) for q in sorted(gone)))

    def edge_batches(
        self, report: LoadReport, run: RunState, table: SymbolTable
    ) -> Iterator[Batch]:
        u = self.uids
        meta = {"source": "static", "confidence": 1.0}
        yield from self.edge_chunks(
            "CONTAINS",
            "Repository",
            "File",
            ({"src": u.repo_uid, "dst": u.file(p), **meta} for p in run.parsed),
        )
        fc, ff, cf = [], [], []
        for parsed in run.parsed.values():
            a, b, c = defines_rows(u, parsed, table, self.flow.extra.get(parsed.path, ()))
            fc += a
            ff += b
            cf += c
        defines = [("File", "Class", fc), ("File", "Function", ff), ("Class", "Function", cf)]
        defines.sort(key=lambda d: -len(d[2]))  # the first batch into an empty table is a COPY
        for src, dst, rows in defines:
            yield from self.edge_chunks("DEFINES", src, dst, iter(rows))
        yield from self.edge_chunks("IMPORTS", "File", "File", self._import_rows(run, table))
        inherits = []
        for path in run.parsed:
            for qual, bpath, bqual in resolve_bases(table, table.files[path]):
                inherits.append({"src": u.cls(path, qual), "dst": u.cls(bpath, bqual), **meta})
        yield from self.edge_chunks("INHERITS", "Class", "Class", iter(inherits))
        yield from self.edge_chunks(
            "CALLS", "Function", "Function", self._call_rows(report, run, table)
        )
        outside = [
            row
            for path, calls in sorted(self.flow.external.items())
            for row in external_call_rows(u, path, calls)
        ]
        report.stats["call_edges_external"] = len(outside)
        yield from self.edge_chunks("CALLS_EXTERNAL", "Function", "External", iter(outside))

    def _import_rows(self, run: RunState, table: SymbolTable) -> Iterator[dict[str, Any]]:
        u = self.uids
        for path, parsed in run.parsed.items():
            fs = table.files[path]
            targets: dict[str, dict[str, Any]] = {}
            for b in parsed.imports:
                for target in table.import_files(fs, b):
                    if target == path:
                        continue
                    row = targets.setdefault(
                        target,
                        {
                            "src": u.file(path),
                            "dst": u.file(target),
                            "names": [],
                            "source": "static",
                            "confidence": 1.0,
                        },
                    )
                    name = inc.import_names(b)
                    if b.kind != "side_effect" and name not in row["names"]:
                        row["names"].append(name)
            yield from targets.values()

    def _call_rows(
        self, report: LoadReport, run: RunState, table: SymbolTable
    ) -> Iterator[dict[str, Any]]:
        sites = resolved = flowed = overridden = wrapped = read = typed = 0
        overrides = self._overrides(run, table)
        wrappers = Wrappers(table, run.parsed, self.facts) if self.flow_solved else None
        reads = PropertyReads(table, self.root, self.facts) if self.flow_solved else None
        fields = (
            FieldTypes(table, run.parsed, self.root, overrides.parents())
            if overrides is not None
            else None
        )
        declared = (
            DeclaredTypes(table, self.facts, fields, overrides)
            if fields is not None and overrides is not None
            else None
        )
        protocols = DeclaredProtocols(table, self.facts, declared) if declared is not None else None
        for path, parsed in run.parsed.items():
            calls = resolve_calls(table, parsed)
            sites += parsed.call_count
            resolved += sum(c.count for c in calls)
            merged = merge_calls(calls, self.flow.calls.get(path, []), self.flow.rebound)
            flowed += len(merged) - len(calls)
            if overrides is not None:
                more = overrides.calls(parsed, merged)
                overridden += len(more)
                merged += more
            if wrappers is not None:
                more = wrappers.calls(path, merged)
                wrapped += len(more)
                merged += more
            if reads is not None:
                more = reads.calls(parsed, merged)
                read += len(more)
                merged += more
            if fields is not None:
                more = fields.calls(parsed, merged, overrides)
                typed += len(more)
                merged += more
            if declared is not None:
                more = declared.calls(parsed, merged)
                typed += len(more)
                merged += more
                if wrappers is not None:  # a typed call of a wrapped definition runs the wrapper
                    more = wrappers.calls(path, merged)
                    wrapped += len(more)
                    merged += more
                more = protocols.calls(parsed, merged) if protocols is not None else []
                read += len(more)
                merged += more
            # each pass adds only pairs the earlier passes lack (their order is fixed, the
            # stronger evidence first); should two edges of a pair meet, the strongest stands
            yield from call_rows(self.uids, path, one_per_pair(merged))
        report.stats["call_sites"] = sites
        report.stats["call_sites_resolved"] = resolved
        report.stats["call_edges_value_flow"] = flowed
        report.stats["call_edges_override"] = overridden
        report.stats["call_edges_wrapper"] = wrapped
        report.stats["call_edges_property_read"] = read
        report.stats["call_edges_field_type"] = typed

    def _overrides(self, run: RunState, table: SymbolTable) -> Overrides | None:
        """Whole-program, so only when value flow ran (every Python file is in the run)."""
        return Overrides(table, run.parsed, self.facts) if self.flow_solved else None


def _batched(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    buf: list[dict[str, Any]] = []
    for row in rows:
        buf.append(row)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf
