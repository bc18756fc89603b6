"""Cosmetic hunks (formatting, comments, whitespace) and what a change does to a function.

Real repositories built in tmp_path, loaded by the git loader into a real store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from loaders.git import make_loader
from loaders.git.syntax_delta import DELTA_PROPS
from tests.graph_snapshot import snapshot
from tests.loaders.git.git_history_repo import ScriptedRepo, played

REPORT_V1 = (
    "def report(alpha, beta, gamma):\n"
    "    result = compute(alpha, beta, gamma)\n"
    "    return result\n"
    "\n"
    "\n"
    "def other(x):\n"
    "    return x + 1\n"
)
REPORT_BUG = REPORT_V1.replace("compute(alpha, beta, gamma)", "compute(alpha, gamma, beta)")
# black re-wrapping the call over three lines, and re-indenting `other` by a comment edit
REPORT_WRAPPED = (
    "def report(alpha, beta, gamma):\n"
    "    result = compute(\n"
    "        alpha, gamma, beta\n"
    "    )\n"
    "    return result\n"
    "\n"
    "\n"
    "def other(x):\n"
    "    # one more\n"
    "    return x  +  1\n"
)
REPORT_MIXED = REPORT_WRAPPED.replace("# one more", "# plus one").replace(
    "    return result\n", "    print(result)\n    return result\n"
)
REPORT_FIXED = REPORT_MIXED.replace("alpha, gamma, beta", "alpha, beta, gamma")


def _repo(tmp_path: Path) -> ScriptedRepo:
    """initial -> bug (Bob swaps two arguments) -> reformat -> mixed -> fix (Fixes #5)."""
    return played(
        tmp_path / "cosmetic",
        ("initial", "Initial", {"report.py": REPORT_V1, "README.md": "# Report\n"}),
        ("bug", "Order the arguments by weight", {"report.py": REPORT_BUG}, "Bob"),
        (
            "reformat",
            "Format with black",
            {"report.py": REPORT_WRAPPED, "README.md": "# Report  \n"},
        ),
        ("mixed", "Print the result", {"report.py": REPORT_MIXED}),
        ("fix", "Restore the argument order\n\nFixes #5\n", {"report.py": REPORT_FIXED}),
    )


def _load(store: GraphStore, repo: ScriptedRepo, **options: str):
    report = ingest(store, make_loader([str(repo.path)], Settings(), dict(options)))
    assert not report.failed_batches
    return report


def _commit(store: GraphStore, sha: str) -> dict:
    rows = store.query("MATCH (c:Commit {sha: $s}) RETURN c", {"s": sha}).rows()
    assert len(rows) == 1
    return rows[0]["c"]


def _files(store: GraphStore, sha: str) -> dict[str, dict]:
    rows = store.query(
        "MATCH (c:Commit {sha: $s})-[m:MODIFIES]->(f:File) RETURN f.path AS path, m",
        {"s": sha},
    ).rows()
    return {r["path"]: r["m"] for r in rows}


def _functions(store: GraphStore, sha: str) -> dict[str, dict]:
    rows = store.query(
        "MATCH (c:Commit {sha: $s})-[m:MODIFIES]->(f:Function) RETURN f.qualname AS q, m",
        {"s": sha},
    ).rows()
    return {r["q"]: r["m"] for r in rows}


def _induced(store: GraphStore, fix: str) -> dict[str, int]:
    rows = store.query(
        "MATCH (a:Commit)-[r:INDUCED {method: 'szz'}]->(b:Commit {sha: $s}) "
        "RETURN a.sha AS a, r.lines AS n",
        {"s": fix},
    ).rows()
    return {r["a"]: r["n"] for r in rows}


@pytest.mark.parametrize("replay", ["true", "false"])
def test_a_black_rewrap_is_cosmetic_and_szz_looks_through_it(store, tmp_path, replay):
    repo = _repo(tmp_path)
    report = _load(store, repo, szz_replay=replay)
    s = repo.shas
    reformat = _commit(store, s["reformat"])
    assert reformat["cosmetic"] is True
    assert (reformat["lines_added"], reformat["lines_deleted"]) == (0, 0)
    files = _files(store, s["reformat"])
    assert (files["report.py"]["lines_added"], files["report.py"]["lines_deleted"]) == (0, 0)
    assert (files["README.md"]["lines_added"], files["README.md"]["lines_deleted"]) == (0, 0)
    assert _functions(store, s["reformat"]) == {}  # cosmetic only: no function changed
    assert _commit(store, s["bug"])["cosmetic"] is False
    assert _commit(store, s["initial"])["cosmetic"] is False
    # The fix changes a line the reformat re-wrapped: blame goes through it to the bug.
    assert _induced(store, s["fix"]) == {s["bug"]: 1}
    if replay == "true":
        assert report.stats["szz_replayed"] >= 1  # answered from the line origins


def test_a_mixed_commit_counts_only_its_real_lines(store, tmp_path):
    repo = _repo(tmp_path)
    _load(store, repo)
    s = repo.shas
    mixed = _commit(store, s["mixed"])
    # the comment edit in `other` is cosmetic; one line printed in `report` is real
    assert mixed["cosmetic"] is False
    assert (mixed["lines_added"], mixed["lines_deleted"]) == (1, 0)
    assert (_files(store, s["mixed"])["report.py"]["lines_added"]) == 1
    fns = _functions(store, s["mixed"])
    assert set(fns) == {"report"}
    assert (fns["report"]["lines_added"], fns["report"]["lines_deleted"]) == (1, 0)
    assert fns["report"]["calls_added"] == 1
    # without cosmetic detection the bug commit would count as it did: 1 line each way
    bug = _commit(store, s["bug"])
    assert (bug["lines_added"], bug["lines_deleted"]) == (1, 1)


LOAD_V1 = (
    "def load(path):\n"
    "    try:\n"
    "        data = read(path)\n"
    "    except OSError:\n"
    "        data = None\n"
    "    return data\n"
    "\n"
    "\n"
    "def keep(x):\n"
    "    return x\n"
)
LOAD_V2 = (
    "def load(path, strict=False):\n"
    "    data = read(path)\n"
    "    if data is None:\n"
    "        log(path)\n"
    "    return data\n"
    "\n"
    "\n"
    "def keep(x):\n"
    "    return x or None\n"
)
JS_V1 = (
    "function load(path) {\n"
    "  try {\n"
    "    return read(path);\n"
    "  } catch (e) {\n"
    "    return null;\n"
    "  }\n"
    "}\n"
    "\n"
    "function keep(x) {\n"
    "  return x;\n"
    "}\n"
)
JS_V2 = (
    "function load(path, strict) {\n"
    "  const data = read(path);\n"
    "  if (data === null) {\n"
    "    log(path);\n"
    "  }\n"
    "  return data;\n"
    "}\n"
    "\n"
    "function keep(x) {\n"
    "  return x || null;\n"
    "}\n"
)


def _deltas(row: dict) -> dict[str, int]:
    return {p: row[p] for p in DELTA_PROPS if row[p]}


def test_syntax_deltas_and_signature_changes_python_and_javascript(store, tmp_path):
    repo = ScriptedRepo(tmp_path / "deltas")
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    repo.write("load.py", LOAD_V1)
    repo.write("web/load.js", JS_V1)
    repo.commit("initial", "Initial")
    repo.write("load.py", LOAD_V2)
    repo.write("web/load.js", JS_V2)
    repo.commit("change", "Log unreadable paths instead of hiding them")
    _load(store, repo)
    fns = {
        (r["path"], r["q"]): r["m"]
        for r in store.query(
            "MATCH (c:Commit {sha: $s})-[m:MODIFIES]->(f:Function) "
            "RETURN f.path AS path, f.qualname AS q, m",
            {"s": repo.shas["change"]},
        ).rows()
    }
    py, js = fns[("load.py", "load")], fns[("web/load.js", "load")]
    # Python: the try/except goes (2 nodes) with its call, an `if` and two calls come
    assert _deltas(py) == {
        "conds_added": 1,
        "calls_added": 2,
        "calls_removed": 1,
        "excepts_removed": 2,
    }
    assert py["signature_changed"] is True
    # JavaScript: the try/catch (2) and its two returns go; an `if`, two calls, a return come
    assert _deltas(js) == {
        "conds_added": 1,
        "calls_added": 2,
        "calls_removed": 1,
        "excepts_removed": 2,
        "returns_added": 1,
        "returns_removed": 2,
    }
    assert js["signature_changed"] is True
    for path in ("load.py", "web/load.js"):
        keep = fns[(path, "keep")]
        assert keep["signature_changed"] is False
        assert _deltas(keep) == {"returns_added": 1, "returns_removed": 1}
    # a function that is added counts everything it has on the added side
    initial = _functions(store, repo.shas["initial"])
    assert initial["load"]["signature_changed"] is False


def test_a_commit_in_blame_ignore_revs_is_cosmetic_and_counts_nothing(store, tmp_path):
    repo = ScriptedRepo(tmp_path / "ignored")
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    repo.write("names.py", "def name():\n    return 'x'\n")
    repo.commit("initial", "Initial")
    repo.write("names.py", "def name():\n    return 'x' + 'y'\n")
    repo.commit("bug", "Suffix names", author="Bob")
    # folded by hand: a real change (the tree differs), but the repository lists it
    repo.write("names.py", 'def name():\n    return "xy"\n')
    repo.commit("quotes", "Normalise quotes")
    repo.write(".git-blame-ignore-revs", f"# quote style\n{repo.shas['quotes']}\n")
    repo.commit("list", "Ignore the quote change in blame")
    repo.write("names.py", 'def name():\n    return "x"\n')
    repo.commit("fix", "Drop the suffix\n\nFixes #2\n")
    _load(store, repo)
    s = repo.shas
    quotes = _commit(store, s["quotes"])
    assert quotes["cosmetic"] is True
    assert (quotes["lines_added"], quotes["lines_deleted"]) == (0, 0)
    assert _files(store, s["quotes"])["names.py"]["lines_added"] == 0
    assert _functions(store, s["quotes"]) == {}
    assert _commit(store, s["bug"])["cosmetic"] is False
    assert _commit(store, s["list"])["cosmetic"] is False  # no code file changed
    assert _induced(store, s["fix"]) == {s["bug"]: 1}


def test_loading_again_changes_nothing(store, tmp_path):
    repo = _repo(tmp_path)
    query = (
        "MATCH (c:Commit)-[m:MODIFIES]->(e) RETURN c.sha AS sha, e.uid AS uid, "
        "m.lines_added AS a, m.calls_added AS k, c.cosmetic AS cos ORDER BY sha, uid"
    )
    _load(store, repo)
    before = store.query(query).rows()
    _load(store, repo, full="true")
    assert store.query(query).rows() == before and len(before) > 5


def test_worker_processes_judge_cosmetic_hunks_as_this_process_does(tmp_path):
    """The mapping in child processes answers later than the log is read: commits wait for
    it, in order, and the graph (cosmetic flags, counts, deltas, SZZ) is the same."""
    repo = _repo(tmp_path)
    graphs = []
    for name, options in (
        ("local", {"function_worker": "false"}),
        (
            "sharded",
            {"function_worker_min_commits": "1", "chunk_commits": "2", "function_workers": "2"},
        ),
    ):
        s = open_store(Settings(db_path=tmp_path / f"{name}.lbug"), create=True)
        try:
            report = _load(s, repo, **options)
            assert report.stats.get("function_worker", 0) == (2 if name == "sharded" else 0)
            graphs.append(snapshot(s))
        finally:
            s.close()
    assert graphs[0] == graphs[1]
    cosmetic = [c for c in graphs[0]["Commit"] if c.get("cosmetic")]
    assert [c["sha"] for c in cosmetic] == [repo.shas["reformat"]]
