"""Per-ticket cost of triage's git work on a real clone, against an earlier revision's code.

    .venv/bin/python bench/triage_blame.py --cases data/eval/triage_traced.jsonl \
        --workdir /tmp/eval-work --repo pytest-dev/pytest --baseline REV [--rounds 3]

For each case of the repository, the eval graph at its `parent_sha` (built by `prodgraph eval
triage` under the work folder) gives the ticket's blame targets as triage builds them today
(its frames and top suspect functions, `commits._targets`) and the files whose function bodies
triage reads (the frames' files and the 25 strongest candidate files). Each round, with every
git cache emptied, times (a) this revision: `blame.blame_requests` (one `git blame` per file)
and the files read through `blame.read_blob` (one long-running `git cat-file --batch` per
clone), and (b) REV's `blame.py` on the same requests (one `git blame` per request) and one
`git show` per file, counting the git processes each starts. Rounds alternate the two.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from graph_service.settings import Settings
from graph_service.store import open_store
from graph_service.triage import blame, commits
from graph_service.triage.code_index import code_index
from graph_service.triage.engine import triage
from graph_service.triage.evaluate import _time, build_graph
from graph_service.triage.models import TicketInput, TriageConfig
from graph_service.triage.parse import read_ticket


class _Count:
    """Counts the processes started (`subprocess.run` starts its own through `Popen`)."""

    def __init__(self) -> None:
        self.n = 0
        self._popen = subprocess.Popen

    def __enter__(self) -> _Count:
        outer = self

        base: Any = self._popen

        class Popen(base):  # type: ignore[misc,valid-type]
            def __init__(self, *a: Any, **k: Any) -> None:
                outer.n += 1
                super().__init__(*a, **k)

        subprocess.Popen = Popen  # type: ignore[misc]
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.Popen = self._popen  # type: ignore[misc]


def _old_blame(rev: str, tmp: Path) -> Any:
    text = subprocess.run(
        ["git", "show", f"{rev}:graph_service/triage/blame.py"], capture_output=True, check=True
    ).stdout
    path = tmp / "old_blame.py"
    path.write_bytes(text)
    spec = importlib.util.spec_from_file_location("old_blame", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_blame"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _clear(mod: Any) -> None:
    for name in ("_REV_CACHE", "_BLAME_CACHE", "_IGNORE_CACHE"):
        getattr(mod, name).clear()
    if hasattr(mod, "_BLOBS"):
        for reader, _ in mod._BLOBS.readers.values():
            reader.close()
        mod._BLOBS.readers.clear()


def _prepare(case: dict[str, Any], workdir: Path) -> dict[str, Any]:
    repo = Path(case["repo_path"])
    db = build_graph(repo, case["parent_sha"], workdir, 500)
    store = open_store(Settings(db_path=db))
    try:
        ticket = TicketInput(title=case["title"], body=case["body"], created=_time(case["created"]))
        result = triage(store, ticket, None, TriageConfig(top_k=30, embedder="hashing"))
        code = code_index(store)
        parsed = read_ticket(ticket)
        parsed.frames = result.ticket.frames
        now = result.as_of or datetime.now()
        targets = commits._targets(store, code, parsed, result.functions, now)
        files = [fr.file_uid.split(":", 2)[2] for fr in parsed.frames if fr.file_uid]
        files += [s.path for s in result.files[:25]]
    finally:
        store.close()
    return {
        "requests": [t.request for t in targets],
        "files": list(dict.fromkeys(files)),
        "now": now,
    }


def _new(prep: dict[str, Any]) -> tuple[float, int]:
    _clear(blame)
    with _Count() as c:
        t0 = time.perf_counter()
        blame.blame_requests(prep["requests"], prep["now"])
        repo = prep["requests"][0].repo
        rev = blame.revision_at(repo, prep["now"])
        for path in prep["files"]:
            blame.read_blob(repo.path, f"{rev}:{path}")
        ms = (time.perf_counter() - t0) * 1000
    _clear(blame)
    return ms, c.n


def _old(prep: dict[str, Any], old: Any) -> tuple[float, int]:
    _clear(old)
    with _Count() as c:
        t0 = time.perf_counter()
        reqs = [
            old.BlameRequest(
                old.RepoClone(r.repo.name, r.repo.path, r.repo.head), r.path, r.line, r.start, r.end
            )
            for r in prep["requests"]
        ]
        old.blame_requests(reqs, prep["now"])
        repo = reqs[0].repo
        rev = old.revision_at(repo, prep["now"])
        for path in prep["files"]:
            subprocess.run(
                ["git", "-C", str(repo.path), "show", f"{rev}:{path}"],
                capture_output=True,
                check=False,
            )
        ms = (time.perf_counter() - t0) * 1000
    _clear(old)
    return ms, c.n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="data/eval/triage_traced.jsonl")
    ap.add_argument("--workdir", default="/tmp/eval-work")
    ap.add_argument("--repo", default="pytest-dev/pytest")
    ap.add_argument("--baseline", required=True, help="revision whose blame.py is compared")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cases = [json.loads(x) for x in Path(args.cases).read_text().splitlines() if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        old = _old_blame(args.baseline, Path(tmp))
        preps = [_prepare(c, Path(args.workdir)) for c in cases if c.get("repo") == args.repo]
        preps = [p for p in preps if p["requests"]]
        new_ms: list[float] = []
        old_ms: list[float] = []
        new_n: list[int] = []
        old_n: list[int] = []
        for r in range(args.rounds):
            for p in preps:
                runs = [("new", _new), ("old", lambda q: _old(q, old))]
                for name, fn in runs if r % 2 == 0 else runs[::-1]:
                    ms, n = fn(p)
                    (new_ms if name == "new" else old_ms).append(ms)
                    (new_n if name == "new" else old_n).append(n)
    reqs = statistics.mean(len(p["requests"]) for p in preps)
    files = statistics.mean(len(p["files"]) for p in preps)

    def q(xs: list[float], f: float) -> float:
        return sorted(xs)[min(len(xs) - 1, int(f * len(xs)))]

    print(f"{len(preps)} tickets of {args.repo}, {args.rounds} rounds; per ticket {reqs:.1f} blame")
    print(f"targets and {files:.1f} files read.\n")
    print("| code | p50 ms | p90 ms | max ms | git processes per ticket |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows: list[tuple[str, list[float], list[int]]] = [
        ("this revision", new_ms, new_n),
        (args.baseline, old_ms, old_n),
    ]
    for label, times, procs in rows:
        print(
            f"| {label} | {statistics.median(times):.1f} | {q(times, 0.9):.1f} "
            f"| {max(times):.1f} | {statistics.mean(procs):.1f} |"
        )
    print(f"\np50 ratio {statistics.median(new_ms) / statistics.median(old_ms):.2f}x")


if __name__ == "__main__":
    main()
