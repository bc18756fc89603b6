"""Hotspots on a real git history: files at head only (renames followed), tests and docs left
out by default, `since` defaulting to 90 days before the newest commit, missing parameters named
together."""

from __future__ import annotations

from pathlib import Path

import pytest

import loaders.code as code_loader
import loaders.git as git_loader
from graph_service.errors import CallerError
from graph_service.ingest import ingest
from graph_service.queries import load_library, run_named
from graph_service.settings import Settings
from graph_service.store import GraphStore
from tests.fixtures.git import git as _git


def _commit(repo: Path, files: dict[str, str], message: str, date: str) -> None:
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    _git(repo, "add", "-A", date=date)
    _git(repo, "commit", "-q", "-m", message, date=date)


@pytest.fixture
def history(tmp_path: Path, store: GraphStore) -> GraphStore:
    repo = tmp_path / "app"
    repo.mkdir()
    _git(repo, "init", "-q", date="2025-01-01T00:00:00Z")
    body = "def f(x):\n    return x\n"
    # old.py changed three times (once long before the window), then renamed to new.py
    _commit(repo, {"pkg/old.py": body, "pkg/other.py": "def g():\n    return 1\n"}, "Start",
            "2025-01-01T00:00:00Z")  # fmt: skip
    for i, day in enumerate(("2025-04-01", "2025-04-05")):
        _commit(repo, {"pkg/old.py": body + f"# {i}\n"}, f"Tune {i}", f"{day}T00:00:00Z")
    _git(repo, "mv", "pkg/old.py", "pkg/new.py", date="2025-04-10T00:00:00Z")
    _commit(repo, {}, "Rename old to new", "2025-04-10T00:00:00Z")
    for i, day in enumerate(("2025-04-11", "2025-04-12", "2025-04-13", "2025-04-14")):
        _commit(repo, {"tests/test_new.py": f"def test_f():\n    assert {i}\n",
                       "docs/guide.md": f"# Guide {i}\n",
                       ".github/workflows/ci.py": f"STEP = {i}\n"}, f"Docs, tests and CI {i}",
                f"{day}T00:00:00Z")  # fmt: skip
    _commit(repo, {"pkg/other.py": "def g():\n    return 2\n"}, "Other", "2025-04-15T00:00:00Z")
    settings = Settings(db_path=tmp_path / "g.lbug")  # the loaders' options only
    ingest(store, code_loader.make_loader([str(repo)], settings, {"repo": "app"}))
    ingest(store, git_loader.make_loader([str(repo)], settings, {"repo": "app", "szz": "false"}))
    return store


def test_churn_counts_live_files_follows_renames_and_skips_tests_docs_and_ci(
    history: GraphStore,
) -> None:
    try:
        rows = run_named(history, "hotspots_churn", {}).rows()  # every parameter defaulted
        files = {r["path"]: r["commits"] for r in rows if r["kind"] == "File"}
        # the window is 90 days before the newest commit (2025-04-15): the January commit is out
        assert files["pkg/new.py"] == 3  # two tunes under the old name + the rename
        assert "pkg/old.py" not in files
        assert not any(p.startswith(("tests/", "docs/", ".github/")) for p in files)
        everything = run_named(history, "hotspots_churn", {"include_all": "true"}).rows()
        paths = {r["path"] for r in everything}
        assert {"tests/test_new.py", "docs/guide.md", ".github/workflows/ci.py"} <= paths
        assert "pkg/old.py" not in paths
        # an explicit window still applies
        early = run_named(history, "hotspots_churn", {"since": "2025-01-01", "until": "2025-02-01"})
        assert {r["path"] for r in early.rows() if r["kind"] == "File"} >= {"pkg/other.py"}
    finally:
        history.close()


def test_missing_parameters_are_named_together() -> None:
    q = load_library()["mttr_by_service"]
    with pytest.raises(CallerError) as e:
        q.bind({})
    assert "'since'" in e.value.message and "'until'" in e.value.message
