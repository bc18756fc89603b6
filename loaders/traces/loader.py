"""The traces loader: OTLP files or request bodies -> services, operations, calls, errors."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from graph_service.batch import Batch
from graph_service.store.base import GraphReader
from loaders.base import LoadReport
from loaders.traces.aggregate import Aggregator
from loaders.traces.build import build_batches, known_inputs
from loaders.traces.otlp import OtlpDecodeError, decode, digest_of, expand_paths

logger = logging.getLogger(__name__)

__all__ = ["TracesConfig", "TracesLoader", "aggregate_files", "extract_from_bytes"]

_PARALLEL_BYTES = 8 << 20  # below this, one process is faster than starting workers


class TracesConfig(BaseModel):
    """Where spans come from and how they are aggregated."""

    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(default_factory=list, description="Files, folders or globs.")
    redact_pii: bool = True
    redact_addresses: bool = Field(
        default=False,
        description="Also redact IP addresses naming virtual peers (`<ip>`); off by default, "
        "since `host:port` is what tells two unknown peers apart.",
    )
    max_pending: int = Field(
        default=200_000, ge=1, description="Unmatched CLIENT/SERVER spans kept to pair later."
    )
    workers: int = Field(
        default=1,
        ge=0,
        description="Processes aggregating files (worth it on idle multi-core machines); "
        "0 = one per CPU core, up to 8.",
    )


class TracesLoader:
    """Streams OTLP requests into accumulators; yields merged batches at the end.

    Inputs already merged (same bytes, remembered in the EXPOSES sketches) are skipped, so
    loading the same files twice changes nothing while new files add to counts and sketches.
    Many files are aggregated by several processes whose accumulators are then merged.
    """

    name = "traces"

    def __init__(
        self, config: TracesConfig, payloads: list[tuple[str, bytes, str | None]] | None = None
    ) -> None:
        self.config = config
        self._payloads = payloads

    def extract(self, report: LoadReport, reader: GraphReader | None = None) -> Iterator[Batch]:
        known = known_inputs(reader)
        digests: list[str] = []
        if self._payloads is not None:
            agg = Aggregator(
                self.config.redact_pii,
                self.config.max_pending,
                redact_addresses=self.config.redact_addresses,
            )
            for name, data, content_type in self._payloads:
                digest = digest_of(data)
                if _fresh(name, digest, known, report):
                    digests.append(digest)
                    _add_payload(agg, name, data, content_type)
        else:
            agg = self._aggregate_files(
                [str(p) for p in expand_paths(self.config.paths)], known, report
            )
            digests = agg.digests
        agg.finish()
        report.stats["halves_paired"] = agg.pending.counts.paired
        report.stats["halves_unpaired"] = agg.pending.counts.expired
        for item, reason, position in agg.problems:
            report.skip(item, reason, position or None)
        for item, reason, position in agg.warnings:
            report.warn(item, reason, position or None)
        report.stats["inputs"] = len(digests)
        yield from build_batches(agg, reader, report, digests)

    def _aggregate_files(self, paths: list[str], known: set[str], report: LoadReport) -> Aggregator:
        """One process reads each file once; workers get files whose digests were checked."""
        cfg = self.config
        workers = cfg.workers or min(os.cpu_count() or 1, 8)
        size = sum(os.path.getsize(f) for f in paths if os.path.isfile(f))
        if workers < 2 or len(paths) < 2 * workers or size < _PARALLEL_BYTES:
            return aggregate_files(
                paths, cfg.redact_pii, cfg.max_pending, known, cfg.redact_addresses
            )
        files, digests = [], []
        for path in paths:
            file_digest = _file_digest(Path(path), report)
            if file_digest and _fresh(path, file_digest, known, report):
                digests.append(file_digest)
                files.append(path)
        step = -(-len(files) // workers)  # contiguous runs keep a trace's files together
        chunks = [files[i : i + step] for i in range(0, len(files), step)]
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [
                pool.submit(
                    aggregate_files, c, cfg.redact_pii, cfg.max_pending, None, cfg.redact_addresses
                )
                for c in chunks
            ]
            agg = futures[0].result()
            for fut in futures[1:]:
                agg.absorb(fut.result())
        agg.digests = digests
        return agg


def aggregate_files(
    files: list[str],
    redact_pii: bool,
    max_pending: int,
    known: set[str] | None = None,
    redact_addresses: bool = False,
) -> Aggregator:
    """Aggregate files in order (in a worker process when the load is large).

    With `known` (digests already merged), files with known content are skipped and the
    digests of the others are kept in `agg.digests`.
    """
    agg = Aggregator(redact_pii, max_pending, redact_addresses=redact_addresses)
    for name in files:
        try:
            data = Path(name).read_bytes()
        except OSError as e:
            agg.problems.append((name, f"cannot read: {e.strerror or e}", ""))
            continue
        if known is not None:
            digest = digest_of(data)
            if digest in known:
                agg.warnings.append((name, "already ingested (same content); skipped", ""))
                continue
            known.add(digest)
            agg.digests.append(digest)
        _add_payload(agg, name, data, None)
    return agg


def _add_payload(agg: Aggregator, name: str, data: bytes, content_type: str | None) -> None:
    """Decode and aggregate one input; its problems and warnings go to the aggregator."""
    try:
        for dec in decode(data, name, content_type):
            for position, reason in dec.problems:
                agg.problems.append((name, reason, position))
            for position, reason in dec.warnings:
                agg.warnings.append((name, reason, position))
            agg.add_request(dec.request, name, dec.has_exceptions)
    except OtlpDecodeError as e:
        agg.problems.append((name, e.message, ""))


def _file_digest(path: Path, report: LoadReport) -> str | None:
    h = hashlib.sha1()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except OSError as e:
        report.skip(str(path), f"cannot read: {e.strerror or e}")
        return None
    return h.hexdigest()[:16]


def _fresh(name: str, digest: str, known: set[str], report: LoadReport) -> bool:
    if digest in known:
        report.warn(name, "already ingested (same content); skipped")
        return False
    known.add(digest)
    return True


def extract_from_bytes(
    data: bytes,
    content_type: str | None,
    report: LoadReport,
    reader: GraphReader | None = None,
    *,
    name: str = "request",
    redact_pii: bool = True,
) -> Iterator[Batch]:
    """Batches for one OTLP request body (protobuf or JSON, optionally gzipped).

    Decodes eagerly: a body with nothing usable raises OtlpDecodeError (a caller error naming
    the input and the byte position) before any batch is produced; partial damage is reported.
    """
    for _ in decode(data, name, content_type):
        pass
    loader = TracesLoader(TracesConfig(redact_pii=redact_pii), [(name, data, content_type)])
    return loader.extract(report, reader)
