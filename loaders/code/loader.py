"""The code loader: walk a source tree, parse changed files, resolve symbols, yield batches."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

from graph_service.batch import Batch
from graph_service.errors import CallerError
from graph_service.store.base import GraphReader
from loaders.base import LoadReport
from loaders.code import incremental as inc
from loaders.code.emit import BatchEmitter, RunState
from loaders.code.languages import language_for
from loaders.code.modules import ModuleIndex
from loaders.code.parse import ParsedFile
from loaders.code.pipeline import built_ahead, gc_paused, heap_frozen
from loaders.code.receivers import imported_files
from loaders.code.resolve import SymbolTable, symbols_of
from loaders.code.rows import (
    Uids,
)
from loaders.code.walk import GENERATED_GLOBS, VENDORED_DIRS, list_files, skip_reason_for_content
from loaders.code.workers import default_workers, parse_files

logger = logging.getLogger(__name__)

__all__ = ["CodeConfig", "CodeLoader"]


class CodeConfig(BaseModel):
    """Configuration of one code load."""

    root: Path = Field(description="Repository root on disk.")
    repo: str | None = Field(default=None, description="Repository name; the root's name if unset.")
    max_file_bytes: int = Field(default=2_000_000, ge=1, description="Larger files are skipped.")
    include_vendored: bool = False
    include_generated: bool = False
    vendored_dirs: tuple[str, ...] = VENDORED_DIRS
    generated_globs: tuple[str, ...] = GENERATED_GLOBS
    use_git: bool = Field(default=True, description="Use `git ls-files` when the root is a repo.")
    incremental: bool = Field(default=True, description="Parse only files whose hash changed.")
    batch_rows: int = Field(default=200_000, ge=1, description="Rows per yielded batch.")
    limit_files: int | None = Field(default=None, ge=1, description="Load at most N files.")
    workers: int | None = Field(
        default=None,
        ge=1,
        description="Parser processes; unset: the usable cores, at most 4; 1 parses in-process.",
    )
    parallel_min_bytes: int = Field(
        default=1_000_000,
        ge=0,
        description="Parse in-process when less source than this changed (a worker takes ~0.1 s).",
    )
    value_flow: bool = Field(
        default=True, description="Resolve Python calls by value flow too (whole-program)."
    )
    value_flow_max_bytes: int = Field(
        default=4_000_000,
        ge=0,
        description="Skip value flow above this much Python source (its solve is whole-program "
        "and grows faster than the tree: see docs/call_graph_eval.md).",
    )
    languages: tuple[str, ...] | None = Field(
        default=None, description="Only these languages (python, javascript, typescript, ...)."
    )
    facts_cache: Path | None = Field(
        default=None,
        description="Folder keeping Python value-flow facts by content hash across processes "
        "(a later load extracts facts for new content only); unset: kept in memory only.",
    )

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value: object) -> object:
        return (
            tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, str)
            else value
        )

    @property
    def repo_name(self) -> str:
        return self.repo or self.root.resolve().name

    @classmethod
    def from_cli(cls, paths: list[str], options: dict[str, str]) -> CodeConfig:
        """Build from CLI arguments: the first path is the root, options are field=value."""
        if not paths:
            raise CallerError("the code loader needs a repository root path")
        try:
            return cls(root=Path(paths[0]), **options)  # type: ignore[arg-type]
        except ValidationError as e:
            raise CallerError(f"invalid code loader option: {e}") from e


class CodeLoader:
    """Loads a repository's source tree (Python, JavaScript, TypeScript/TSX, Go, Java)."""

    name = "code"

    def __init__(self, config: CodeConfig) -> None:
        self.config = config
        self.uids = Uids(config.repo_name)

    def extract(self, report: LoadReport, reader: GraphReader | None = None) -> Iterator[Batch]:
        cfg = self.config
        if not cfg.root.is_dir():
            raise CallerError(f"code loader: {cfg.root} is not a directory")
        # one pause for both passes: a collection in between would walk every parsed record,
        # and they are acyclic (reference counting frees them when `_passes` ends)
        with gc_paused():
            yield from self._passes(report, reader)

    def _passes(self, report: LoadReport, reader: GraphReader | None) -> Iterator[Batch]:
        cfg = self.config
        start = time.perf_counter()
        stored = inc.read_files(reader, cfg.repo_name) if reader and cfg.incremental else None
        run = RunState()
        self._scan(report, run, stored)
        deleted = sorted(set(stored.hashes) - run.present) if stored else []
        changed = set(run.parsed)
        if stored is not None and (changed or deleted):
            inc.read_symbols(reader, cfg.repo_name, stored)  # type: ignore[arg-type]
            self._reparse_dependents(report, run, stored, changed | set(deleted))
        report.stats["files_parsed"] = len(run.parsed)
        report.stats["files_unchanged"] = len(run.unchanged)
        report.stats["files_deleted"] = len(deleted)
        report.stats["parse_seconds"] = round(time.perf_counter() - start, 3)
        if not run.parsed and not deleted:
            return
        with heap_frozen():
            batches = self._batches(report, run, stored, deleted)
            yield from built_ahead(batches, report, "build_seconds")

    def _batches(
        self, report: LoadReport, run: RunState, stored: inc.StoredState | None, deleted: list[str]
    ) -> Iterator[Batch]:
        table = self._symbol_table(run, stored)
        emit = BatchEmitter(
            self.uids, self.config.batch_rows, self.config.root, self.config.facts_cache
        )
        if self._value_flow(report, run):
            emit.solve_flow(report, run, table)
        if stored is not None:  # files about to be rewritten stop counting as loaded
            known = (set(stored.hashes) | stored.deleted) & set(run.parsed)
            pending = {self.uids.file(p): inc.PENDING_HASH for p in sorted(known)}
            yield from inc.hash_marks(pending, "load pending")
            yield from emit.deletions(run, stored, deleted)
        yield from emit.node_batches(run, stored, deleted)
        yield from emit.edge_batches(report, run, table)
        hashes = {self.uids.file(p): run.hashes[p] for p in run.parsed}
        yield from inc.hash_marks(hashes, "content hash")  # the watermark, last

    # ---- pass 1: read, hash, parse ------------------------------------------------------
    def _scan(self, report: LoadReport, run: RunState, stored: inc.StoredState | None) -> None:
        cfg = self.config
        gomod = cfg.root / "go.mod"
        if gomod.is_file():
            run.go_modules.update(_go_module(gomod, ""))
        self._parse_all(report, run, self._changed_sources(report, run, stored))

    def _changed_sources(
        self, report: LoadReport, run: RunState, stored: inc.StoredState | None
    ) -> Iterator[tuple[str, bytes]]:
        """Read and hash every file; yield those whose content is new (they get parsed)."""
        cfg = self.config
        for cand in list_files(
            cfg.root,
            use_git=cfg.use_git,
            vendored_dirs=cfg.vendored_dirs,
            generated_globs=cfg.generated_globs,
            include_vendored=cfg.include_vendored,
            include_generated=cfg.include_generated,
        ):
            if cfg.languages is not None and language_for(cand.path) not in cfg.languages:
                continue
            if cand.skip:
                report.skip(cand.path, cand.skip)
                continue
            if cfg.limit_files is not None and len(run.present) >= cfg.limit_files:
                break
            data = self._read(report, cand.path)
            if data is None:
                continue
            digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()
            if cand.path.endswith((".py", ".pyi")):
                run.python_bytes += len(data)
            run.present.add(cand.path)
            run.hashes[cand.path] = digest
            if stored is not None and stored.hashes.get(cand.path) == digest:
                run.unchanged.add(cand.path)
                continue
            yield cand.path, data

    def _read(self, report: LoadReport, path: str) -> bytes | None:
        full = self.config.root / path
        try:
            size = full.stat().st_size
            if size > self.config.max_file_bytes:
                report.skip(path, f"too large ({size} bytes > {self.config.max_file_bytes})")
                return None
            data = full.read_bytes()
        except OSError as e:
            report.skip(path, f"unreadable: {e}")
            return None
        reason = skip_reason_for_content(data, include_generated=self.config.include_generated)
        if reason:
            report.skip(path, reason)
            return None
        return data

    def _parse_all(
        self,
        report: LoadReport,
        run: RunState,
        sources: Iterator[tuple[str, bytes]],
        *,
        reuse: bool = False,
    ) -> None:
        """Parse `sources` (in worker processes when it pays) into `run.parsed`, in order.

        `reuse`: unchanged files parsed again only for their edges take an earlier parse of
        the same bytes in this process when there is one (Python files are kept)."""
        cfg = self.config
        workers = cfg.workers if cfg.workers is not None else default_workers()
        order: list[str] = []
        known: dict[str, ParsedFile] = {}
        keys: dict[str, tuple[str, bytes]] = {}

        def unseen() -> Iterator[tuple[str, bytes]]:
            for path, data in sources:
                order.append(path)
                key = (path, hashlib.sha1(data, usedforsecurity=False).digest())
                hit = _PARSED.get(key) if reuse else None
                if hit is not None:
                    known[path] = hit
                else:
                    keys[path] = key
                    yield path, data

        results = parse_files(
            unseen(),
            workers=workers,
            min_parallel_bytes=cfg.parallel_min_bytes,
            stats=report.stats,
        )
        for path, found in results:
            if found is not None:
                known[path] = found
                # value flow parses every Python file again on a change: keep them while this
                # load's Python stays within value flow's limit (so memory stays bounded too)
                if found.language == "python" and self._value_flow(None, run):
                    if len(_PARSED) >= _PARSED_MAX:
                        _PARSED.pop(next(iter(_PARSED), ("", b"")), None)  # the oldest
                    _PARSED[keys[path]] = found
        cached = len(order) - len(keys)
        report.stats["files_parse_cached"] = report.stats.get("files_parse_cached", 0) + cached
        for path in order:
            parsed = known.get(path)
            if parsed is None:
                continue
            if parsed.bad_utf8_at is not None:
                report.warn(
                    path, f"not valid UTF-8 (byte {parsed.bad_utf8_at}); parsed with replacement"
                )
            if parsed.has_error:
                report.warn(
                    path,
                    "syntax error: loaded what tree-sitter recovered",
                    f"line {parsed.error_line}",
                )
                report.stats["syntax_errors"] = report.stats.get("syntax_errors", 0) + 1
            run.parsed[path] = parsed

    def _reparse_dependents(
        self, report: LoadReport, run: RunState, stored: inc.StoredState, touched: set[str]
    ) -> None:
        """Unchanged files that import or call into touched files are parsed again."""
        again: set[str] = set()
        for path in touched:
            again |= stored.dependents.get(path, set())
            if path.endswith((".go", ".java")):  # same package: no import needed
                directory = path.rpartition("/")[0]
                again |= {p for p in run.unchanged if p.rpartition("/")[0] == directory}
        again |= self._mentions_of_new_files(run, stored)
        typed = [run.parsed[p] for p in touched if p in run.parsed and not p.endswith(".py")]
        if typed:  # types declared in the files these import (see `receivers`)
            table = SymbolTable(ModuleIndex(run.present, self.config.repo_name, run.go_modules))
            again |= imported_files(table, typed)
        if any(p.endswith((".py", ".pyi")) for p in touched) and self._value_flow(None, run):
            # Python value flow is whole-program (a changed return value or argument can move
            # any file's edges): every Python file is resolved again from fresh facts
            again |= {p for p in run.unchanged if p.endswith((".py", ".pyi"))}
        again &= run.unchanged
        self._parse_all(report, run, self._reread(report, run, sorted(again)), reuse=True)
        report.stats["dependents_reparsed"] = len(again)

    def _reread(
        self, report: LoadReport, run: RunState, paths: list[str]
    ) -> Iterator[tuple[str, bytes]]:
        for path in paths:
            data = self._read(report, path)
            if data is not None:
                run.unchanged.discard(path)
                yield path, data

    def _mentions_of_new_files(self, run: RunState, stored: inc.StoredState) -> set[str]:
        """Unchanged files whose text names a new module: their imports may resolve now."""
        if not run.unchanged:
            return set()
        stems = set()
        for path in set(run.parsed) - set(stored.hashes):
            directory, _, base = path.rpartition("/")
            stem = base.split(".")[0]
            if stem in ("__init__", "index", "mod", "main") and directory:
                stem = directory.rpartition("/")[2]
            stems.add(re.escape(stem.encode()))
        if not stems:
            return set()
        pattern = re.compile(rb"\b(?:" + b"|".join(sorted(stems)) + rb")\b")
        hits = set()
        for path in run.unchanged:
            try:
                if pattern.search((self.config.root / path).read_bytes()):
                    hits.add(path)
            except OSError:
                continue
        return hits

    def _value_flow(self, report: LoadReport | None, run: RunState) -> bool:
        """Whether this load resolves Python by value flow (on, and few enough files)."""
        cfg = self.config
        if not cfg.value_flow:
            return False
        if run.python_bytes <= cfg.value_flow_max_bytes:
            return True
        if report is not None:
            report.warn(
                str(cfg.root),
                f"value flow skipped: {run.python_bytes} bytes of Python > value_flow_max_bytes="
                f"{cfg.value_flow_max_bytes}; calls resolved by name only (raise the setting "
                "to include them)",
            )
        return False

    # ---- symbols ------------------------------------------------------------------------
    def _symbol_table(self, run: RunState, stored: inc.StoredState | None) -> SymbolTable:
        index = ModuleIndex(run.present, self.config.repo_name, run.go_modules)
        table = SymbolTable(index)
        for parsed in run.parsed.values():
            table.add(symbols_of(parsed))
        if stored is not None:
            for path in run.unchanged:
                table.add(inc.stored_symbols(stored, path))
            inc.add_stored_parents(table, stored, run.unchanged)
        return table

    # ---- batches ------------------------------------------------------------------------


# (path, sha1 of its bytes) -> what parsing it gave: a parse depends on nothing else, and no
# later step changes a ParsedFile, so loads in the same process share them
_PARSED_MAX = 20_000
_PARSED: dict[tuple[str, bytes], ParsedFile] = {}


def _go_module(gomod: Path, directory: str) -> dict[str, str]:
    for line in gomod.read_text("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "module":
            return {parts[1].strip('"'): directory}
    return {}
