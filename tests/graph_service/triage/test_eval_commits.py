"""Commit evaluation: gold commits blamed from what the fix changed, against a recency baseline."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from graph_service.triage import TriageConfig
from graph_service.triage.eval_commits import gold_commits, gold_lines, recent_commits
from graph_service.triage.evaluate import evaluate_triage
from tests.fixtures.git import git as _git

CALC = '''"""Arithmetic helpers."""


def add(a, b):
    """Sum of two numbers."""
    return a + b


def divide(a, b):
    """Quotient of two numbers."""
    return a / b
'''


def _step(repo: Path, old: str, new: str, message: str, date: str) -> str:
    src = repo / "app" / "calc.py"
    src.write_text(src.read_text().replace(old, new))
    _git(repo, "commit", "-q", "-am", message, date=f"{date}T00:00:00Z")
    return _git(repo, "rev-parse", "HEAD")


def test_gold_commits_and_the_recency_baseline(tmp_path: Path) -> None:
    repo = tmp_path / "calc"
    (repo / "app").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "app" / "calc.py").write_text(CALC)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Initial calculator")
    culprit = _step(repo, "return a / b", "return float(a) / b", "Divide as floats", "2025-03-01")
    later = _step(repo, "return a + b", "return b + a", "Commute add", "2025-05-01")
    parent = later
    fix = _step(
        repo, "return float(a) / b", "return float(a) / b if b else 0.0", "Fix #1", "2025-07-01"
    )
    when = datetime(2025, 6, 1)
    assert gold_commits(repo, fix, parent, not_after=when) == {culprit}
    assert gold_commits(repo, fix, None, not_after=datetime(2025, 2, 1)) == set()
    assert recent_commits(repo, parent, when, ["app/calc.py"])[:2] == [later, culprit]
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/srv/site-packages/app/calc.py", line 11, in divide\n'
        "    return float(a) / b\n"
        "ZeroDivisionError: float division by zero\n"
    )
    case = {
        "repo_path": str(repo),
        "parent_sha": parent,
        "fix_sha": fix,
        "title": "Crash when dividing by zero",
        "body": trace,
        "created": "2025-06-01T00:00:00Z",
        "gold_files": ["app/calc.py"],
        "gold_functions": ["app/calc.py::divide"],
    }
    declared = {**case, "gold_commits": [later]}
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(case) + "\n" + json.dumps(declared) + "\n")
    out = evaluate_triage(cases, tmp_path / "work", None, config=TriageConfig(embedder="hashing"))
    assert out["commits"]["cases"] == 2
    first, second = out["per_case"]
    assert first["commit_method"] == "blame" and first["commits"] == 1
    assert first["recent_commits"] == 2  # the newer commit that only touched add() comes first
    assert second["recent_commits"] == 1 and second["commits"] != 1
    assert out["baselines"]["recent_commits"]["commits"]["top1"] == 0.5
    assert out["commits"]["top1"] == 0.5


def test_gold_looks_through_cosmetic_commits_like_the_suspects(tmp_path: Path) -> None:
    """A reformatting commit (by its summary) and one the repository lists in
    `.git-blame-ignore-revs` are looked through: the gold commit is the one that wrote the
    code they touched, as blame of the suspects sees it."""
    repo = tmp_path / "calc"
    (repo / "app").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "app" / "calc.py").write_text(CALC)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Initial calculator")
    culprit = _step(repo, "return a / b", "return float(a) / b", "Divide as floats", "2025-03-01")
    _step(repo, "return float(a) / b", "return (float(a) / b)", "Run black", "2025-03-10")
    listed = _step(repo, "return a + b", "return (a + b)", "Tidy add", "2025-03-20")
    (repo / ".git-blame-ignore-revs").write_text(f"# tidy\n{listed}\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Ignore the tidy commit in blame", date="2025-03-21T00:00:00Z")
    parent = _git(repo, "rev-parse", "HEAD")
    fix = _step(
        repo,
        "return (float(a) / b)",
        "return (float(a) / b) if b else (a + b)",
        "Fix #2",
        "2025-07-01",
    )
    assert gold_commits(repo, fix, parent) == {culprit}
    fix2 = _step(repo, "return (a + b)", "return (a + b + 0)", "Fix #3", "2025-07-02")
    assert gold_commits(repo, fix2, fix) == {_git(repo, "rev-list", "--max-parents=0", "HEAD")}


def test_gold_of_a_fix_that_only_adds_code_blames_the_lines_around_it(tmp_path: Path) -> None:
    repo = tmp_path / "calc"
    (repo / "app").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "app" / "calc.py").write_text(CALC)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Initial calculator")
    culprit = _step(repo, "return a / b", "return float(a) / b", "Divide as floats", "2025-03-01")
    parent = _step(repo, '"""Sum of two numbers."""', '"""Sum."""', "Shorter doc", "2025-04-01")
    fix = _step(
        repo,
        "    return float(a) / b",
        "    return float(a) / b\n\n\n# guard\nZERO = 0.0",
        "Fix #4",
        "2025-07-01",
    )
    lines, rule = gold_lines(repo, fix, parent)
    assert rule == "around_additions" and lines == {"app/calc.py": [(11, 11)]}
    assert gold_commits(repo, fix, parent) == {culprit}
