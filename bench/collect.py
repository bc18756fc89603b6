"""Gather the latest figure of every benchmark (docs/benchmarks/*.md) into docs/benchmarks.md.

.venv/bin/python bench/collect.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = [
    "demo",
    "store",
    "named_queries",
    "code",
    "git",
    "traces",
    "deployments",
    "sample",
    "risk",
    "triage",
    "api",
    "cli_startup",
    "query_guard",
    "body_limits",
    "crash_safety",
    "neo4j_export",
]

HEADER = """# Benchmarks

Every benchmark runs with one command (given in its section), measures a floor or baseline in
the same run and reports ratios: the machines are shared and noisy (2 cores), so absolute times
move between runs while ratios hold better. Each section is the latest run's output, kept in
`docs/benchmarks/<name>.md`; `.venv/bin/python bench/collect.py` rebuilds this page.
"""


def _nest(text: str) -> str:
    """Sections sit under the page title: a part whose title is '# X' moves one level down."""
    if not text.startswith("# "):
        return text
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced  # a comment in a code block is not a heading
        out.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(out)


def main() -> None:
    parts = {p.stem: p.read_text().strip() for p in (ROOT / "docs" / "benchmarks").glob("*.md")}
    names = [n for n in ORDER if n in parts] + sorted(set(parts) - set(ORDER))
    body = "\n\n".join(_nest(parts[n]) for n in names)
    (ROOT / "docs" / "benchmarks.md").write_text(HEADER + "\n" + body + "\n")
    print(f"docs/benchmarks.md: {len(names)} sections")


if __name__ == "__main__":
    main()
