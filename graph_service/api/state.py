"""What one running service holds: settings, the open store, keys, metrics, queries, model."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graph_service.api.auth import KeyRing
from graph_service.api.metrics import Metrics
from graph_service.errors import ModelMissingError, ProdgraphError, TransientError
from graph_service.settings import Settings
from graph_service.store import GraphStore
from graph_service.store.base import GraphReader

logger = logging.getLogger(__name__)

__all__ = ["ServiceState", "load_model"]

T = TypeVar("T")


def load_model(settings: Settings, store: GraphReader | None = None) -> tuple[Any | None, str]:
    """The latest risk model trained on `store`, or None with the reason it is absent."""
    try:
        registry = importlib.import_module("models.registry")
    except ImportError as e:
        return None, f"absent: the risk model package is not installed ({e.name})"
    try:  # the error says why: no model at all, or only models of other stores
        model = registry.require_latest(settings, store=store)
    except ModelMissingError as e:
        return None, f"absent: {e.message}"
    version = getattr(model, "version", None) or getattr(model, "model_version", "unknown")
    return model, f"loaded: {version}"


@dataclass
class ServiceState:
    """Shared by every request of one app; built in the lifespan, closed at shutdown."""

    settings: Settings
    store: GraphStore
    keys: KeyRing
    metrics: Metrics
    library: dict[str, Any] = field(default_factory=dict)
    library_error: str | None = None
    model: Any | None = None
    model_status: str = "absent: not loaded"
    owns_store: bool = True
    snapshots: Any | None = None  # models.snapshot.SnapshotCache when risk scoring is enabled

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.settings.max_concurrent_queries)
        # risk scoring is CPU-heavy: a quarter of the slots, so point queries keep flowing
        self._heavy = threading.BoundedSemaphore(max(1, self.settings.max_concurrent_queries // 4))

    def limits(self, timeout_s: float | None, row_cap: int | None) -> tuple[float, int]:
        """Per-request limits, never above the configured ones."""
        t = self.settings.query_timeout_s
        cap = self.settings.query_row_cap
        return (min(timeout_s, t) if timeout_s else t, min(row_cap, cap) if row_cap else cap)

    def read(self, kind: str, fn: Callable[[], T], *, heavy: bool = False) -> T:
        """Run a store read in a query slot (at most `max_concurrent_queries` at once).

        `heavy` work (risk scoring) also takes one of a few heavy slots first.
        """
        gates = [self._heavy, self._slots] if heavy else [self._slots]
        taken: list[threading.BoundedSemaphore] = []
        try:
            for gate in gates:
                if not gate.acquire(timeout=self.settings.query_timeout_s):
                    raise TransientError(
                        "too many concurrent queries: retry later",
                        {"max_concurrent_queries": self.settings.max_concurrent_queries},
                    )
                taken.append(gate)
            with self.metrics.store_timer(kind):
                return fn()
        finally:
            for gate in reversed(taken):
                gate.release()

    def start_snapshots(self) -> None:
        """Keep a warm snapshot of the graph for risk scoring (built in the background)."""
        if not self.settings.risk_snapshot or self.model is None:
            return
        try:
            snapshot = importlib.import_module("models.snapshot")
        except ImportError:
            return
        if self.snapshots is None:
            max_age = self.settings.risk_snapshot_max_age_s
            self.snapshots = snapshot.SnapshotCache(
                self.store, max_age_s=max_age if self.store.backend == "neo4j" else None
            )
        self.snapshots.refresh()

    def risk_history(self) -> Any | None:
        """The fresh snapshot's History, or None (score from the store meanwhile)."""
        return self.snapshots.current() if self.snapshots is not None else None

    def reload_model(self) -> str:
        try:
            self.model, self.model_status = load_model(self.settings, self.store)
        except ProdgraphError as e:
            self.model, self.model_status = None, f"failed: {e.message}"
        self.start_snapshots()
        return self.model_status
