"""Span accumulators: traffic (count, errors, first/last seen, latency sketch) per edge."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from loaders import stacktrace
from loaders.traces.sketch import LatencySketch

logger = logging.getLogger(__name__)

__all__ = ["FLUSH", "NEVER", "ErrorAcc", "OpAcc", "ServiceAcc", "Traffic"]

FLUSH = 8192  # buffered durations per accumulator before they go into its sketch
NEVER = 2**63


class Traffic:
    """Count, errors, first/last seen and a latency sketch (durations buffered in ns)."""

    __slots__ = ("count", "durs", "errors", "first", "last", "sketch")

    def __init__(self) -> None:
        self.count = 0
        self.errors = 0
        self.first = NEVER
        self.last = 0
        self.durs: list[int] = []
        self.sketch = LatencySketch()

    def add(self, start_ns: int, dur_ns: int, error: bool) -> None:
        self.errors += error
        if start_ns < self.first:
            self.first = start_ns
        if start_ns > self.last:
            self.last = start_ns
        self.durs.append(dur_ns)
        if len(self.durs) >= FLUSH:
            self.flush()

    def flush(self) -> None:
        if self.durs:
            self.count += len(self.durs)
            self.sketch.add_many_ns(self.durs)
            self.durs = []

    def merge(self, other: Traffic) -> None:
        self.flush()
        other.flush()
        self.count += other.count
        self.errors += other.errors
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)
        self.sketch.merge(other.sketch)


class OpAcc(Traffic):
    """An operation of a service; its traffic is the EXPOSES edge."""

    __slots__ = ("kind", "route")

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.route: str | None = None


@dataclass
class ServiceAcc:
    namespace: str | None = None
    language: str | None = None
    version: str | None = None
    environment: str | None = None
    ops: dict[str, OpAcc] = field(default_factory=dict)


@dataclass
class ErrorAcc:
    type: str
    template: str
    frames: list[stacktrace.Frame]
    count: int = 0
    first: int = NEVER
    last: int = 0
    seen_in: dict[tuple[str, str | None, str | None], list[int]] = field(default_factory=dict)
