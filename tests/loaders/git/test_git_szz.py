"""SZZ details: ignore-revs, comment-only lines, ticket dates from the store, submodules."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from graph_service.batch import nodes
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders.git import make_loader
from tests.loaders.git.git_history_repo import ScriptedRepo


def _repo(tmp_path: Path) -> ScriptedRepo:
    """bug -> reformat (listed in .git-blame-ignore-revs) -> comment -> fix (Fixes #8)."""
    repo = ScriptedRepo(tmp_path / "szzrepo")
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    repo.write("calc.py", "def scale(x):\n    y = x\n    return y * 2\n")
    repo.commit("initial", "Initial")
    repo.write("calc.py", "def scale(x):\n    y = x + 1\n    return y * 2\n")
    repo.commit("bug", "Offset input", author="Bob")
    repo.write("calc.py", "def scale(x):\n    y = (x + 1)\n    return y * 2\n")
    repo.commit("reformat", "Reformat")
    repo.write(".git-blame-ignore-revs", f"# formatting\n{repo.shas['reformat']}\n")
    repo.write("calc.py", "def scale(x):\n    y = (x + 1)\n    # doubled\n    return y * 2\n")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{repo.shas['initial']},vendor/lib")
    repo.git("add", "calc.py", ".git-blame-ignore-revs")
    repo.commit("comment", "Explain, vendor lib", stage_all=False)
    repo.write("calc.py", "def scale(x):\n    y = x\n    return y * 2\n")
    repo.git("add", "calc.py")
    repo.commit("fix", "Repair scaling\n\nFixes #8\n", stage_all=False)
    return repo


def _load(store: GraphStore, repo: ScriptedRepo):
    report = ingest(store, make_loader([str(repo.path)], Settings(), {}))
    assert not report.failed_batches
    return report


def _induced(store: GraphStore, repo: ScriptedRepo) -> dict[str, dict]:
    rows = store.query(
        "MATCH (a:Commit)-[r:INDUCED]->(b:Commit {uid: $u}) RETURN a.uid AS a, r",
        {"u": f"commit:{repo.shas['fix']}"},
    ).rows()
    return {r["a"]: r["r"] for r in rows}


def test_blame_skips_ignored_revs_and_comment_lines(store, tmp_path):
    repo = _repo(tmp_path)
    report = _load(store, repo)
    induced = _induced(store, repo)
    # The changed line goes back through the ignored reformat to the bug; the deleted
    # comment line is not blamed, so the comment commit is no candidate.
    assert set(induced) == {f"commit:{repo.shas['bug']}"}
    assert induced[f"commit:{repo.shas['bug']}"]["lines"] == 1
    assert report.stats["submodule_changes"] == 1
    sub = store.query(
        "MATCH (c:Commit {uid: $u})-[r:MODIFIES]->(f:File {path: 'vendor/lib'}) RETURN r",
        {"u": f"commit:{repo.shas['comment']}"},
    ).rows()
    assert len(sub) == 1 and sub[0]["r"]["lines_added"] == 0 and sub[0]["r"]["change"] == "added"


def test_real_ticket_is_kept_and_its_date_filters_candidates(store, tmp_path):
    repo = _repo(tmp_path)
    store.write(
        nodes(
            "Ticket",
            [
                {
                    "uid": "ticket:github:8",
                    "key": "8",
                    "system": "github",
                    "kind": "bug",
                    "title": "Scaling is off by one",
                    "created_at": datetime(2024, 1, 1, 12, 0),
                }
            ],
        ),
        loaded_by="tickets",
        run_id="t1",
    )
    _load(store, repo)
    assert _induced(store, repo) == {}  # the bug commit (Jan 2) is newer than the ticket
    ticket = store.query("MATCH (t:Ticket) RETURN t").rows()
    assert len(ticket) == 1
    t = ticket[0]["t"]
    assert (t["kind"], t["title"], t["loaded_by"]) == ("bug", "Scaling is off by one", "tickets")
    fixes = store.query("MATCH (c:Commit)-[r:FIXES]->(t:Ticket) RETURN c.uid AS c").rows()
    assert fixes == [{"c": f"commit:{repo.shas['fix']}"}]
