"""`git blame` as of a time, looking through cosmetic commits: which commits wrote given lines."""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import time
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph_service.store.base import GraphReader
from graph_service.triage.code_index import STAMP_TTL_S, store_stamp
from loaders.git.gitcli import BlobReader, Git

logger = logging.getLogger(__name__)

__all__ = [
    "COSMETIC",
    "BlameLine",
    "BlameRequest",
    "FileBlame",
    "RepoClone",
    "blame_files",
    "blame_requests",
    "ignore_revs",
    "read_blob",
    "repo_clones",
    "revision_at",
]

_REPOS = "MATCH (r:Repository) RETURN r.name AS name, r.path AS path, r.head AS head"
_HEADER = re.compile(r"^([0-9a-f]{40}) (\d+) (\d+)(?: (\d+))?$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
# Commit summaries of changes that move or reformat code without changing what it does.
COSMETIC = re.compile(
    r"\b(reformat\w*|formatt?(ing|ed)?|black|isort|prettier|gofmt|rustfmt|clang-format|"
    r"autopep8|yapf|ruff format|pre-commit|whitespace|typos?|lint(ing)?|flake8|pyupgrade|go fix|"
    r"code style|style fix\w*|trailing spaces?|line endings|copyright|license header)\b",
    re.IGNORECASE,
)
# the files git's `blame.ignoreRevsFile` convention names (the second is an older spelling)
IGNORE_FILES = (".git-blame-ignore-revs", ".gitblameignore")
BLAME_FLAGS = ("blame", "--porcelain", "-w", "-M", "-C")
_TIMEOUT_S = 10.0
_MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class RepoClone:
    """A repository of the store whose clone is on this machine."""

    name: str
    path: Path
    head: str


@dataclass(frozen=True)
class BlameRequest:
    """Lines of one file to blame: a frame's own line (0: none) and a function's lines."""

    repo: RepoClone
    path: str
    line: int
    start: int
    end: int

    @property
    def span(self) -> tuple[int, int]:
        lo = min(self.start, self.line) if self.line > 0 else self.start
        return max(lo, 1), max(self.end, self.line, 1)


@dataclass
class FileBlame:
    """One `git blame` of some line ranges of a file: who wrote each line."""

    lines: dict[int, str] = field(default_factory=dict)  # line number at the revision -> sha
    summary: dict[str, str] = field(default_factory=dict)
    time: dict[str, datetime] = field(default_factory=dict)
    error: str | None = None


@dataclass
class BlameLine:
    """Blame of one request: the frame line's commit and line counts per commit."""

    request: BlameRequest
    line_commit: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    time: dict[str, datetime] = field(default_factory=dict)
    error: str | None = None
    lines: dict[int, str] = field(default_factory=dict)  # line number -> sha, the counted lines


_CLONES: weakref.WeakKeyDictionary[Any, tuple[float, tuple[Any, ...], dict[str, RepoClone]]] = (
    weakref.WeakKeyDictionary()
)


def repo_clones(store: GraphReader) -> dict[str, RepoClone]:
    """Repositories whose `path` is a git clone on this machine, by name.

    Read at most once every `STAMP_TTL_S` seconds per store and store stamp (a triage asks
    three times: frames, function bodies, blame)."""
    now = time.monotonic()
    stamp = store_stamp(store)
    hit = _CLONES.get(store)
    if hit is not None and hit[1] == stamp and now - hit[0] < STAMP_TTL_S:
        return hit[2]
    out = _read_clones(store)
    _CLONES[store] = (now, stamp, out)
    return out


def _read_clones(store: GraphReader) -> dict[str, RepoClone]:
    out: dict[str, RepoClone] = {}
    for r in store.query(_REPOS, {}).rows():
        if not r["name"] or not r["path"]:
            continue
        path = Path(r["path"])
        if (path / ".git").exists() or (path / "HEAD").is_file():
            out[r["name"]] = RepoClone(r["name"], path, r["head"] or "HEAD")
    return out


def _git(repo: Path, *args: str) -> str:
    argv = Git(repo).argv(*args)
    proc = subprocess.run(argv, capture_output=True, check=False, timeout=_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode("utf-8", "replace").strip()[:300])
    return proc.stdout.decode("utf-8", "replace")


_REV_CACHE: OrderedDict[tuple[str, str, int], str | None] = OrderedDict()
_BLAME_CACHE: OrderedDict[tuple[Any, ...], FileBlame] = OrderedDict()
_IGNORE_CACHE: OrderedDict[tuple[str, str], tuple[str, ...]] = OrderedDict()
_LOCK = threading.Lock()


def _remember(cache: OrderedDict, key: Any, value: Any, cap: int = 2048) -> None:  # type: ignore[type-arg]
    with _LOCK:
        cache[key] = value
        while len(cache) > cap:
            cache.popitem(last=False)


def revision_at(repo: RepoClone, when: datetime) -> str | None:
    """The newest commit reachable from the loaded head committed at or before `when`."""
    ts = int(when.replace(tzinfo=UTC).timestamp() if when.tzinfo is None else when.timestamp())
    key = (str(repo.path), repo.head, ts // 60)
    if key in _REV_CACHE:
        return _REV_CACHE[key]
    try:
        out = _git(repo.path, "rev-list", "-1", f"--before={ts}", repo.head, "--").strip()
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        logger.info("triage blame: no revision of %s at %s (%s)", repo.name, when, e)
        out = ""
    rev = out if _HEX40.match(out) else None
    _remember(_REV_CACHE, key, rev)
    return rev


class _Blobs:
    """One long-running `git cat-file --batch` per clone, shared by the threads of a process
    (file contents at a revision without a `git show` per file)."""

    def __init__(self) -> None:
        self.readers: dict[str, tuple[BlobReader, threading.Lock]] = {}
        self.lock = threading.Lock()

    def read(self, repo: Path, spec: str) -> bytes | None:
        key = str(repo)
        with self.lock:
            if key not in self.readers:
                self.readers[key] = (BlobReader(Git(repo)), threading.Lock())
            reader, lock = self.readers[key]
        with lock:
            try:
                return reader.read(spec)
            except (OSError, ValueError) as e:  # the process died: start a new one next time
                logger.info("git cat-file in %s failed (%s); restarting it", repo, e)
                with self.lock:
                    self.readers.pop(key, None)
                return None


_BLOBS = _Blobs()


def read_blob(repo: Path, spec: str) -> bytes | None:
    """The object `spec` (`rev:path` or a sha) of the clone at `repo`, None when missing; read
    through one long-running `git cat-file --batch` per clone. Capped at 2 MB."""
    if "\n" in spec:
        return None
    data = _BLOBS.read(repo, spec)
    return data[:_MAX_BYTES] if data is not None else None


def ignore_revs(repo: Path, revs: tuple[str, ...]) -> tuple[str, ...]:
    """Commits the repository says to look through: its `.git-blame-ignore-revs` (or the older
    `.gitblameignore`) at each of `revs`, united, less shas the clone lacks (git would refuse
    the blame). Cached per (clone, revision)."""
    out: set[str] = set()
    for rev in revs:
        key = (str(repo), rev)
        hit = _IGNORE_CACHE.get(key)
        if hit is None:
            shas: set[str] = set()
            for name in IGNORE_FILES:
                data = read_blob(repo, f"{rev}:{name}") or b""
                for line in data.decode("utf-8", "replace").splitlines():
                    sha = line.split("#", 1)[0].strip()
                    if _HEX40.match(sha) and read_blob(repo, f"{sha}^{{commit}}") is not None:
                        shas.add(sha)
            hit = tuple(sorted(shas))
            _remember(_IGNORE_CACHE, key, hit, cap=256)
        out.update(hit)
    return tuple(sorted(out))


def _blame_file(
    repo: Path, rev: str, path: str, ranges: tuple[tuple[int, int], ...], ignore: tuple[str, ...]
) -> FileBlame:
    key = (str(repo), rev, path, ranges, ignore)
    hit = _BLAME_CACHE.get(key)
    if hit is not None:
        return hit
    out = FileBlame()
    args: list[str] = list(BLAME_FLAGS)
    for sha in ignore:
        args += ["--ignore-rev", sha]
    for lo, hi in ranges:
        args += ["-L", f"{lo},{hi}"]
    try:
        text = _git(repo, *args, rev, "--", path)
    except RuntimeError as e:  # git refused (no such path or lines at rev): so it stays
        out.error = str(e)
        _remember(_BLAME_CACHE, key, out)
        return out
    except (subprocess.TimeoutExpired, OSError) as e:
        out.error = str(e)
        return out
    current = ""
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            current = m.group(1)
            out.lines[int(m.group(3))] = current
        elif line.startswith("committer-time ") and current not in out.time:
            out.time[current] = datetime.fromtimestamp(int(line.split()[1]), UTC).replace(
                tzinfo=None
            )
        elif line.startswith("summary ") and current not in out.summary:
            out.summary[current] = line[8:]
    _remember(_BLAME_CACHE, key, out)
    return out


def _merged(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def blame_files(
    repo: Path,
    rev: str,
    ranges: dict[str, list[tuple[int, int]]],
    ignore: tuple[str, ...],
    workers: int = 4,
) -> tuple[dict[str, FileBlame], tuple[str, ...]]:
    """Blame the line `ranges` of each file at `rev`: one `git blame -w -M -C` per file, four at
    a time. Cosmetic commits are looked through: `ignore` (the repository's ignore list),
    whitespace changes (`-w`), moved or copied lines (`-M -C`), and commits whose summary says
    they only reformat, lint or fix typos (the files they wrote are blamed again with those
    commits ignored). Returns the blames by path and every sha looked through.

    The gold commits of the evaluation and the suspect commits of triage both come from here,
    so both sides look through the same commits."""
    jobs = {path: _merged(r) for path, r in ranges.items() if r}
    if not jobs:
        return {}, ignore

    def run_all(paths: list[str], skip: tuple[str, ...]) -> dict[str, FileBlame]:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(paths)))) as pool:
            got = pool.map(lambda p: _blame_file(repo, rev, p, jobs[p], skip), paths)
            return dict(zip(paths, got, strict=True))

    out = run_all(list(jobs), ignore)
    cosmetic = {
        sha
        for b in out.values()
        for sha, summary in b.summary.items()
        if sha not in ignore and COSMETIC.search(summary or "")
    }
    if cosmetic:
        ignore = tuple(sorted(set(ignore) | cosmetic))
        again = [p for p, b in out.items() if cosmetic & set(b.lines.values())]
        out.update(run_all(again, ignore))
    return out, ignore


def blame_requests(
    requests: list[BlameRequest], when: datetime, workers: int = 4
) -> tuple[list[BlameLine], list[str]]:
    """Blame every request as of `when` (each repository at its newest commit by then): one
    `git blame` per file for all the requests in it, looking through cosmetic commits (the
    ignore lists at that revision and at the loaded head; see `blame_files`). Returns the
    blames in the order of `requests` and the shas that were looked through."""
    revs: dict[str, str | None] = {}
    by_repo: dict[str, list[BlameRequest]] = {}
    for req in requests:
        name = req.repo.name
        if name not in revs:
            revs[name] = revision_at(req.repo, when)
        if revs[name]:
            by_repo.setdefault(name, []).append(req)
    results: dict[BlameRequest, BlameLine] = {}
    looked: set[str] = set()
    for name, reqs in by_repo.items():
        repo, rev = reqs[0].repo, revs[name] or ""
        ignore = ignore_revs(repo.path, tuple(dict.fromkeys((rev, repo.head))))
        ranges: dict[str, list[tuple[int, int]]] = {}
        for req in reqs:
            ranges.setdefault(req.path, []).append(req.span)
        files, skipped = blame_files(repo.path, rev, ranges, ignore, workers)
        looked.update(skipped)
        for req in reqs:
            results[req] = _cut(req, files[req.path])
    return [results[r] for r in requests if r in results], sorted(looked)


def _cut(req: BlameRequest, fb: FileBlame) -> BlameLine:
    """The request's part of its file's blame."""
    out = BlameLine(req, error=fb.error)
    lo, hi = req.span
    for n in range(lo, hi + 1):
        sha = fb.lines.get(n)
        if sha is None or (n != req.line and not req.start <= n <= req.end):
            continue
        out.counts[sha] = out.counts.get(sha, 0) + 1
        out.lines[n] = sha
        out.summary.setdefault(sha, fb.summary.get(sha, ""))
        if sha in fb.time:
            out.time.setdefault(sha, fb.time[sha])
    out.line_commit = fb.lines.get(req.line) if req.line > 0 else None
    return out
