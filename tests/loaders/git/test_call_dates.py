"""CALLS `since`: each call is dated by the commit that last wrote its line (code, then git)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders.code import make_loader as code_loader
from loaders.git import make_loader as git_loader
from loaders.git.call_dates import parse_blame
from tests.loaders.git.git_history_repo import ScriptedRepo

REPO = "callrepo"
V1 = "def helper(x):\n    return x + 1\n\n\ndef main():\n    return 0\n"
V2 = "def helper(x):\n    return x + 1\n\n\ndef main():\n    return helper(1)\n"
V3 = V2 + "\n\ndef other():\n    return 2\n"
V4 = V3.replace("return helper(1)", "return helper(2)")


def _repo(root: Path) -> ScriptedRepo:
    repo = ScriptedRepo(root / REPO)
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    repo.write("app.py", V1)
    repo.commit("initial", "Initial")
    repo.write("app.py", V2)
    repo.commit("call", "Main calls helper")
    repo.write("app.py", V3)
    repo.commit("other", "Add other")
    return repo


def _load(store: GraphStore, repo: ScriptedRepo, **git_options: str) -> dict[str, object]:
    for loader in (
        code_loader([str(repo.path)], Settings(), {"repo": REPO}),
        git_loader([str(repo.path)], Settings(), {"repo": REPO, **git_options}),
    ):
        report = ingest(store, loader)
        assert not report.failed_batches, report.failed_batches
    return dict(report.stats)


def _since(store: GraphStore) -> datetime | None:
    rows = store.query(
        "MATCH (a:Function {uid: $a})-[r:CALLS]->(b:Function {uid: $b}) RETURN r.since AS s",
        {"a": f"fn:{REPO}:app.py:main", "b": f"fn:{REPO}:app.py:helper"},
    ).rows()
    assert len(rows) == 1
    return rows[0]["s"]


def _commit_time(store: GraphStore, sha: str) -> datetime:
    rows = store.query(
        "MATCH (c:Commit {uid: $u}) RETURN c.committed_at AS t", {"u": f"commit:{sha}"}
    ).rows()
    return rows[0]["t"]


def test_a_call_is_dated_by_the_commit_that_wrote_its_line(store: GraphStore, tmp_path: Path):
    repo = _repo(tmp_path)
    stats = _load(store, repo)
    assert stats["calls_dated"] >= 1
    # written by "call", not by "initial" (main existed) nor "other" (the file changed again)
    assert _since(store) == _commit_time(store, repo.shas["call"])


def test_a_rewritten_call_line_is_dated_again(store: GraphStore, tmp_path: Path):
    repo = _repo(tmp_path)
    _load(store, repo)
    repo.write("app.py", V4)
    repo.commit("rewrite", "Call helper with 2")
    stats = _load(store, repo)  # incremental: one new commit, its file re-dated
    assert stats["commits_processed"] == 1
    assert _since(store) == _commit_time(store, repo.shas["rewrite"])


def test_without_the_replay_git_blame_dates_the_call(store: GraphStore, tmp_path: Path):
    repo = _repo(tmp_path)
    stats = _load(store, repo, szz_replay="false")
    assert stats["calls_date_blame_files"] == 1
    assert _since(store) == _commit_time(store, repo.shas["call"])


def test_dating_can_be_turned_off(store: GraphStore, tmp_path: Path):
    repo = _repo(tmp_path)
    stats = _load(store, repo, date_calls="false")
    assert "calls_dated" not in stats
    assert _since(store) is None


def test_parse_blame_reads_committer_times() -> None:
    text = (
        "abc 1 1 2\nauthor A\ncommitter-time 1700000000\n\tline one\n"
        "abc 2 2\ncommitter-time 1700000000\n\tline two\n"
        "def 3 3 1\ncommitter-time bogus\n\tline three\n"
    )
    times = parse_blame(text)
    assert times[:2] == [datetime(2023, 11, 14, 22, 13, 20)] * 2
    assert times[2] is None


def test_calls_loaded_after_the_history_are_dated_on_the_next_run(
    store: GraphStore, tmp_path: Path
):
    repo = _repo(tmp_path)
    settings = Settings()
    options = {"repo": REPO}
    ingest(store, git_loader([str(repo.path)], settings, options))  # history first
    ingest(store, code_loader([str(repo.path)], settings, options))  # then the code
    assert _since(store) is None
    report = ingest(store, git_loader([str(repo.path)], settings, options))  # no new commits
    assert report.stats["commits_new"] == 0
    assert _since(store) == _commit_time(store, repo.shas["call"])
    again = ingest(store, git_loader([str(repo.path)], settings, options))
    assert again.stats["calls_dated"] == 0 and not again.written  # nothing left to date
