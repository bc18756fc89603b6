"""The evaluation harnesses on a real git repository and a small ticket pool."""

from __future__ import annotations

import json
from pathlib import Path

from graph_service.triage import TriageConfig
from graph_service.triage.evaluate import evaluate_duplicates, evaluate_triage, rank_metrics
from tests.git_run import git

CALC = '''"""Arithmetic helpers."""


def add(a, b):
    """Sum of two numbers."""
    return a + b


def divide(a, b):
    """Quotient of two numbers."""
    return a / b
'''
UTIL = '''"""Formatting."""


def render(value):
    """Render a value for display."""
    return f"{value:.2f}"
'''


def _git(repo: Path, *args: str) -> str:
    return git(repo, *args, author="A", date="2026-01-01T00:00:00Z")


def _repo(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "calc"
    (repo / "app").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "app" / "calc.py").write_text(CALC)
    (repo / "app" / "util.py").write_text(UTIL)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Initial calculator")
    parent = _git(repo, "rev-parse", "HEAD")
    (repo / "app" / "calc.py").write_text(
        CALC.replace("return a / b", "return a / b if b else 0.0")
    )
    _git(repo, "commit", "-q", "-am", "Fix #1: divide by zero")
    return repo, parent


def test_triage_harness_counts_unreadable_cases_as_misses(tmp_path: Path) -> None:
    repo, parent = _repo(tmp_path)
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/srv/site-packages/app/calc.py", line 11, in divide\n'
        "    return a / b\n"
        "ZeroDivisionError: division by zero\n"
    )
    good = {
        "repo_path": str(repo),
        "parent_sha": parent,
        "title": "Crash when dividing by zero",
        "body": trace,
        "created": "2026-01-02T00:00:00Z",
        "gold_files": ["app/calc.py"],
        "gold_functions": ["app/calc.py::divide"],
        "split": "tuning",
        "language": "python",
    }
    missing = {**good, "repo_path": str(tmp_path / "nowhere"), "split": "held_out"}
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(good) + "\n" + json.dumps(missing) + "\nnot json\n")
    cfg = TriageConfig(embedder="hashing")
    out = evaluate_triage(cases, tmp_path / "work", None, config=cfg)
    assert out["cases"] == 3
    assert out["files"]["top1"] == round(1 / 3, 4)
    assert out["functions"]["top1"] == round(1 / 3, 4)
    assert out["baselines"]["stacktrace_order"]["files"]["top1"] == round(1 / 3, 4)
    assert set(out["baselines"]["bm25_files"]["files"]) == {"top1", "top5", "top10", "mrr"}
    assert len(out["errors"]) == 2
    # the same figures per split and language (the unparsable line has neither)
    groups = out["groups"]
    assert groups["split=tuning"]["cases"] == 1 and groups["split=tuning"]["files"]["top1"] == 1.0
    assert groups["split=held_out"]["files"]["top1"] == 0.0
    assert groups["language=python"]["cases"] == 2
    # the graph is cached: a second run builds nothing and gives the same numbers
    slot = next((tmp_path / "work" / "graphs").iterdir())
    stamp = (slot / "ready").stat().st_mtime
    again = evaluate_triage(cases, tmp_path / "work", None, config=cfg)
    assert again["files"] == out["files"] and (slot / "ready").stat().st_mtime == stamp


def test_duplicates_harness(tmp_path: Path) -> None:
    pool = [
        {
            "repo": "a/b",
            "number": 1,
            "title": "Login page crashes on empty password",
            "body": "Submitting the login form with no password throws",
            "created": "2025-01-01",
        },
        {
            "repo": "a/b",
            "number": 2,
            "title": "Dark mode colours wrong",
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
        {
            "repo": "c/d",
            "number": 1,
            "title": "Login page crashes on empty password",
            "body": "other repository",
            "created": "2025-01-01",
        },
        {
            "repo": "a/b",
            "number": 9,
            "title": "CSV export misses final line",
            "body": "x",
            "created": "2026-01-01",
        },
    ]
    pairs = [
        {
            "repo": "a/b",
            "orig_number": 1,
            "dup": {
                "title": "Empty password crashes login",
                "body": "login throws",
                "created": "2025-02-01",
            },
        },
        {
            "repo": "a/b",
            "orig_number": 3,
            "dup": {"title": "CSV export loses its last row", "body": "", "created": "2025-02-01"},
        },
        {
            "repo": "a/b",
            "orig_number": 9,
            "dup": {"title": "CSV export misses final line", "body": "", "created": "2025-02-01"},
        },
    ]
    (tmp_path / "pool.jsonl").write_text("\n".join(json.dumps(p) for p in pool))
    (tmp_path / "pairs.jsonl").write_text("\n".join(json.dumps(p) for p in pairs))
    out = evaluate_duplicates(
        tmp_path / "pairs.jsonl",
        tmp_path / "pool.jsonl",
        None,
        config=TriageConfig(embedder="hashing"),
    )
    assert out["pairs"] == 3
    # the third original was created after its duplicate: it cannot be found
    assert out["prodgraph"]["recall_at_1"] == round(2 / 3, 4)
    assert out["tfidf"]["recall_at_5"] == round(2 / 3, 4)
    assert set(out["prodgraph"]) == {"recall_at_1", "recall_at_5", "recall_at_10", "mrr"}
    assert list(out["per_repo"]) == ["a/b"]  # c/d has pool tickets but no pairs
    assert out["per_repo"]["a/b"]["pairs"] == 3
    assert out["per_repo"]["a/b"]["prodgraph"] == out["prodgraph"]


def test_rank_metrics() -> None:
    m = rank_metrics([1, 3, None, 12])
    assert m == {"top1": 0.25, "top5": 0.5, "top10": 0.5, "mrr": round((1 + 1 / 3 + 1 / 12) / 4, 4)}
