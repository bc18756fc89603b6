"""What an earlier load stored for a repository: hashes, symbols and cross-file links.

The code loader reads this through the store's read side to parse only changed files, to
resolve their calls into unchanged files, and to find unchanged callers it must re-resolve.

How a changed file is replaced: its outgoing CALLS/IMPORTS/DEFINES/INHERITS are deleted and
re-added; its Function nodes are upserted in place (so edges from unchanged callers into
functions that still exist survive), functions that disappeared are marked `deleted` (kept for
history edges such as MODIFIES) and their outgoing calls removed; classes that disappeared are
deleted. A deleted file is marked `deleted`, its functions too.

A file's `content_hash` is the watermark of all this, so it is written last: a load first sets
the stored files it will rewrite to `PENDING_HASH`, writes every File with it, and sets the real
hashes only after the last edge. A load killed in between leaves those files pending, and the
next load parses them again (with their dependents) instead of trusting half-written rows.

Edges from unchanged callers into changed files: unchanged files that import a changed or
deleted file, call into it, share its Go/Java package, or (for new files) mention the new
module's name in their text are parsed and resolved again. What remains unhandled: an
unchanged caller that reaches a new definition through none of these (for example a dynamic
`getattr` or an import string built at run time) keeps its old, unresolved state until it
changes itself or a full load (`incremental=false`) runs.

Python value flow is whole-program: when a Python file changes or is deleted, every Python file
is parsed and resolved again (the loader's `_reparse_dependents`); in a process that loaded
the same bytes before, an unchanged file's parse and value-flow facts are taken from memory
(kept by content hash), so only the changed files are parsed, and the solve runs over all.
A load that runs without value flow (`value_flow=false`, or more Python than
`value_flow_max_bytes`) after one that ran with it leaves the value-flow edges of unchanged
files as they were until a full load.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from graph_service.batch import Batch, nodes
from graph_service.store.base import GraphReader
from loaders.code.parse import ImportBinding
from loaders.code.resolve import FileSymbols, SymbolTable

logger = logging.getLogger(__name__)

__all__ = ["PENDING_HASH", "StoredState", "hash_marks", "read_files", "read_symbols"]

PENDING_HASH = ""  # a parsed file's content_hash until every row of its load is written
_MARK_ROWS = 200_000

_TIMEOUT_S = 600.0
_Q_FILES = (
    "MATCH (f:File) WHERE f.repo = $repo "
    "RETURN f.path AS path, f.content_hash AS hash, f.deleted AS deleted, f.language AS language"
)
_Q_FUNCTIONS = (
    "MATCH (f:Function) WHERE f.uid STARTS WITH $prefix "
    "OPTIONAL MATCH (c:Class)-[:DEFINES]->(f) "
    "RETURN f.path AS path, f.qualname AS qualname, c.qualname AS cls, f.deleted AS deleted"
)
_Q_CLASSES = (
    "MATCH (c:Class) WHERE c.uid STARTS WITH $prefix "
    "RETURN c.path AS path, c.qualname AS qualname, c.bases AS bases"
)
_Q_IMPORTS = (
    "MATCH (a:File)-[i:IMPORTS]->(b:File) WHERE a.repo = $repo "
    "RETURN a.path AS src, b.path AS dst, i.names AS names"
)
_Q_INHERITS = (
    "MATCH (a:Class)-[:INHERITS]->(b:Class) WHERE a.uid STARTS WITH $prefix "
    "RETURN a.path AS path, a.qualname AS qualname, b.path AS bpath, b.qualname AS bqual"
)
_Q_EXTERNAL = (
    "MATCH (a:Function)-[:CALLS_EXTERNAL]->(x:External) WHERE a.uid STARTS WITH $prefix "
    "RETURN DISTINCT a.path AS path, x.qualname AS qualname"
)
_Q_CALLERS = (
    "MATCH (a:Function)-[:CALLS]->(b:Function) WHERE a.uid STARTS WITH $prefix "
    "AND a.path <> b.path RETURN DISTINCT a.path AS src, b.path AS dst"
)


@dataclass
class StoredState:
    """One repository as the store last saw it."""

    hashes: dict[str, str | None] = field(default_factory=dict)  # live files only
    deleted: set[str] = field(default_factory=set)
    languages: dict[str, str] = field(default_factory=dict)
    functions: dict[str, dict[str, str | None]] = field(default_factory=dict)  # live
    classes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    imports: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    inherits: list[tuple[str, str, str, str]] = field(default_factory=list)
    dependents: dict[str, set[str]] = field(default_factory=dict)  # target -> importers/callers
    external: dict[str, set[str]] = field(default_factory=dict)  # path -> External qualnames


def hash_marks(hashes: dict[str, str], purpose: str) -> Iterator[Batch]:
    """File rows setting only `content_hash` ({file uid: hash}), counted apart in reports."""
    rows = [{"uid": uid, "content_hash": h} for uid, h in hashes.items()]
    for start in range(0, len(rows), _MARK_ROWS):
        yield replace(nodes("File", rows[start : start + _MARK_ROWS]), purpose=purpose)


def read_files(reader: GraphReader, repo: str) -> StoredState:
    """Content hashes of the repository's stored files (one query)."""
    state = StoredState()
    for row in reader.query(_Q_FILES, {"repo": repo}, timeout_s=_TIMEOUT_S).rows():
        if row["deleted"]:
            state.deleted.add(row["path"])
        else:
            state.hashes[row["path"]] = row["hash"]
        state.languages[row["path"]] = row["language"]
    return state


def read_symbols(reader: GraphReader, repo: str, state: StoredState) -> None:
    """Definitions, imports, inheritance and cross-file callers of the stored files."""
    prefix = {"prefix": f"fn:{repo}:"}
    for row in reader.query(_Q_FUNCTIONS, prefix, timeout_s=_TIMEOUT_S).rows():
        if not row["deleted"]:
            state.functions.setdefault(row["path"], {})[row["qualname"]] = row["cls"]
    cprefix = {"prefix": f"class:{repo}:"}
    for row in reader.query(_Q_CLASSES, cprefix, timeout_s=_TIMEOUT_S).rows():
        state.classes.setdefault(row["path"], {})[row["qualname"]] = list(row["bases"] or [])
    deps: dict[str, set[str]] = defaultdict(set)
    for row in reader.query(_Q_IMPORTS, {"repo": repo}, timeout_s=_TIMEOUT_S).rows():
        state.imports.setdefault(row["src"], []).append((row["dst"], list(row["names"] or [])))
        deps[row["dst"]].add(row["src"])
    for row in reader.query(_Q_INHERITS, cprefix, timeout_s=_TIMEOUT_S).rows():
        state.inherits.append((row["path"], row["qualname"], row["bpath"], row["bqual"]))
    for row in reader.query(_Q_CALLERS, prefix, timeout_s=_TIMEOUT_S).rows():
        deps[row["dst"]].add(row["src"])
    for row in reader.query(_Q_EXTERNAL, prefix, timeout_s=_TIMEOUT_S).rows():
        state.external.setdefault(row["path"], set()).add(row["qualname"])
    state.dependents = dict(deps)


def stored_symbols(state: StoredState, path: str) -> FileSymbols:
    """A symbol-table entry for an unchanged file, rebuilt from what the store holds."""
    fs = FileSymbols(
        path,
        state.languages.get(path, ""),
        dict(state.functions.get(path, {})),
        dict(state.classes.get(path, {})),
    )
    for target, names in state.imports.get(path, []):
        for entry in names:
            orig, _, alias = entry.partition(" as ")
            if orig == "*":
                continue
            fs.reexports[alias or orig] = (target, orig)
    return fs


def add_stored_parents(table: SymbolTable, state: StoredState, unchanged: set[str]) -> None:
    """Inheritance of unchanged classes as stored (their bases are not re-resolved)."""
    parents: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for path, qual, bpath, bqual in state.inherits:
        if path in unchanged:
            parents[(path, qual)].append((bpath, bqual))
    for path in unchanged:
        for qual, bases in state.classes.get(path, {}).items():
            found = parents.get((path, qual), [])
            table.set_parents((path, qual), found, unresolved=len(found) < len(bases))


def import_names(b: ImportBinding) -> str:
    """How an import is recorded on an IMPORTS edge (`name`, `name as alias`, `*`)."""
    if b.kind == "wildcard":
        return "*"
    if b.kind == "default":
        return f"default as {b.alias}" if b.alias else "default"
    name = b.name or b.module.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    return f"{name} as {b.alias}" if b.alias and b.alias != name else name
