"""Live OTLP through the real server gives the same graph as the same spans loaded from a file."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan

from graph_service.api import create_app
from graph_service.api.auth import hash_key
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import open_store
from loaders.traces import TracesConfig, TracesLoader
from tests.conftest import StoreBackend
from tests.graph_service.api.conftest import KEYS
from tests.graph_service.api.live_shop import LiveShop, graph_of
from tests.graph_service.api.otlp_util import running_server

PB = {"Authorization": f"Bearer {KEYS['writer']}", "Content-Type": "application/x-protobuf"}


def _settings(tmp_path: Path, backend: StoreBackend, **extra: Any) -> Settings:
    return Settings(
        **backend.location,  # the live store: each backend in turn
        model_dir=tmp_path / "models",
        api_keys=[f"writer:{hash_key(KEYS['writer'])}", f"reader:{hash_key(KEYS['reader'])}"],
        otlp_flush_interval_s=0.1,
        **extra,
    )


def _file_graph(tmp_path: Path, files: list[Path]) -> dict[str, list[tuple[Any, ...]]]:
    store = open_store(Settings(db_path=tmp_path / "file" / "graph.lbug"), create=True)
    try:
        report = ingest(store, TracesLoader(TracesConfig(paths=[str(f) for f in files])))
        assert report.ok, report.to_dict()
        return graph_of(store)
    finally:
        store.close()


def _live_graph(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    store = open_store(settings)
    try:
        return graph_of(store)
    finally:
        store.close()


def _send(url: str, spans: list[ReadableSpan]) -> httpx.Response:
    body = encode_spans(spans).SerializeToString()
    r = httpx.post(f"{url}/v1/traces", content=body, headers=PB, timeout=30)
    assert r.status_code == 200, r.content
    return r


def _metric(url: str, outcome: str) -> float:
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(f'prodgraph_otlp_pending_halves_total{{outcome="{outcome}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_sdk_exporters_give_the_graph_of_the_file(tmp_path: Path, backend: StoreBackend) -> None:
    """Four services, BatchSpanProcessor each, protobuf+gzip and JSON+gzip, many requests."""
    settings = _settings(tmp_path, backend)
    with running_server(create_app(settings)) as url:
        shop = LiveShop(url, KEYS["writer"])
        shop.run(60)
        shop.shutdown()
        requests = 0.0
        for line in httpx.get(f"{url}/metrics").text.splitlines():
            if line.startswith('prodgraph_http_requests_total{method="POST",route="/v1/traces"'):
                requests += float(line.rsplit(" ", 1)[1])
    assert requests >= 8  # halves of each call travelled in different requests
    live = _live_graph(settings)
    file = _file_graph(tmp_path, [shop.write_file(tmp_path / "shop.pb")])
    assert live == file
    deps = {(a, b): (n, e, c) for a, b, n, e, _, _, c in live["services_deps"]}
    assert deps == {
        ("svc:frontend", "svc:checkout"): (60, 0, 1.0),
        ("svc:checkout", "svc:inventory"): (60, 0, 1.0),
        ("svc:checkout", "svc:payments"): (60, 9, 1.0),
    }
    assert [r[:4] for r in live["resource_deps"]] == [
        ("svc:inventory", "res:database:shop", "shop", 60)
    ]
    assert sum(r[3] for r in live["errors"]) == 18  # 9 declines, on both sides of the call


def test_out_of_order_duplicates_and_lone_halves(tmp_path: Path, backend: StoreBackend) -> None:
    """Server halves first, a retried export, a partner that never comes (TTL), a restart."""
    shop = LiveShop(None, KEYS["writer"])
    shop.run(10)
    spans = list(shop.memory.get_finished_spans())
    servers = [s for s in spans if s.kind.name == "SERVER"]
    others = [s for s in spans if s.kind.name != "SERVER"]
    charge = [s for s in others if s.name == "POST /charge"]
    lone = charge[:2]  # their payments halves are never sent
    sent_servers = [
        s
        for s in servers
        if s.parent is None or s.parent.span_id not in {c.context.span_id for c in lone}
    ]
    settings = _settings(tmp_path, backend, otlp_pending_ttl_s=5.0)
    with running_server(create_app(settings)) as url:
        _send(url, sent_servers[: len(sent_servers) // 2])  # server halves before their clients
        time.sleep(0.3)  # past a write: the halves wait across writes
        _send(url, others)
        _send(url, sent_servers[len(sent_servers) // 2 :])
        _send(url, others)  # a retried export: the same bytes again
        deadline = time.monotonic() + 60
        while _metric(url, "expired") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _metric(url, "expired") == 2  # the two lone charges, after the time-to-live
        assert _metric(url, "dropped") == 0
    live = _live_graph(settings)
    file = _file_graph(tmp_path, [shop.write_file(tmp_path / "a.pb", sent_servers + others)])
    assert live == file
    deps = {(a, b): (n, c) for a, b, n, _, _, _, c in live["services_deps"]}
    # the lone clients' server.address is one payments was seen serving on: mapped, not `<ip>`
    assert deps[("svc:checkout", "svc:payments")] == (10, 1.0)
    calls = {(a, b): n for a, b, n, *_ in live["calls"]}
    assert calls[("op:checkout:POST /charge", "op:payments:POST /charge")] == 8


def test_restart_writes_waiting_halves_as_low_confidence_edges(
    tmp_path: Path, backend: StoreBackend, caplog: pytest.LogCaptureFixture
) -> None:
    shop = LiveShop(None, KEYS["writer"])
    shop.run(1)
    spans = shop.memory.get_finished_spans()
    client = [s for s in spans if s.name == "POST /charge" and s.kind.name == "CLIENT"]
    unknown = [s for s in spans if s.name == "GET /stock" and s.kind.name == "CLIENT"]
    settings = _settings(tmp_path, backend, otlp_pending_ttl_s=600)
    caplog.set_level(logging.INFO, logger="loaders.traces.live")
    with running_server(create_app(settings)) as url:
        _send(url, client + unknown)  # no server half ever comes, no service is known to serve
    live = _live_graph(settings)
    assert "2 half(s) still waiting written as low-confidence edges" in caplog.text
    assert [(a, b, n, c) for a, b, _, n, _, _, _, c in live["resource_deps"]] == [
        ("svc:checkout", "res:host:inventory.shop.internal:8080", 1, 0.5),
        ("svc:checkout", "res:host:payments.shop.internal:8080", 1, 0.5),
    ]
    # the next start pairs nothing with them, and loading them again adds nothing
    with running_server(create_app(settings)) as url:
        _send(url, client + unknown)
    assert _live_graph(settings) == live
