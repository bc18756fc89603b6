"""Running a loader into a store: validate and write each batch, report, never half-write."""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from collections.abc import Callable

from graph_service.batch import DeleteEdgesFrom, DeleteNodes, EdgeBatch, NodeBatch
from graph_service.errors import BatchValidationError, QueryError
from graph_service.store.base import GraphStore
from loaders.base import Loader, LoadReport

logger = logging.getLogger(__name__)

__all__ = ["CRASH_AFTER_ENV", "crash_point", "ingest", "new_run_id"]

# Test hook of the crash-safety tests, read by the CLI (its edge): `<loader>:<n>` kills the
# process with SIGKILL right after that loader's n-th written batch. Never set it otherwise.
CRASH_AFTER_ENV = "PRODGRAPH_TEST_CRASH_AFTER"


def crash_point(loader_name: str, spec: str | None) -> int | None:
    """The batch count of `spec` (`git:3`) when it names this loader, else None."""
    if not spec:
        return None
    name, _, count = spec.partition(":")
    return int(count) if name == loader_name and count.isdigit() else None


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def ingest(
    store: GraphStore,
    loader: Loader,
    *,
    run_id: str | None = None,
    on_batch: Callable[[LoadReport], None] | None = None,
    crash_after: int | None = None,
) -> LoadReport:
    """Extract from `loader` and write every batch; a rejected batch is reported, the rest go on.

    Each batch is written in one statement or transaction, so a failure leaves nothing of it.
    `crash_after` (tests only) kills the process after that many written batches.
    """
    run_id = run_id or new_run_id()
    report = LoadReport(loader.name)
    start = time.perf_counter()
    batches = 0
    for batch in loader.extract(report, store):
        name = _name(batch)
        report.extracted[name] += len(batch)
        try:
            result = store.write(batch, loaded_by=loader.name, run_id=run_id)
        except (BatchValidationError, QueryError) as e:
            logger.warning("batch %s rejected: %s", name, e)
            report.failed_batches.append(_problem(name, e))
            continue
        report.written[name] += result.written
        if result.missing_endpoints:
            report.missing_endpoints[name] += result.missing_endpoints
        if on_batch:
            on_batch(report)
        batches += 1
        if batches == crash_after:
            logger.warning("%s: crashing after batch %d (test hook)", loader.name, batches)
            os.kill(os.getpid(), signal.SIGKILL)
    report.stats["seconds"] = round(time.perf_counter() - start, 3)
    report.stats["run_id"] = run_id  # type: ignore[assignment]
    return report


def _name(batch: object) -> str:
    if isinstance(batch, NodeBatch):
        return f"{batch.label} ({batch.purpose})" if batch.purpose else batch.label
    if isinstance(batch, EdgeBatch):
        return f"{batch.type}({batch.src_label}->{batch.dst_label})"
    if isinstance(batch, DeleteNodes):
        return f"delete {batch.label}"
    if isinstance(batch, DeleteEdgesFrom):
        return f"delete {batch.type}"
    return type(batch).__name__


def _problem(name: str, e: Exception):  # type: ignore[no-untyped-def]
    from loaders.base import Problem

    return Problem(name, str(e))
