"""The git loader's configuration: one pydantic model, built from CLI paths and options."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graph_service.errors import CallerError
from graph_service.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["GitConfig"]


def _default_workers() -> int:
    """Usable cores, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


class GitConfig(BaseModel):
    """What to load from one repository and how much work a commit may cost.

    Args:
        repo_path: the repository (work tree or bare git directory).
        repo: repository name used in uids; defaults to the folder name.
        rev: the head to load history up to (default HEAD).
        since: only commits after this revision (`since..rev`).
        max_commits: at most this many of the newest not-yet-loaded commits.
        full: reprocess every commit even when already loaded.
        functions: map hunks onto functions (MODIFIES Commit->Function).
        szz: run SZZ over fixing commits (INDUCED edges).
        szz_code_only: blame only files whose language the code parser knows.
        include_vendored / include_generated: like the code loader's options of the same
            names. Off (default): files under vendored or build directories (`dist/`,
            `vendor/`, `node_modules/`, ...) and generated files (`*.min.js`, `*_pb2.py`, ...)
            keep their file-level MODIFIES but are neither mapped to functions nor blamed by SZZ.
        szz_max_lines_per_file: lines blamed per file of one fix, at most.
        szz_replay: answer SZZ from line origins replayed along the loaded history
            (`loaders.git.origins`); `git blame` runs only where they are unknown.
        szz_replay_lines: line origins kept in memory (4 bytes each); older versions go first.
        max_files_per_commit / max_lines_per_commit: past either, the commit is `truncated`:
            file-level MODIFIES only, no function mapping, no SZZ.
        blame_workers: git blame processes run at once.
        chunk_commits: commits per group of batches.
        function_worker: map hunks onto functions in child processes (uses other cores)
            when at least `function_worker_min_commits` commits are loaded.
        function_workers: how many such processes share the files (default: the usable
            cores, at most 4); each path always goes to the same one.
        parse_cache_size: parsed blobs kept in memory.
        date_calls: set CALLS `since` (when each call line took its current form) from the
            line origins at head (`loaders.git.call_dates`); needs the code loaded first.
        date_calls_blame_files: `git blame` runs allowed for files the replay cannot date.
        ticket_dates: JSON file {ticket uid: ISO created_at} for SZZ's ticket-date filter.
        pseudonymise_emails: hash author emails (from Settings).
    """

    model_config = ConfigDict(extra="forbid")

    repo_path: Path
    repo: str | None = None
    rev: str = "HEAD"
    since: str | None = None
    max_commits: int | None = Field(default=None, ge=1)
    full: bool = False
    functions: bool = True
    szz: bool = True
    szz_code_only: bool = True
    include_vendored: bool = False
    include_generated: bool = False
    szz_max_lines_per_file: int = Field(default=500, ge=1)
    szz_replay: bool = True
    szz_replay_lines: int = Field(default=20_000_000, ge=1000)
    max_files_per_commit: int = Field(default=500, ge=1)
    max_lines_per_commit: int = Field(default=20_000, ge=1)
    blame_workers: int = Field(default=2, ge=1, le=32)
    chunk_commits: int = Field(default=5000, ge=1)
    function_worker: bool = True
    function_worker_min_commits: int = Field(default=1000, ge=1)
    function_workers: int = Field(default_factory=lambda: _default_workers(), ge=1, le=16)
    parse_cache_size: int = Field(default=4096, ge=16)
    date_calls: bool = True
    date_calls_blame_files: int = Field(default=500, ge=0)
    ticket_dates: Path | None = None
    pseudonymise_emails: bool = False

    @classmethod
    def from_cli(cls, paths: list[str], settings: Settings, options: dict[str, str]) -> GitConfig:
        """`prodgraph ingest git PATH --option key=value ...` -> config; CallerError if wrong."""
        if len(paths) != 1:
            raise CallerError(f"git: give exactly one repository path (got {len(paths)})")
        fields = dict(options)
        fields.setdefault("pseudonymise_emails", str(settings.pseudonymise_emails))
        unknown = sorted(set(fields) - set(cls.model_fields) - {"repo_path"})
        if unknown:
            known = ", ".join(sorted(set(cls.model_fields) - {"repo_path"}))
            raise CallerError(f"git: unknown option(s) {', '.join(unknown)} (known: {known})")
        try:
            return cls(repo_path=Path(paths[0]), **fields)  # type: ignore[arg-type]
        except ValidationError as e:
            raise CallerError(f"git: invalid options: {e}") from e
