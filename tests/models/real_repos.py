"""Small real git repositories for the risk model's store tests: code changes with fixes (SZZ
labels), plus docs-only and test-only commits, loaded with the code and git loaders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store


def _git(repo: Path, *args: str, day: int = 0, author: str = "Alice") -> str:
    date = f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T10:00:00+0000"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": f"{author.lower()}@example.com",
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": f"{author.lower()}@example.com",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    out = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def _module(versions: list[int]) -> str:
    """A module of functions f0..f{n}; function i's body depends on its version."""
    parts = []
    for i, v in enumerate(versions):
        body = "\n".join(f"    x = x + {v * 10 + k}" for k in range(1 + v % 3))
        parts.append(f"def f{i}(x):\n{body}\n    return x\n")
    return "\n\n".join(parts)


def make_repo(root: Path, name: str, rounds: int = 14) -> dict[str, str]:
    """A repository named `name`: every round changes a function, every third round fixes the
    previous change (so SZZ blames it), and docs-only / test-only commits in between. Returns
    the sha of the last commit of each kind: `code`, `fix`, `docs`, `tests`."""
    repo = root / name
    (repo / "src" / name).mkdir(parents=True)
    (repo / "tests").mkdir()
    _git(repo, "init", "-q", "-b", "main")
    versions = [0] * 6
    day = 0
    last: dict[str, str] = {}

    def commit(message: str, kind: str, author: str = "Alice") -> None:
        nonlocal day
        day += 1
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", message, day=day, author=author)
        last[kind] = _git(repo, "rev-parse", "HEAD")

    (repo / "src" / name / "core.py").write_text(_module(versions))
    (repo / "README.md").write_text(f"# {name}\n")
    commit("Initial import", "code")
    for r in range(rounds):
        i = r % len(versions)
        versions[i] += 1
        (repo / "src" / name / "core.py").write_text(_module(versions))
        commit(f"Change f{i} for round {r}", "code", author="Bob" if r % 2 else "Alice")
        if r % 3 == 2:
            versions[i] += 1
            (repo / "src" / name / "core.py").write_text(_module(versions))
            commit(f"Fix crash in f{i}", "fix")
        if r % 4 == 1:
            (repo / "README.md").write_text(f"# {name}\n\nround {r}\n")
            commit(f"Docs for round {r}", "docs")
        if r % 4 == 3:
            (repo / "tests" / "test_core.py").write_text(f"def test_round():\n    assert {r}\n")
            commit(f"Tests for round {r}", "tests")
    return last


def load_repos(db: Path, repos: list[Path], settings: Settings | None = None) -> GraphStore:
    """A fresh store (embedded at `db` unless `settings` name another backend) with each
    repository loaded by the code and git loaders."""
    from loaders.code import make_loader as code_loader
    from loaders.git import make_loader as git_loader

    settings = settings or Settings(db_path=db, backend="ladybug")
    store = open_store(settings, create=True)
    for path in repos:
        for loader in (
            code_loader([str(path)], settings, {}),
            git_loader([str(path)], settings, {}),
        ):
            ingest(store, loader)
    return store
