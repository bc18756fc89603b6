"""Live OTLP: requests feed one open aggregation; a writer thread writes it out in batches.

A CLIENT span and its SERVER child are exported by different processes, in different requests,
seconds apart. Requests are therefore aggregated into one open `Aggregator` whose unpaired halves
wait in a shared `PendingHalves` store (bounded by a time-to-live and a size); every
`flush_interval_s` the open aggregation is swapped for a fresh one and written through the
injected `write` function, so a write serves many requests. Halves past their time-to-live
become edges to virtual peers; on `close()` (a graceful shutdown) the halves still waiting are
written as low-confidence edges and the load report says how many.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graph_service.batch import Batch
from graph_service.store.base import GraphReader
from loaders.base import Loader, LoadReport
from loaders.traces.aggregate import Aggregator
from loaders.traces.build import build_batches
from loaders.traces.otlp import decode, digest_of
from loaders.traces.pending import CONF_FLUSHED, PendingCounts, PendingHalves

logger = logging.getLogger(__name__)

__all__ = ["LiveConfig", "LiveTraces", "Received"]

_REJECTED = re.compile(r"^(\d+) span\(s\) rejected")
_ITEM = "otlp-http"
_MAX_MESSAGE = 5  # problems quoted in one response's error message
_WRITE_SHARE = 3.0  # wait this many times the last write's duration before the next one


class LiveConfig(BaseModel):
    """How long and how many halves wait, and how often the open aggregation is written."""

    model_config = ConfigDict(extra="forbid")

    ttl_s: float = Field(default=30.0, gt=0, description="How long a half waits for its partner.")
    max_pending: int = Field(default=200_000, ge=1, description="Halves waiting at most.")
    flush_interval_s: float = Field(default=1.0, gt=0, description="Seconds between writes.")
    max_unflushed_spans: int = Field(
        default=500_000, ge=1, description="Spans aggregated before a request waits for a write."
    )
    recent_requests: int = Field(
        default=100_000, ge=0, description="Request digests remembered to skip retried exports."
    )
    max_inflated_bytes: int = Field(
        default=64 << 20, ge=1, description="What a gzip payload inside a body may inflate to."
    )
    redact_pii: bool = True
    redact_addresses: bool = False


@dataclass
class Received:
    """What one request added: spans in it, spans rejected (with why), whether a retry."""

    spans: int
    rejected: int = 0
    message: str = ""
    duplicate: bool = False


class _Window:
    """One closed aggregation window as a loader (the runner writes what it yields)."""

    name = "traces"

    def __init__(self, agg: Aggregator, digests: list[str], stats: dict[str, int]) -> None:
        self.agg, self.digests, self.stats = agg, digests, stats

    def extract(self, report: LoadReport, reader: GraphReader | None = None) -> Iterator[Batch]:
        agg = self.agg
        agg.finish(resolve_pending=False)
        for item, reason, position in agg.problems:
            report.skip(item, reason, position or None)
        for item, reason, position in agg.warnings:
            report.warn(item, reason, position or None)
        report.stats.update(self.stats)
        report.stats["inputs"] = len(self.digests)
        if self.stats.get("halves_flushed_low_confidence"):
            report.warn(
                _ITEM,
                f"{self.stats['halves_flushed_low_confidence']} half(s) still waiting for their "
                "partner at shutdown written as low-confidence edges",
            )
        yield from build_batches(agg, reader, report, self.digests)


class LiveTraces:
    """The receiver's state; `receive` from request threads, `flush` from the writer thread."""

    def __init__(
        self,
        config: LiveConfig,
        write: Callable[[Loader], dict[str, Any]],
        known: Callable[[], set[str]] | None = None,
    ) -> None:
        self.config = config
        self.pending = PendingHalves(config.ttl_s, config.max_pending)
        self._write = write
        self._known = known
        self._lock = threading.Lock()  # the open aggregation and the pending store
        self._flush_lock = threading.Lock()  # one write at a time, in order
        self._agg = self._new()
        self._digests: list[str] = []
        self._recent: OrderedDict[str, None] | None = None
        self._unflushed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = 0.0  # seconds the last write took
        self._received_at = 0.0  # when the last request was aggregated (monotonic)
        self.reports: list[dict[str, Any]] = []  # the last few write reports, newest last

    def _new(self) -> Aggregator:
        return Aggregator(
            self.config.redact_pii,
            self.config.max_pending,
            pending=self.pending,
            redact_addresses=self.config.redact_addresses,
        )

    def start(self) -> None:
        """Start the writer thread (writes every `flush_interval_s`)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="otlp-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        """Write every `flush_interval_s`; under sustained traffic, less often if writes are slow.

        A write merges each touched edge with its stored value, a cost per edge rather than per
        span; while requests keep coming, waiting `_WRITE_SHARE` times the last write's duration
        keeps writing under a quarter of the time, so windows grow with the load instead of the
        writer starving requests. Once requests pause for an interval, the window is written.
        """
        interval = self.config.flush_interval_s
        written_at = time.monotonic()
        while not self._stop.wait(interval):
            now = time.monotonic()
            busy = now - self._received_at < interval
            if busy and now - written_at < _WRITE_SHARE * self._last:
                continue
            try:
                self.flush()
            except Exception:  # the thread must outlive one failed write; the next retries
                logger.exception("writing received spans failed")
            self._last = time.monotonic() - now
            written_at = time.monotonic()

    # ---- requests --------------------------------------------------------------------------
    def receive(self, data: bytes, content_type: str | None) -> Received:
        """Decode (OtlpDecodeError when nothing is usable) and aggregate one request body."""
        decoded = list(decode(data, _ITEM, content_type, self.config.max_inflated_bytes))
        in_body = sum(
            len(ss.spans)
            for d in decoded
            for rs in d.request.resource_spans
            for ss in rs.scope_spans
        )
        in_body += sum(
            int(m.group(1)) for d in decoded for _, why in d.problems if (m := _REJECTED.match(why))
        )
        digest = digest_of(data)
        with self._lock:
            recent = self._recent_digests()
            if digest in recent:
                recent.move_to_end(digest)
                return Received(in_body, duplicate=True)
            agg = self._agg
            spans, problems = agg.spans, len(agg.problems)
            for dec in decoded:
                agg.problems += [(_ITEM, why, where) for where, why in dec.problems]
                agg.warnings += [(_ITEM, why, where) for where, why in dec.warnings]
                agg.add_request(dec.request, _ITEM, dec.has_exceptions)
            accepted = agg.spans - spans
            new_problems = agg.problems[problems:]
            self._remember(recent, digest)
            self._digests.append(digest)
            self._unflushed += accepted
            self._received_at = time.monotonic()
            backlog = self._unflushed >= self.config.max_unflushed_spans
        if backlog:  # back-pressure: this request waits for a write
            self.flush()
        rejected = max(in_body - accepted, 0)
        message = "; ".join(f"{where}: {why}" for _, why, where in new_problems[:_MAX_MESSAGE])
        if rejected and not message:
            message = f"{rejected} span(s) rejected (see the load report)"
        return Received(in_body, rejected, message)

    def _recent_digests(self) -> OrderedDict[str, None]:
        if self._recent is None:
            self._recent = OrderedDict()
            for d in sorted(self._known() if self._known else set()):
                self._remember(self._recent, d)
        return self._recent

    def _remember(self, recent: OrderedDict[str, None], digest: str) -> None:
        recent[digest] = None
        while len(recent) > self.config.recent_requests:
            recent.popitem(last=False)

    # ---- writes ----------------------------------------------------------------------------
    def flush(self, *, final: bool = False) -> dict[str, Any] | None:
        """Write the open aggregation and the halves past their time-to-live (all when final)."""
        with self._flush_lock:
            with self._lock:
                agg, digests = self._agg, self._digests
                before = _copy(self.pending.counts)
                lone, _ = self.pending.drain(early=True) if final else self.pending.expire()
                agg.resolve_lone(lone, CONF_FLUSHED if final else 1.0)
                after = _copy(self.pending.counts)
                self._agg, self._digests, self._unflushed = self._new(), [], 0
                waiting = len(self.pending)
            stats = {
                "halves_paired": after.paired - before.paired,
                "halves_expired": after.expired - before.expired,
                "halves_dropped": after.dropped - before.dropped,
                "halves_flushed_low_confidence": after.flushed - before.flushed,
                "halves_waiting": waiting,
            }
            if not agg.spans and not agg.lone_svc and not agg.lone_res and not agg.problems:
                return None
            started = time.perf_counter()
            report = self._write(_Window(agg, digests, stats))
            logger.debug(
                "wrote %d span(s) of %d request(s) in %.2f s",
                agg.spans,
                len(digests),
                time.perf_counter() - started,
            )
            self.reports = [*self.reports[-9:], report]
            return report

    def close(self) -> dict[str, Any] | None:
        """Stop the writer thread and write everything, pending halves included."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        report = self.flush(final=True)
        if report is not None:
            flushed = report.get("stats", {}).get("halves_flushed_low_confidence", 0)
            logger.info(
                "OTLP receiver closed: %s half(s) still waiting written as low-confidence edges",
                flushed,
            )
        return report

    def counts(self) -> tuple[PendingCounts, int]:
        """Cumulative half counters and the number waiting now."""
        with self._lock:
            return _copy(self.pending.counts), len(self.pending)


def _copy(c: PendingCounts) -> PendingCounts:
    return PendingCounts(c.paired, c.expired, c.dropped, c.flushed)
