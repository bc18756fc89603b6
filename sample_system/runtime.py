"""Runs the sample services' real code for one deployment window under the OpenTelemetry SDK."""

from __future__ import annotations

import importlib
import io
import linecache
import logging
import random
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind

from sample_system.history import PY_SERVICES, git
from sample_system.workload import FakeDatabase, Workload

logger = logging.getLogger(__name__)

__all__ = ["ErrorEvent", "WindowResult", "WindowSpec", "run_window"]

_GO_PKG = "github.com/example-shop/pricing/internal/quote"
_GO_HANDLER = "services/pricing/internal/quote/handler.go"
_GO_QUOTE = "services/pricing/internal/quote/quote.go"
_RATES = {"USD": 1.0, "EUR": 0.93, "GBP": 0.79, "JPY": 1.49}


@dataclass
class WindowSpec:
    """One deployment window: the code that ran, the versions deployed, the time span."""

    index: int
    sha: str
    start: datetime
    end: datetime
    requests: int
    deployed: dict[str, tuple[str, str]]  # service -> (version, sha)


@dataclass
class ErrorEvent:
    """An exception recorded on a SERVER span."""

    time_ns: int
    service: str
    route: str
    type: str
    message: str
    stacktrace: str
    trace_id: str
    version: str = ""


@dataclass
class WindowResult:
    payload: bytes
    spans: int
    errors: list[ErrorEvent] = field(default_factory=list)


class _SeededIds(IdGenerator):
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def generate_span_id(self) -> int:
        return self.rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self.rng.getrandbits(128) or 1


class _Collector(SpanProcessor):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class SimClock:
    """Simulated time: each read costs a few microseconds, hops and queries cost more."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = 0

    def __call__(self) -> int:
        self.now += self.rng.randrange(3_000, 40_000)
        return self.now

    def advance_ms(self, low: float, high: float) -> None:
        self.now += int(self.rng.uniform(low, high) * 1e6)


def materialise(repo: Path, sha: str, dest: Path) -> None:
    """Extract the services and libraries of one commit (generated helpers left out)."""
    data = git(
        repo, "archive", "--format=tar", sha, "libs", "services", ":(exclude)services/*/*/generated"
    )
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")


def _providers(spec: WindowSpec, ids: IdGenerator, sink: _Collector) -> dict[str, TracerProvider]:
    out = {}
    for service, (version, sha) in spec.deployed.items():
        language = "go" if service == "pricing" else "python"
        resource = Resource(
            {
                "service.name": service,
                "service.namespace": "example-shop",
                "service.version": version,
                "deployment.environment.name": "production",
                "vcs.ref.head.revision": sha,
                "telemetry.sdk.language": language,
                "telemetry.sdk.name": "opentelemetry",
            }
        )
        provider = TracerProvider(resource=resource, id_generator=ids, shutdown_on_exit=False)
        provider.add_span_processor(sink)
        out[service] = provider
    return out


def _go_line(root: Path, path: str, needle: str) -> int:
    for number, line in enumerate((root / path).read_text().splitlines(), start=1):
        if line.startswith(needle):
            return number
    return 1


class _Dispatcher:
    """Routes in-cluster requests: Python handlers, the Go pricing service, external hosts."""

    def __init__(
        self,
        root: Path,
        routes: dict[str, dict],
        providers: dict[str, TracerProvider],
        clock: SimClock,
        db: FakeDatabase,
        rng: random.Random,
    ) -> None:
        self.routes, self.clock, self.db, self.rng = routes, clock, db, rng
        self.go_tracer = providers["pricing"].get_tracer(_GO_PKG)
        self.go_lines = (
            _go_line(root, _GO_HANDLER, "func (h *Handler) ServeQuote"),
            _go_line(root, _GO_QUOTE, "func Compute("),
        )

    def __call__(self, service: str, method: str, route: str, message: dict) -> dict:
        self.clock.advance_ms(0.2, 1.5)
        if service in self.routes:
            response = self.routes[service][(method, route)](message)
        elif service == "pricing":
            response = self._pricing(message["body"])
        else:
            response = self._external(service, route, message["body"])
        self.clock.advance_ms(0.2, 1.5)
        return response  # type: ignore[no-any-return]

    def _pricing(self, body: dict) -> dict:
        attrs: dict[str, Any] = {
            "http.request.method": "POST",
            "http.route": "/quote",
            "code.function.name": f"{_GO_PKG}.(*Handler).ServeQuote",
            "code.file.path": _GO_HANDLER,
            "code.line.number": self.go_lines[0],
        }
        server = self.go_tracer.start_span(
            "POST /quote", kind=SpanKind.SERVER, attributes=attrs, start_time=self.clock()
        )
        with trace.use_span(server, end_on_exit=False):
            inner = self.go_tracer.start_span(
                "quote.Compute",
                attributes={
                    "code.function.name": f"{_GO_PKG}.Compute",
                    "code.file.path": _GO_QUOTE,
                    "code.line.number": self.go_lines[1],
                },
                start_time=self.clock(),
            )
            self.clock.advance_ms(0.1, 0.8)
            rate = _RATES[body["currency"]]
            prices = {sku: round(self.db.price_usd_cents(sku) * rate) for sku in body["skus"]}
            inner.end(end_time=self.clock())
        server.set_attribute("http.response.status_code", 200)
        server.end(end_time=self.clock())
        return {"status": 200, "body": {"prices": prices, "currency": body["currency"]}}

    def _external(self, service: str, route: str, body: dict) -> dict:
        if service == "acquirer":
            self.clock.advance_ms(40, 260)
            out: dict[str, Any] = {"auth_code": f"A{self.rng.randrange(10**6):06d}"}
            source = str(body.get("source", ""))
            if (
                route.endswith("captures")
                and body.get("currency") != "USD"
                and source.startswith("card:")
            ):
                out["settled_at_ms"] = self.clock.now // 1_000_000
            return {"status": 200, "body": out}
        self.clock.advance_ms(15, 90)
        return {"status": 200, "body": {"id": f"msg-{self.rng.randrange(10**8):08d}"}}


def _errors(spans: list[ReadableSpan]) -> list[ErrorEvent]:
    out = []
    for span in spans:
        if span.kind != SpanKind.SERVER:
            continue
        for event in span.events:
            if event.name != "exception" or not event.attributes:
                continue
            out.append(
                ErrorEvent(
                    event.timestamp,
                    str(span.resource.attributes.get("service.name")),
                    str((span.attributes or {}).get("http.route", "")),
                    str(event.attributes.get("exception.type", "")),
                    str(event.attributes.get("exception.message", "")),
                    str(event.attributes.get("exception.stacktrace", "")),
                    f"{span.context.trace_id:032x}",
                    str(span.resource.attributes.get("service.version", "")),
                )
            )
    return out


def _import_services(root: Path) -> tuple[Any, dict[str, dict]]:
    sys.path[:0] = [str(root / "libs/shopkit")] + [str(root / "services" / s) for s in PY_SERVICES]
    importlib.invalidate_caches()
    shopkit = importlib.import_module("shopkit")
    for name in ("telemetry", "transport", "db", "clock"):
        importlib.import_module(f"shopkit.{name}")
    routes = {s: importlib.import_module(f"{s}.routes").ROUTES for s in PY_SERVICES}
    return shopkit, routes


def run_window(
    repo: Path,
    spec: WindowSpec,
    workdir: Path,
    workload: Workload,
    progress: Callable[[int], None] | None = None,
) -> WindowResult:
    """Materialise the deployed commit, import the services and replay the window's traffic."""
    root = workdir / f"w{spec.index:04d}"
    materialise(repo, spec.sha, root)
    rng = random.Random(f"window:{workload.seed}:{spec.index}")
    names = ("shopkit", *PY_SERVICES)
    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k.split(".")[0] in names}
    saved_path, saved_bytecode = list(sys.path), sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    sink = _Collector()
    try:
        shopkit, routes = _import_services(root)
        providers = _providers(spec, _SeededIds(rng), sink)
        clock = SimClock(rng)
        db = workload.database(spec, rng)
        shopkit.telemetry.configure(providers, str(root))
        shopkit.clock.install(clock)
        shopkit.db.install(db.driver(clock))
        dispatch = _Dispatcher(root, routes, providers, clock, db, rng)
        shopkit.transport.install(dispatch)
        workload.replay(spec, dispatch, clock, db, rng, progress)
    finally:
        for k in [k for k in sys.modules if k.split(".")[0] in names]:
            del sys.modules[k]
        sys.modules.update(saved)
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        linecache.clearcache()
    payload = encode_spans(sink.spans).SerializeToString()
    return WindowResult(payload, len(sink.spans), _errors(sink.spans))
