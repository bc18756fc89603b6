"""PRECEDES across files (incremental and backfill) and the deploy_diff named query."""

from __future__ import annotations

import json
from pathlib import Path

from graph_service.queries import run_named
from graph_service.store import GraphStore
from tests.loaders.deployments.deploy_helpers import commit_uid, load, sha, snapshot


def row(dep_id: str, commit: str, started: str, env: str = "prod") -> dict[str, str]:
    return {
        "service": "api",
        "environment": env,
        "id": dep_id,
        "version": dep_id,
        "sha": sha(commit),
        "started_at": started,
        "status": "success",
    }


def write(path: Path, *rows: dict[str, str]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def chain(store: GraphStore) -> list[tuple[str, str]]:
    rows = store.query(
        "MATCH (a:Deployment)-[:PRECEDES]->(b:Deployment) RETURN a.uid AS a, b.uid AS b"
    ).rows()
    return sorted((r["a"].rsplit(":", 1)[1], r["b"].rsplit(":", 1)[1]) for r in rows)


def diff(store: GraphStore, dep_id: str) -> list[str]:
    rows = run_named(store, "deploy_diff", {"uid": f"deploy:prod:api:{dep_id}"}).rows()
    return sorted(r["uid"] for r in rows)


def test_a_later_file_links_to_the_stored_latest(git_store: GraphStore, tmp_path: Path) -> None:
    first = write(
        tmp_path / "a.jsonl",
        row("1", "c2", "2024-03-01T08:00:00Z"),
        row("2", "c4", "2024-03-02T08:00:00Z"),
    )
    later = write(
        tmp_path / "b.jsonl",
        row("3", "c6", "2024-03-03T08:00:00Z"),
        row("s", "c6", "2024-03-03T09:00:00Z", env="staging"),
    )
    load(git_store, [first])
    load(git_store, [later])

    assert chain(git_store) == [("1", "2"), ("2", "3")]


def test_a_backfill_is_spliced_in(git_store: GraphStore, tmp_path: Path) -> None:
    load(
        git_store,
        [
            write(
                tmp_path / "a.jsonl",
                row("1", "c2", "2024-03-01T08:00:00Z"),
                row("3", "c6", "2024-03-03T08:00:00Z"),
            )
        ],
    )
    assert chain(git_store) == [("1", "3")]
    backfill = write(tmp_path / "b.jsonl", row("2", "c4", "2024-03-02T08:00:00Z"))
    load(git_store, [backfill])
    assert chain(git_store) == [("1", "2"), ("2", "3")]

    before = snapshot(git_store)
    load(git_store, [backfill])
    assert snapshot(git_store) == before


def test_deploy_diff_returns_the_commits_between_deployments(
    git_store: GraphStore, tmp_path: Path
) -> None:
    load(
        git_store,
        [
            write(
                tmp_path / "d.jsonl",
                row("1", "c2", "2024-03-01T08:00:00Z"),
                row("2", "c4", "2024-03-02T08:00:00Z"),  # c4 merges c3 and b1
                row("3", "c6", "2024-03-03T08:00:00Z"),
                row("4", "c6", "2024-03-04T08:00:00Z"),  # redeploy of the same commit
                row("5", "c4", "2024-03-05T08:00:00Z"),  # rollback
            )
        ],
    )

    assert diff(git_store, "1") == []  # the first known deployment has no previous one
    assert diff(git_store, "2") == sorted(commit_uid(c) for c in ("c3", "b1", "c4"))
    assert diff(git_store, "3") == sorted(commit_uid(c) for c in ("c5", "c6"))
    assert diff(git_store, "4") == []
    assert diff(git_store, "5") == []
    rows = run_named(git_store, "deploy_diff", {"uid": "deploy:prod:api:3"}).rows()
    assert sorted(r["summary"] for r in rows) == ["commit c5", "commit c6"]
    assert {r["previous"] for r in rows} == {"deploy:prod:api:2"}
