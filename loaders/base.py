"""What every loader is: a config, a report, and an extractor that yields schema batches."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from graph_service.batch import Batch
from graph_service.store.base import GraphReader

logger = logging.getLogger(__name__)

__all__ = ["LoadReport", "Loader", "Problem"]


@dataclass
class Problem:
    """One input that was skipped or partly loaded, with where and why."""

    item: str
    reason: str
    position: str | None = None

    def __str__(self) -> str:
        where = f" ({self.position})" if self.position else ""
        return f"{self.item}{where}: {self.reason}"


@dataclass
class LoadReport:
    """Counts and problems of one load run; bad input lands here, the run goes on."""

    source: str
    extracted: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    missing_endpoints: Counter[str] = field(default_factory=Counter)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    failed_batches: list[Problem] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)

    def skip(self, item: str, reason: str, position: str | None = None) -> None:
        self.skipped.append(Problem(item, reason, position))

    def warn(self, item: str, reason: str, position: str | None = None) -> None:
        self.warnings.append(Problem(item, reason, position))

    @property
    def ok(self) -> bool:
        return not self.failed_batches and (sum(self.written.values()) > 0 or not self.skipped)

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "extracted": dict(self.extracted),
            "written": dict(self.written),
            "missing_endpoints": dict(self.missing_endpoints),
            "skipped": [vars(p) for p in self.skipped],
            "warnings": [vars(p) for p in self.warnings],
            "failed_batches": [vars(p) for p in self.failed_batches],
            "stats": self.stats,
        }


@runtime_checkable
class Loader(Protocol):
    """A source: `extract` yields node batches before the edge batches that reference them.

    `name` stamps every row (`loaded_by`). `reader` gives read access to what is already
    stored (content hashes, last loaded commit) for incremental loads; loaders never write.
    """

    name: str

    def extract(self, report: LoadReport, reader: GraphReader | None = None) -> Iterator[Batch]: ...
