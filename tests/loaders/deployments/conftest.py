"""Deployment loader fixtures: a real store holding a commit history with a merge."""

from __future__ import annotations

import pytest

from graph_service.batch import edges, nodes
from graph_service.store import GraphStore
from tests.loaders.deployments.deploy_helpers import HISTORY, PARENTS, commit_uid, sha


@pytest.fixture
def git_store(store: GraphStore) -> GraphStore:
    """A store (each backend) holding the history above, as the git loader would have written it."""
    s = store
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
    return s
