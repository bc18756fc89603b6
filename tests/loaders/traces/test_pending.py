"""The pending-halves store and pairing across requests, on real SDK spans."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from graph_service.ingest import ingest
from loaders.traces.aggregate import Aggregator
from loaders.traces.live import LiveConfig, LiveTraces
from loaders.traces.pending import PendingHalves
from tests.conftest import StoreBackend


def _calls(n: int, callee_attrs: dict[str, object] | None = None) -> list[ReadableSpan]:
    """`n` calls web -> api: a CLIENT span in `web`, its SERVER child in `api`."""
    memory = InMemorySpanExporter()
    tracers = {}
    for name in ("web", "api"):
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(SimpleSpanProcessor(memory))
        tracers[name] = provider.get_tracer(name)
    addr = {"server.address": "10.0.0.7", "server.port": 8080}
    for _ in range(n):
        with (
            tracers["web"].start_as_current_span(
                "GET /items", kind=SpanKind.CLIENT, attributes=addr
            ),
            tracers["api"].start_as_current_span(
                "GET /items", kind=SpanKind.SERVER, attributes=callee_attrs or addr
            ),
        ):
            pass
    return list(memory.get_finished_spans())


def _request(spans: list[ReadableSpan]) -> ExportTraceServiceRequest:
    return encode_spans(spans)


def test_halves_pair_across_requests_in_either_order() -> None:
    spans = _calls(3)
    servers = [s for s in spans if s.kind is SpanKind.SERVER]
    clients = [s for s in spans if s.kind is SpanKind.CLIENT]
    pending = PendingHalves(30.0, 100)
    first = Aggregator(pending=pending)
    first.add_request(_request(servers[:2] + clients[2:]), "a")  # servers 0-1 wait, client 2 waits
    assert (len(pending.servers), len(pending.clients)) == (2, 1)
    second = Aggregator(pending=pending)
    second.add_request(_request(clients[:2] + servers[2:]), "b")
    assert len(pending) == 0 and pending.counts.paired == 3
    second.finish(resolve_pending=False)
    assert {k: t.count for k, t in second.svc_deps.items()} == {("web", "api"): 3}


def test_expiry_and_eviction_are_counted_and_resolved() -> None:
    spans = _calls(4)
    clients = [s for s in spans if s.kind is SpanKind.CLIENT]
    pending = PendingHalves(ttl_s=5.0, max_size=3)
    agg = Aggregator(pending=pending)
    agg.add_request(_request(clients), "a")
    assert len(pending.clients) == 3 and pending.counts.dropped == 1
    assert pending.expire(now=0.0) == ([], 0)  # none is 5 s old yet
    lone, servers = pending.expire(now=agg._arrival + 5.0)
    assert len(lone) == 3 and servers == 0 and pending.counts.expired == 3
    agg.resolve_lone(lone, 1.0)
    agg.finish(resolve_pending=False)
    # nobody was seen serving on 10.0.0.7:8080: a virtual peer named honestly, no `<ip>`
    assert {k: t.count for k, t in agg.lone_res.items()} == {("web", "res:host:10.0.0.7:8080"): 4}


def test_lone_clients_map_to_the_service_serving_on_their_address() -> None:
    spans = _calls(3)
    pending = PendingHalves()
    agg = Aggregator(pending=pending)
    agg.add_request(_request(spans[:2] + spans[3:]), "a")  # api's SERVER span 1 never comes
    agg.finish()
    assert {k: t.count for k, t in agg.svc_deps.items()} == {("web", "api"): 2}
    assert {k: t.count for k, t in agg.lone_svc.items()} == {("web", "api"): 1}
    assert agg.lone_conf[("web", "api")] == 0.8
    pending = PendingHalves()
    pending.serving("api", "10.0.0.7", 8080)
    pending.serving("billing", "10.0.0.7", 9090)
    assert pending.resolve((None, "10.0.0.7", 8080)) == ("api", None)
    assert pending.resolve((None, "10.0.0.7", 7000)) == (None, "10.0.0.7:7000")  # two serve there
    assert pending.resolve(("billing", "10.1.1.1", 80)) == (None, "billing")  # not seen yet
    pending.names.add("billing")
    assert pending.resolve(("billing", "10.1.1.1", 80)) == ("billing", None)


def test_live_windows_write_what_one_file_load_writes(backend: StoreBackend) -> None:
    """Requests through LiveTraces (several writes) and one file load: the same edges."""
    spans = _calls(20)
    servers = [s for s in spans if s.kind is SpanKind.SERVER]
    clients = [s for s in spans if s.kind is SpanKind.CLIENT]
    store = backend.open()
    live = LiveTraces(LiveConfig(ttl_s=60), lambda loader: ingest(store, loader).to_dict())
    for part in (servers[:10], clients[5:], servers[10:], clients[:5]):
        body = _request(part).SerializeToString()
        assert live.receive(body, "application/x-protobuf").rejected == 0
        live.flush()
    assert live.receive(body, "application/x-protobuf").duplicate  # a retried export
    report = live.close()
    assert report is None  # nothing left to write
    q = "MATCH (a:Service)-[r:DEPENDS_ON]->(b:Service) RETURN a.uid, b.uid, r.count, r.confidence"
    assert store.query(q).rows() == [
        {"a.uid": "svc:web", "b.uid": "svc:api", "r.count": 20, "r.confidence": 1.0}
    ]
    counts = live.counts()[0]
    assert (counts.paired, counts.expired, counts.dropped, counts.flushed) == (20, 0, 0, 0)
    store.close()
