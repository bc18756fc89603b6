"""SZZ: blame the lines a fix removes or changes, in its parent, to find bug-introducing commits."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loaders.git.gitcli import Git, GitError
from loaders.git.log_parser import CommitRecord, FileChange

logger = logging.getLogger(__name__)

__all__ = [
    "BlameJob",
    "BlameResult",
    "Candidate",
    "blame",
    "blame_jobs",
    "blame_lines",
    "candidates",
    "is_test_path",
    "run_blames",
]

_TEST_PATH = re.compile(
    r"(^|/)(tests?|__tests__|spec|testing)/|(^|/)test_[^/]*$|_test\.\w+$|\.(test|spec)\.\w+$"
)
_HASH_COMMENT = ("#",)
_SLASH_COMMENT = ("//", "/*", "*", "*/")
_HASH_LANGS = {"python", "ruby", "bash", "yaml", "toml", "dockerfile", "hcl", "terraform"}
_BLAME_HEADER = re.compile(rb"^([0-9a-f]{40}) \d+ \d+")


def is_test_path(path: str) -> bool:
    """Test files are left out of SZZ: fixes edit tests, but tests do not hold the bug."""
    return bool(_TEST_PATH.search(path))


@dataclass
class BlameJob:
    """Lines of one file to blame in the fix's parent."""

    fix_sha: str
    parent: str
    path: str
    lines: list[int]
    blob: str | None = None  # the file's version in `parent`


@dataclass
class Candidate:
    """A commit blamed for lines of a fix."""

    sha: str
    lines: int
    committed_at: datetime


@dataclass
class BlameResult:
    job: BlameJob
    counts: Counter[str] = field(default_factory=Counter)
    times: dict[str, datetime] = field(default_factory=dict)
    error: str | None = None


def _comment_prefixes(language: str | None) -> tuple[str, ...]:
    if language in _HASH_LANGS:
        return _HASH_COMMENT
    if language is None:
        return _HASH_COMMENT + _SLASH_COMMENT
    return _SLASH_COMMENT


def blame_lines(change: FileChange, language: str | None, max_lines: int) -> list[int]:
    """Old-side line numbers worth blaming: not blank, not comments, not whitespace-only edits,
    not in a cosmetic hunk."""
    prefixes = _comment_prefixes(language)
    out: list[int] = []
    for hunk in change.hunks:
        if not hunk.removed or hunk.cosmetic is not None:
            continue  # nothing removed, or only its formatting changed
        added = {b"".join(a.split()) for a in hunk.added or ()}
        for i, raw in enumerate(hunk.removed):
            text = raw.decode("utf-8", "replace").strip()
            if not text or text.startswith(prefixes):
                continue
            if b"".join(raw.split()) in added:
                continue  # only whitespace changed on this line
            out.append(hunk.old_start + i)
            if len(out) >= max_lines:
                return out
    return out


def blame_jobs(
    record: CommitRecord,
    language_for: Callable[[str], str | None] | None,
    max_lines: int,
    code_only: bool = True,
    own_code: Callable[[str], bool] | None = None,
) -> list[BlameJob]:
    """The blame work for one fixing commit (non-merge, with kept hunk text); `own_code(path)`
    False leaves a file out (vendored or generated code)."""
    if record.is_merge or not record.parents:
        return []
    jobs: list[BlameJob] = []
    for change in record.files:
        if change.status not in "MR" or change.binary or change.is_submodule:
            continue
        path = change.old_path or ""
        lang = language_for(path) if language_for is not None else None
        if (code_only and lang is None) or is_test_path(path):
            continue
        if own_code is not None and not own_code(path):
            continue
        lines = blame_lines(change, lang, max_lines)
        if lines:
            jobs.append(BlameJob(record.sha, record.parents[0], path, lines, change.old_blob))
    return jobs


def _ranges(lines: Sequence[int]) -> list[str]:
    out: list[str] = []
    ordered = sorted(set(lines))
    start = prev = ordered[0]
    for n in ordered[1:]:
        if n != prev + 1:
            out.append(f"{start},{prev}")
            start = n
        prev = n
    out.append(f"{start},{prev}")
    return out


def blame(git: Git, job: BlameJob, ignore_revs: Path | None) -> BlameResult:
    """`git blame --porcelain -w` of the job's lines in the fix's parent: lines per commit."""
    args = ["blame", "--porcelain", "-w"]
    if ignore_revs is not None:
        args += ["--ignore-revs-file", str(ignore_revs)]
    for r in _ranges(job.lines):
        args += ["-L", r]
    result = BlameResult(job)
    try:
        out = git.run(*args, job.parent, "--", job.path)
    except GitError as e:
        result.error = e.message
        return result
    current = ""
    for line in out.splitlines():
        m = _BLAME_HEADER.match(line)
        if m:
            current = m.group(1).decode()
            result.counts[current] += 1
        elif line.startswith(b"committer-time ") and current not in result.times:
            result.times[current] = datetime.fromtimestamp(int(line.split()[1]), UTC).replace(
                tzinfo=None
            )
    return result


def run_blames(
    git: Git, jobs: Iterable[BlameJob], ignore_revs: Path | None, workers: int
) -> list[BlameResult]:
    """Run every blame (a few at a time: each is its own git process)."""
    jobs = list(jobs)
    if workers <= 1 or len(jobs) < 2:
        return [blame(git, j, ignore_revs) for j in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda j: blame(git, j, ignore_revs), jobs))


def candidates(
    results: Iterable[BlameResult],
    *,
    merges: set[str],
    not_after: datetime | None,
) -> list[Candidate]:
    """Blamed commits of one fix, less merges and commits newer than the ticket (when known)."""
    counts: Counter[str] = Counter()
    times: dict[str, datetime] = {}
    for r in results:
        counts.update(r.counts)
        times.update(r.times)
    out = []
    for sha, n in counts.items():
        when = times.get(sha)
        if sha in merges or when is None:
            continue
        if not_after is not None and when > not_after:
            continue
        out.append(Candidate(sha, n, when))
    return sorted(out, key=lambda c: (-c.lines, c.sha))
