"""Gold commits for triage evaluation (blame of what a fix changed) and the recency baseline."""

from __future__ import annotations

import logging
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from loaders.git.szz import is_test_path

logger = logging.getLogger(__name__)

__all__ = ["gold_commits", "recent_commits"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
_CODE = re.compile(r"\.(py|pyi|go|js|jsx|ts|tsx|java|kt|rb|rs|c|cc|cpp|h|hpp|cs|php|scala|swift)$")
_HEADER = re.compile(r"^([0-9a-f]{40}) \d+ \d+")


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, check=False, timeout=120
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.decode("utf-8", "replace").strip()[:300])
    return out.stdout.decode("utf-8", "replace")


def _epoch(t: datetime) -> int:
    return int((t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp())


def _removed_lines(repo: Path, parent: str, fix: str) -> dict[str, list[tuple[int, int]]]:
    """Old-side line ranges the fix deleted or changed, per non-test code file."""
    text = _git(repo, "diff", "-U0", "-w", "--no-color", "--no-renames", parent, fix)
    out: dict[str, list[tuple[int, int]]] = {}
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
                out.setdefault(path, []).append((start, start + count - 1))
    return out


def gold_commits(
    repo: Path, fix_sha: str, parent: str | None = None, not_after: datetime | None = None
) -> set[str]:
    """Commits that last wrote, as of the fix's parent, the lines the fix deleted or changed
    (SZZ: `git blame -w` of the old side), less those newer than `not_after` (the report)."""
    parent = parent or _git(repo, "rev-parse", f"{fix_sha}^").strip()
    gold: set[str] = set()
    for path, ranges in _removed_lines(repo, parent, fix_sha).items():
        args = ["blame", "--porcelain", "-w"]
        for lo, hi in ranges[:50]:
            args += ["-L", f"{lo},{hi}"]
        try:
            text = _git(repo, *args, parent, "--", path)
        except RuntimeError as e:
            logger.info("gold blame of %s failed: %s", path, e)
            continue
        times: dict[str, int] = {}
        current = ""
        for line in text.splitlines():
            m = _HEADER.match(line)
            if m:
                current = m.group(1)
                gold.add(current)
            elif line.startswith("committer-time ") and current not in times:
                times[current] = int(line.split()[1])
        if not_after is not None:
            cut = _epoch(not_after)
            gold -= {s for s, t in times.items() if t > cut}
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
