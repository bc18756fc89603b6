"""A load killed part-way, then re-run: the same graph as an uninterrupted load, at what cost.

.venv/bin/python bench/crash_resume.py REPO [--crash git:3] [--workdir DIR]

In one run: `prodgraph ingest repo REPO` into a fresh store (the baseline); the same command
into a second store, killed with SIGKILL at `--crash` (the CLI's test hook
PRODGRAPH_TEST_CRASH_AFTER: after that loader's n-th written batch; `git:3` is after the first
history chunk's Person, Commit and File rows, before any of their edges); the command again
(the resume); and once more (nothing left to do). Prints every node and relationship count of
the baseline and of the resumed store, and the times, the resume's as a ratio of the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PRODGRAPH = Path(sys.executable).parent / "prodgraph"


def _run(repo: Path, db: Path, crash: str | None = None) -> tuple[int, float]:
    env = {**os.environ, "PRODGRAPH_LOG": "warning"}
    env.pop("PRODGRAPH_TEST_CRASH_AFTER", None)
    if crash:
        env["PRODGRAPH_TEST_CRASH_AFTER"] = crash
    start = time.perf_counter()
    done = subprocess.run(
        [str(PRODGRAPH), "ingest", "repo", str(repo), "--db", str(db)],
        env=env,
        capture_output=True,
        text=True,
    )
    return done.returncode, time.perf_counter() - start


def _counts(db: Path) -> dict[str, dict[str, int]]:
    out = subprocess.run(
        [str(PRODGRAPH), "stats", "--json", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
    )
    counts: dict[str, dict[str, int]] = json.loads(out.stdout)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo", type=Path)
    ap.add_argument("--crash", default="git:3")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="crash-resume-"))
    work.mkdir(parents=True, exist_ok=True)
    clean, crashed = work / "clean.lbug", work / "crashed.lbug"
    for db in (clean, crashed):
        for f in work.glob(db.name + "*"):
            f.unlink() if f.is_file() else shutil.rmtree(f)
    rc, t_clean = _run(args.repo, clean)
    assert rc == 0, f"the baseline load failed ({rc})"
    rc, t_crash = _run(args.repo, crashed, args.crash)
    assert rc == -9, f"no crash at {args.crash} (exit {rc})"
    partial = _counts(crashed)
    rc, t_resume = _run(args.repo, crashed)
    assert rc == 0, f"the resumed load failed ({rc})"
    resumed = _counts(crashed)
    rc, t_again = _run(args.repo, crashed)
    assert rc == 0
    again = _counts(crashed)
    base = _counts(clean)
    print(f"repository: {args.repo}, crash point {args.crash}\n")
    print("| kind | name | uninterrupted | after the kill | resumed | further run |")
    print("| --- | --- | --- | --- | --- | --- |")
    same = True
    for kind in ("nodes", "edges"):
        for name, n in base[kind].items():
            r, a, p = resumed[kind][name], again[kind][name], partial[kind][name]
            if n or r:
                mark = "" if n == r == a else " **differs**"
                same = same and not mark
                print(f"| {kind} | {name} | {n:,} | {p:,} | {r:,}{mark} | {a:,} |")
    print("\n| run | wall s | vs uninterrupted |")
    print("| --- | --- | --- |")
    for label, t in (
        ("uninterrupted load", t_clean),
        (f"load killed at {args.crash}", t_crash),
        ("resumed load", t_resume),
        ("further run (nothing new)", t_again),
    ):
        print(f"| {label} | {t:.1f} | {t / t_clean:.2f}x |")
    print(f"\nresumed graph equals the uninterrupted one: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
