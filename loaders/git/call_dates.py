"""When each call took its current form: CALLS `since` from the origins of the head's lines.

The code loader records a CALLS edge with the line of its first call site at head. The commit
that last wrote that line (what `git blame -w` answers) dates the call: at any time before
it, the call as it reads now did not exist, so as-of features (fan-in/fan-out, ego graphs of
the risk model) count the edge only from then. A call rewritten later is dated by its rewrite
(counted late, never early).

Line origins come from the history replay the loader already keeps for SZZ
(`loaders.git.origins`); files whose head version the replay cannot vouch for (test files,
which SZZ does not track, and lines whose origin is unknown) fall back to one `git blame` per
file, up to a budget. Only edges whose date is missing, or whose file changed
in this run, are written, and only their `since` (the store keeps the other properties).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from graph_service.batch import Batch, edges
from graph_service.store.base import GraphReader
from loaders.base import LoadReport
from loaders.git.gitcli import Git, GitError
from loaders.git.origins import LineOrigins

logger = logging.getLogger(__name__)

__all__ = ["date_calls", "parse_blame"]

_CALLS = """
MATCH (a:Function)-[r:CALLS]->(b:Function)
WHERE a.uid STARTS WITH $prefix AND r.line IS NOT NULL
RETURN a.uid AS src, b.uid AS dst, a.path AS path, r.line AS line, r.since AS since
"""
_UNDATED = _CALLS.replace("r.line IS NOT NULL", "r.line IS NOT NULL AND r.since IS NULL")
_CHUNK = 50_000


def parse_blame(porcelain: str) -> list[datetime | None]:
    """Per line (index = line - 1) the committer time (naive UTC) of `git blame
    --line-porcelain`."""
    out: list[datetime | None] = []
    when: datetime | None = None
    for line in porcelain.splitlines():
        if line.startswith("committer-time "):
            try:
                when = datetime.fromtimestamp(int(line.split()[1]), UTC).replace(tzinfo=None)
            except (IndexError, ValueError):
                when = None
        elif line.startswith("\t"):
            out.append(when)
    return out


def _from_origins(
    origins: LineOrigins | None, blob: str, head: str, path: str, lines: list[int]
) -> dict[int, datetime] | None:
    if origins is None:
        return None
    found: dict[int, datetime] = {}
    for line in lines:
        answer = origins.blame(blob, head, path, [line])
        if answer is None:
            return None
        _, times = answer
        found[line] = next(iter(times.values()))
    return found


def date_calls(
    reader: GraphReader,
    git: Git,
    repo: str,
    head: str,
    tree: Callable[[], dict[str, str]],
    origins: LineOrigins | None,
    changed: set[str],
    report: LoadReport,
    blame_files: int,
) -> Iterator[Batch]:
    """CALLS edges of `repo` with `since` set (see the module docstring).

    `tree()`: path -> blob at `head`, asked only when there is something to date; `changed`:
    paths this run's commits touched (their dates are recomputed even when stored; with none,
    only undated calls are read); `blame_files`: `git blame` runs allowed.
    """
    query = _CALLS if changed else _UNDATED
    stored = reader.query(query, {"prefix": f"fn:{repo}:"}, timeout_s=600).to_pandas()
    report.stats.update(calls_dated=0, calls_undated=0, calls_date_blame_files=0)
    if stored.empty:
        return
    blobs = tree()
    rows: list[dict[str, object]] = []
    blamed = unknown = 0
    for path, group in stored.groupby("path", sort=True):
        path = str(path)
        blob = blobs.get(path)
        if blob is None:
            continue
        todo = group if path in changed else group[group["since"].isna()]
        if todo.empty:
            continue
        lines = sorted({int(x) for x in todo["line"]})
        dates = _from_origins(origins, blob, head, path, lines)
        if dates is None and blamed < blame_files:
            blamed += 1
            try:
                per_line = parse_blame(
                    git.text("blame", "-w", "--line-porcelain", head, "--", path, check=True)
                )
            except GitError as e:
                report.warn(repo, f"{path}: git blame failed, its calls stay undated: {e}")
                per_line = []
            dates = {
                n: d for n in lines if 0 < n <= len(per_line) and (d := per_line[n - 1]) is not None
            }
        if dates is None:
            unknown += len(todo)
            continue
        for src, dst, line in zip(todo["src"], todo["dst"], todo["line"], strict=True):
            when = dates.get(int(line))
            if when is None:
                unknown += 1
                continue
            rows.append({"src": src, "dst": dst, "since": when})
    report.stats["calls_dated"] = len(rows)
    report.stats["calls_undated"] = unknown
    report.stats["calls_date_blame_files"] = blamed
    if unknown and blamed >= blame_files:
        report.warn(
            repo,
            f"{unknown} call(s) left undated: the git blame budget ({blame_files} files, option "
            "date_calls_blame_files) ran out; they count from their functions' births",
        )
    for i in range(0, len(rows), _CHUNK):
        yield edges("CALLS", "Function", "Function", rows[i : i + _CHUNK])
