"""Real OTLP payloads from the OpenTelemetry SDK, and a uvicorn server in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind


def record_spans(exporter: SpanExporter, service: str = "checkout") -> int:
    """Emit one SERVER span with a CLIENT child through `exporter`; returns spans made."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.version": "1.2.3"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    with (
        tracer.start_as_current_span(
            "POST /checkout",
            kind=SpanKind.SERVER,
            attributes={"http.route": "/checkout", "http.request.method": "POST"},
        ),
        tracer.start_as_current_span(
            "charge", kind=SpanKind.CLIENT, attributes={"peer.service": "payments"}
        ),
    ):
        pass
    provider.shutdown()
    return 2


def otlp_request(service: str = "checkout") -> ExportTraceServiceRequest:
    memory = InMemorySpanExporter()
    record_spans(memory, service)
    return encode_spans(memory.get_finished_spans())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # the app imports the risk model stack at startup
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
