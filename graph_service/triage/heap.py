"""The warm triage snapshot kept out of the cyclic garbage collector's full passes.

The in-memory indexes that triage reads (code, history, tickets, the fitted scorer) hold
millions of small containers at 1M nodes. Python's cyclic collector walks every one of them
on each full (oldest-generation) collection, which a request can trigger at any time: at
300,000 nodes one such pass took 275 ms inside a single `triage()` call, and it grows with the
heap. These objects live until the store's stamp changes and are freed by reference counting
then, so the collector has nothing to find in them.

After a request that (re)built a large snapshot, `settle()` collects once and moves every object
alive into the collector's permanent generation (`gc.freeze()`); later collections walk only
what requests allocate. The next rebuild unfreezes first, so objects of an earlier snapshot
that became garbage in a cycle are collected then. A code load in the same process leaves a
frozen heap frozen (`loaders.code.pipeline.heap_frozen`); anything else that calls
`gc.unfreeze()` only returns to the default behaviour.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

logger = logging.getLogger(__name__)

__all__ = ["FREEZE_MIN_ROWS", "settle", "snapshot_built"]

# rows (functions, files, commits, tickets) below which a snapshot is not worth a full
# collection: a small heap's full passes take a few milliseconds
FREEZE_MIN_ROWS = 50_000

_lock = threading.Lock()
_pending = {"rows": 0}


def snapshot_built(rows: int) -> None:
    """Note that a cached snapshot of `rows` rows was just built (frozen by the next `settle`)."""
    if rows >= FREEZE_MIN_ROWS:
        with _lock:
            _pending["rows"] = max(_pending["rows"], rows)


def settle() -> bool:
    """Collect once and freeze the live heap when a large snapshot was built since the last
    call; True when it did. Cheap otherwise (one dictionary read)."""
    if not _pending["rows"]:
        return False
    with _lock:
        rows, _pending["rows"] = _pending["rows"], 0
        if not rows:
            return False
        t = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    logger.info(
        "triage snapshot of %d rows: %d objects frozen in %.0f ms",
        rows,
        gc.get_freeze_count(),
        (time.perf_counter() - t) * 1000,
    )
    return True
