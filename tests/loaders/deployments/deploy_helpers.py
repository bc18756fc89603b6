"""Helpers of the deployment loader tests: the commit history, loading, and store snapshots."""

from __future__ import annotations

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders.base import LoadReport
from loaders.deployments import make_loader
from tests.graph_snapshot import snapshot  # noqa: F401 (used by the tests)

# c0 <- c1 <- c2 <- c3 <- c4(merge of c3 and b1) <- c5 <- c6 ; b1's parent is c2.
HISTORY = ["c0", "c1", "c2", "c3", "b1", "c4", "c5", "c6"]
PARENTS = {
    "c1": ["c0"],
    "c2": ["c1"],
    "c3": ["c2"],
    "b1": ["c2"],
    "c4": ["c3", "b1"],
    "c5": ["c4"],
    "c6": ["c5"],
}


def sha(name: str) -> str:
    """The 40-hex sha of history commit `name` ('c1' -> 'c1c1...')."""
    return name * 20


def commit_uid(name: str) -> str:
    return f"commit:{sha(name)}"


def load(store: GraphStore, paths: list[str], **options: str) -> LoadReport:
    """Run the deployments loader the way the CLI does."""
    return ingest(store, make_loader(paths, Settings(), dict(options)))
