"""Service load test: N concurrent clients on loopback against `prodgraph serve`, in one run.

    .venv/bin/python bench/api.py [--clients 50] [--rate 2] [--seconds 60] [--closed-seconds 20]

Builds a synthetic sample store through schema batches, trains a small risk model on it,
measures the in-process baseline (the same point query straight on the store), then starts
the server in a second process and drives it with a mix of point queries, named queries and
risk calls. Prints a markdown snippet; zero errors expected.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

from graph_service.api.auth import hash_key
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import open_store

POINT = "MATCH (f:Function {uid: $u}) RETURN f.name AS name, f.path AS path, f.loc AS loc"
KEY = "bench-reader-key"
TARGETS_MS = {"point": 20.0, "risk": 100.0}  # p99 targets


class _Synthetic:
    name = "synthetic"

    def __init__(self, functions: int, commits: int) -> None:
        self.functions, self.commits = functions, commits

    def extract(self, report, reader=None):  # type: ignore[no-untyped-def]
        from models.synthetic import SyntheticSpec, synthetic_batches

        yield from synthetic_batches(SyntheticSpec(functions=self.functions, commits=self.commits))


def build(settings: Settings, functions: int, commits: int) -> tuple[list[str], list[str], dict]:
    """Sample store + model; returns function uids, commit shas, and the in-process baseline."""
    store = open_store(settings, create=True)
    try:
        t = time.perf_counter()
        report = ingest(store, _Synthetic(functions, commits))
        print(
            f"built store: {sum(report.written.values()):,} rows in "
            f"{time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
        try:
            from models.config import RiskConfig
            from models.train import train

            t = time.perf_counter()
            train(store, settings, RiskConfig(epochs=20))
            print(f"trained model in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        except Exception as e:  # the risk model is optional for this bench
            print(f"no risk model ({type(e).__name__}: {e}); risk calls skipped", file=sys.stderr)
        uids = store.query("MATCH (f:Function) RETURN f.uid AS u", row_cap=10**7).table
        shas = store.query("MATCH (c:Commit) RETURN c.sha AS s", row_cap=10**7).table
        fn_uids = uids.column("u").to_pylist()
        commit_shas = shas.column("s").to_pylist()
        rng = random.Random(1)
        lat = []
        for _ in range(2000):
            t = time.perf_counter()
            store.query(POINT, {"u": rng.choice(fn_uids)}, timeout_s=30, row_cap=10_000)
            lat.append((time.perf_counter() - t) * 1000)
        baseline = {"p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99))}
    finally:
        store.close()  # the server process must be the one writer
    return fn_uids, commit_shas, baseline


def start_server(settings: Settings, port: int, has_model: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PRODGRAPH_DB_PATH": str(settings.db_path),
        "PRODGRAPH_MODEL_DIR": str(settings.model_dir),
        "PRODGRAPH_API_KEYS": f'["reader:{hash_key(KEY)}"]',
        "PRODGRAPH_MAX_CONCURRENT_QUERIES": "16",
    }
    code = (
        "from graph_service.api.serve import serve; from graph_service.settings import Settings; "
        f"serve(Settings(), '127.0.0.1', {port}, log_level='warning')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
            warm = r.json().get("checks", {}).get("risk_snapshot", "fresh")
            if r.status_code == 200 and (not has_model or warm.startswith("fresh")):
                return proc
            time.sleep(0.2)
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not become ready")


def _request(http: httpx.AsyncClient, route: str, rng: random.Random, fn_uids, shas):  # type: ignore[no-untyped-def]
    if route == "point":
        return http.post("/v1/cypher", json={"query": POINT, "params": {"u": rng.choice(fn_uids)}})
    if route == "named":
        return http.post("/v1/queries/callers", json={"params": {"uid": rng.choice(fn_uids)}})
    return http.post("/v1/risk", json={"sha": rng.choice(shas)})


async def drive(
    url: str,
    clients: int,
    seconds: float,
    fn_uids: list[str],
    shas: list[str],
    risk: bool,
    mix: dict[str, int],
    rate: float | None = None,
) -> dict[str, dict[str, list]]:
    """`clients` concurrent clients for `seconds`; per route: latencies (ms) and errors.

    With `rate` (requests per second per client), each client sends on its own Poisson
    schedule and latency counts from the scheduled send time, so time spent waiting behind a
    slow answer is counted (no coordinated omission). Without it, clients loop back to back
    (closed loop): the service's saturation throughput.
    """
    results: dict[str, dict[str, list]] = defaultdict(lambda: {"lat": [], "errors": []})
    routes = [r for r, w in mix.items() for _ in range(w) if r != "risk" or risk]
    end = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60, limits=limits
    ) as http:

        async def one(seed: int) -> None:
            rng = random.Random(seed)
            due = time.perf_counter() + (rng.expovariate(rate) if rate else 0.0)
            while time.monotonic() < end:
                if rate:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                route = rng.choice(routes)
                t = due if rate else time.perf_counter()
                try:
                    r = await _request(http, route, rng, fn_uids, shas)
                    ok = r.status_code == 200
                    detail = f"{r.status_code} {r.text[:200]}"
                except httpx.HTTPError as e:
                    ok, detail = False, repr(e)
                results[route]["lat"].append((time.perf_counter() - t) * 1000)
                if not ok:
                    results[route]["errors"].append(detail)
                if rate:
                    due += rng.expovariate(rate)

        await asyncio.gather(*(one(i) for i in range(clients)))
    return results


def report(results: dict, seconds: float, title: str, judge: bool) -> list[str]:
    lines = [
        title,
        "",
        "| route | requests | errors | req/s | p50 ms | p99 ms |"
        + (" p99 target |" if judge else ""),
        "| --- | ---: | ---: | ---: | ---: | ---: |" + (" --- |" if judge else ""),
    ]
    total = 0
    for route in ("point", "named", "risk"):
        if route not in results:
            continue
        lat, errs = results[route]["lat"], results[route]["errors"]
        total += len(lat)
        p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
        target = TARGETS_MS.get(route)
        verdict = f"<= {target:.0f} ms: {'met' if p99 <= target else 'MISSED'}" if target else ""
        lines.append(
            f"| {route} | {len(lat):,} | {len(errs)} | {len(lat) / seconds:,.1f} | "
            f"{p50:.1f} | {p99:.1f} |" + (f" {verdict} |" if judge else "")
        )
    lines.append(
        f"| **all** | {total:,} | "
        f"{sum(len(r['errors']) for r in results.values())} | {total / seconds:,.1f} | | |"
        + (" |" if judge else "")
    )
    return lines


def baseline_lines(results: dict, baseline: dict) -> list[str]:
    point = results.get("point", {"lat": [0.0]})["lat"]
    return [
        "",
        f"In-process baseline, same point query straight on the store (2,000 calls, one "
        f"thread): p50 {baseline['p50']:.2f} ms, p99 {baseline['p99']:.2f} ms. "
        f"HTTP/in-process ratio for the point query in the paced run: p50 "
        f"{np.percentile(point, 50) / baseline['p50']:.1f}x, p99 "
        f"{np.percentile(point, 99) / baseline['p99']:.1f}x.",
    ]


def solo_report(solo: dict, seconds: float) -> str:
    """Service time per route: one client, one request at a time."""
    lines = [
        "",
        f"Service time, one client at a time ({seconds:.0f} s per route, before the load test):",
        "",
        "| route | requests | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for route, r in solo.items():
        lat = r["lat"]
        lines.append(
            f"| {route} | {len(lat):,} | {np.percentile(lat, 50):.1f} | "
            f"{np.percentile(lat, 99):.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--functions", type=int, default=1500)
    ap.add_argument("--commits", type=int, default=700)
    ap.add_argument("--port", type=int, default=18765)
    ap.add_argument(
        "--solo-seconds",
        type=float,
        default=5.0,
        help="Seconds per route with one client first (service time, no queueing).",
    )
    ap.add_argument(
        "--mix", default="point=6,named=3,risk=1", help="Relative weights of the routes."
    )
    ap.add_argument(
        "--rate", type=float, default=2.0, help="Requests per second per client (paced run)."
    )
    ap.add_argument(
        "--closed-seconds",
        type=float,
        default=20.0,
        help="Seconds of back-to-back load after the paced run (0: skip).",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="prodgraph-bench-api-") as tmp:
        settings = Settings(db_path=Path(tmp) / "graph.lbug", model_dir=Path(tmp) / "models")
        fn_uids, shas, baseline = build(settings, args.functions, args.commits)
        has_model = (Path(tmp) / "models").is_dir() and any((Path(tmp) / "models").iterdir())
        proc = start_server(settings, args.port, has_model)
        try:
            url = f"http://127.0.0.1:{args.port}"
            mix = {k: int(v) for k, v in (p.split("=") for p in args.mix.split(","))}

            def run(clients: int, seconds: float, m: dict[str, int], rate: float | None):  # type: ignore[no-untyped-def]
                return asyncio.run(drive(url, clients, seconds, fn_uids, shas, has_model, m, rate))

            solo = {
                route: run(1, args.solo_seconds, {route: 1}, None)[route]
                for route in mix
                if route != "risk" or has_model
            }
            paced = run(args.clients, args.seconds, mix, args.rate)
            closed = (
                run(args.clients, args.closed_seconds, mix, None) if args.closed_seconds else {}
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    total_rate = args.clients * args.rate
    lines = report(
        paced,
        args.seconds,
        f"Paced load: {args.clients} concurrent clients for {args.seconds:.0f} s on loopback, "
        f"each sending {args.rate:g} requests/s on its own Poisson schedule "
        f"({total_rate:g} req/s offered; latency from the scheduled send time). Synthetic "
        f"store: {args.functions} functions, {args.commits} commits; mix {args.mix}.",
        judge=True,
    )
    lines += baseline_lines(paced, baseline)
    if closed:
        lines += [
            "",
            *report(
                closed,
                args.closed_seconds,
                f"Saturation: the same {args.clients} clients back to back, no pause "
                f"({args.closed_seconds:.0f} s, closed loop): throughput at capacity; latency here "
                "is queueing (clients / throughput).",
                judge=False,
            ),
        ]
    print("\n".join(lines))
    print(solo_report(solo, args.solo_seconds))
    errors = [e for r in [*paced.values(), *closed.values(), *solo.values()] for e in r["errors"]]
    for e in errors[:5]:
        print(f"error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
