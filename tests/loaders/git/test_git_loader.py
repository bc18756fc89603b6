"""The git loader end to end: a scripted repository loaded into a real Ladybug store."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from loaders.base import LoadReport
from loaders.git import make_loader
from tests.graph_snapshot import snapshot
from tests.loaders.git.git_history_repo import ScriptedRepo, build_repo

REPO = "calcrepo"


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> ScriptedRepo:
    return build_repo(tmp_path_factory.mktemp("git"))


def _load(store: GraphStore, path: Path, settings: Settings | None = None, **options: str):
    loader = make_loader([str(path)], settings or Settings(), dict(options))
    report = ingest(store, loader)
    assert not report.failed_batches, report.failed_batches
    return report


def _edges(store: GraphStore, type_: str, src: str) -> dict[str, dict[str, Any]]:
    rows = store.query(
        f"MATCH (a {{uid: $src}})-[r:{type_}]->(b) RETURN b.uid AS dst, r", {"src": src}
    ).rows()
    return {r["dst"]: r["r"] for r in rows}


def _c(repo: ScriptedRepo, name: str) -> str:
    return f"commit:{repo.shas[name]}"


def test_szz_links_the_fix_to_the_commit_that_introduced_the_bug(store, scripted):
    report = _load(store, scripted.path)
    fix = _c(scripted, "fix")
    induced = store.query(
        "MATCH (a:Commit)-[r:INDUCED]->(b:Commit {uid: $fix}) RETURN a.uid AS a, r",
        {"fix": fix},
    ).rows()
    assert [r["a"] for r in induced] == [_c(scripted, "bug")]
    edge = induced[0]["r"]
    assert edge["method"] == "szz" and edge["lines"] == 1 and edge["source"] == "git"
    assert 0.5 <= edge["confidence"] <= 0.9
    commit = store.query("MATCH (c:Commit {uid: $u}) RETURN c", {"u": fix}).rows()[0]["c"]
    assert edge["fixed_at"] == commit["committed_at"]
    assert commit["is_fix"] is True
    assert _edges(store, "FIXES", fix)["ticket:github:3"]["how"] == "keyword"
    ticket = store.query("MATCH (t:Ticket) RETURN t").rows()[0]["t"]
    assert (ticket["uid"], ticket["key"], ticket["system"], ticket["kind"]) == (
        "ticket:github:3",
        "3",
        "github",
        "reference",
    )
    assert report.stats["szz_induced"] >= 1


def test_modifies_maps_hunks_to_functions_on_the_right_side(store, scripted):
    _load(store, scripted.path)
    fix = _edges(store, "MODIFIES", _c(scripted, "fix"))
    assert fix[f"fn:{REPO}:mathlib.py:divide"]["lines_deleted"] == 1
    assert fix[f"fn:{REPO}:mathlib.py:divide"]["lines_added"] == 1
    assert f"fn:{REPO}:mathlib.py:add" not in fix
    assert fix[f"file:{REPO}:mathlib.py"]["change"] == "modified"
    bug = _edges(store, "MODIFIES", _c(scripted, "bug"))
    assert set(bug) == {f"file:{REPO}:calc.py", f"fn:{REPO}:calc.py:divide"}
    half = _edges(store, "MODIFIES", _c(scripted, "half"))
    assert half[f"fn:{REPO}:mathlib.py:half"]["change"] == "added"
    fn = store.query(
        "MATCH (f:Function {uid: $u}) RETURN f", {"u": f"fn:{REPO}:mathlib.py:divide"}
    ).rows()[0]["f"]
    assert (fn["name"], fn["qualname"], fn["deleted"]) == ("divide", "divide", False)
    old = store.query(
        "MATCH (f:Function {uid: $u}) RETURN f.deleted AS d", {"u": f"fn:{REPO}:calc.py:divide"}
    ).rows()
    assert old == [{"d": True}]


def test_declared_trailer_yields_an_induced_edge(store, scripted):
    _load(store, scripted.path)
    edges = _edges(store, "INDUCED", _c(scripted, "half"))
    assert edges[_c(scripted, "declared")]["method"] == "declared"
    assert edges[_c(scripted, "declared")]["confidence"] == 0.95


def test_rename_binary_merge_and_latin1_message(store, scripted):
    report = _load(store, scripted.path)
    renamed = _edges(store, "MODIFIES", _c(scripted, "rename"))[f"file:{REPO}:mathlib.py"]
    assert (renamed["change"], renamed["old_path"]) == ("renamed", "calc.py")
    old = store.query("MATCH (f:File {uid: $u}) RETURN f", {"u": f"file:{REPO}:calc.py"})
    assert old.rows()[0]["f"]["deleted"] is True
    assert old.rows()[0]["f"]["parse_status"] == "reference"
    png = _edges(store, "MODIFIES", _c(scripted, "latin1"))[f"file:{REPO}:logo.png"]
    assert (png["lines_added"], png["lines_deleted"]) == (0, 0)
    assert report.stats["binary_changes"] == 2
    merge_uid = _c(scripted, "merge")
    merge = store.query("MATCH (c:Commit {uid: $u}) RETURN c", {"u": merge_uid}).rows()[0]["c"]
    assert merge["is_merge"] is True and merge["files_changed"] == 1
    parents = _edges(store, "PARENT", merge_uid)
    assert {k: v["position"] for k, v in parents.items()} == {
        _c(scripted, "readme"): 0,
        _c(scripted, "feature"): 1,
    }
    assert set(_edges(store, "MODIFIES", merge_uid)) == {
        f"file:{REPO}:util.py",
        f"fn:{REPO}:util.py:helper",
    }
    latin = store.query(
        "MATCH (c:Commit {uid: $u}) RETURN c.message AS m", {"u": _c(scripted, "latin1")}
    ).rows()[0]["m"]
    assert latin == "Caf\ufffd logo update"
    quoted = store.query(
        "MATCH (f:File {uid: $u}) RETURN f.path AS p", {"u": f'file:{REPO}:odd "name".txt'}
    ).rows()
    assert quoted == [{"p": 'odd "name".txt'}]


def test_commit_properties_are_utc_with_offset(store, scripted):
    _load(store, scripted.path)
    c = store.query("MATCH (c:Commit {uid: $u}) RETURN c", {"u": _c(scripted, "initial")})
    row = c.rows()[0]["c"]
    assert row["authored_at"] == datetime(2024, 1, 1, 8, 0, 0)
    assert row["tz_offset_min"] == 120
    assert (row["lines_added"], row["files_changed"], row["summary"]) == (
        7,
        3,
        "Initial calculator",
    )
    people = store.query(
        "MATCH (p:Person)-[:AUTHORED]->(c:Commit) RETURN p.uid AS p, count(c) AS n ORDER BY p"
    ).rows()
    assert people == [
        {"p": "person:alice@example.com", "n": 7},
        {"p": "person:bob@example.com", "n": 2},
        {"p": "person:carol@example.com", "n": 1},
    ]


def test_loading_twice_changes_nothing(store, scripted):
    _load(store, scripted.path, full="true")
    first, counts = snapshot(store), store.counts()
    _load(store, scripted.path, full="true")
    assert store.counts() == counts
    assert snapshot(store) == first
    assert counts["nodes"]["Commit"] == 10 and counts["edges"]["INDUCED"] == 2


def test_incremental_run_processes_only_new_commits(store, tmp_path):
    repo = build_repo(tmp_path)
    first = _load(store, repo.path)
    assert first.stats["commits_processed"] == 10
    again = _load(store, repo.path)
    assert again.stats["commits_new"] == 0 and not again.written
    repo.write("mathlib.py", "def add(a, b):\n    return a + b + 0\n")
    repo.commit("more", "Tweak add")
    third = _load(store, repo.path)
    assert third.stats["commits_processed"] == 1
    assert third.written["Commit"] == 1
    head = store.query("MATCH (r:Repository) RETURN r.head AS h").rows()
    assert head == [{"h": repo.shas["more"]}]
    assert f"fn:{REPO}:mathlib.py:divide" in _edges(store, "MODIFIES", _c(repo, "more"))


def test_ticket_created_before_the_candidate_drops_it(store, scripted, tmp_path):
    dates = tmp_path / "tickets.json"
    dates.write_text(json.dumps({"ticket:github:3": "2024-01-01T12:00:00+00:00"}))
    _load(store, scripted.path, ticket_dates=str(dates))
    assert _edges(store, "INDUCED", _c(scripted, "bug")) == {}


def test_huge_commits_are_truncated_and_reported(store, scripted):
    report = _load(store, scripted.path, max_files_per_commit="2")
    row = store.query(
        "MATCH (c:Commit {uid: $u}) RETURN c.truncated AS t", {"u": _c(scripted, "initial")}
    ).rows()
    assert row == [{"t": True}]
    assert any("huge commit" in p.reason for p in report.warnings)
    assert f"fn:{REPO}:calc.py:add" not in _edges(store, "MODIFIES", _c(scripted, "initial"))
    assert any("over max_files_per_commit=2" in p.reason for p in report.warnings)


def test_commits_with_too_many_diff_lines_say_so(store, scripted):
    report = _load(store, scripted.path, max_lines_per_commit="1", full="true")
    reasons = [p.reason for p in report.warnings if "huge commit" in p.reason]
    assert reasons and all("over max_lines_per_commit=1 diff lines" in r for r in reasons)


def test_options_since_max_commits_and_pseudonyms(store, scripted):
    settings = Settings(pseudonymise_emails=True)
    report = _load(store, scripted.path, settings, since=scripted.shas["fix"])
    assert report.stats["commits_processed"] == 2
    people = [r["e"] for r in store.query("MATCH (p:Person) RETURN p.email AS e").rows()]
    assert people and all(e.startswith("anon-") and "@" not in e for e in people)
    limited = LoadReport("git")
    loader = make_loader([str(scripted.path)], Settings(), {"max_commits": "3", "full": "true"})
    batches = list(loader.extract(limited, None))
    assert limited.stats["commits_processed"] == 3 and batches


def test_shallow_clone_is_reported(store, scripted, tmp_path):
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{scripted.path}", str(clone)],
        check=True,
        capture_output=True,
    )
    report = _load(store, clone, repo=REPO)
    assert any("shallow clone" in p.reason for p in report.warnings)
    assert report.stats["commits_processed"] == 2


def test_bad_options_are_caller_errors(scripted):
    from graph_service.errors import CallerError

    with pytest.raises(CallerError, match="unknown option"):
        make_loader([str(scripted.path)], Settings(), {"colour": "red"})
    with pytest.raises(CallerError, match="invalid options"):
        make_loader([str(scripted.path)], Settings(), {"max_commits": "zero"})


def test_function_worker_process_gives_the_same_graph(scripted, tmp_path):
    """Hunks mapped in one or several child processes (paths shared out among them), chunk by
    chunk: the same graph as in this process."""
    graphs = []
    for name, options, workers in (
        ("local", {"function_worker": "false"}, 0),
        (
            "worker",
            {"function_worker_min_commits": "1", "chunk_commits": "3", "function_workers": "1"},
            1,
        ),
        (
            "sharded",
            {"function_worker_min_commits": "1", "chunk_commits": "3", "function_workers": "3"},
            3,
        ),
    ):
        s = open_store(Settings(db_path=tmp_path / f"{name}.lbug"), create=True)
        try:
            report = _load(s, scripted.path, **options)
            assert report.stats.get("function_worker", 0) == workers
            graphs.append(snapshot(s))  # internal ids (chunking-dependent) left out
        finally:
            s.close()
    assert graphs[0] == graphs[1] == graphs[2]
    assert graphs[0]["Function"] and graphs[0]["MODIFIES"]


def test_built_and_generated_files_change_but_are_neither_mapped_nor_blamed(store, tmp_path):
    """A bundle under dist/ and a minified file: file-level MODIFIES only, as the code loader
    does not parse them; a fix that touches them does not blame the release that built them."""
    repo = ScriptedRepo(tmp_path / "web")
    repo.path.mkdir()
    repo.git("init", "-q")
    src = "function total(xs) {\n  return xs.length;\n}\n"
    repo.write("src/cart.js", src)
    repo.commit("init", "Add cart")
    bundle = "function total(xs) {\n  return xs.length + 0;\n}\n"
    repo.write("dist/cart.js", bundle)
    repo.write("lib/cart.min.js", "function total(n){return n.length+0}\n")
    repo.commit("release", "Release 1.0")
    repo.write("src/cart.js", src.replace("xs.length", "xs.length - 1"))
    repo.write("dist/cart.js", bundle.replace("+ 0", "- 1"))
    repo.write("lib/cart.min.js", "function total(n){return n.length-1}\n")
    repo.commit("fix", "Fix total off by one (fixes #9)")
    _load(store, repo.path, repo="web")
    fix = _edges(store, "MODIFIES", _c(repo, "fix"))
    assert {"file:web:dist/cart.js", "file:web:lib/cart.min.js", "file:web:src/cart.js"} <= set(fix)
    assert [u for u in fix if u.startswith("fn:")] == ["fn:web:src/cart.js:total"]
    induced = store.query("MATCH (a:Commit)-[:INDUCED]->(b:Commit) RETURN a.uid AS a").rows()
    assert [r["a"] for r in induced] == [_c(repo, "init")]
    # opting in maps them like any other file
    _load(store, repo.path, repo="web", full="true", include_vendored="true")
    fix = _edges(store, "MODIFIES", _c(repo, "fix"))
    assert "fn:web:dist/cart.js:total" in fix
