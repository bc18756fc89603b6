"""Build triage cases (data/eval/triage_cases.jsonl rows) from issue texts and a local clone.

How the real cases were made, so that anyone can rebuild or extend them:

1. The issue texts (title, description excerpt, creation date) are collected by hand from the
   public tracker into a JSONL file: one object per line with `issue`, `title`, `body`,
   `created` and, where the link is not found automatically, `fix_sha`.
2. The fixing commit is found in the repository's history: either given as `fix_sha`, or the
   first first-parent commit that added a changelog line linking the issue (`--changelog`,
   e.g. `CHANGELOG.md` lines ending in `.../issues/<N>`; a folder such as `changelog/` means
   the commit that added `changelog/<N>.<kind>.rst`, pytest's convention), or the first
   first-parent commit whose message says `Fix #N` / `Fixes #N` / `Closes #N`.
3. `parent_sha` is that commit's first parent (for a merge: the mainline before the merge).
4. Gold files are the non-test source files (`--ext`, default `.py`) under `--source` that the
   fix changed (diff from the first parent); gold functions are the functions (qualified names
   `Outer.inner` / `Type.Method`, as the code loader names them) whose lines the fix deleted
   or modified, or into whose body it inserted lines, read from the parent's version of each
   file (Python with `ast`; other languages, e.g. `--ext .go`, with the code loader's parser).

Usage (prints one case per line; commits whose diff touches no source file are skipped and
reported on stderr):

    .venv/bin/python data/eval/build_cases.py --repo-path /tmp/eval-repos/rich \\
        --repo Textualize/rich --issues rich_issues.jsonl --changelog CHANGELOG.md \\
        --source rich/ > cases.jsonl
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["changed_functions", "find_fix", "main"]

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {repo}: {out.stderr.strip()}")
    return out.stdout


def find_fix(repo: Path, issue: int, changelog: str | None) -> str | None:
    """The first mainline commit that links `issue` in the changelog or in its message."""
    if changelog and changelog.endswith("/"):
        shas = _git(
            repo,
            "log",
            "--first-parent",
            "--reverse",
            "--diff-filter=A",
            "--format=%H",
            "--",
            f"{changelog}{issue}.*",
        ).split()
        if shas:
            return shas[0]
    elif changelog:
        shas = _git(
            repo,
            "log",
            "--first-parent",
            "--reverse",
            "--format=%H",
            "-G",
            f"issues/{issue}([^0-9]|$)",
            "--",
            changelog,
        ).split()
        if shas:
            return shas[0]
    pattern = rf"(fix(es|ed)?|close[sd]?|resolve[sd]?) #{issue}\b"
    shas = _git(
        repo,
        "log",
        "--first-parent",
        "--reverse",
        "--format=%H",
        "-i",
        "-E",
        f"--grep={pattern}",
    ).split()
    return shas[0] if shas else None


def _spans(source: str, path: str = "x.py") -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function, decorators included."""
    if not path.endswith(".py"):
        from loaders.code.parse import parse_source

        parsed = parse_source(path, source.encode())
        return [(f.start_line, f.end_line, f.qualname) for f in parsed.functions] if parsed else []
    out: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                    out.append((first, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return out


def changed_functions(source: str, diff: str, path: str = "x.py") -> set[str]:
    """Innermost functions of `source` (the old side of `diff`) whose lines the diff touches."""
    spans = _spans(source, path)
    touched: set[str] = set()

    def innermost(line: int, inside: int | None = None) -> str | None:
        hits = [
            s for s in spans if s[0] <= line <= s[1] and (inside is None or s[0] <= inside <= s[1])
        ]
        return min(hits, key=lambda s: s[1] - s[0])[2] if hits else None

    for raw in diff.splitlines():
        m = HUNK.match(raw)
        if not m:
            continue
        start, count = int(m.group(1)), int(m.group(2) or 1)
        if count == 0:  # pure insertion after line `start`: only inside a body counts
            name = innermost(start, start + 1)
            if name:
                touched.add(name)
            continue
        for line in range(start, start + count):
            name = innermost(line)
            if name:
                touched.add(name)
    return touched


def _is_test(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return (
        any(p in ("tests", "test", "testing", "testdata") for p in parts)
        or name.startswith("test_")
        or name.endswith("_test.go")
    )


def build_case(
    repo: Path,
    item: dict[str, Any],
    repo_name: str,
    changelog: str | None,
    source: str,
    ext: str = ".py",
) -> dict[str, Any] | None:
    issue = int(item["issue"])
    fix = item.get("fix_sha") or find_fix(repo, issue, changelog)
    if not fix:
        print(f"issue {issue}: no fixing commit found", file=sys.stderr)
        return None
    parent = _git(repo, "rev-parse", f"{fix}^1").strip()
    names = _git(repo, "diff", "--name-only", parent, fix).split()
    files = sorted(p for p in names if p.startswith(source) and p.endswith(ext) and not _is_test(p))
    if not files:
        print(f"issue {issue}: fix {fix[:10]} changes no file under {source}", file=sys.stderr)
        return None
    functions: set[str] = set()
    for path in files:
        shown = subprocess.run(
            ["git", "-C", str(repo), "show", f"{parent}:{path}"], capture_output=True, text=True
        )
        if shown.returncode != 0:  # a file the fix added has no old functions
            continue
        old = shown.stdout
        diff = _git(repo, "diff", "-U0", parent, fix, "--", path)
        functions |= {f"{path}::{name}" for name in changed_functions(old, diff, path)}
    return {
        "repo": repo_name,
        "issue": issue,
        "repo_path": str(item.get("repo_path") or f"/tmp/eval-repos/{repo.name}"),
        "parent_sha": parent,
        "fix_sha": fix,
        "title": item["title"],
        "body": item["body"],
        "created": item["created"],
        "gold_files": files,
        "gold_functions": sorted(functions),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo-path", type=Path, required=True, help="A local clone.")
    ap.add_argument("--repo", required=True, help="owner/name, recorded in each case.")
    ap.add_argument("--issues", type=Path, required=True, help="JSONL of issue texts.")
    ap.add_argument("--changelog", help="Changelog path whose lines link issues.")
    ap.add_argument("--source", default="", help="Path prefix of the package's sources.")
    ap.add_argument("--ext", default=".py", help="Source file extension (.py, .go).")
    args = ap.parse_args(argv)
    if not (args.repo_path / ".git").exists():
        raise SystemExit(f"--repo-path {args.repo_path}: not a git clone")
    for n, line in enumerate(args.issues.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise SystemExit(f"{args.issues} line {n}: bad JSON ({e})") from e
        case = build_case(args.repo_path, item, args.repo, args.changelog, args.source, args.ext)
        if case:
            print(json.dumps(case, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
