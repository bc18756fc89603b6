"""Benchmark: how long a `prodgraph` command takes before it does any work.

Usage: .venv/bin/python bench/cli_startup.py [--repeat N] [--baseline REV] [--out FILE]

Times whole processes (median of N runs each, alternating so both sides see the same machine):
`prodgraph --version`, `--help`, `stats` and `query "RETURN 1"` on a small embedded store, and
the floor in the same run: a bare `python -c pass` and `python -c "import typer, rich"` (what
any typer CLI pays). With `--baseline REV` the same commands also run from a checkout of REV
(a temporary `git worktree`, put first on `PYTHONPATH`), so before/after is one run's ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

__all__ = ["main"]


def _cli(db: Path) -> dict[str, list[str]]:
    entry = [PY, "-c", "from graph_service.cli import main; main()"]
    return {
        "--version": [*entry, "--version"],
        "--help": [*entry, "--help"],
        "stats": [*entry, "stats", "--db", str(db)],
        "query RETURN 1": [*entry, "query", "RETURN 1 AS one", "--db", str(db)],
    }


FLOORS = {
    "python -c pass": [PY, "-c", "pass"],
    "import typer, rich": [PY, "-c", "import typer, rich.console"],
}


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[3:]) or cmd}: exit {done.returncode}\n{done.stderr}")
    return elapsed


def _small_store(tmp: Path) -> Path:
    db = tmp / "g.lbug"
    entry = [PY, "-c", "from graph_service.cli import main; main()"]
    subprocess.run([*entry, "init", "--db", str(db)], check=True, capture_output=True)
    return db


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", help="a git revision to compare against in the same run")
    ap.add_argument("--out", type=Path, help="write the markdown section here")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="cli-startup-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PRODGRAPH_BACKEND", None)
    sides: dict[str, dict[str, str]] = {"now": env}
    worktree = None
    try:
        db = _small_store(tmp)
        if args.baseline:
            worktree = tmp / "baseline"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(worktree),
                 args.baseline],
                check=True,
            )  # fmt: skip
            sides[args.baseline] = {**env, "PYTHONPATH": str(worktree)}
        times: dict[tuple[str, str], list[float]] = {}
        commands = {**FLOORS, **_cli(db)}
        for _ in range(args.repeat):
            for side, side_env in sides.items():
                for name, cmd in commands.items():
                    if name in FLOORS and side != "now":
                        continue
                    times.setdefault((side, name), []).append(_time(cmd, side_env))
        text = _report(times, sides, args)
        print(text)
        if args.out:
            args.out.write_text(text)
    finally:
        if worktree is not None:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)


def _report(
    times: dict[tuple[str, str], list[float]],
    sides: dict[str, dict[str, str]],
    args: argparse.Namespace,
) -> str:
    med = {k: statistics.median(v) for k, v in times.items()}
    floor = med[("now", "python -c pass")]
    cmd = "`.venv/bin/python bench/cli_startup.py" + (
        f" --baseline {args.baseline}`" if args.baseline else "`"
    )
    lines = [
        "# CLI start-up (bench/cli_startup.py)",
        "",
        f"Command: {cmd} ({args.repeat} runs each, alternating; medians).",
        "",
        "Whole processes on a small embedded store; the floor is a bare interpreter in the same "
        "run. The slower of `stats`/`query` is what every store command pays before its work.",
        "",
    ]
    names = [n for n in (*FLOORS, "--version", "--help", "stats", "query RETURN 1")]
    header = "| command | " + " | ".join(
        f"{s} (s) | {s} / floor" for s in sides
    ) + (" | now / baseline |" if len(sides) > 1 else "")
    lines += [header, "|" + " --- |" * (1 + 2 * len(sides) + (len(sides) > 1))]
    for name in names:
        cells = []
        for side in sides:
            t = med.get((side, name))
            cells += [f"{t:.2f}", f"{t / floor:.1f}x"] if t is not None else ["", ""]
        if len(sides) > 1:
            base = med.get((list(sides)[1], name))
            now = med.get(("now", name))
            cells.append(f"{now / base:.2f}x" if base and now else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
