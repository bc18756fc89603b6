"""Four services exporting live to the real server, as deployments do; the same spans as a file.

Each service has its own TracerProvider with a BatchSpanProcessor; most export with the SDK's
OTLPSpanExporter (protobuf, gzip), `payments` with an OTLP/JSON exporter (hex ids, gzip). Every
span is also kept in memory so the test can load exactly the same spans from a file.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer

from graph_service.store.base import GraphStore

SERVICES = ("frontend", "checkout", "inventory", "payments")
_HEX_IDS = ("traceId", "spanId", "parentSpanId")


class PaymentDeclined(Exception):
    pass


class OtlpJsonExporter(SpanExporter):
    """OTLP/HTTP with a JSON body as the spec spells it (hex ids), gzipped."""

    def __init__(self, endpoint: str, headers: dict[str, str]) -> None:
        self.endpoint, self.headers = endpoint, headers

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        doc = json_format.MessageToDict(encode_spans(spans))
        _hex(doc)
        r = httpx.post(
            self.endpoint,
            content=gzip.compress(json.dumps(doc).encode()),
            headers={
                **self.headers,
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
            timeout=30,
        )
        return SpanExportResult.SUCCESS if r.status_code == 200 else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass


def _hex(node: Any) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in _HEX_IDS and isinstance(v, str) and v:
                node[k] = base64.b64decode(v).hex()
            else:
                _hex(v)
    elif isinstance(node, list):
        for item in node:
            _hex(item)


class LiveShop:
    """The four services, exporting to `url` (None: in memory only)."""

    def __init__(self, url: str | None, key: str) -> None:
        self.memory = InMemorySpanExporter()
        self.providers: dict[str, TracerProvider] = {}
        self.tracers: dict[str, Tracer] = {}
        headers = {"Authorization": f"Bearer {key}"}
        for name in SERVICES:
            provider = TracerProvider(
                resource=Resource.create({"service.name": name, "service.version": "1.0.0"})
            )
            provider.add_span_processor(SimpleSpanProcessor(self.memory))
            if url is not None:
                exporter: SpanExporter = (
                    OtlpJsonExporter(f"{url}/v1/traces", headers)
                    if name == "payments"
                    else OTLPSpanExporter(
                        endpoint=f"{url}/v1/traces", headers=headers, compression=Compression.Gzip
                    )
                )
                provider.add_span_processor(
                    BatchSpanProcessor(exporter, schedule_delay_millis=50, max_export_batch_size=40)
                )
            self.providers[name] = provider
            self.tracers[name] = provider.get_tracer(f"shop.{name}")

    def run(self, requests: int) -> None:
        """`requests` purchases: frontend -> checkout -> inventory (-> database), payments."""
        t = self.tracers
        for i in range(requests):
            with t["frontend"].start_as_current_span(
                "GET /buy", kind=SpanKind.SERVER, attributes={"http.route": "/buy"}
            ):
                self._call("frontend", "checkout", "POST /checkout", partial(self._checkout, i))

    def _call(self, caller: str, callee: str, name: str, body: Any) -> None:
        addr = {"server.address": f"{callee}.shop.internal", "server.port": 8080}
        with (
            self.tracers[caller].start_as_current_span(name, kind=SpanKind.CLIENT, attributes=addr),
            self.tracers[callee].start_as_current_span(
                name, kind=SpanKind.SERVER, attributes={"http.route": name.split()[1], **addr}
            ),
        ):
            body()

    def _checkout(self, i: int) -> None:
        self._call("checkout", "inventory", "GET /stock", self._stock)
        try:
            self._call("checkout", "payments", "POST /charge", partial(self._charge, i))
        except PaymentDeclined:
            pass

    def _stock(self) -> None:
        with self.tracers["inventory"].start_as_current_span(
            "SELECT stock",
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": "postgresql", "db.namespace": "shop"},
        ):
            pass

    def _charge(self, i: int) -> None:
        if i % 7 == 3:
            raise PaymentDeclined(f"card declined for order {i}")

    def shutdown(self) -> None:
        for provider in self.providers.values():
            provider.force_flush()
            provider.shutdown()

    def write_file(self, path: Path, spans: Sequence[ReadableSpan] | None = None) -> Path:
        path.write_bytes(
            encode_spans(spans or self.memory.get_finished_spans()).SerializeToString()
        )
        return path


_GRAPH = {
    "services": "MATCH (s:Service) RETURN s.uid, s.version",
    "exposes": "MATCH (s:Service)-[r:EXPOSES]->(o:Operation) RETURN s.uid, o.uid, o.kind, "
    "o.route, r.count, r.errors, r.p50_ms, r.p95_ms, r.p99_ms, r.first_seen, r.last_seen",
    "calls": "MATCH (a:Operation)-[r:CALLS_OP]->(b:Operation) RETURN a.uid, b.uid, r.count, "
    "r.errors, r.p50_ms, r.p95_ms, r.p99_ms, r.first_seen, r.last_seen, r.confidence",
    "services_deps": "MATCH (a:Service)-[r:DEPENDS_ON]->(b:Service) RETURN a.uid, b.uid, "
    "r.count, r.errors, r.p50_ms, r.p99_ms, r.confidence",
    "resource_deps": "MATCH (a:Service)-[r:DEPENDS_ON]->(b:Resource) RETURN a.uid, b.uid, "
    "b.name, r.count, r.errors, r.p50_ms, r.p99_ms, r.confidence",
    "errors": "MATCH (e:ErrorSignature) RETURN e.uid, e.type, e.message_template, e.count",
    "seen_in": "MATCH (e:ErrorSignature)-[r:SEEN_IN]->(s:Service) RETURN e.uid, s.uid, r.count",
}


def graph_of(store: GraphStore) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the traces loader writes that a reader sees, as sorted rows."""
    out = {}
    for name, cypher in _GRAPH.items():
        rows = store.query(cypher, {}).rows()
        out[name] = sorted(tuple(r.values()) for r in rows)
    return out
