"""`prodgraph ingest repo` killed with SIGKILL at chosen points, then re-run: the graph a crashed
and resumed load leaves is exactly the graph of an uninterrupted load.

Kills land through the CLI's test hook `PRODGRAPH_TEST_CRASH_AFTER=<loader>:<n>` (SIGKILL
right after that loader's n-th written batch), so each point is reached deterministically: in
the code phase before and after its File rows, in the git phase after the first chunk's Commit
rows (before their MODIFIES/INDUCED/FIXES), between chunks, and just before the run marks its
commits complete. Small `chunk_commits` make the history several chunks long.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from graph_service.ingest import CRASH_AFTER_ENV, ingest
from graph_service.settings import Settings
from graph_service.store import open_store
from loaders.registry import make_loader
from tests.graph_snapshot import snapshot

PRODGRAPH = Path(sys.executable).parent / "prodgraph"
OPTIONS = ["-o", "git.chunk_commits=6", "-o", "git.function_worker=false"]
COMMITS = 30


def _git(repo: Path, *args: str, when: int = 0) -> None:
    date = f"2024-03-{1 + when // 24:02d}T{when % 24:02d}:00:00+0000"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": f"Dev{when % 3}",
        "GIT_AUTHOR_EMAIL": f"dev{when % 3}@example.com",
        "GIT_COMMITTER_NAME": f"Dev{when % 3}",
        "GIT_COMMITTER_EMAIL": f"dev{when % 3}@example.com",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)


def _module(index: int, version: dict[str, int]) -> str:
    """Four functions per module, each calling the next module's first function."""
    nxt = f"m{(index + 1) % 4}"
    lines = [f"from pkg import {nxt}\n"]
    for k in range(4):
        lines.append(
            f"\n\ndef f{k}(x):\n    y = x * {version.get(f'{index}.{k}', 0)}\n"
            f"    return {nxt}.f0(y) if x > {k} else y\n"
        )
    return "".join(lines)


def build_history(root: Path) -> Path:
    """A package of four modules; 30 commits: edits, bugs and their fixes (tickets, SZZ)."""
    repo = root / "crashrepo"
    (repo / "pkg").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    version: dict[str, int] = {}
    (repo / "pkg" / "__init__.py").write_text("")
    for i in range(COMMITS):
        index, k = i % 4, (i // 4) % 4
        version[f"{index}.{k}"] = version.get(f"{index}.{k}", 0) + i + 1
        for j in range(4):
            (repo / "pkg" / f"m{j}.py").write_text(_module(j, version))
        if i % 5 == 4:
            message = f"Fix wrong factor in m{index}.f{k}\n\nFixes #{100 + i}\n"
        else:
            message = f"Tune m{index}.f{k}"
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", message, when=i)
    return repo


def _ingest(db: Path, repo: Path, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRODGRAPH_LOG": "warning", "COLUMNS": "200"}
    env.pop(CRASH_AFTER_ENV, None)
    if crash:
        env[CRASH_AFTER_ENV] = crash
    return subprocess.run(
        [str(PRODGRAPH), "ingest", "repo", str(repo), "--db", str(db), *OPTIONS],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def _graph(db: Path) -> dict[str, list[dict[str, Any]]]:
    store = open_store(Settings(db_path=db), read_only=True)
    try:
        snap = snapshot(store)
    finally:
        store.close()
    for rows in snap.values():  # who wrote a row last is the same; when is not
        for row in rows:
            row.pop("run_id", None)
    return snap


def _counts(graph: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    return Counter({name: len(rows) for name, rows in graph.items()})


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], int, int]:
    """The repository, the graph of an uninterrupted load, and each loader's batch count."""
    root = tmp_path_factory.mktemp("crash")
    repo = build_history(root)
    db = root / "clean.lbug"
    done = _ingest(db, repo)
    assert done.returncode == 0, done.stdout + done.stderr
    graph = _graph(db)
    counts = _counts(graph)
    assert counts["MODIFIES"] > COMMITS and counts["INDUCED"] > 0 and counts["FIXES"] == 6
    assert counts["CALLS"] > 0 and counts["Commit"] == COMMITS
    batches = {}
    store = open_store(Settings(db_path=root / "count.lbug"), create=True)
    try:
        for source in ("code", "git"):
            opts = {"chunk_commits": "6", "function_worker": "false"} if source == "git" else {}
            seen: list[int] = []
            ingest(
                store,
                make_loader(source, [str(repo)], Settings(), opts),
                on_batch=lambda _r, seen=seen: seen.append(1),
            )
            batches[source] = len(seen)
    finally:
        store.close()
    return repo, graph, batches["code"], batches["git"]


def _crash_then_resume(
    tmp_path: Path, history: Any, points: list[str], *, resumes: bool = False
) -> None:
    """Crash at each point in turn, re-run, compare; `resumes`: the re-run must say it
    loads the commits of an interrupted load again."""
    repo, clean, _, _ = history
    db = tmp_path / "g.lbug"
    for point in points:
        crashed = _ingest(db, repo, crash=point)
        assert crashed.returncode == -9, f"no crash at {point}: " + crashed.stdout
    resumed = _ingest(db, repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    if resumes:
        assert "of an earlier load that was interrupted" in resumed.stdout
    graph = _graph(db)
    assert _counts(graph) == _counts(clean)
    assert graph == clean
    again = _ingest(db, repo)  # and a further run changes nothing
    assert again.returncode == 0
    assert _graph(db) == clean


@pytest.mark.parametrize(
    "where",
    [
        "code:-2",  # File rows written, their CALLS not
        "git:2",  # the first chunk's Commit rows written, their MODIFIES/INDUCED/FIXES not
        pytest.param("code:2", marks=pytest.mark.slow),
        pytest.param("git:mid", marks=pytest.mark.slow),
        pytest.param("git:-2", marks=pytest.mark.slow),  # all but the completion mark
        pytest.param("git:-1", marks=pytest.mark.slow),  # all but the Repository head
    ],
)
def test_a_kill_at_any_point_then_a_rerun_gives_the_uninterrupted_graph(
    tmp_path: Path, history: Any, where: str
) -> None:
    _, _, code_batches, git_batches = history
    loader, _, at = where.partition(":")
    total = code_batches if loader == "code" else git_batches
    n = total // 2 if at == "mid" else (total + int(at) if at.startswith("-") else int(at))
    assert 0 < n < total
    before_the_mark = loader == "git" and n < total - 1
    _crash_then_resume(tmp_path, history, [f"{loader}:{n}"], resumes=before_the_mark)


@pytest.mark.slow
def test_repeated_kills_then_a_rerun_gives_the_uninterrupted_graph(
    tmp_path: Path, history: Any
) -> None:
    git_batches = history[3]
    points = ["git:3", "git:5", f"git:{git_batches // 2 + 1}"]  # the last one mid-history
    _crash_then_resume(tmp_path, history, points, resumes=True)


UTIL_JS = "export function helper(x) {\n  return x + 1;\n}\n"
MAIN_JS = (
    "import { helper } from './util.js';\n\nexport function main(x) {\n  return helper(x) * 2;\n}\n"
)


def test_a_kill_in_an_incremental_code_load(tmp_path: Path, history: Any) -> None:
    """A day-to-day load (util.js changed; main.js, which imports it, is resolved again)
    killed after the old IMPORTS and CALLS of both were removed, before their new rows: the
    resume gives the graph of the same loads without the kill. (JavaScript: a changed Python
    file makes every Python file be resolved again, which would hide the case.)"""
    repo = tmp_path / "repo"
    shutil.copytree(history[0], repo)
    (repo / "web").mkdir()
    (repo / "web" / "util.js").write_text(UTIL_JS)
    (repo / "web" / "main.js").write_text(MAIN_JS)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Add the web client", when=COMMITS)
    quiet, killed = tmp_path / "quiet.lbug", tmp_path / "killed.lbug"
    for db in (quiet, killed):
        assert _ingest(db, repo).returncode == 0
    (repo / "web" / "util.js").write_text(UTIL_JS.replace("x + 1", "x + 2"))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Tune helper", when=COMMITS + 1)
    assert _ingest(quiet, repo).returncode == 0
    # batches: pending hashes, then the old CALLS, DEFINES and IMPORTS are removed
    assert _ingest(killed, repo, crash="code:4").returncode == -9
    resumed = _ingest(killed, repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _graph(killed) == _graph(quiet)
