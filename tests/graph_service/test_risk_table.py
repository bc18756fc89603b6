"""`prodgraph risk` on a real store: what a commit's row says, and what a merge ref scores."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from graph_service.batch import nodes
from graph_service.cli.risk_view import merged_commits, risk_table
from graph_service.store import GraphStore
from tests.git_run import git
from tests.models.real_repos import load_repos

SUMMARY = "Resolve the pager command once, in `_pager_contextmanager` (#3776)"


def test_a_long_summary_wraps_whole_in_its_cell(embedded_store: GraphStore) -> None:
    """A summary longer than the column is wrapped, not cut mid-identifier
    (`_pager_contextmanage`) with nothing to say it was cut."""
    uid = "commit:" + "9835b0f7" * 5
    embedded_store.write(
        nodes("Commit", [{"uid": uid, "sha": uid[7:], "summary": SUMMARY}]),
        loaded_by="test",
        run_id="r1",
    )
    answer = {"target": uid, "overall": 0.5, "label": None, "explanations": []}
    console = Console(width=80, record=True)
    console.print(risk_table(embedded_store, [answer], "HEAD"))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    cells = [line.split("│")[3].strip() for line in text.splitlines() if line.count("│") == 4]
    assert " ".join(c for c in cells if c) == f"{SUMMARY}"


def test_a_merge_ref_scores_the_commits_it_merged(tmp_path: Path) -> None:
    """On a pull-request history `main~3` is a merge; the model never trains on merges, so the
    merge's own score means nothing: the ref stands for the commits the merge brought in."""
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("def f(x):\n    return x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first")
    git(repo, "checkout", "-qb", "feature")
    merged = []
    for i in (1, 2):
        (repo / "app.py").write_text(f"def f(x):\n    return x + {i}\n")
        git(repo, "commit", "-qam", f"change {i}")
        merged.append(git(repo, "rev-parse", "HEAD"))
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "feature")
    merge = git(repo, "rev-parse", "HEAD")
    store = load_repos(tmp_path / "g.lbug", [repo])
    try:
        assert merged_commits(store, merge) == merged  # oldest first
        assert merged_commits(store, merge[:8]) == merged
        assert merged_commits(store, merged[-1]) is None  # not a merge: scored itself
    finally:
        store.close()
