"""How a code load's work is paced: the cyclic GC held off, batches built ahead of the writes."""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from loaders.base import LoadReport

logger = logging.getLogger(__name__)

__all__ = ["built_ahead", "gc_paused", "heap_frozen"]

_T = TypeVar("_T")
_DONE = object()
_AHEAD = 4  # batches built and waiting, at most


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many acyclic records (it costs ~15% otherwise)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Hide what exists now (the parsed records) from the cyclic GC until the block ends.

    Its full collections, triggered while the store writes, would walk millions of records
    that reference counting frees anyway. When the heap was already frozen (the service's warm
    triage snapshot, `graph_service.triage.heap`), it stays frozen: unfreezing would hand
    those objects back to every full collection; the owner's next rebuild unfreezes.
    """
    already = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield
    finally:
        if not already:
            gc.unfreeze()


def built_ahead(items: Iterator[_T], report: LoadReport, key: str) -> Iterator[_T]:
    """Yield `items`, producing the next ones in a thread while the caller handles this one.

    The caller writes each batch into the store, which runs without the GIL, so building the
    next batches overlaps the writes. At most `_AHEAD` items wait ready; the order is unchanged; an
    exception raised while producing is raised here. `report.stats[key]` gets the CPU seconds
    spent producing.
    """
    ready: queue.Queue[object] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def produce() -> None:
        start = time.thread_time()
        try:
            for item in items:
                report.stats[key] = round(time.thread_time() - start, 3)
                if not _offer(ready, item, stop):
                    return
            report.stats[key] = round(time.thread_time() - start, 3)
            _offer(ready, _DONE, stop)
        except BaseException as e:  # handed to the consuming thread, raised there
            _offer(ready, _Raised(e), stop)

    worker = threading.Thread(target=produce, name="code-batches", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, _Raised):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _offer(ready: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    """Put `item` once there is room; False when the consumer has gone away."""
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False
