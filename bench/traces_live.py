"""Benchmark: spans through `POST /v1/traces` with many concurrent exporters, end to end.

Run through `bench/traces.py --live` (which also measures the file loader on the same spans in
the same run, as the floor). The server is the real app under uvicorn in its own process, on a
fresh embedded store; the load generator sends the cached spans as the SDK's exporters do: one
request per service and batch of at most 512 spans, protobuf, gzip, from `--exporters` threads.
The clock runs from the first request until the server has exited after a graceful shutdown,
that is until every span is written. The server's memory is sampled from /proc.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["measure_live", "pending_store_bytes", "serve"]

BATCH = 512  # the BatchSpanProcessor's max_export_batch_size
KEY = "bench-writer-key"
READER = "bench-reader-key"


def _bodies(files: list[str]) -> tuple[list[bytes], int]:
    """One gzipped protobuf request per service and batch of 512 spans, in file order."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    bodies, spans = [], 0
    for f in files:
        req = ExportTraceServiceRequest.FromString(Path(f).read_bytes())
        for rs in req.resource_spans:
            for ss in rs.scope_spans:
                for i in range(0, len(ss.spans), BATCH):
                    out = ExportTraceServiceRequest()
                    part = out.resource_spans.add()
                    part.resource.CopyFrom(rs.resource)
                    scope = part.scope_spans.add()
                    scope.scope.CopyFrom(ss.scope)
                    scope.spans.extend(ss.spans[i : i + BATCH])
                    spans += len(scope.spans)
                    bodies.append(gzip.compress(out.SerializeToString(), 6))
    return bodies, spans


def serve(db: str, port: int) -> None:
    """The real app on a fresh store (child process); exits after a graceful shutdown."""
    import uvicorn

    from graph_service.api import create_app
    from graph_service.api.auth import hash_key
    from graph_service.settings import Settings

    settings = Settings(
        db_path=Path(db),
        api_keys=[f"writer:{hash_key(KEY)}", f"reader:{hash_key(READER)}"],
        model_dir=Path(db).parent / "m",
    )
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure_live(files: list[str], exporters: int) -> dict[str, Any]:
    """Spans/s end to end, request latency percentiles, server memory, spans written."""
    import httpx

    from graph_service.settings import Settings
    from graph_service.store import open_store

    bodies, n_spans = _bodies(files)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "live.lbug")
        with httpx.Client() as probe:
            port = _free_port()
            proc = subprocess.Popen(
                [sys.executable, __file__, "--serve", db, str(port)],
                env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
            )
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 300
            while True:
                try:
                    if probe.get(f"{url}/health", timeout=2).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the server did not start")
                time.sleep(0.2)
        base_rss = _rss_mb(proc.pid)
        latencies: list[float] = []
        failures: list[int] = []
        peak = [base_rss]
        lock = threading.Lock()
        queue = iter(range(len(bodies)))

        def exporter() -> None:
            headers = {
                "Authorization": f"Bearer {KEY}",
                "Content-Type": "application/x-protobuf",
                "Content-Encoding": "gzip",
            }
            with httpx.Client(timeout=120) as client:
                while True:
                    with lock:
                        i = next(queue, None)
                    if i is None:
                        return
                    t = time.perf_counter()
                    r = client.post(f"{url}/v1/traces", content=bodies[i], headers=headers)
                    with lock:
                        latencies.append(time.perf_counter() - t)
                        if r.status_code != 200:
                            failures.append(r.status_code)

        def sampler() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _rss_mb(proc.pid))
                time.sleep(0.2)

        threading.Thread(target=sampler, daemon=True).start()
        start = time.perf_counter()
        threads = [threading.Thread(target=exporter) for _ in range(exporters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        answered = time.perf_counter() - start
        written = _wait_written(url, n_spans)  # every span visible to readers
        seconds = time.perf_counter() - start
        stop = time.perf_counter()
        proc.send_signal(signal.SIGINT)  # graceful: the receiver writes what is still open
        proc.wait(timeout=600)
        shutdown = time.perf_counter() - stop
        store = open_store(Settings(db_path=Path(db)))
        stored = store.query("MATCH ()-[r:EXPOSES]->() RETURN sum(r.count) AS n").rows()[0]["n"]
        store.close()
    latencies.sort()
    return {
        "spans": n_spans,
        "requests": len(bodies),
        "failed": len(failures),
        "written": written,
        "stored_after_restart": int(stored or 0),
        "shutdown_s": shutdown,
        "seconds": seconds,
        "answered_s": answered,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "server_rss_mb": peak[0],
        "server_base_rss_mb": base_rss,
    }


def _wait_written(url: str, n_spans: int, timeout: float = 900) -> int:
    """Poll the spans counted in the graph (through the API) until all `n_spans` are there."""
    import httpx

    query = {"query": "MATCH ()-[r:EXPOSES]->() RETURN sum(r.count)"}
    deadline = time.monotonic() + timeout
    written = 0
    with httpx.Client(timeout=60) as client:
        while written < n_spans and time.monotonic() < deadline:
            r = client.post(
                f"{url}/v1/cypher", json=query, headers={"Authorization": f"Bearer {READER}"}
            )
            written = int((r.json().get("rows") or [[0]])[0][0] or 0)
            if written < n_spans:
                time.sleep(0.1)
    return written


def pending_store_bytes(halves: int = 200_000) -> float:
    """Bytes per waiting half, measured by filling a store to its default bound."""
    import tracemalloc

    from loaders.traces.pending import PendingHalves

    tracemalloc.start()
    store = PendingHalves(30.0, halves)
    before = tracemalloc.get_traced_memory()[0]
    now = time.monotonic()
    for i in range(halves // 2):
        sid = i.to_bytes(8, "big")
        op = (f"svc-{i % 12}", f"GET /v1/{i % 20}")  # distinct strings: the worst case
        store.clients[sid] = (op, i, i, False, (None, f"10.0.{i % 250}.{i % 7}", 8080), now)
        store.servers[sid[::-1]] = ((f"svc-{i % 12}", f"GET /v1/{i % 20}"), False, now)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / halves


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1:2] == ["--run"]:
        out = measure_live(sys.argv[3:], int(sys.argv[2]))
        out["pending_bytes_per_half"] = pending_store_bytes()
        print(json.dumps(out))
