"""Benchmark: `prodgraph sample` generation time against a bare OpenTelemetry SDK floor.

    .venv/bin/python bench/sample.py [--sizes tiny,small] [--out docs/benchmarks/sample.md]

For each size it generates a fresh sample (timing the history and trace stages through the
progress callback), then measures the floor in the same run: the same number of spans made
with the bare SDK (start, 8 attributes, end) and encoded with the OTLP encoder, no application
code. The ratio says how much the real services, the git work and the tickets cost on top.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["main"]

TARGET_SMALL_S = 60.0


def _floor(spans: int) -> float:
    """Seconds to create, end and encode ``spans`` spans with the bare SDK."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    attrs = {f"k{i}": f"value-{i}" for i in range(8)}
    start = time.perf_counter()
    for _ in range(spans):
        tracer.start_span("op", attributes=attrs).end()
    encode_spans(exporter.get_finished_spans()).SerializeToString()
    return time.perf_counter() - start


def _run(size: str) -> dict[str, float | int | str]:
    from sample_system import generate

    marks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()

        def progress(stage: str, fraction: float) -> None:
            if fraction >= 1.0:
                marks[stage] = time.perf_counter() - start

        manifest = generate(Path(tmp) / size, seed=7, size=size, progress=progress)
        total = time.perf_counter() - start
    floor = _floor(manifest.spans)
    return {
        "size": size,
        "commits": manifest.commits,
        "spans": manifest.spans,
        "tickets": manifest.tickets_count,
        "total_s": total,
        "history_s": marks.get("history", 0.0),
        "traces_s": marks.get("traces", 0.0) - marks.get("history", 0.0),
        "floor_s": floor,
        "ratio": total / floor if floor else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="tiny,small")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = [_run(size) for size in args.sizes.split(",")]
    lines = [
        "| size | commits | spans | tickets | history s | traces s | total s | SDK floor s "
        "| total / floor |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['commits']} | {r['spans']:,} | {r['tickets']} "
            f"| {r['history_s']:.2f} | {r['traces_s']:.2f} | {r['total_s']:.2f} "
            f"| {r['floor_s']:.2f} | {r['ratio']:.1f}x |"
        )
    small = [r for r in rows if r["size"] == "small"]
    if small:
        ok = float(small[0]["total_s"]) < TARGET_SMALL_S
        lines.append(f"\nsmall under {TARGET_SMALL_S:.0f} s: {'yes' if ok else 'NO'}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            "# Sample generation\n\nCommand: `.venv/bin/python bench/sample.py --sizes tiny,small`"
            "\n\nFloor: the same number of spans created, ended and OTLP-encoded with the bare"
            " SDK in the same run (no application code, no git, no tickets).\n\n"
            f"{text}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
