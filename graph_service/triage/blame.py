"""`git blame` of a ticket's frames as of its time: which commits wrote the failing lines."""

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
from loaders.git.gitcli import Git

logger = logging.getLogger(__name__)

__all__ = [
    "COSMETIC",
    "BlameLine",
    "BlameRequest",
    "RepoClone",
    "blame_requests",
    "repo_clones",
    "revision_at",
]

_REPOS = "MATCH (r:Repository) RETURN r.name AS name, r.path AS path, r.head AS head"
_HEADER = re.compile(r"^([0-9a-f]{40}) (\d+) (\d+)(?: (\d+))?$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
# Commit summaries of changes that move or reformat code without changing what it does.
COSMETIC = re.compile(
    r"\b(reformat\w*|formatt?(ing|ed)?|black|isort|prettier|gofmt|rustfmt|clang-format|"
    r"autopep8|yapf|ruff format|pre-commit|whitespace|typos?|lint(ing)?|flake8|pyupgrade|"
    r"code style|style fix\w*|trailing spaces?|line endings|copyright|license header)\b",
    re.IGNORECASE,
)
_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RepoClone:
    """A repository of the store whose clone is on this machine."""

    name: str
    path: Path
    head: str


@dataclass(frozen=True)
class BlameRequest:
    """Lines of one file to blame: the frame's own line and its function's lines."""

    repo: RepoClone
    path: str
    line: int
    start: int
    end: int


@dataclass
class BlameLine:
    """Blame of one request: the frame line's commit and line counts per commit."""

    request: BlameRequest
    line_commit: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    time: dict[str, datetime] = field(default_factory=dict)
    error: str | None = None


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


def _git(repo: RepoClone, *args: str) -> str:
    argv = Git(repo.path).argv(*args)
    proc = subprocess.run(argv, capture_output=True, check=False, timeout=_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode("utf-8", "replace").strip()[:300])
    return proc.stdout.decode("utf-8", "replace")


_REV_CACHE: OrderedDict[tuple[str, str, int], str | None] = OrderedDict()
_BLAME_CACHE: OrderedDict[tuple[str, str, str, int, int, int, tuple[str, ...]], BlameLine] = (
    OrderedDict()
)
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
        out = _git(repo, "rev-list", "-1", f"--before={ts}", repo.head, "--").strip()
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        logger.info("triage blame: no revision of %s at %s (%s)", repo.name, when, e)
        out = ""
    rev = out if _HEX40.match(out) else None
    _remember(_REV_CACHE, key, rev)
    return rev


_IGNORE_CACHE: OrderedDict[tuple[str, str], tuple[str, ...]] = OrderedDict()


def _ignore_revs(repo: RepoClone, rev: str) -> tuple[str, ...]:
    """The revision's `.git-blame-ignore-revs` (read once per revision: a git process)."""
    key = (str(repo.path), rev)
    hit = _IGNORE_CACHE.get(key)
    if hit is not None:
        return hit
    try:
        text = _git(repo, "show", f"{rev}:.git-blame-ignore-revs")
    except (RuntimeError, subprocess.TimeoutExpired, OSError):
        text = ""
    shas = (line.split("#", 1)[0].strip() for line in text.splitlines())
    out = tuple(s for s in shas if _HEX40.match(s))
    _remember(_IGNORE_CACHE, key, out, cap=256)
    return out


def _blame(req: BlameRequest, rev: str, ignore: tuple[str, ...]) -> BlameLine:
    key = (str(req.repo.path), rev, req.path, req.line, req.start, req.end, ignore)
    hit = _BLAME_CACHE.get(key)
    if hit is not None:
        return hit
    out = BlameLine(req)
    args = ["blame", "--porcelain", "-w", "-M", "-C"]
    for sha in ignore:
        args += ["--ignore-rev", sha]
    lo, hi = min(req.start, req.line), max(req.end, req.line)
    args += ["-L", f"{max(lo, 1)},{max(hi, 1)}", rev, "--", req.path]
    try:
        text = _git(req.repo, *args)
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
            out.counts[current] = out.counts.get(current, 0) + 1
            if int(m.group(3)) == req.line:
                out.line_commit = current
        elif line.startswith("committer-time ") and current not in out.time:
            out.time[current] = datetime.fromtimestamp(int(line.split()[1]), UTC).replace(
                tzinfo=None
            )
        elif line.startswith("summary ") and current not in out.summary:
            out.summary[current] = line[8:]
    _remember(_BLAME_CACHE, key, out)
    return out


def blame_requests(
    requests: list[BlameRequest], when: datetime, workers: int = 4
) -> tuple[list[BlameLine], list[str]]:
    """Blame every request as of `when` (each repository at its newest commit by then).

    Cosmetic commits are looked through: those listed in `.git-blame-ignore-revs`, whitespace
    changes (`-w`), moved or copied lines (`-M -C`), and commits whose summary says they only
    reformat, lint or fix typos (blamed again with those commits ignored). Returns the blames
    and the shas that were looked through.
    """
    revs: dict[str, str | None] = {}
    ignores: dict[str, tuple[str, ...]] = {}
    jobs: list[tuple[BlameRequest, str]] = []
    for req in requests:
        name = req.repo.name
        if name not in revs:
            revs[name] = revision_at(req.repo, when)
            rev = revs[name]
            ignores[name] = _ignore_revs(req.repo, rev) if rev else ()
        rev = revs[name]
        if rev:
            jobs.append((req, rev))
    if not jobs:
        return [], []

    def run(job: tuple[BlameRequest, str]) -> BlameLine:
        return _blame(job[0], job[1], ignores[job[0].repo.name])

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        results = list(pool.map(run, jobs))
    cosmetic = {
        sha for b in results for sha, summary in b.summary.items() if COSMETIC.search(summary or "")
    }
    if cosmetic:
        for name in ignores:
            ignores[name] = tuple(sorted(set(ignores[name]) | cosmetic))
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
            results = list(pool.map(run, jobs))
    looked_through = sorted({s for v in ignores.values() for s in v})
    return results, looked_through
