"""Production labels: an incident on a deployment labels what it shipped, from the ticket's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graph_service.batch import edges, nodes
from models.dataset import load_tables
from models.history import History
from tests.conftest import StoreBackend

T0 = datetime(2024, 1, 1)
E = {"source": "deploy", "confidence": 1.0}


def test_incident_labels_commits_between_deployments(backend: StoreBackend) -> None:
    store = backend.open()
    try:
        commits = [f"commit:{i:040x}" for i in range(5)]
        w = {"loaded_by": "test", "run_id": "r"}
        store.write(
            nodes(
                "Commit",
                [
                    {"uid": c, "sha": c[7:], "committed_at": T0 + timedelta(hours=i)}
                    for i, c in enumerate(commits)
                ],
            ),
            **w,
        )
        store.write(nodes("Service", [{"uid": "svc:api", "name": "api"}]), **w)
        store.write(
            nodes(
                "Deployment",
                [
                    {"uid": "deploy:prod:api:1", "service": "api"},
                    {"uid": "deploy:prod:api:2", "service": "api"},
                ],
            ),
            **w,
        )
        store.write(
            nodes(
                "Ticket",
                [{"uid": "ticket:pd:9", "kind": "incident", "created_at": T0 + timedelta(hours=6)}],
            ),
            **w,
        )
        store.write(
            edges(
                "SHIPS",
                "Deployment",
                "Commit",
                [
                    {"src": "deploy:prod:api:1", "dst": commits[1], **E},
                    {"src": "deploy:prod:api:2", "dst": commits[3], **E},
                ],
            ),
            **w,
        )
        store.write(
            edges(
                "PRECEDES",
                "Deployment",
                "Deployment",
                [{"src": "deploy:prod:api:1", "dst": "deploy:prod:api:2", **E}],
            ),
            **w,
        )
        store.write(
            edges(
                "AFFECTS",
                "Ticket",
                "Deployment",
                [{"src": "ticket:pd:9", "dst": "deploy:prod:api:2", **E}],
            ),
            **w,
        )
        h = History(load_tables(store))
        before = h.labels((T0 + timedelta(hours=5)).replace(tzinfo=UTC).timestamp())
        after = h.labels()
        assert before.sum() == 0  # not known before the incident was opened
        assert [h.commit_uids[i] for i in after.nonzero()[0]] == commits[2:4]
    finally:
        store.close()
