"""`POST /v1/traces`: the OTLP/HTTP receiver, with the real SDK exporter over real HTTP."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import httpx
import yaml
from fastapi.testclient import TestClient
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from graph_service.api import create_app
from graph_service.settings import Settings
from tests.graph_service.api.conftest import KEYS, auth
from tests.graph_service.api.otlp_util import otlp_request, record_spans, running_server

T = TypeVar("T")
WRITER = auth("writer")
PB = {**WRITER, "Content-Type": "application/x-protobuf"}
JS = {**WRITER, "Content-Type": "application/json"}


def eventually(fn: Callable[[], T], ok: Callable[[T], bool], timeout: float = 30.0) -> T:
    """`fn()` once `ok` holds (spans are written by the receiver's writer thread, ~1 s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def _services(client: TestClient) -> list[str]:
    r = client.post(
        "/v1/cypher",
        json={"query": "MATCH (s:Service) RETURN s.uid ORDER BY 1"},
        headers=auth("reader"),
    )
    return [row[0] for row in r.json()["rows"]]


def test_real_sdk_exporter_over_http(settings: Settings) -> None:
    app = create_app(settings)
    with running_server(app) as url:
        exporter = OTLPSpanExporter(
            endpoint=f"{url}/v1/traces", headers={"Authorization": f"Bearer {KEYS['writer']}"}
        )
        record_spans(exporter, service="otel-demo")
        rows = eventually(
            lambda: httpx.post(
                f"{url}/v1/cypher",
                headers=auth("reader"),
                json={
                    "query": "MATCH (s:Service {uid: 'svc:otel-demo'})-[:EXPOSES]->(o:Operation) "
                    "RETURN o.name ORDER BY 1"
                },
            ).json()["rows"],
            lambda rows: len(rows) == 2,
        )
        metrics = httpx.get(f"{url}/metrics").text
    assert sorted(row[0] for row in rows) == ["POST /checkout", "charge"]
    assert 'prodgraph_otlp_spans_total{outcome="accepted"} 2.0' in metrics


def test_protobuf_gzip_answers_protobuf(client: TestClient) -> None:
    body = gzip.compress(otlp_request("gz-svc").SerializeToString())
    r = client.post("/v1/traces", content=body, headers={**PB, "Content-Encoding": "gzip"})
    assert r.status_code == 200, r.content
    assert r.headers["content-type"] == "application/x-protobuf"
    resp = ExportTraceServiceResponse.FromString(r.content)
    assert not resp.HasField("partial_success")
    assert "svc:gz-svc" in eventually(lambda: _services(client), lambda s: "svc:gz-svc" in s)


def test_json_answers_json_and_twice_changes_nothing(client: TestClient) -> None:
    body = json_format.MessageToJson(otlp_request("json-svc")).encode()
    first = client.post("/v1/traces", content=body, headers=JS)
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert first.json() == {}
    assert "svc:json-svc" in eventually(lambda: _services(client), lambda s: "svc:json-svc" in s)
    time.sleep(1.5)  # the rest of that write
    counts = client.get("/v1/admin/counts", headers=auth("admin")).json()
    again = client.post("/v1/traces", content=body, headers=JS)
    assert again.status_code == 200
    time.sleep(1.5)  # past one write interval
    assert client.get("/v1/admin/counts", headers=auth("admin")).json() == counts


def test_partial_success_names_rejected_spans(client: TestClient) -> None:
    doc = json.loads(json_format.MessageToJson(otlp_request("half-svc")))
    orphan = json.loads(json.dumps(doc["resourceSpans"][0]))
    orphan["resource"] = {"attributes": []}  # no service.name: its 2 spans are rejected
    doc["resourceSpans"].append(orphan)
    r = client.post("/v1/traces", content=json.dumps(doc).encode(), headers=JS)
    assert r.status_code == 200, r.text
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "without service.name" in partial["errorMessage"]
    assert "svc:half-svc" in eventually(lambda: _services(client), lambda s: "svc:half-svc" in s)


def test_undecodable_body_is_400_status(client: TestClient) -> None:
    r = client.post("/v1/traces", content=b"\xff\x00 not protobuf at all", headers=PB)
    assert r.status_code == 400
    status = status_pb2.Status.FromString(r.content)
    assert status.code == 3 and status.message
    r = client.post("/v1/traces", content=b"{not json", headers=JS)
    assert r.status_code == 400 and r.json()["code"] == 3
    r = client.post("/v1/traces", content=b"plain", headers={**PB, "Content-Encoding": "gzip"})
    assert r.status_code == 400


def test_other_content_types_are_415(client: TestClient) -> None:
    r = client.post("/v1/traces", content=b"x", headers={**WRITER, "Content-Type": "text/plain"})
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "unsupported_media_type"


def test_traces_need_a_writer(client: TestClient) -> None:
    body = otlp_request().SerializeToString()
    r = client.post(
        "/v1/traces",
        content=body,
        headers={**auth("reader"), "Content-Type": "application/x-protobuf"},
    )
    assert r.status_code == 403


def _nested_value(depth: int) -> str:
    """An OTLP/JSON AnyValue `depth` arrays deep (written as text: json.dumps would recurse)."""
    return '{"arrayValue": {"values": [' * depth + '{"stringValue": "leaf"}' + "]}}" * depth


def test_malformed_otlp_is_400_or_rejected_never_500(settings: Settings) -> None:
    """Through the real server: too deep JSON is a 400; a span with bad ids is rejected."""
    doc = json.loads(json_format.MessageToJson(otlp_request("ids-svc")))
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    with running_server(create_app(settings)) as url:
        post = lambda body, h=JS: httpx.post(f"{url}/v1/traces", content=body, headers=h)  # noqa: E731
        r = post(b"[" * 100_000)
        assert r.status_code == 400 and "nested" in r.json()["message"], r.text
        deep = json.loads(json.dumps(doc))
        deep["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = "DEEP"
        body = json.dumps(deep).replace(
            '"DEEP"', '[{"key": "deep", "value": ' + _nested_value(5_000) + "}]"
        )
        r = post(body.encode())  # 15,000 levels of JSON
        assert r.status_code == 400 and "nested" in r.json()["message"], r.text
        r = post(gzip.compress(body.encode()), {**JS, "Content-Encoding": "gzip"})
        assert r.status_code == 400, r.text
        r = post(body.replace(_nested_value(5_000), _nested_value(100)).encode())
        assert r.status_code == 400 and "at most 64" in r.json()["message"], r.text
        bomb = gzip.compress(b"\0" * (settings.max_body_bytes + 1))  # gzip inside a plain body
        r = httpx.post(f"{url}/v1/traces", content=bomb, headers=PB)
        assert r.status_code == 400 and b"inflates past" in r.content, r.content
        bad = json.loads(json.dumps(doc))
        bad_spans = bad["resourceSpans"][0]["scopeSpans"][0]["spans"]
        bad_spans[0]["traceId"] = "xyz"
        bad_spans[1]["spanId"] = "00" * 8
        r = post(json.dumps(bad).encode())
        assert r.status_code == 200, r.text
        partial = r.json()["partialSuccess"]
        assert partial["rejectedSpans"] == "2"
        assert "traceId 'xyz' is not 32 hex digits" in partial["errorMessage"]
        assert "spanId is all zeros" in partial["errorMessage"]
        only_bad = json.loads(json.dumps(doc))
        only_bad["resourceSpans"][0]["scopeSpans"][0]["spans"] = [
            {**s, "traceId": "nothex"} for s in spans
        ]
        r = post(json.dumps(only_bad).encode())
        assert r.status_code == 200 and r.json()["partialSuccess"]["rejectedSpans"] == "2"
        pb = otlp_request("ids-svc")
        pb.resource_spans[0].scope_spans[0].spans[0].trace_id = b"\x01\x02"
        r = httpx.post(f"{url}/v1/traces", content=pb.SerializeToString(), headers=PB)
        resp = ExportTraceServiceResponse.FromString(r.content)
        assert r.status_code == 200 and resp.partial_success.rejected_spans == 1
        time.sleep(1.5)  # past a write
        rows = httpx.post(
            f"{url}/v1/cypher",
            headers=auth("reader"),
            json={
                "query": "MATCH (s:Service {uid: 'svc:ids-svc'})-[r:EXPOSES]->() "
                "RETURN sum(r.count)"
            },
        ).json()["rows"]
        metrics = httpx.get(f"{url}/metrics").text
    assert rows == [[1]]  # only the one valid protobuf span: nothing invented from bad ids
    assert 'prodgraph_otlp_spans_total{outcome="undecodable"} 5.0' in metrics


# the otlphttp exporter's and the loadbalancing exporter's settings (Collector documentation)
OTLPHTTP_FIELDS = {
    "endpoint",
    "traces_endpoint",
    "tls",
    "timeout",
    "read_buffer_size",
    "write_buffer_size",
    "encoding",
    "compression",
    "headers",
    "retry_on_failure",
    "sending_queue",
}
LOADBALANCING_FIELDS = {"routing_key", "protocol", "resolver", "timeout", "retry_on_failure"}


def _documented_collector_configs() -> list[dict[str, Any]]:
    text = (Path(__file__).parents[3] / "docs" / "formats.md").read_text()
    section = text[text.index("### Behind an OpenTelemetry Collector") :]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]


def test_documented_collector_configuration(client: TestClient) -> None:
    """docs/formats.md's Collector configuration parses, names real fields, and works."""
    main, scaled = _documented_collector_configs()
    exporter = main["exporters"]["otlphttp/prodgraph"]
    assert set(exporter) <= OTLPHTTP_FIELDS
    assert exporter["compression"] == "gzip" and exporter["encoding"] in ("proto", "json")
    path = urlparse(exporter["traces_endpoint"]).path
    assert path == "/v1/traces"
    pipeline = main["service"]["pipelines"]["traces"]
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(main[kind])
    balancer = scaled["exporters"]["loadbalancing"]
    assert set(balancer) <= LOADBALANCING_FIELDS and balancer["routing_key"] == "traceID"
    # what that exporter sends: protobuf, gzip, the key in the documented header
    headers = {
        k: v.replace("${env:PRODGRAPH_WRITER_KEY}", KEYS["writer"])
        for k, v in exporter["headers"].items()
    }
    r = client.post(
        path,
        content=gzip.compress(otlp_request("collector-svc").SerializeToString()),
        headers={**headers, "Content-Type": PB["Content-Type"], "Content-Encoding": "gzip"},
    )
    assert r.status_code == 200, r.content
    assert "svc:collector-svc" in eventually(
        lambda: _services(client), lambda s: "svc:collector-svc" in s
    )
