"""Triage and similar-ticket latency on a large synthetic graph, with brute force as the floor.

    .venv/bin/python bench/triage.py [--nodes N] [--tickets T] [--ann-tickets A] [--queries Q]
                                     [--no-clone] [--baseline REV] [--out docs/benchmarks/triage.md]

Builds an embedded store of about N nodes (functions, files, commits, people, T tickets) with
calls, history and fixes. Half of the Q bench tickets carry a stack trace through real call
chains of the graph (three frames that map to functions by path and line; some stored tickets
report the same traces, so "seen before" and the fingerprint signal answer), the other half
only words. Times `triage()` per ticket (warm caches) and `similar()`; then, unless
`--no-clone`, the same tickets with a git clone of the traced files known to the store
(`Repository.path`): the first triage of each ticket runs `git blame` of its frames and reads
function bodies (`git show`), the second finds them cached. Finally nearest-neighbour search
over A ticket embeddings through the ANN index against brute-force cosine (same run).

With `--baseline REV` the same store and tickets are triaged first by REV's code (a temporary
`git worktree` on `PYTHONPATH`, in a subprocess), for latency ratios and to assert that both
revisions rank every ticket's functions, files, commits and similar tickets identically.
Prints a markdown snippet.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from graph_service.batch import edges, nodes

_TEXT = (
    "order payment invoice cart user session token cache queue retry timeout parse render "
    "export import report schedule refund charge login account price stock shipment email "
    "notify audit config metric search index upload download sync batch stream worker"
)
WORDS = _TEXT.split()
T0 = datetime(2026, 1, 1)
W = {"loaded_by": "bench", "run_id": "bench"}
ROOT = Path(__file__).resolve().parents[1]
N_CHAINS = 200  # distinct call chains the traced tickets (bench and stored) go through
REPO = "b"


def _write(store: Any, batch: Any) -> None:
    store.write(batch, **W)


def build(store: Any, n_nodes: int, n_tickets: int, rng: np.random.Generator) -> dict[str, Any]:
    """About n_nodes nodes: 70% functions, 7% files, 10% commits, people, n_tickets tickets.

    Returns the sizes and what the tickets and the clone are made from (`net`)."""
    from graph_service.triage import TicketInput
    from graph_service.triage.parse import read_ticket

    n_tickets = min(n_tickets, n_nodes // 5)
    n_fn = int((n_nodes - n_tickets) * 0.75)
    n_file = max(n_fn // 10, 1)
    n_commit = max((n_nodes - n_tickets) - n_fn - n_file - 500, 1)
    w = rng.integers(0, len(WORDS), size=(n_fn, 2))
    paths = [f"svc{i % 40}/{WORDS[i % len(WORDS)]}_{i}.py" for i in range(n_file)]
    _write(
        store, nodes("File", [{"uid": f"file:{REPO}:{p}", "path": p, "repo": REPO} for p in paths])
    )
    fns = []
    for i in range(n_fn):
        name = f"{WORDS[w[i, 0]]}_{WORDS[w[i, 1]]}_{i}"
        f = i % n_file
        start = (i // n_file) * 20 + 1
        fns.append(
            {
                "uid": f"fn:{REPO}:{paths[f]}:{name}",
                "name": name,
                "qualname": name,
                "path": paths[f],
                "start_line": start,
                "end_line": start + 18,
                "docstring": f"{WORDS[w[i, 1]]} the {WORDS[w[i, 0]]}",
            }
        )
    for k in range(0, n_fn, 200_000):
        _write(store, nodes("Function", fns[k : k + 200_000]))
    fn_uids = [f["uid"] for f in fns]
    src = rng.integers(0, n_fn, 2 * n_fn)
    dst = (src + rng.integers(1, 300, 2 * n_fn)) % n_fn
    calls = [
        {"src": fn_uids[a], "dst": fn_uids[b], "source": "static", "confidence": 1.0}
        for a, b in zip(src, dst, strict=True)
        if a != b
    ]
    for k in range(0, len(calls), 500_000):
        _write(store, edges("CALLS", "Function", "Function", calls[k : k + 500_000]))
    people = [
        {"uid": f"person:p{i}@x.io", "name": f"p{i}", "email": f"p{i}@x.io"} for i in range(500)
    ]
    _write(store, nodes("Person", people))
    commits = [
        {
            "uid": f"commit:{i:040x}",
            "sha": f"{i:040x}",
            "repo": REPO,
            "authored_at": T0 + timedelta(minutes=int(i)),
            "summary": f"change {i}",
        }
        for i in range(n_commit)
    ]
    _write(store, nodes("Commit", commits))
    _write(
        store,
        edges(
            "AUTHORED",
            "Person",
            "Commit",
            [
                {
                    "src": f"person:p{i % 500}@x.io",
                    "dst": c["uid"],
                    "source": "git",
                    "confidence": 1.0,
                }
                for i, c in enumerate(commits)
            ],
        ),
    )
    mods = rng.integers(0, n_fn, 3 * n_commit)
    _write(
        store,
        edges(
            "MODIFIES",
            "Commit",
            "Function",
            [
                {
                    "src": commits[i // 3]["uid"],
                    "dst": fn_uids[m],
                    "source": "git",
                    "confidence": 1.0,
                }
                for i, m in enumerate(mods)
            ],
        ),
    )
    net = {"fns": fns, "chains": _chains(src, dst, n_fn, rng)}
    tw = rng.integers(0, len(WORDS), size=(n_tickets, 4))
    tickets = []
    for i in range(n_tickets):
        title = f"{WORDS[tw[i, 0]]} {WORDS[tw[i, 1]]} fails"
        body = f"when {WORDS[tw[i, 2]]} then {WORDS[tw[i, 3]]} breaks"
        fp = None
        if i % 50 == 0:  # a stored ticket that reports one of the bench's traces
            body += "\n" + _trace(net, (i // 50) % N_CHAINS, WORDS[tw[i, 3]])
            fp = read_ticket(TicketInput(title=title, body=body)).fingerprint
        tickets.append(
            {
                "uid": f"ticket:{REPO}:{i}",
                "key": str(i),
                "system": REPO,
                "title": title,
                "body": body,
                "fingerprint": fp,
                "created_at": T0 + timedelta(minutes=int(i)),
            }
        )
    _write(store, nodes("Ticket", tickets))
    _signatures(store, net, tickets)
    fixed = rng.choice(n_tickets, size=n_tickets // 5, replace=False)
    _write(
        store,
        edges(
            "FIXES",
            "Commit",
            "Ticket",
            [
                {
                    "src": commits[int(t) % n_commit]["uid"],
                    "dst": f"ticket:{REPO}:{t}",
                    "source": "git",
                    "confidence": 1.0,
                }
                for t in fixed
            ],
        ),
    )
    sizes = {"functions": n_fn, "files": n_file, "commits": n_commit, "tickets": n_tickets}
    return {"sizes": sizes, "net": net}


def _signatures(store: Any, net: dict[str, Any], tickets: list[dict[str, Any]]) -> None:
    """One ErrorSignature per traced chain: raised in its innermost function, reported by the
    stored tickets with that trace."""
    sigs: dict[str, dict[str, Any]] = {}
    raised, reports = [], []
    for i, t in enumerate(tickets):
        fp = t["fingerprint"]
        if not fp:
            continue
        reports.append({"src": t["uid"], "dst": f"err:{fp}", "source": "ticket", "confidence": 1.0})
        if fp in sigs:
            sigs[fp]["count"] += 1
            sigs[fp]["last_seen"] = t["created_at"]
            continue
        inner = net["fns"][net["chains"][(i // 50) % N_CHAINS][-1]]
        sigs[fp] = {
            "uid": f"err:{fp}",
            "type": "ValueError",
            "message_template": "bad <str> <num>",
            "fingerprint": fp,
            "frames": [inner["name"]],
            "count": 1,
            "first_seen": t["created_at"],
            "last_seen": t["created_at"],
        }
        raised.append(
            {
                "src": f"err:{fp}",
                "dst": inner["uid"],
                "source": "ticket",
                "confidence": 1.0,
                "line": inner["start_line"] + 3,
            }
        )
    _write(store, nodes("ErrorSignature", list(sigs.values())))
    _write(store, edges("RAISED_IN", "ErrorSignature", "Function", raised))
    _write(store, edges("REPORTS", "Ticket", "ErrorSignature", reports))


def _chains(
    src: np.ndarray, dst: np.ndarray, n_fn: int, rng: np.random.Generator
) -> list[list[int]]:
    """N_CHAINS call chains outer -> inner of three functions, following CALLS edges."""
    order = np.argsort(src, kind="stable")
    s_sorted, d_sorted = src[order], dst[order]

    def callee(a: int) -> int:
        lo = int(np.searchsorted(s_sorted, a))
        if lo < len(s_sorted) and s_sorted[lo] == a and d_sorted[lo] != a:
            return int(d_sorted[lo])
        return int(rng.integers(0, n_fn))

    out = []
    for a in rng.integers(0, n_fn, N_CHAINS):
        b = callee(int(a))
        out.append([int(a), b, callee(b)])
    return out


def _trace(net: dict[str, Any], chain: int, word: str) -> str:
    """A Python traceback through one chain (outermost first), each frame 3 lines in."""
    lines = ["Traceback (most recent call last):"]
    for fn in net["chains"][chain]:
        f = net["fns"][fn]
        lines.append(f'  File "/srv/app/{f["path"]}", line {f["start_line"] + 3}, in {f["name"]}')
        lines.append(f"    {f['name']}_step(value)")
    lines.append(f"ValueError: bad {word} 42")
    return "\n".join(lines)


def _queries(n: int, rng: np.random.Generator, net: dict[str, Any]) -> list[dict[str, Any]]:
    """Bench tickets (JSON): even ones with a stack trace, odd ones words only."""
    out = []
    for q in range(n):
        a, b, c = (WORDS[i] for i in rng.integers(0, len(WORDS), 3))
        chain = int(rng.integers(0, N_CHAINS))
        body = f"{a} {b} broke after deploy\n" + (
            _trace(net, chain, c) if q % 2 == 0 else f"see {c} logs"
        )
        created = (T0 + timedelta(days=400)).isoformat()
        out.append({"title": f"{a} {c} error", "body": body, "created": created})
    return out


def _make_clone(root: Path, net: dict[str, Any]) -> Path:
    """A git repository holding the files of every chain's functions, written by three
    commits in 2026 (the tickets are of 2027): an initial one, then two that change a line in
    a third of the functions each, so blame names different commits per frame."""
    files: dict[str, list[int]] = {}
    fns = net["fns"]
    for chain in net["chains"]:
        for fn in chain:
            files.setdefault(fns[fn]["path"], [])
    for i, f in enumerate(fns):
        if f["path"] in files:
            files[f["path"]].append(i)
    clone = root / "clone"
    clone.mkdir()

    def git(*args: str, when: datetime | None = None) -> None:
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root)}
        if when is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
        subprocess.run(["git", "-C", str(clone), *args], check=True, capture_output=True, env=env)

    git("init", "-q")
    git("config", "user.email", "bench@x.io")
    git("config", "user.name", "bench")

    def write(edit: int) -> None:
        for path, ids in files.items():
            out: list[str] = []
            for i in sorted(ids, key=lambda i: fns[i]["start_line"]):
                f = fns[i]
                while len(out) < f["start_line"] - 1:
                    out.append("")
                doc = f["docstring"]
                body = [f"def {f['name']}(value):", f'    """{doc}"""']
                for k in range(2, 19):
                    changed = edit and i % 3 == edit - 1 and k == 5 * edit
                    body.append(
                        f"    value = {doc.split()[k % 3]}_{k}(value{' + 1' if changed else ''})"
                    )
                out += body
            target = clone / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(out) + "\n")

    for edit, when in ((0, T0), (1, T0 + timedelta(days=150)), (2, T0 + timedelta(days=300))):
        write(edit)
        git("add", "-A")
        git("commit", "-q", "-m", f"bench change {edit}", when=when)
    return clone


def _ranks(result: Any) -> list[list[str]]:
    return [
        [s.uid for s in result.functions],
        [s.uid for s in result.files],
        [s.uid for s in result.commits],
        [s.uid for s in result.similar],
    ]


class _GitClock:
    """Counts the subprocesses (git) triage starts and the time they take."""

    def __init__(self) -> None:
        self.calls, self.seconds = 0, 0.0
        self._run = subprocess.run

    def __enter__(self) -> _GitClock:
        def run(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return self._run(*a, **k)
            finally:
                self.calls += 1
                self.seconds += time.perf_counter() - t

        subprocess.run = run  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run = self._run  # type: ignore[assignment]


def _set_clone(store: Any, path: str) -> None:
    """The store's Repository row; its path says where the clone is ('' = none). Triage
    re-reads it at most every 2 s (`STAMP_TTL_S`), so wait that long."""
    store.write(
        nodes("Repository", [{"uid": f"repo:{REPO}", "name": REPO, "path": path, "head": "HEAD"}]),
        **W,
    )
    time.sleep(2.1)


def run_tickets(
    store: Any, tickets: list[dict[str, Any]], embedder: str, clone: str
) -> dict[str, Any]:
    """Triage every ticket without, then (when `clone`) with the clone; only APIs that a
    baseline revision has too (this runs under `--baseline`'s code as well)."""
    from graph_service.triage import TicketInput, TriageConfig, similar, triage

    cfg = TriageConfig.model_validate({"embedder": embedder})
    qs = [TicketInput.model_validate(t) for t in tickets]
    out: dict[str, Any] = {}
    _set_clone(store, "")
    t = time.perf_counter()
    triage(store, qs[0], None, cfg)  # builds the indexes and fits the scorer
    out["first_s"] = time.perf_counter() - t
    print(f"first triage (indexes, scorer fit) {out['first_s']:.1f} s", file=sys.stderr, flush=True)
    tri, sim, ranks = [], [], []
    for q in qs:
        t = time.perf_counter()
        r = triage(store, q, None, cfg)
        tri.append((time.perf_counter() - t) * 1000)
        ranks.append(_ranks(r))
        t = time.perf_counter()
        similar(store, q, 10, cfg)
        sim.append((time.perf_counter() - t) * 1000)
    out.update(triage_ms=tri, similar_ms=sim, ranks=ranks)
    if clone:
        _set_clone(store, clone)
        runs: dict[str, dict[str, list[Any]]] = {
            p: {"ms": [], "git_ms": [], "git_calls": [], "ranks": []} for p in ("cold", "warm")
        }
        for q in qs:  # each ticket twice: git's answers cached by the first for the second
            for phase in ("cold", "warm"):
                with _GitClock() as clock:
                    t = time.perf_counter()
                    r = triage(store, q, None, cfg)
                    runs[phase]["ms"].append((time.perf_counter() - t) * 1000)
                runs[phase]["git_ms"].append(clock.seconds * 1000)
                runs[phase]["git_calls"].append(clock.calls)
                runs[phase]["ranks"].append(_ranks(r))
        out["clone_cold"], out["clone_warm"] = runs["cold"], runs["warm"]
        _set_clone(store, "")
    return out


def _replay(args: argparse.Namespace) -> None:
    """`--replay DB TICKETS OUT`: run_tickets on an existing store (a baseline's code)."""
    from graph_service.store.ladybug_store import LadybugStore

    db, tickets, out = (Path(p) for p in args.replay)
    store = LadybugStore(db)  # no schema check: a baseline may predate the store's version
    try:
        result = run_tickets(store, json.loads(tickets.read_text()), args.embedder, args.clone_path)
    finally:
        store.close()
    out.write_text(json.dumps(result))


def _baseline(
    rev: str,
    tmp: Path,
    db: Path,
    tickets: list[dict[str, Any]],
    args: argparse.Namespace,
    clone: str,
) -> dict[str, Any]:
    worktree = tmp / "baseline"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(worktree), rev],
        check=True,
        capture_output=True,
    )
    try:
        (tmp / "tickets.json").write_text(json.dumps(tickets))
        env = {**os.environ, "PYTHONPATH": str(worktree)}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--embedder", args.embedder]
        cmd += ["--clone-path", clone, "--replay", str(db), str(tmp / "tickets.json")]
        cmd += [str(tmp / "base.json")]
        subprocess.run(cmd, check=True, env=env)
        return dict(json.loads((tmp / "base.json").read_text()))
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
            check=False,
            capture_output=True,
        )


def _pct(xs: list[float]) -> tuple[float, float]:
    return float(np.percentile(xs, 50)), float(np.percentile(xs, 99))


def _ann(n: int, queries: int, rng: np.random.Generator) -> dict[str, float]:
    """ANN (faiss IVF) against brute-force cosine over n clustered 384-d embeddings."""
    from graph_service.triage.vectors import VectorIndex, exact_search

    centers = rng.normal(size=(max(n // 200, 10), 384)).astype(np.float32)
    vecs = np.empty((n, 384), dtype=np.float32)
    for k in range(0, n, 100_000):
        m = min(100_000, n - k)
        vecs[k : k + m] = centers[rng.integers(0, len(centers), m)] + 0.3 * rng.normal(
            size=(m, 384)
        )
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    t = time.perf_counter()
    idx = VectorIndex(vecs)
    build_s = time.perf_counter() - t
    qs = vecs[rng.integers(0, n, queries)] + 0.05 * rng.normal(size=(queries, 384)).astype(
        np.float32
    )
    ann_ms, exact_ms, recall = [], [], []
    for q in qs:
        t = time.perf_counter()
        got = idx.search(q, 10)
        ann_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        truth = exact_search(vecs, q, 10)
        exact_ms.append((time.perf_counter() - t) * 1000)
        recall.append(len({i for i, _ in got} & {i for i, _ in truth}) / 10)
    a50, a99 = _pct(ann_ms)
    e50, e99 = _pct(exact_ms)
    return {
        "n": n,
        "build_s": build_s,
        "ann_p50": a50,
        "ann_p99": a99,
        "exact_p50": e50,
        "exact_p99": e99,
        "recall10": float(np.mean(recall)),
    }


def _row(name: str, xs: list[float], base: list[float] | None = None) -> str:
    p50, p99 = _pct(xs)
    cells = [name, f"{p50:.1f}", f"{p99:.1f}"]
    if base:
        b50, b99 = _pct(base)
        cells += [f"{b50:.1f}", f"{b99:.1f}", f"{p99 / b99:.2f}x"]
    return "| " + " | ".join(cells) + " |"


def _same(ours: list[Any], theirs: list[Any]) -> int:
    return sum(a == b for a, b in zip(ours, theirs, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--ann-tickets", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--embedder", default="hashing", choices=["hashing", "minilm", "none"])
    ap.add_argument("--no-clone", action="store_true", help="Skip the run with a git clone.")
    ap.add_argument("--baseline", default=None, help="Also triage with this revision's code.")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--replay", nargs=3, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--clone-path", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.replay:
        _replay(args)
        return
    from graph_service.settings import Settings
    from graph_service.store import open_store

    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "g.lbug"
        store = open_store(Settings(db_path=db), create=True)
        t = time.perf_counter()
        built = build(store, args.nodes, args.tickets, rng)
        sizes, net = built["sizes"], built["net"]
        load_s = time.perf_counter() - t
        print(f"loaded {sizes} in {load_s:.1f} s", file=sys.stderr, flush=True)
        tickets = _queries(args.queries, rng, net)
        clone = "" if args.no_clone else str(_make_clone(tmp, net))
        _set_clone(store, "")
        n_nodes = sum(store.counts()["nodes"].values())
        store.close()
        base = _baseline(args.baseline, tmp, db, tickets, args, clone) if args.baseline else None
        store = open_store(Settings(db_path=db))
        from graph_service.triage import TriageConfig
        from graph_service.triage.code_index import code_index
        from graph_service.triage.similar import ticket_index

        t = time.perf_counter()
        code_index(store)
        ticket_index(store, TriageConfig(embedder=args.embedder))
        index_s = time.perf_counter() - t
        print(f"indexes built in {index_s:.1f} s", file=sys.stderr, flush=True)
        ours = run_tickets(store, tickets, args.embedder, clone)
        store.close()
    ann = _ann(args.ann_tickets, args.queries, rng)
    print(_report(args, sizes, n_nodes, load_s, index_s, ours, base, ann))
    if base is not None:
        keys = [k for k in ("clone_cold", "clone_warm") if k in ours and k in base]
        pairs = [(ours["ranks"], base["ranks"])] + [
            (ours[k]["ranks"], base[k]["ranks"]) for k in keys
        ]
        if any(a != b for a, b in pairs):
            raise SystemExit(f"rankings differ from {args.baseline}'s (see above)")


def _report(
    args: argparse.Namespace,
    sizes: dict[str, int],
    n_nodes: int,
    load_s: float,
    index_s: float,
    ours: dict[str, Any],
    base: dict[str, Any] | None,
    ann: dict[str, float],
) -> str:
    command = (
        f".venv/bin/python bench/triage.py --nodes {args.nodes} --tickets {args.tickets} "
        f"--ann-tickets {args.ann_tickets} --queries {args.queries} --embedder {args.embedder}"
        + (" --no-clone" if args.no_clone else "")
        + (f" --baseline {args.baseline}" if args.baseline else "")
    )
    head = "| operation | p50 ms | p99 ms |"
    rule = "| --- | ---: | ---: |"
    if base is not None:
        head += f" {args.baseline} p50 | {args.baseline} p99 | p99 ratio |"
        rule += " ---: | ---: | ---: |"

    def b(key: str, sub: str | None = None) -> list[float] | None:
        if base is None:
            return None
        return base[key][sub] if sub else base[key]

    traced = ours["triage_ms"][0::2]
    plain = ours["triage_ms"][1::2]
    rows = [
        _row(
            "`triage()`, every ticket (warm; target p99 ≤ 300 ms)",
            ours["triage_ms"],
            b("triage_ms"),
        ),
        _row(
            "`triage()`, tickets with a stack trace", traced, (b("triage_ms") or [])[0::2] or None
        ),
        _row("`triage()`, tickets without one", plain, (b("triage_ms") or [])[1::2] or None),
        _row(f"`similar()` over {sizes['tickets']:,} tickets", ours["similar_ms"], b("similar_ms")),
    ]
    notes = []
    if "clone_cold" in ours:
        cold, warm = ours["clone_cold"], ours["clone_warm"]
        rows += [
            _row(
                "`triage()` with the clone, first time (git blame, git show)",
                cold["ms"],
                b("clone_cold", "ms"),
            ),
            _row("  of which git subprocesses", cold["git_ms"], b("clone_cold", "git_ms")),
            _row(
                "`triage()` with the clone, again (blame and bodies cached)",
                warm["ms"],
                b("clone_warm", "ms"),
            ),
        ]
        notes.append(
            f"With the clone, a ticket's first triage started {np.mean(cold['git_calls']):.1f} git "
            f"processes on average (max {max(cold['git_calls'])}); the second "
            f"{np.mean(warm['git_calls']):.1f}."
        )
    if base is not None:
        pairs = [("no clone", ours["ranks"], base["ranks"])]
        if "clone_cold" in ours and "clone_cold" in base:
            pairs += [
                ("clone, first", ours["clone_cold"]["ranks"], base["clone_cold"]["ranks"]),
                ("clone, again", ours["clone_warm"]["ranks"], base["clone_warm"]["ranks"]),
            ]
        same = "; ".join(f"{name} {_same(a, b_)} of {len(a)}" for name, a, b_ in pairs)
        notes.append(
            f"Rankings (suspect functions, files, commits and similar tickets, in order) "
            f"identical to {args.baseline}'s for: {same}. First triage (indexes and scorer fit) "
            f"{ours['first_s']:.1f} s here, {base['first_s']:.1f} s with {args.baseline}."
        )
    n = ann["n"]
    return "\n".join(
        [
            "### Triage latency (`bench/triage.py`)",
            "",
            f"Command: `{command}`",
            "",
            f"Graph: {n_nodes:,} nodes ({sizes['functions']:,} functions, "
            f"{sizes['files']:,} files, {sizes['commits']:,} commits, "
            f"{sizes['tickets']:,} tickets); load {load_s:.1f} s; index build "
            f"(code BM25 + ticket index) {index_s:.1f} s; first triage (fits the scorer "
            f"on labelled tickets) {ours['first_s']:.1f} s; both once per store change.",
            "",
            head,
            rule,
            *rows,
            "",
            *[f"{x}\n" for x in notes],
            "| nearest neighbours | p50 ms | p99 ms | target |",
            "| --- | ---: | ---: | --- |",
            f"| ANN top-10 over {n:,} embeddings (faiss IVF) | {ann['ann_p50']:.2f} "
            f"| {ann['ann_p99']:.2f} | p99 ≤ 50 ms |",
            f"| baseline: brute-force cosine over {n:,} | {ann['exact_p50']:.2f} "
            f"| {ann['exact_p99']:.2f} | |",
            "",
            f"ANN speed-up over brute force (p99): "
            f"{ann['exact_p99'] / max(ann['ann_p99'], 1e-9):.1f}x; recall@10 against brute "
            f"force {ann['recall10']:.3f}; ANN build {ann['build_s']:.1f} s.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
