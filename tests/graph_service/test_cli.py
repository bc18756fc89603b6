"""The console command: store commands, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PRODGRAPH = Path(sys.executable).parent / "prodgraph"


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PRODGRAPH), *args], capture_output=True, text=True, input=stdin,
                          timeout=120)


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


def test_init_ingest_stats_query_and_run(tmp_path: Path) -> None:
    db = str(tmp_path / "g.lbug")
    assert _run("init", "--db", db).returncode == 0
    repo = _make_repo(tmp_path)
    ing = _run("ingest", "repo", str(repo), "--db", db, "-o", "repo=demo")
    assert ing.returncode == 0, ing.stderr
    stats = json.loads(_run("stats", "--db", db, "--json").stdout)
    assert stats["nodes"]["Function"] == 2 and stats["nodes"]["Commit"] == 1
    assert stats["edges"]["CALLS"] == 1
    q = _run("query", "MATCH (f:Function)-[:CALLS]->(g:Function) RETURN f.name AS f, g.name AS g",
             "--db", db, "--format", "json")
    assert json.loads(q.stdout)["rows"] == [{"f": "main", "g": "helper"}]
    csv = _run("query", "-", "--db", db, "--format", "csv",
               stdin="MATCH (f:Function) RETURN f.name AS name ORDER BY name")
    assert csv.stdout.split() == ["name", "helper", "main"]
    callers = _run("run", "callers", "--param", "uid=fn:demo:pkg/core.py:helper", "--db", db,
                   "--format", "json")
    assert callers.returncode == 0, callers.stderr
    assert "fn:demo:pkg/core.py:main" in callers.stdout
    again = _run("ingest", "repo", str(repo), "--db", db, "-o", "repo=demo")
    assert again.returncode == 0
    assert json.loads(_run("stats", "--db", db, "--json").stdout) == stats


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
