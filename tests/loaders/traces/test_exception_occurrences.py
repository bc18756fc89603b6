"""One exception is one occurrence, however many enclosing spans the SDK recorded it on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from loaders.traces.aggregate import Aggregator

SRC = """\
def parse(raw):
    return int(raw)


def load(raw):
    with tracer.start_as_current_span("load"):
        return parse(raw)


def handle(raw):
    with tracer.start_as_current_span("handle"):
        return load(raw)
"""


def _spans(tmp_path: Path, inputs: list[str]) -> tuple[Any, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "api"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    src = tmp_path / "app" / "handlers.py"
    src.parent.mkdir(parents=True)
    src.write_text(SRC)
    ns: dict[str, Any] = {"tracer": provider.get_tracer("app")}
    exec(compile(SRC, str(src), "exec"), ns)
    for raw in inputs:
        try:
            ns["handle"](raw)
        except ValueError:
            pass
    return provider, exporter


def test_an_exception_recorded_on_each_enclosing_span_counts_once(tmp_path: Path) -> None:
    _, exporter = _spans(tmp_path, ["x", "y", "7", "z"])
    spans = exporter.get_finished_spans()
    events = [e for s in spans for e in s.events if e.name == "exception"]
    assert len(events) == 6  # the SDK records each failure on both spans
    agg = Aggregator()
    agg.add_request(encode_spans(spans), "spans.pb")
    assert len(agg.errors) == 1
    (acc,) = agg.errors.values()
    assert acc.count == 3 and acc.type == "ValueError"
    # the longest stack (recorded by the outermost span) is the one kept
    assert [f.function for f in acc.frames][-3:] == ["handle", "load", "parse"]
    assert acc.seen_in[("api", None, None)][0] == 3


def test_occurrences_in_different_traces_all_count(tmp_path: Path) -> None:
    _, exporter = _spans(tmp_path, ["x"])
    first = encode_spans(exporter.get_finished_spans())
    exporter.clear()
    _, exporter2 = _spans(tmp_path / "again", ["y"])
    agg = Aggregator()
    agg.add_request(first, "a.pb")
    agg.add_request(encode_spans(exporter2.get_finished_spans()), "b.pb")
    assert sum(acc.count for acc in agg.errors.values()) == 2
