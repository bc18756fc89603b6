"""The console command: store commands, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import StoreBackend

PRODGRAPH = Path(sys.executable).parent / "prodgraph"


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PRODGRAPH), *args], capture_output=True, text=True, input=stdin, timeout=120
    )


def _make_repo(root: Path) -> Path:
    repo = root / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "core.py").write_text(
        "def helper(x):\n    return x + 1\n\n\ndef main():\n    return helper(1)\n"
    )
    env = ["-c", "user.name=Ann", "-c", "user.email=ann@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", *env, "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", *env, "-C", str(repo), "commit", "-qm", "first"], check=True)
    return repo


def test_init_ingest_stats_query_and_run(
    tmp_path: Path, backend: StoreBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend.use_env(monkeypatch)
    db = backend.db_args  # --db PATH on the embedded store; Neo4j from its variables
    assert _run("init", *db).returncode == 0
    repo = _make_repo(tmp_path)
    ing = _run("ingest", "repo", str(repo), *db, "-o", "repo=demo")
    assert ing.returncode == 0, ing.stderr
    stats = json.loads(_run("stats", *db, "--json").stdout)
    assert stats["nodes"]["Function"] == 2 and stats["nodes"]["Commit"] == 1
    assert stats["edges"]["CALLS"] == 1
    q = _run(
        "query",
        "MATCH (f:Function)-[:CALLS]->(g:Function) RETURN f.name AS f, g.name AS g",
        *db,
        "--format",
        "json",
    )
    assert json.loads(q.stdout)["rows"] == [{"f": "main", "g": "helper"}]
    csv = _run(
        "query",
        "-",
        *db,
        "--format",
        "csv",
        stdin="MATCH (f:Function) RETURN f.name AS name ORDER BY name",
    )
    assert csv.stdout.split() == ["name", "helper", "main"]
    callers = _run(
        "run",
        "callers",
        "--param",
        "uid=fn:demo:pkg/core.py:helper",
        *db,
        "--format",
        "json",
    )
    assert callers.returncode == 0, callers.stderr
    assert "fn:demo:pkg/core.py:main" in callers.stdout
    again = _run("ingest", "repo", str(repo), *db, "-o", "repo=demo")
    assert again.returncode == 0
    assert json.loads(_run("stats", *db, "--json").stdout) == stats


def test_errors_are_one_line_with_a_nonzero_exit(tmp_path: Path) -> None:
    db = str(tmp_path / "g.lbug")
    _run("init", "--db", db)
    write = _run("query", "CREATE (f:Function {uid: 'x'})", "--db", db)
    assert write.returncode == 2
    assert "read-only" in write.stderr and "Traceback" not in write.stderr
    missing = _run("stats", "--db", str(tmp_path / "none.lbug"))
    assert missing.returncode != 0 and "prodgraph init" in missing.stderr
    bad_source = _run("ingest", "nonsense", str(tmp_path), "--db", db)
    assert bad_source.returncode != 0 and "unknown source" in bad_source.stderr
    assert "Traceback" not in bad_source.stderr


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_eval_duplicates_json_with_the_pool_beside_the_pairs(tmp_path: Path) -> None:
    pool = [
        {
            "repo": "a/b",
            "number": 1,
            "title": "Login page crashes on empty password",
            "body": "Submitting the login form with no password throws KeyError",
            "created": "2025-01-01",
        },
        {
            "repo": "a/b",
            "number": 2,
            "title": "Dark mode colours are wrong",
            "body": "contrast",
            "created": "2025-01-02",
        },
        {
            "repo": "a/b",
            "number": 3,
            "title": "Export to CSV drops the last row",
            "body": "csv",
            "created": "2025-01-03",
        },
    ]
    _jsonl(tmp_path / "dup_pool.jsonl", pool)
    dup = {
        "title": "KeyError when the password is empty on login",
        "body": "login form, no password, crash",
        "created": "2025-02-01",
    }
    pairs = _jsonl(
        tmp_path / "dup_pairs.jsonl",
        [{"repo": "a/b", "dup_number": 9, "orig_number": 1, "dup": dup}],
    )
    out = _run("eval", "duplicates", "--cases", str(pairs), "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["pairs"] == 1 and got["prodgraph"]["recall_at_1"] == 1.0
    assert set(got["tfidf"]) == {"recall_at_1", "recall_at_5", "recall_at_10", "mrr"}
    lonely = _jsonl(tmp_path / "cases.jsonl", [])
    missing = _run("eval", "duplicates", "--cases", str(lonely), "--json")
    assert (
        missing.returncode != 0 and "--pool" in missing.stderr and "cases.jsonl" in missing.stderr
    )


def test_eval_triage_json_counts_an_unreadable_case_as_a_miss(tmp_path: Path) -> None:
    repo = _make_repo(tmp_path)
    sha = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    case = {
        "repo_path": str(repo),
        "parent_sha": sha,
        "title": "helper returns the wrong value",
        "body": "helper(1) in pkg/core.py should not add one",
        "created": "2026-01-01T00:00:00Z",
        "gold_files": ["pkg/core.py"],
        "gold_functions": ["pkg/core.py::helper"],
    }
    cases = _jsonl(tmp_path / "cases.jsonl", [case, {**case, "repo_path": str(tmp_path / "gone")}])
    out = _run("eval", "triage", "--cases", str(cases), "--workdir", str(tmp_path / "w"), "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["cases"] == 2 and got["files"]["top1"] == 0.5
    assert set(got["baselines"]) == {
        "stacktrace_order",
        "bm25_files",
        "bm25_functions",
        "recent_commits",
    }
    assert set(got["functions"]) == {"top1", "top5", "top10", "mrr"}
    assert got["commits"]["cases"] == 0  # no case names a fix or gold commits
    assert len(got["errors"]) == 1 and "gone" in got["errors"][0]


def test_version_and_help_show_real_types() -> None:
    from importlib.metadata import version

    out = _run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"prodgraph {version('prodgraph')}"
    help_text = _run("risk", "--help", "--db", "x").stdout  # --help wins over other options
    assert "<bool>" not in help_text and "<str>" not in help_text
    assert "TEXT" in help_text and "PATH" in help_text


def test_up_serves_locally_without_keys_or_prints_one() -> None:
    from graph_service.api.auth import KeyRing
    from graph_service.cli.demo import local_serving
    from graph_service.settings import Settings

    plain = Settings(api_keys=[], auth_disabled=False)
    assert local_serving(plain, "127.0.0.1").auth_disabled is True
    remote = local_serving(plain, "0.0.0.0")
    assert remote.auth_disabled is False and len(remote.api_keys) == 1
    assert KeyRing(remote.api_keys).keys[0].role.name == "admin"
    keyed = Settings(api_keys=remote.api_keys)
    assert local_serving(keyed, "127.0.0.1") == keyed  # configured keys are never overridden


def test_find_names_the_uid(
    tmp_path: Path, backend: StoreBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend.use_env(monkeypatch)
    db = backend.db_args  # --db PATH on the embedded store; Neo4j from its variables
    repo = _make_repo(tmp_path)
    assert _run("ingest", "code", str(repo), *db, "-o", "repo=demo").returncode == 0
    rows = json.loads(_run("find", "HELPER", *db, "--json").stdout)
    assert rows[0]["uid"] == "fn:demo:pkg/core.py:helper" and rows[0]["rank"] == 0
    shown = _run("find", "helper", *db)
    assert "pkg/core.py:1" in shown.stdout and "fn:demo:pkg/core.py:helper" in shown.stdout
    assert "no function or class" in _run("find", "nothing_here", *db).stdout


def test_find_lists_code_at_head_before_what_only_the_history_knows(
    tmp_path: Path, backend: StoreBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `helper` moves to a new file: the old one is gone (deleted) and must come after the
    # one at head, marked so, whatever its name's rank; the uid is printed whole
    backend.use_env(monkeypatch)
    db = backend.db_args
    repo = _make_repo(tmp_path)
    env = ["-c", "user.name=Ann", "-c", "user.email=ann@example.com"]
    (repo / "pkg" / "core.py").write_text(
        "from pkg.util import helper_v2\n\n\ndef main():\n    return helper_v2(1)\n"
    )
    (repo / "pkg" / "util.py").write_text("def helper_v2(x):\n    return x + 1\n")
    subprocess.run(["git", *env, "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", *env, "-C", str(repo), "commit", "-qm", "move"], check=True)
    ing = _run("ingest", "repo", str(repo), *db, "-o", "repo=demo")
    assert ing.returncode == 0, ing.stderr
    rows = json.loads(_run("find", "helper", *db, "--json").stdout)
    by_uid = {r["uid"]: r for r in rows}
    assert by_uid["fn:demo:pkg/core.py:helper"]["gone"] is True  # exact name, but deleted
    assert rows[0]["uid"] == "fn:demo:pkg/util.py:helper_v2" and rows[0]["gone"] is False
    monkeypatch.setenv("COLUMNS", "40")  # narrower than the uid
    shown = _run("find", "helper", *db).stdout
    assert "fn:demo:pkg/util.py:helper_v2" in shown and "no longer in the code" in shown


def test_up_without_serving_ends_with_a_summary(tmp_path: Path) -> None:
    repo = _make_repo(tmp_path)
    db = tmp_path / "g.lbug"
    out = _run("up", str(repo), "--no-serve", "--db", str(db))
    assert out.returncode == 0, out.stderr
    summary = out.stdout[out.stdout.index(" summary ─") :]
    assert "loaded repo: 1 commits, 2 files, 2 functions" in summary, summary
    assert f"serve it: prodgraph serve --db {db}" in " ".join(summary.split())
    assert "not training the risk model: only 0 bug-introducing commits" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80


def test_a_query_table_wraps_long_values_instead_of_cutting_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ["--db", str(tmp_path / "g.lbug")]
    repo = _make_repo(tmp_path)
    assert _run("ingest", "code", str(repo), *db, "-o", "repo=demo").returncode == 0
    monkeypatch.setenv("COLUMNS", "30")  # narrower than a uid
    query = "MATCH (f:Function) RETURN f.uid AS uid, f.path AS path ORDER BY uid LIMIT 1"
    out = _run("query", query, *db).stdout
    assert "…" not in out
    first = "".join(line.split("│")[1].strip() for line in out.splitlines() if "│" in line)
    assert first == "fn:demo:pkg/core.py:helper"


def test_a_query_table_shows_nothing_as_a_dash_and_lists_as_items(tmp_path: Path) -> None:
    """Empty cells, `None` and Python list reprs (`[]`, `['a', 'b']`) are not what a reader
    should see: blast_radius on a store without traces has no operations or services."""
    db = ["--db", str(tmp_path / "g.lbug")]
    repo = _make_repo(tmp_path)
    assert _run("ingest", "code", str(repo), *db, "-o", "repo=demo").returncode == 0
    out = _run("run", "blast_radius", "--param", "uids=fn:demo:pkg/core.py:helper", *db)
    assert out.returncode == 0, out.stderr
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.stdout.splitlines()]
    helper = next(r for r in rows if r and r[1] == "helper")
    assert helper[-2:] == ["—", "—"]  # operations, services: none
    assert "[]" not in out.stdout
    query = "RETURN NULL AS nothing, ['a', 'b'] AS names, [] AS empty"
    q = _run("query", query, *db).stdout
    assert [c.strip() for c in q.splitlines()[3].split("│")[1:-1]] == ["—", "a, b", "—"]


def test_a_ticket_file_that_is_not_there_is_named_not_an_internal_error(tmp_path: Path) -> None:
    db = str(tmp_path / "g.lbug")
    _run("init", "--db", db)
    for cmd in ("triage", "similar"):
        out = _run(cmd, str(tmp_path / "ticket.jsn"), "--db", db)
        assert out.returncode == 2, out.stderr
        assert "ticket.jsn: cannot read it (No such file or directory)" in out.stderr
        assert "internal error" not in out.stderr
