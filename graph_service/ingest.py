"""Running a loader into a store: validate and write each batch, report, never half-write."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from graph_service.batch import DeleteEdgesFrom, DeleteNodes, EdgeBatch, NodeBatch
from graph_service.errors import BatchValidationError, QueryError
from graph_service.store.base import GraphStore
from loaders.base import Loader, LoadReport

logger = logging.getLogger(__name__)

__all__ = ["ingest", "new_run_id"]


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def ingest(
    store: GraphStore,
    loader: Loader,
    *,
    run_id: str | None = None,
    on_batch: Callable[[LoadReport], None] | None = None,
) -> LoadReport:
    """Extract from `loader` and write every batch; a rejected batch is reported, the rest go on.

    Each batch is written in one statement or transaction, so a failure leaves nothing of it.
    """
    run_id = run_id or new_run_id()
    report = LoadReport(loader.name)
    start = time.perf_counter()
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
    report.stats["seconds"] = round(time.perf_counter() - start, 3)
    report.stats["run_id"] = run_id  # type: ignore[assignment]
    return report


def _name(batch: object) -> str:
    if isinstance(batch, NodeBatch):
        return batch.label
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
