"""Prometheus metrics on a per-app registry: requests by route template, store and ingest."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

logger = logging.getLogger(__name__)

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Every metric of one app instance; nothing is registered globally."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "prodgraph_http_requests",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "prodgraph_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.store_latency = Histogram(
            "prodgraph_store_query_duration_seconds",
            "Store read latency by kind.",
            ["kind"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "prodgraph_store_queries_in_flight", "Store reads running now.", registry=r
        )
        self.ingest_runs = Counter(
            "prodgraph_ingest_runs",
            "Ingest runs by source and outcome.",
            ["source", "outcome"],
            registry=r,
        )
        self.ingest_rows = Counter(
            "prodgraph_ingest_rows", "Rows written by ingest, by source.", ["source"], registry=r
        )
        self.spans = Counter(
            "prodgraph_otlp_spans",
            "Spans received on /v1/traces by outcome.",
            ["outcome"],
            registry=r,
        )
        self.pending_halves = Counter(
            "prodgraph_otlp_pending_halves",
            "Unpaired CLIENT/SERVER span halves by what became of them: paired, expired (past "
            "the time-to-live, written to a virtual peer), dropped (evicted, store full), "
            "flushed (written early as low-confidence edges at shutdown).",
            ["outcome"],
            registry=r,
        )
        self.pending_waiting = Gauge(
            "prodgraph_otlp_pending_halves_waiting",
            "Unpaired span halves waiting for their partner now.",
            registry=r,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    @contextmanager
    def store_timer(self, kind: str) -> Iterator[None]:
        start = time.perf_counter()
        self.in_flight.inc()
        try:
            yield
        finally:
            self.in_flight.dec()
            self.store_latency.labels(kind).observe(time.perf_counter() - start)

    def render(self) -> bytes:
        return generate_latest(self.registry)
