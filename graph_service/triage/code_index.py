"""An in-memory index of the graph's code: BM25 over identifiers and docstrings, frame mapping."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from graph_service.store.base import GraphReader
from graph_service.triage.heap import snapshot_built
from graph_service.triage.text import BM25Index, tokenize

logger = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["CodeIndex", "FrameHit", "StoreCache", "code_index", "store_stamp"]

_FUNCTIONS = (
    "MATCH (f:Function) WHERE f.deleted IS NULL OR f.deleted = false "
    "RETURN f.uid AS uid, f.name AS name, f.qualname AS qualname, f.path AS path, "
    "f.start_line AS s, f.end_line AS e, f.is_test AS t, f.docstring AS doc"
)
_FILES = (
    "MATCH (f:File) WHERE f.deleted IS NULL OR f.deleted = false "
    "RETURN f.uid AS uid, f.path AS path, f.repo AS repo, f.is_test AS t, f.language AS lang"
)
# Function rows change with their File rows (one code load writes both), so only the far
# smaller File and Ticket tables are scanned for their latest run id.
_STAMP = (
    "MATCH (f:File) RETURN count(f) AS n, max(f.run_id) AS r",
    "MATCH (f:Function) RETURN count(f) AS n, '' AS r",
    "MATCH (t:Ticket) RETURN count(t) AS n, max(t.run_id) AS r",
    "MATCH (c:Commit) RETURN count(c) AS n, max(c.run_id) AS r",
)


STAMP_TTL_S = 2.0
_STAMPS: weakref.WeakKeyDictionary[Any, tuple[float, tuple[Any, ...]]] = weakref.WeakKeyDictionary()


def store_stamp(store: GraphReader, ttl_s: float = STAMP_TTL_S) -> tuple[Any, ...]:
    """Counts and latest run ids of the indexed labels: a changed stamp rebuilds the caches.

    Read at most once every `ttl_s` seconds per store (the read scans the labels).
    """
    now = time.monotonic()
    hit = _STAMPS.get(store)
    if hit and now - hit[0] < ttl_s:
        return hit[1]
    out: list[Any] = []
    for q in _STAMP:
        rows = store.query(q, {}).rows()
        out += [rows[0]["n"], rows[0]["r"]] if rows else [0, None]
    _STAMPS[store] = (now, tuple(out))
    return tuple(out)


@dataclass(frozen=True)
class FrameHit:
    """A frame mapped to the graph: file index, function index (or -1) and a confidence."""

    file: int
    function: int
    confidence: float
    in_range: bool


@dataclass
class CodeIndex:
    """Functions and files of the store with BM25 indexes over their text."""

    fn_uid: list[str] = field(default_factory=list)
    fn_name: list[str] = field(default_factory=list)
    fn_qual: list[str] = field(default_factory=list)
    fn_file: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fn_start: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fn_end: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fn_test: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    file_uid: list[str] = field(default_factory=list)
    file_path: list[str] = field(default_factory=list)
    file_test: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # a source file (a language was detected) or one that defines functions
    file_code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    fn_pos: dict[str, int] = field(default_factory=dict)
    file_pos: dict[str, int] = field(default_factory=dict)
    by_basename: dict[str, list[int]] = field(default_factory=dict)
    fns_in_file: dict[int, list[int]] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=dict)
    by_class: dict[str, list[int]] = field(default_factory=dict)
    fn_bm25: BM25Index | None = None
    file_bm25: BM25Index | None = None

    @classmethod
    def build(cls, store: GraphReader) -> CodeIndex:
        """Read every live File and Function once and index them."""
        idx = cls()
        files = store.query(_FILES, {}, row_cap=50_000_000).rows()
        file_key: dict[tuple[str, str], int] = {}
        for i, r in enumerate(files):
            idx.file_uid.append(r["uid"])
            idx.file_path.append(r["path"] or "")
            idx.file_pos[r["uid"]] = i
            file_key[(r["repo"] or _repo_of(r["uid"], "file:"), r["path"] or "")] = i
            base = (r["path"] or "").rsplit("/", 1)[-1]
            idx.by_basename.setdefault(base, []).append(i)
        idx.file_test = np.array(
            [bool(r["t"]) or _test_path(r["path"] or "") for r in files], dtype=bool
        )
        fns = store.query(_FUNCTIONS, {}, row_cap=50_000_000).rows()
        fn_file, fn_docs = [], []
        for i, r in enumerate(fns):
            uid, name, qual = r["uid"], r["name"] or "", r["qualname"] or r["name"] or ""
            idx.fn_uid.append(uid)
            idx.fn_name.append(name)
            idx.fn_qual.append(qual)
            idx.fn_pos[uid] = i
            fi = file_key.get((_repo_of(uid, "fn:"), r["path"] or ""), -1)
            fn_file.append(fi)
            idx.fns_in_file.setdefault(fi, []).append(i)
            idx.by_name.setdefault(name, []).append(i)
            if "." in qual:
                idx.by_class.setdefault(qual.rsplit(".", 2)[-2], []).append(i)
            fn_docs.append(
                tokenize(f"{name} {name} {qual} {r['doc'] or ''}") + _path_terms(r["path"] or "")
            )
        idx.fn_file = np.array(fn_file, dtype=np.int64)
        idx.file_code = np.array([bool(r["lang"]) for r in files], dtype=bool)
        idx.file_code[idx.fn_file[idx.fn_file >= 0]] = True
        idx.fn_start = np.array([r["s"] or 0 for r in fns], dtype=np.int64)
        idx.fn_end = np.array([r["e"] or 0 for r in fns], dtype=np.int64)
        idx.fn_test = np.array(
            [
                bool(r["t"]) or (bool(idx.file_test[f]) if f >= 0 else False)
                for r, f in zip(fns, fn_file, strict=True)
            ],
            dtype=bool,
        )
        file_docs = [_path_terms(p) * 2 for p in idx.file_path]
        for fi, doc in zip(fn_file, fn_docs, strict=True):
            if fi >= 0:
                file_docs[fi].extend(doc)
        idx.fn_bm25 = BM25Index(fn_docs)
        idx.file_bm25 = BM25Index(file_docs)
        logger.info("code index: %d files, %d functions", len(files), len(fns))
        return idx

    # ---- frames -> nodes ------------------------------------------------------------------
    def files_for_path(self, path: str) -> list[tuple[int, int]]:
        """Files whose path shares the longest suffix with `path`: (file index, parts shared)."""
        parts = [p for p in path.replace("\\", "/").split("/") if p and p != "."]
        if not parts:
            return []
        best: list[tuple[int, int]] = []
        top = 0
        for fi in self.by_basename.get(parts[-1], []):
            fparts = self.file_path[fi].split("/")
            n = 0
            while n < min(len(parts), len(fparts)) and parts[-1 - n] == fparts[-1 - n]:
                n += 1
            if n > top:
                best, top = [(fi, n)], n
            elif n == top and n:
                best.append((fi, n))
        return best

    def map_frame(self, path: str, function: str, line: int, module: str = "") -> FrameHit | None:
        """The File and Function a frame points at: path suffix, then the function the frame
        names, then line range.

        A frame's line comes from the version of the file the reporter ran, its function name
        does not move: when the file defines a function of the frame's name, that one is taken
        (among several, the one holding the line, else the nearest); the line range decides
        only when the name is absent (`<module>`, lambdas) or matches nothing in the file.

        A frame whose path agrees with a file only in its file name, both naming different
        folders (`/srv/app/tool/cli.py` and `examples/complex/cli.py`), is the reporter's own
        code or another package unless that file defines the function the frame names: such a
        file is not the frame's."""
        where = path
        files = self.files_for_path(path) if path else []
        if not files and module:
            where = module.replace(".", "/").rsplit("/", 1)[0]
            files = self.files_for_path(where)
        frame_dirs = [p for p in where.replace("\\", "/").split("/") if p not in ("", ".")][:-1]
        dotted = function.replace("::", ".").split("(")[0]
        short = dotted.rsplit(".", 1)[-1]
        best: FrameHit | None = None
        for fi, shared in files:
            conf = min(0.5 + 0.15 * shared, 0.95) / max(len(files), 1) ** 0.5
            hit = self._in_file(fi, conf, dotted, short, line)
            named = hit.function >= 0 and bool(short) and self.fn_name[hit.function] == short
            if shared == 1 and frame_dirs and "/" in self.file_path[fi] and not named:
                continue  # only the file name agrees, and nothing in it has the frame's name
            if best is None or hit.confidence > best.confidence:
                best = hit
        if best is None and short and not path:
            same_name = self.by_name.get(short, [])
            if len(same_name) == 1:
                fn = same_name[0]
                return FrameHit(int(self.fn_file[fn]), fn, 0.5, False)
        return best

    def _in_file(self, fi: int, conf: float, dotted: str, short: str, line: int) -> FrameHit:
        """The function of file `fi` a frame (qualified name `dotted`, last part `short`,
        `line`) points at; FrameHit with function -1 when none."""
        fns = self.fns_in_file.get(fi, [])

        def span(fn: int) -> int:
            return int(self.fn_end[fn] - self.fn_start[fn])

        def holds(fn: int) -> bool:
            return bool(line) and bool(self.fn_start[fn] <= line <= self.fn_end[fn])

        named = [fn for fn in fns if short and self.fn_name[fn] == short]
        if named:
            qualified = [fn for fn in named if ("." + self.fn_qual[fn]).endswith("." + dotted)]
            named = qualified or named
            fn = min(
                named,
                key=lambda f: (not holds(f), abs(int(self.fn_start[f]) - line) if line else 0),
            )
            score = conf + (0.2 if holds(fn) else 0.0) + 0.1
            return FrameHit(fi, fn, round(min(score, 1.0), 3), holds(fn))
        held = [fn for fn in fns if holds(fn)]
        if not held:
            return FrameHit(fi, -1, conf, False)
        fn = min(held, key=span)
        return FrameHit(fi, fn, round(min(conf + 0.2, 1.0), 3), True)


def _repo_of(uid: str, prefix: str) -> str:
    return uid[len(prefix) :].split(":", 1)[0] if uid.startswith(prefix) else ""


def _test_path(path: str) -> bool:
    p = "/" + path.lower()
    base = p.rsplit("/", 1)[-1]
    return (
        "/test/" in p
        or "/tests/" in p
        or "/testing/" in p
        or base.startswith("test_")
        or base.endswith(("_test.py", "_test.go", ".test.js", ".test.ts", ".spec.ts", "test.java"))
    )


def _path_terms(path: str) -> list[str]:
    stem = path.rsplit(".", 1)[0]
    return tokenize(stem.replace("/", " "))


class StoreCache(Generic[T]):
    """One value per store, rebuilt when the store's stamp changes (thread-safe, weak keys)."""

    def __init__(self) -> None:
        self._cache: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], T]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self, store: GraphReader, build: Callable[[], T]) -> T:
        stamp = store_stamp(store)
        with self._lock:
            hit = self._cache.get(store)
            if hit and hit[0] == stamp:
                return hit[1]
        value = build()
        with self._lock:
            self._cache[store] = (stamp, value)
        return value


_INDEXES: StoreCache[CodeIndex] = StoreCache()


def code_index(store: GraphReader) -> CodeIndex:
    """The cached index of `store`, rebuilt when the store's stamp changed."""
    return _INDEXES.get(store, lambda: _built(CodeIndex.build(store)))


def _built(idx: CodeIndex) -> CodeIndex:
    snapshot_built(len(idx.fn_uid) + len(idx.file_uid))
    return idx
