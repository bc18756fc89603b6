"""Blame's git processes are paid once per revision: a second triage of the same ticket starts
none, also for lines git cannot blame (a file the clone does not have at that revision)."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from graph_service.triage import blame
from graph_service.triage.blame import BlameRequest, RepoClone, blame_requests
from tests.fixtures.git import git

SOURCE = "def f(x):\n    y = x + 1\n    return y\n"


@pytest.fixture
def clone(tmp_path: Path) -> RepoClone:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "m.py").write_text(SOURCE)
    (repo / ".git-blame-ignore-revs").write_text("# none yet\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "add f")
    return RepoClone("r", repo, "HEAD")


def _count(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    real = subprocess.run

    def run(argv: list[str], *a: Any, **k: Any) -> Any:
        calls.append(argv)
        return real(argv, *a, **k)

    monkeypatch.setattr(blame.subprocess, "run", run)
    return calls


def test_second_blame_starts_no_git_process(
    clone: RepoClone, monkeypatch: pytest.MonkeyPatch
) -> None:
    when = datetime(2025, 6, 1)
    requests = [
        BlameRequest(clone, "m.py", 2, 1, 3),
        BlameRequest(clone, "gone.py", 2, 1, 3),  # not in the clone at that revision
    ]
    calls = _count(monkeypatch)
    first, _ = blame_requests(requests, when)
    assert len(calls) >= 3  # rev-list, the ignore list, a blame per request
    by_path = {b.request.path: b for b in first}
    assert by_path["m.py"].error is None and sum(by_path["m.py"].counts.values()) == 3
    assert by_path["gone.py"].error
    calls.clear()
    again, _ = blame_requests(requests, when)
    assert calls == []
    assert [(b.request.path, b.counts, b.error) for b in again] == [
        (b.request.path, b.counts, b.error) for b in first
    ]
