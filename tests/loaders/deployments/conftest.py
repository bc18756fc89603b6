"""Deployment loader fixtures: a real store holding a commit history with a merge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_service.batch import edges, nodes
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from tests.loaders.deployments.deploy_helpers import HISTORY, PARENTS, commit_uid, sha


@pytest.fixture
def git_store(tmp_path: Path) -> Iterator[GraphStore]:
    """A store holding the history above, as the git loader would have written it."""
    s = open_store(Settings(db_path=tmp_path / "graph.lbug"), create=True)
    s.write(
        nodes(
            "Commit",
            [{"uid": commit_uid(n), "sha": sha(n), "summary": f"commit {n}"} for n in HISTORY],
        ),
        loaded_by="git",
        run_id="git-1",
    )
    s.write(
        edges(
            "PARENT",
            "Commit",
            "Commit",
            [
                {
                    "src": commit_uid(c),
                    "dst": commit_uid(p),
                    "position": i,
                    "source": "git",
                    "confidence": 1.0,
                }
                for c, ps in PARENTS.items()
                for i, p in enumerate(ps)
            ],
        ),
        loaded_by="git",
        run_id="git-1",
    )
    yield s
    s.close()
