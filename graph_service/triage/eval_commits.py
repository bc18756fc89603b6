"""Gold commits for triage evaluation (blame of what a fix changed) and the recency baseline."""

from __future__ import annotations

import logging
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from graph_service.triage.blame import blame_files, ignore_revs, read_blob
from loaders.git.szz import is_test_path

logger = logging.getLogger(__name__)

__all__ = ["gold_commits", "gold_lines", "recent_commits"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
_CODE = re.compile(r"\.(py|pyi|go|js|jsx|ts|tsx|java|kt|rb|rs|c|cc|cpp|h|hpp|cs|php|scala|swift)$")


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, check=False, timeout=120
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.decode("utf-8", "replace").strip()[:300])
    return out.stdout.decode("utf-8", "replace")


def _epoch(t: datetime) -> int:
    return int((t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp())


def _changed_lines(
    repo: Path, parent: str, fix: str
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[int]]]:
    """Old-side line ranges the fix deleted or changed, and the old-side lines after which it
    only added lines, per non-test code file (whitespace ignored)."""
    text = _git(repo, "diff", "-U0", "-w", "--no-color", "--no-renames", parent, fix)
    removed: dict[str, list[tuple[int, int]]] = {}
    added: dict[str, list[int]] = {}
    path: str | None = None
    for line in text.splitlines():
        if line.startswith("--- "):
            p = line[4:].strip()
            path = p[2:] if p.startswith("a/") else None
            if path and (not _CODE.search(path) or is_test_path(path)):
                path = None
        elif path and (m := _HUNK.match(line)):
            start, count = int(m.group(1)), int(m.group(2) or "1")
            if count > 0:
                removed.setdefault(path, []).append((start, start + count - 1))
            else:  # a pure addition after old line `start`
                added.setdefault(path, []).append(start)
    return removed, added


def _around(
    repo: Path, parent: str, added: dict[str, list[int]]
) -> dict[str, list[tuple[int, int]]]:
    """For a fix that only adds code: the nearest non-blank line above and below each place it
    added to, at the parent (the code the addition completes)."""
    out: dict[str, list[tuple[int, int]]] = {}
    for path, after in added.items():
        data = read_blob(repo, f"{parent}:{path}")
        lines = data.decode("utf-8", "replace").splitlines() if data else []
        for n in after:
            up = next((i for i in range(min(n, len(lines)), 0, -1) if lines[i - 1].strip()), None)
            down = next((i for i in range(n + 1, len(lines) + 1) if lines[i - 1].strip()), None)
            out.setdefault(path, []).extend((i, i) for i in (up, down) if i is not None)
    return out


def gold_lines(
    repo: Path, fix_sha: str, parent: str
) -> tuple[dict[str, list[tuple[int, int]]], str]:
    """The parent-side lines whose authors are the gold commits, and which rule chose them:
    `changed` (the lines the fix deleted or changed, SZZ) or, when the fix deleted or changed
    no code line, `around_additions` (the nearest non-blank lines around what it added)."""
    removed, added = _changed_lines(repo, parent, fix_sha)
    if removed:
        return removed, "changed"
    return _around(repo, parent, added), "around_additions"


def gold_commits(
    repo: Path, fix_sha: str, parent: str | None = None, not_after: datetime | None = None
) -> set[str]:
    """Commits that last wrote, as of the fix's parent, the lines the fix deleted or changed
    (SZZ), less those newer than `not_after` (the report). A fix that only adds code blames the
    nearest lines around its additions instead (`gold_lines`).

    Blamed by the same routine as triage's suspect commits (`blame.blame_files`: `-w -M -C`,
    the repository's `.git-blame-ignore-revs` at the parent, reformatting commits looked
    through), so cosmetic commits are looked through on both sides alike."""
    parent = parent or _git(repo, "rev-parse", f"{fix_sha}^").strip()
    ranges, _ = gold_lines(repo, fix_sha, parent)
    ranges = {p: r[:50] for p, r in ranges.items()}
    blames, _ = blame_files(repo, parent, ranges, ignore_revs(repo, (parent,)))
    gold: set[str] = set()
    cut = _epoch(not_after) if not_after is not None else None
    for path, b in blames.items():
        if b.error:
            logger.info("gold blame of %s failed: %s", path, b.error)
            continue
        for sha in set(b.lines.values()):
            at = b.time.get(sha)
            if cut is None or at is None or _epoch(at) <= cut:
                gold.add(sha)
    return gold


def recent_commits(
    repo: Path, head: str, before: datetime, files: list[str], k: int = 10
) -> list[str]:
    """Baseline: the `k` newest commits before `before` that touched `files`."""
    if not files:
        return []
    out = _git(
        repo, "log", "--format=%H", f"--before={_epoch(before)}", "-n", str(k), head, "--", *files
    )
    return [s for s in out.split() if s]
