"""Where Ladybug's Cypher parser breaks, so the query guard's limits keep a wide margin.

    .venv/bin/python bench/query_guard.py probe [--kinds list,paren,...] [--depths 10,50,...]
    .venv/bin/python bench/query_guard.py size [--sizes 10000,100000,...]
    .venv/bin/python bench/query_guard.py limits [--max-chars 16384 --max-depth 16]

`limits` builds the costliest queries the guard still lets through (nested as deep as allowed,
repeated up to the size limit) and times their compilation, which no timeout interrupts.

Each query runs in a child process of its own (deep nesting segfaults the parser), watched
from outside: killed with SIGKILL past `--time-limit` seconds or `--rss-limit-mb` of memory
(the parser ignores SIGTERM while it recurses). Prints one line per probe: outcome, seconds,
peak RSS.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CHILD = """
import sys, time, ladybug
q = sys.stdin.read()
db = ladybug.Database(sys.argv[1])
conn = ladybug.Connection(db)
t = time.perf_counter()
try:
    conn.execute(q)
    out = "ok"
except Exception as e:
    out = "error: " + str(e).splitlines()[0][:80] if str(e) else "error"
print(f"{out}|{time.perf_counter() - t:.3f}", flush=True)
"""

# one nested construct per kind: depth -> query text
KINDS: dict[str, Callable[[int], str]] = {
    "list": lambda d: "RETURN " + "[" * d + "1" + "]" * d,
    "paren": lambda d: "RETURN " + "(" * d + "1" + ")" * d,
    "map": lambda d: "RETURN " + "{a: " * d + "1" + "}" * d,
    "func": lambda d: "RETURN " + "abs(" * d + "1" + ")" * d,
    "case": lambda d: "RETURN " + "CASE WHEN true THEN " * d + "1" + " END" * d,
    "not": lambda d: "RETURN " + "NOT " * d + "true",
    "neg": lambda d: "RETURN " + "- " * d + "1",
    "plus": lambda d: "RETURN 1" + " + 1" * d,
    "and": lambda d: "RETURN true" + " AND true" * d,
    "union": lambda d: "RETURN 1 AS x" + " UNION ALL RETURN 1 AS x" * d,
    "path": lambda d: "MATCH (a0)" + "".join(f"-[]->(a{i + 1})" for i in range(d)) + " RETURN 1",
    "with": lambda d: "WITH 1 AS x " * d + "RETURN x",
}


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_child(query: str, db: Path, time_limit: float, rss_limit_mb: int) -> str:
    """Run one query in a fresh process; the outcome, seconds and peak RSS as one line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(query)
    proc.stdin.close()
    peak, killed = 0, ""
    while proc.poll() is None:
        peak = max(peak, _rss_kb(proc.pid))
        elapsed = time.perf_counter() - start
        if elapsed > time_limit:
            killed = f"killed after {time_limit:.0f} s"
        elif peak > rss_limit_mb * 1024:
            killed = f"killed at {rss_limit_mb} MB"
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    assert proc.stdout is not None
    out = proc.stdout.read().strip()
    if killed:
        outcome = killed
    elif proc.returncode and proc.returncode < 0:
        outcome = f"crashed ({signal.Signals(-proc.returncode).name})"
    elif "|" in out:
        outcome, query_s = out.rsplit("|", 1)
        return f"{outcome:<60} query {float(query_s):7.3f} s  peak {peak / 1024:6.0f} MB"
    else:
        outcome = f"exit {proc.returncode}"
    return f"{outcome:<60} wall  {elapsed:7.3f} s  peak {peak / 1024:6.0f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["probe", "size", "limits"])
    ap.add_argument("--max-chars", type=int, default=16_384)
    ap.add_argument("--max-depth", type=int, default=16)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--depths", default="10,50,100,200,400")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--rss-limit-mb", type=int, default=2048)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "probe.lbug"
        subprocess.run([sys.executable, "-c", CHILD, str(db)], input="RETURN 1", check=True,
                       capture_output=True, text=True)
        if args.what == "probe":
            for kind in args.kinds.split(","):
                for depth in (int(d) for d in args.depths.split(",")):
                    q = KINDS[kind](depth)
                    res = run_child(q, db, args.time_limit, args.rss_limit_mb)
                    print(f"{kind:<6} depth {depth:>6} ({len(q):>7} chars): {res}", flush=True)
        elif args.what == "limits":
            for name, q in _worst_within(args.max_chars, args.max_depth).items():
                res = run_child(q, db, args.time_limit, args.rss_limit_mb)
                print(f"{name:<22} {len(q):>8} chars: {res}", flush=True)
        else:
            for size in (int(s) for s in args.sizes.split(",")):
                for name, q in _flat_queries(size).items():
                    res = run_child(q, db, args.time_limit, args.rss_limit_mb)
                    print(f"{name:<14} {len(q):>8} chars: {res}", flush=True)
    return 0


def _worst_within(max_chars: int, max_depth: int) -> dict[str, str]:
    """The costliest shapes under the limits: one structure as deep as allowed, repeated."""
    out = {}
    for kind in ("list", "map", "paren", "func", "case"):
        one = KINDS[kind](max_depth)[len("RETURN ") :]
        count = max(1, (max_chars - 20) // (len(one) + 12))
        q = "RETURN " + ", ".join(f"{one} AS c{i}" for i in range(count))
        out[f"{kind} depth {max_depth} x{count}"] = q[:max_chars] if len(q) > max_chars else q
    flat = max_chars // 2 - 10
    out["flat list"] = "RETURN [" + ",".join(["1"] * flat) + "]"
    return out


def _flat_queries(size: int) -> dict[str, str]:
    """Queries of about `size` characters with no nesting at all."""
    return {
        "comment": "RETURN 1 // " + "x" * size,
        "string": "RETURN '" + "x" * size + "'",
        "list": "RETURN [" + ",".join(["1"] * (size // 2)) + "]",
        "where_or": "MATCH (n) WHERE " + " OR ".join(["n.x = 1"] * (size // 11)) + " RETURN n",
        "unwind": "UNWIND [" + ",".join(["1"] * (size // 2)) + "] AS x RETURN count(x)",
    }


if __name__ == "__main__":
    sys.exit(main())
