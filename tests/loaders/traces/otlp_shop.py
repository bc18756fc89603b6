"""Real spans from the OpenTelemetry SDK across four services, encoded with the OTLP encoder."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

T0 = 1_700_000_000_000_000_000  # 2023-11-14, nanoseconds
MS = 1_000_000

CHARGE_SRC = """\
class PaymentError(Exception):
    pass


def validate(card):
    if card.startswith("4"):
        raise PaymentError(f"card {card} declined for order {card}-77 by bob@example.com")


def charge_card(card):
    validate(card)
    return "ok"
"""


class Shop:
    """Four services with their own TracerProviders; spans end with explicit times."""

    def __init__(self, tmp_path: Path) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracers = {
            name: self._tracer(name, version)
            for name, version in (
                ("frontend", "2.0.0"),
                ("orders", "1.1.0"),
                ("payments", "1.4.0"),
                ("emailer", "0.3.0"),
            )
        }
        src = tmp_path / "shop" / "payments" / "charge.py"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(CHARGE_SRC)
        ns: dict[str, Any] = {}
        exec(compile(CHARGE_SRC, str(src), "exec"), ns)
        self.charge_card: Callable[[str], str] = ns["charge_card"]

    def _tracer(self, service: str, version: str) -> trace.Tracer:
        provider = TracerProvider(
            resource=Resource.create(
                {
                    "service.name": service,
                    "service.version": version,
                    "deployment.environment.name": "prod",
                }
            )
        )
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        return provider.get_tracer(f"shop.{service}")

    def _span(
        self,
        svc: str,
        name: str,
        kind: SpanKind,
        start: int,
        dur_ms: float,
        attrs: dict[str, Any] | None = None,
        links: list[Link] | None = None,
    ) -> trace.Span:
        return self.tracers[svc].start_span(
            name, kind=kind, start_time=start, attributes=attrs or {}, links=links
        )

    def checkout(self, i: int, start: int, client_ms: float, card: str = "5100") -> None:
        """frontend SERVER -> CLIENT -> orders SERVER (db, payments, kafka) -> emailer."""
        root = self._span(
            "frontend",
            "GET /checkout",
            SpanKind.SERVER,
            start,
            client_ms + 5,
            {"http.route": "/checkout"},
        )
        with trace.use_span(root, end_on_exit=False):
            cl = self._span(
                "frontend",
                "POST /orders",
                SpanKind.CLIENT,
                start + MS,
                client_ms,
                {"server.address": "orders.internal"},
            )
            with trace.use_span(cl, end_on_exit=False):
                self._orders(start + 2 * MS, client_ms - 2, card)
            cl.end(end_time=start + MS + int(client_ms * MS))
            ext = self._span(
                "frontend",
                "GET geo",
                SpanKind.CLIENT,
                start + 2 * MS,
                3.0,
                {"server.address": "api.geo.example"},
            )
            ext.end(end_time=start + 5 * MS)
        root.end(end_time=start + int((client_ms + 5) * MS))

    def _orders(self, start: int, dur_ms: float, card: str) -> None:
        srv = self._span(
            "orders",
            "POST /orders",
            SpanKind.SERVER,
            start,
            dur_ms,
            {
                "http.route": "/orders",
                "code.function.name": "orders.api.create_order",
                "code.file.path": "/srv/shop/orders/api.py",
                "code.line.number": 12,
            },
        )
        with trace.use_span(srv, end_on_exit=False):
            db = self._span(
                "orders",
                "SELECT orders",
                SpanKind.CLIENT,
                start + MS,
                1.0,
                {
                    "db.system": "postgresql",
                    "db.namespace": "orders_db",
                    "server.address": "10.0.0.5",
                },
            )
            db.end(end_time=start + 2 * MS)
            pay = self._span("orders", "POST /charge", SpanKind.CLIENT, start + MS, 4.0)
            with trace.use_span(pay, end_on_exit=False):
                self._payments(start + 2 * MS, card)
            pay.end(end_time=start + 5 * MS)
            prod = self._span(
                "orders",
                "order-events publish",
                SpanKind.PRODUCER,
                start + 3 * MS,
                0.5,
                {"messaging.system": "kafka", "messaging.destination.name": "order-events"},
            )
            prod.end(end_time=start + 3 * MS + MS // 2)
        srv.end(end_time=start + int(dur_ms * MS))
        link = Link(prod.get_span_context())
        cons = self.tracers["emailer"].start_span(
            "order-events process",
            kind=SpanKind.CONSUMER,
            start_time=start + 10 * MS,
            links=[link],
            context=trace.set_span_in_context(trace.INVALID_SPAN),
            attributes={"messaging.system": "kafka", "messaging.destination.name": "order-events"},
        )
        cons.end(end_time=start + 12 * MS)

    def _payments(self, start: int, card: str) -> None:
        srv = self._span("payments", "charge", SpanKind.SERVER, start, 2.0)
        with trace.use_span(
            srv, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            try:
                self.charge_card(card)
            except Exception as e:  # a real exception with a real traceback
                srv.record_exception(e, timestamp=start + MS)
                srv.set_status(Status(StatusCode.ERROR, str(e)))
        srv.end(end_time=start + 2 * MS)

    def take_request(self) -> Any:
        spans = self.exporter.get_finished_spans()
        self.exporter.clear()
        return encode_spans(spans)


def build(tmp_path: Path, n: int, first: int = 0, cards: tuple[str, ...] = ("5100",)) -> Any:
    """n checkouts with client latencies first+1 .. first+n ms; returns the OTLP request."""
    shop = Shop(tmp_path)
    for i in range(n):
        card = cards[i % len(cards)]
        shop.checkout(i, T0 + (first + i) * 1000 * MS, float(first + i + 1) + 2, card)
    return shop.take_request()


def to_otlp_json(request: Any) -> str:
    """OTLP/JSON as the collector writes it: camelCase, hex trace and span ids."""
    doc = json_format.MessageToDict(request)

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                    node[k] = base64.b64decode(v).hex()
                else:
                    fix(v)
        elif isinstance(node, list):
            for x in node:
                fix(x)

    fix(doc)
    return json.dumps(doc)
