"""The git loader: commit history down to functions, fix links and SZZ, loaded incrementally."""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from graph_service.batch import Batch, edges, nodes
from graph_service.errors import CallerError
from graph_service.store.base import GraphReader
from loaders.base import LoadReport
from loaders.code.walk import GENERATED_GLOBS, VENDORED_DIRS, path_skip_reason
from loaders.git.call_dates import date_calls
from loaders.git.config import GitConfig
from loaders.git.cosmetic import mark_cosmetic
from loaders.git.functions import MappedFile
from loaders.git.gitcli import BlobReader, Git
from loaders.git.log_parser import LOG_ARGS, CommitRecord, FileChange, parse_log
from loaders.git.mapping import (
    FunctionMapping,
    LocalMapping,
    ShardedMapping,
    WorkerMapping,
    mappable,
)
from loaders.git.messages import MessageFacts, read_message
from loaders.git.origins import LineOrigins
from loaders.git.rows import HeadTree, Rows, add_commit, add_functions
from loaders.git.stored import interrupted, loaded_shas, stored_head
from loaders.git.szz import blame_jobs, is_test_path
from loaders.git.szz_rows import Fix, SzzStep, ticket_created

logger = logging.getLogger(__name__)

__all__ = ["GitLoader"]

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_COMPLETE_ROWS = 100_000  # commits per batch that marks a run's commits complete


class GitLoader:
    """Loads one repository's history; only commits not yet in the store are processed."""

    name = "git"

    def __init__(self, config: GitConfig) -> None:
        self.config = config

    def extract(self, report: LoadReport, reader: GraphReader | None = None) -> Iterator[Batch]:
        cfg = self.config
        git = Git(cfg.repo_path)
        head = git.resolve(cfg.rev)
        if head is None:
            report.skip(str(cfg.repo_path), f"no commit at {cfg.rev!r} (empty repository?)")
            return
        repo = cfg.repo or _repo_name(git)
        if git.is_shallow():
            report.warn(
                repo,
                "shallow clone: history stops at the graft, so older commits, "
                "PARENT edges past it and SZZ blame beyond it are missing; run "
                "`git fetch --unshallow` for full history",
            )
        start = time.perf_counter()
        resumed = interrupted(reader, repo)
        if resumed:
            report.warn(
                repo,
                f"{resumed} commits of an earlier load that was interrupted (killed or failed "
                "before it finished) are loaded again",
            )
            report.stats["commits_resumed"] = resumed
        todo = self._todo(git, head, repo, reader)
        report.stats["commits_new"] = len(todo)
        report.stats["select_seconds"] = round(time.perf_counter() - start, 3)
        if todo:
            yield from _History(cfg, git, head, repo, report, reader).run(todo)
        else:
            if cfg.date_calls and reader is not None:  # calls loaded since the last run
                yield from date_calls(
                    reader,
                    git,
                    repo,
                    head,
                    lambda: _head_tree(git, head),
                    None,
                    set(),
                    report,
                    cfg.date_calls_blame_files,
                )
            if stored_head(reader, repo) == head:
                return
        row = {"uid": f"repo:{repo}", "name": repo, "path": str(git.toplevel()), "head": head}
        url = git.config("remote.origin.url")
        if url:
            row["url"] = url
        yield nodes("Repository", [row])

    def _todo(self, git: Git, head: str, repo: str, reader: GraphReader | None) -> list[str]:
        """Commits to process, oldest first: in range, not yet loaded, newest `max_commits`."""
        cfg = self.config
        revs = [head]
        if cfg.since:
            since = git.resolve(cfg.since)
            if since is None:
                raise CallerError(f"git: since={cfg.since!r} does not name a commit")
            revs.append(f"^{since}")
        shas = git.rev_list(*revs)
        if reader is not None and not cfg.full:
            loaded = loaded_shas(reader, repo)
            shas = [s for s in shas if s not in loaded]
        if cfg.max_commits:
            shas = shas[: cfg.max_commits]
        shas.reverse()
        return shas


def _head_tree(git: Git, head: str) -> dict[str, str]:
    """path -> blob of every file at `head` (submodules left out)."""
    return {p: sha for p, (mode, sha) in git.ls_tree(head).items() if mode != "160000"}


def _repo_name(git: Git) -> str:
    top = git.toplevel()
    name = top.name
    if name == ".git":
        name = top.parent.name
    return name.removesuffix(".git") or "repo"


@dataclass
class _Waiting:
    """A commit read from the log, waiting for its code files' mapping (`submitted`)."""

    record: CommitRecord
    facts: MessageFacts
    truncated: bool
    submitted: list[FileChange]


class _History:
    """One run over the selected commits, flushed as batches every `chunk_commits` commits."""

    def __init__(
        self,
        cfg: GitConfig,
        git: Git,
        head: str,
        repo: str,
        report: LoadReport,
        reader: GraphReader | None,
    ) -> None:
        self.cfg, self.git, self.head, self.repo = cfg, git, head, repo
        self.report, self.reader = report, reader
        self.facts: dict[str, MessageFacts] = {}
        self.resolved: dict[str, str | None] = {}
        self.fixes: dict[str, Fix] = {}
        self.szz: SzzStep | None = None
        self.origins: LineOrigins | None = None
        self._tracked: dict[str, bool] = {}
        self._own: dict[str, bool] = {}
        self.changed: set[str] = set()  # paths this run's commits touched
        self.loaded: list[str] = []  # uids of this run's commits, marked complete at the end
        self._language_for: Callable[[str], str | None] | None = None
        self.ignored: frozenset[str] = frozenset()  # `.git-blame-ignore-revs` at head
        self.ignore_file: Path | None = None  # the same, then the reformatting commits found
        self.waiting: deque[_Waiting] = deque()  # commits whose mapping is still out
        self.mapped: dict[str, list[MappedFile]] = {}

    def run(self, todo: list[str]) -> Iterator[Batch]:
        cfg, report = self.cfg, self.report
        with BlobReader(self.git) as blobs, tempfile.TemporaryDirectory() as tmp:
            self._language_for = _code_languages()
            if cfg.functions and self._language_for is None:
                report.warn(self.repo, "code parser unavailable: no function-level MODIFIES")
            tree = _head_tree(self.git, self.head)
            head_tree = HeadTree(tree)
            ignored = _ignore_revs(blobs, self.head)
            self.ignored = frozenset(ignored)
            ignore = self.ignore_file = _ignore_file(ignored, Path(tmp))
            if cfg.szz and cfg.szz_replay:
                self.origins = LineOrigins(
                    blobs.read, self._last_change, set(ignored), cfg.szz_replay_lines
                )
            if cfg.szz:
                self.szz = SzzStep(
                    self.git, cfg, report, self.reader, ignore, self.head, self.origins
                )
            mapping = self._mapping(blobs, len(todo))
            stream = parse_log(
                self.git.stream(LOG_ARGS, todo),
                keep_text=self._keep_text,
                line_cap=cfg.max_lines_per_commit,
            )
            rows = Rows(self.repo, head_tree, cfg.pseudonymise_emails)
            count = 0
            try:
                for record in stream:
                    self._add(rows, record, mapping)
                    count += 1
                    if count % cfg.chunk_commits == 0:
                        yield from self._flush(rows, mapping)
                        rows = Rows(self.repo, head_tree, cfg.pseudonymise_emails)
                yield from self._flush(rows, mapping)
                if mapping is not None:
                    report.stats.update(mapping.stats())
            finally:
                if self.szz is not None:
                    self.szz.close()
                if mapping is not None:
                    mapping.close()
            if self.origins is not None:
                report.stats["szz_versions_replayed"] = self.origins.versions_replayed
                report.stats["szz_versions_unknown"] = self.origins.versions_unknown
            if cfg.date_calls and self.reader is not None:
                yield from date_calls(
                    self.reader,
                    self.git,
                    self.repo,
                    self.head,
                    lambda: tree,
                    self.origins,
                    self.changed,
                    report,
                    cfg.date_calls_blame_files,
                )
        report.stats["commits_processed"] = count
        yield from self.complete()

    def complete(self) -> Iterator[Batch]:
        """Mark this run's commits loaded, last: only now is every row derived from them
        written (files, functions, fixes, SZZ, call dates). A run killed before this point
        leaves them `history_complete = false` and the next run redoes them; a rejected batch
        leaves them so too, and says so."""
        if not self.loaded:
            return
        if self.report.failed_batches:
            self.report.warn(
                self.repo,
                f"{len(self.report.failed_batches)} batch(es) failed: the {len(self.loaded)} "
                "commits of this run stay marked incomplete and the next run loads them again",
            )
            return
        for start in range(0, len(self.loaded), _COMPLETE_ROWS):
            part = self.loaded[start : start + _COMPLETE_ROWS]
            rows = [{"uid": uid, "history_complete": True} for uid in part]
            yield replace(nodes("Commit", rows), purpose="history complete")

    def _mapping(self, blobs: BlobReader, commits: int) -> FunctionMapping | None:
        """Function mapping in a second process for long histories, else in this one."""
        cfg = self.cfg
        if not cfg.functions or self._language_for is None:
            return None
        if cfg.function_worker and commits >= cfg.function_worker_min_commits:
            workers = cfg.function_workers
            self.report.stats["function_worker"] = workers
            if workers > 1:
                return ShardedMapping(self.git.path, cfg.parse_cache_size, workers)
            return WorkerMapping(self.git.path, cfg.parse_cache_size)
        return LocalMapping(blobs.read, cfg.parse_cache_size)

    def _last_change(self, at: str, path: str) -> str | None:
        return self.git.text("rev-list", "-1", at, "--", path, check=False) or None

    def _replays(self, change: FileChange) -> bool:
        """Whether SZZ could ever blame this file: line origins are kept for these only."""
        path = change.new_path or ""
        tracked = self._tracked.get(path)
        if tracked is None:
            lang = self._language_for(path) if self._language_for is not None else None
            tracked = not (
                (self.cfg.szz_code_only and lang is None) or is_test_path(path)
            ) and self._own_code(path)
            self._tracked[path] = tracked
        return tracked

    def _own_code(self, path: str) -> bool:
        """Not vendored or generated (by name, as the code loader judges it)."""
        own = self._own.get(path)
        if own is None:
            cfg = self.cfg
            own = (
                path_skip_reason(
                    path,
                    vendored_dirs=() if cfg.include_vendored else VENDORED_DIRS,
                    generated_globs=() if cfg.include_generated else GENERATED_GLOBS,
                )
                is None
            )
            self._own[path] = own
        return own

    def _facts(self, record: CommitRecord) -> MessageFacts:
        facts = self.facts.get(record.sha)
        if facts is None:
            facts = self.facts[record.sha] = read_message(record.message)
        return facts

    def _keep_text(self, record: CommitRecord) -> bool:
        """Hunk text rebuilds blobs from their previous version (functions) and feeds SZZ."""
        if self.cfg.functions or self.origins is not None:
            return True
        return self.cfg.szz and not record.is_merge and self._facts(record).is_fix

    def _add(self, rows: Rows, record: CommitRecord, mapping: FunctionMapping | None) -> None:
        """Check one commit's size, send its code files to the function mapping, and finish
        the commits whose mapping has come back (in history order)."""
        cfg, report = self.cfg, self.report
        facts = self.facts.pop(record.sha, None) or read_message(record.message)
        truncated = record.line_cap_hit or len(record.files) > cfg.max_files_per_commit
        if truncated:
            size = (
                f"{len(record.files)} files, over max_files_per_commit={cfg.max_files_per_commit}"
                if len(record.files) > cfg.max_files_per_commit
                else f"over max_lines_per_commit={cfg.max_lines_per_commit} diff lines"
            )
            report.warn(
                f"commit:{record.sha}",
                f"huge commit ({size}): file-level MODIFIES only, no function mapping or SZZ",
            )
            report.stats["commits_truncated"] = report.stats.get("commits_truncated", 0) + 1
        for change in record.files:
            if change.binary:
                report.stats["binary_changes"] = report.stats.get("binary_changes", 0) + 1
            if change.is_submodule:
                report.stats["submodule_changes"] = report.stats.get("submodule_changes", 0) + 1
        changes: list[FileChange] = []
        if mapping is not None and not truncated and self._language_for is not None:
            lang = self._language_for
            changes = [c for c in record.files if mappable(c, lang) and self._own_code(c.path)]
            if changes:
                mapping.submit(f"commit:{record.sha}", changes)
        self.waiting.append(_Waiting(record, facts, truncated, changes))
        self._drain(rows, mapping, wait=False)

    def _drain(self, rows: Rows, mapping: FunctionMapping | None, wait: bool) -> None:
        """Finish waiting commits, oldest first, up to the first whose mapping is still out."""
        if mapping is not None:
            for uid, files in mapping.done(wait):
                self.mapped[uid] = files
        while self.waiting:
            head = self.waiting[0]
            uid = f"commit:{head.record.sha}"
            if head.submitted and uid not in self.mapped:
                return
            self.waiting.popleft()
            self._finish(rows, head, self.mapped.pop(uid, []))

    def _finish(self, rows: Rows, item: _Waiting, files: list[MappedFile]) -> None:
        """One commit with its cosmetic hunks known: rows, line origins and SZZ."""
        cfg, record, facts, truncated = self.cfg, item.record, item.facts, item.truncated
        ignored = record.sha in self.ignored
        cosmetic = mark_cosmetic(record, item.submitted, files, ignored)
        if cosmetic and not ignored and self.ignore_file is not None:
            with self.ignore_file.open("a") as out:  # `git blame` looks through it too
                out.write(record.sha + "\n")
        add_commit(rows, record, facts, truncated, cosmetic)
        self.loaded.append(f"commit:{record.sha}")
        if not ignored:  # a listed reformatting commit changes no function
            for mapped in files:
                add_functions(rows, f"commit:{record.sha}", mapped.functions)
        self.changed.update(f.path for f in record.files if f.path)
        if self.origins is not None:
            self.origins.add_commit(record, self._replays)
        for short in facts.fixed_shas:
            self._declared(rows, record, short)
        if truncated or ignored or not facts.is_fix or self.szz is None:
            return
        jobs = blame_jobs(
            record,
            self._language_for,
            cfg.szz_max_lines_per_file,
            cfg.szz_code_only,
            self._own_code,
        )
        if jobs:
            linked = bool(facts.fixed_shas) or any(t.how != "ticket_link" for t in facts.tickets)
            tickets = [t.uid for t in facts.tickets]
            self.fixes[record.sha] = Fix(record.sha, record.committed_at, linked, tickets)
            self.szz.submit(jobs)

    def _declared(self, rows: Rows, record: CommitRecord, short: str) -> None:
        if short not in self.resolved:
            self.resolved[short] = self.git.resolve(short)
        full = self.resolved[short]
        if full is None or full == record.sha:
            self.report.warn(f"commit:{record.sha}", f"'Fixes: {short}' names no commit")
            return
        rows.induced.append(
            {
                "src": f"commit:{full}",
                "dst": f"commit:{record.sha}",
                "source": "git",
                "confidence": 0.95,
                "method": "declared",
                "fixed_at": record.committed_at,
            }
        )

    def _flush(self, rows: Rows, mapping: FunctionMapping | None) -> Iterator[Batch]:
        self._drain(rows, mapping, wait=True)
        if mapping is not None:
            rows.mark_deleted(mapping.head_names(rows.head_paths()))
        szz_rows = self.szz.induced(self.fixes) if self.szz is not None else []
        self.fixes = {}
        rows.induced = szz_rows + rows.induced  # declared links win over SZZ for one pair
        tickets = _ticket_refs(self.reader, rows)
        for label, data in (
            ("Person", list(rows.persons.values())),
            ("Commit", rows.commits),
            ("File", [r for r in rows.files.values() if not r["deleted"]]),
            ("File", [r for r in rows.files.values() if r["deleted"]]),
            ("Function", list(rows.functions.values())),
            ("Ticket", tickets),
        ):
            if data:
                yield nodes(label, data)
        for type_, src, dst, data in (
            ("PARENT", "Commit", "Commit", rows.parent),
            ("AUTHORED", "Person", "Commit", rows.authored),
            ("MODIFIES", "Commit", "File", rows.modifies_file),
            ("MODIFIES", "Commit", "Function", rows.modifies_fn),
            ("FIXES", "Commit", "Ticket", rows.fixes),
            ("INDUCED", "Commit", "Commit", rows.induced),
        ):
            if data:
                yield edges(type_, src, dst, data)


def _ticket_refs(reader: GraphReader | None, rows: Rows) -> list[dict[str, object]]:
    """Reference rows for tickets not loaded yet (key columns only: real ones are not touched)."""
    if not rows.tickets:
        return []
    existing = ticket_created(reader, list(rows.tickets))
    return [
        {**row, "kind": "reference"} for uid, row in rows.tickets.items() if uid not in existing
    ]


def _code_languages() -> Callable[[str], str | None] | None:
    """The code parser's language of a path, or None when the code loader is missing."""
    try:
        from loaders.code import language_for
    except ImportError:  # pragma: no cover - the code loader is part of the package
        return None
    return language_for


def _ignore_revs(blobs: BlobReader, head: str) -> list[str]:
    """The full shas listed in `.git-blame-ignore-revs` at head."""
    data = blobs.read(f"{head}:.git-blame-ignore-revs")
    if not data:
        return []
    return [
        s
        for s in (
            line.split("#", 1)[0].strip() for line in data.decode("utf-8", "replace").splitlines()
        )
        if _HEX40.match(s)
    ]


def _ignore_file(shas: list[str], tmp: Path) -> Path:
    """The ignored revisions as a file for `git blame --ignore-revs-file` (reformatting
    commits are added as the load finds them)."""
    path = tmp / "ignore-revs"
    path.write_text("".join(s + "\n" for s in shas))
    return path
