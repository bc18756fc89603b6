"""Benchmark: OTLP spans -> the traces loader -> a fresh embedded store, against parsing alone.

Usage: .venv/bin/python bench/traces.py [--spans 1000000] [--live --exporters 16]

With `--live`, the same spans also go through `POST /v1/traces` of the real server
(bench/traces_live.py) and the file loader's end-to-end rate is the floor of that comparison.

Spans are produced once by the OpenTelemetry SDK (12 services, HTTP calls between them, database
and queue spans, 1% recorded exceptions), encoded with the OTLP encoder and cached as protobuf
files of 10k spans under bench/.cache/. Each measurement runs in a fresh child process so the
peak RSS belongs to it alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["main"]

CACHE = Path(__file__).parent / ".cache"
SPANS_PER_FILE = 10_000
T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def _generate(n_spans: int, out: Path) -> None:
    """Write ceil(n/10k) protobuf files of real SDK spans encoded by the OTLP encoder."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    out.mkdir(parents=True, exist_ok=True)
    exporter = InMemorySpanExporter()
    tracers = []
    for i in range(12):
        provider = TracerProvider(
            resource=Resource.create({"service.name": f"svc-{i}", "service.version": f"1.{i}.0"})
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracers.append(provider.get_tracer("bench"))
    rng = random.Random(7)
    made, file_no, t = 0, 0, T0

    def span(
        svc: int,
        name: str,
        kind: SpanKind,
        start: int,
        dur: int,
        attrs: dict[str, Any] | None = None,
    ) -> trace.Span:
        return tracers[svc].start_span(name, kind=kind, start_time=start, attributes=attrs)

    while made < n_spans:
        caller, callee = rng.randrange(12), rng.randrange(12)
        callee = (callee + 1) % 12 if callee == caller else callee
        op = rng.randrange(20)
        dur = int(rng.lognormvariate(2.5, 0.6) * MS)
        root = span(
            caller, f"GET /api/{op}", SpanKind.SERVER, t, dur + 2 * MS, {"http.route": f"/api/{op}"}
        )
        with trace.use_span(root, end_on_exit=False):
            cl = span(caller, f"GET /v1/{op}", SpanKind.CLIENT, t + MS, dur)
            with trace.use_span(cl, end_on_exit=False):
                srv = span(callee, f"GET /v1/{op}", SpanKind.SERVER, t + MS, dur - MS // 2)
                with trace.use_span(srv, end_on_exit=False):
                    db = span(
                        callee,
                        "SELECT items",
                        SpanKind.CLIENT,
                        t + MS,
                        MS,
                        {"db.system": "postgresql", "db.namespace": f"db{callee}"},
                    )
                    db.end(end_time=t + 2 * MS)
                    if rng.random() < 0.01:
                        try:
                            raise KeyError(f"item {rng.randrange(10**6)}")
                        except KeyError as e:
                            srv.record_exception(e)
                srv.end(end_time=t + MS + dur - MS // 2)
            cl.end(end_time=t + MS + dur)
        root.end(end_time=t + dur + 2 * MS)
        made += 4
        t += MS
        if len(exporter.get_finished_spans()) >= SPANS_PER_FILE or made >= n_spans:
            data = encode_spans(exporter.get_finished_spans()).SerializeToString()
            (out / f"spans-{file_no:05d}.pb").write_bytes(data)
            exporter.clear()
            file_no += 1


def _measure(files: list[str], what: str, workers: int) -> dict[str, Any]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    start = time.perf_counter()
    if what == "parse":
        n = 0
        for f in files:
            req = ExportTraceServiceRequest()
            req.ParseFromString(Path(f).read_bytes())
            n += sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
        out: dict[str, Any] = {"spans": n}
    elif what == "aggregate":
        from loaders.traces.loader import aggregate_files

        agg = aggregate_files(files, True, 200_000)
        agg.finish()
        out = {"spans": agg.spans}
    else:
        from graph_service.ingest import ingest
        from graph_service.settings import Settings
        from graph_service.store import open_store
        from loaders.traces import make_loader

        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(db_path=Path(tmp) / "bench.lbug")
            start = time.perf_counter()
            store = open_store(settings, create=True)
            report = ingest(store, make_loader(files, settings, {"workers": str(workers)}))
            seconds = time.perf_counter() - start
            counts = store.counts()
            store.close()
        out = {
            "spans": int(report.stats.get("spans", 0)),
            "failed": len(report.failed_batches),
            "edges": sum(counts["edges"].values()),
            "nodes": sum(counts["nodes"].values()),
            "seconds": seconds,
        }
    out.setdefault("seconds", time.perf_counter() - start)
    rss = max(
        resource.getrusage(who).ru_maxrss
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    out["peak_rss_mb"] = rss / 1024  # the largest single process (worker processes included)
    return out


def _child(files_dir: Path, what: str, workers: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--measure", what, "--dir", str(files_dir)]
    cmd += ["--workers", str(workers)]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def _live(data_dir: Path, exporters: int, file_rate: float, file_run: dict[str, Any]) -> None:
    """POST /v1/traces with concurrent exporters against the file loader's rate (same run)."""
    files = sorted(str(p) for p in data_dir.glob("*.pb"))
    cmd = [sys.executable, str(Path(__file__).parent / "traces_live.py"), "--run", str(exporters)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    res = subprocess.run(cmd + files, check=True, capture_output=True, text=True, env=env)
    live = json.loads(res.stdout.strip().splitlines()[-1])
    rate = live["spans"] / live["seconds"]
    print(
        f"\n### POST /v1/traces, {exporters} concurrent exporters ({live['requests']:,} requests)\n"
    )
    print("| measurement | seconds | spans/s | ratio to the file loader | memory (MB) |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| floor: file loader end to end (above) | {file_run['seconds']:.2f} | "
        f"{file_rate:,.0f} | 1.000 | {file_run['peak_rss_mb']:.0f} (peak RSS) |"
    )
    print(
        f"| live: first request to every span readable | {live['seconds']:.2f} | {rate:,.0f} | "
        f"{rate / file_rate:.3f} | {live['server_rss_mb']:.0f} (server peak RSS; "
        f"{live['server_base_rss_mb']:.0f} idle) |"
    )
    print(
        f"\nRequests answered in {live['answered_s']:.2f} s "
        f"({live['spans'] / live['answered_s']:,.0f} spans/s accepted); request latency "
        f"p50 {live['p50_ms']:.1f} ms, p99 {live['p99_ms']:.1f} ms; failed requests "
        f"{live['failed']}; spans written {live['written']:,} of {live['spans']:,} "
        f"({live['stored_after_restart']:,} in the store after the graceful shutdown, which "
        f"took {live['shutdown_s']:.1f} s)."
    )
    per_half = live["pending_bytes_per_half"]
    print(
        f"Pending-halves store: {per_half:.0f} bytes per waiting half, "
        f"{per_half * 200_000 / 2**20:.0f} MB at the default bound (200,000 halves)."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=1, help="loader processes (0 = one per core)")
    ap.add_argument("--live", action="store_true", help="also POST /v1/traces, concurrently")
    ap.add_argument("--exporters", type=int, default=16, help="concurrent exporters (--live)")
    ap.add_argument("--measure", choices=["parse", "aggregate", "ingest"], help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        files = sorted(str(p) for p in Path(args.dir).glob("*.pb"))
        print(json.dumps(_measure(files, args.measure, args.workers)))
        return
    data_dir = CACHE / f"traces-{args.spans}"
    if not (data_dir / "done").exists():
        t = time.perf_counter()
        _generate(args.spans, data_dir)
        (data_dir / "done").write_text("ok")
        print(f"generated {args.spans} spans in {time.perf_counter() - t:.1f} s -> {data_dir}")
    floor = _child(data_dir, "parse", args.workers)
    agg = _child(data_dir, "aggregate", args.workers)
    e2e = _child(data_dir, "ingest", args.workers)
    rate = {k: r["spans"] / r["seconds"] for k, r in (("f", floor), ("a", agg), ("e", e2e))}
    print(
        f"\n### Traces ingest ({e2e['spans']:,} spans -> {e2e['nodes']:,} nodes, "
        f"{e2e['edges']:,} edges)\n"
    )
    print("| measurement | seconds | spans/s | ratio to floor | peak RSS (MB) |")
    print("| --- | --- | --- | --- | --- |")
    for label, key, r in (
        ("floor: protobuf parsing alone", "f", floor),
        ("span aggregation alone (one process, no store)", "a", agg),
        ("end to end: loader + fresh embedded store", "e", e2e),
    ):
        print(
            f"| {label} | {r['seconds']:.2f} | {rate[key]:,.0f} | "
            f"{rate[key] / rate['f']:.3f} | {r['peak_rss_mb']:.0f} |"
        )
    met = "met" if rate["e"] >= 200_000 else "NOT met"
    print(f"\nTarget >= 200,000 spans/s end to end: {met}.")
    if args.live:
        _live(data_dir, args.exporters, rate["e"], e2e)
    print(
        f"Loader processes: {args.workers or 'one per core'}; CPU cores: {os.cpu_count()}; "
        f"load average at the end: {os.getloadavg()[0]:.1f}."
    )
    print(
        f"\nCommand: `.venv/bin/python bench/traces.py --spans {args.spans}"
        + (f" --workers {args.workers}" if args.workers != 1 else "")
        + (f" --live --exporters {args.exporters}`" if args.live else "`")
    )


if __name__ == "__main__":
    main()
