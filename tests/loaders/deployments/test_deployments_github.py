"""GitHub deployments + statuses JSON into a real store."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from graph_service.store import GraphStore
from tests.loaders.deployments.deploy_helpers import commit_uid, load, sha, snapshot

API = "https://api.github.com/repos/octo/shop"


def deployment(dep_id: int, name: str, created: str, **extra: Any) -> dict[str, Any]:
    return {
        "url": f"{API}/deployments/{dep_id}",
        "id": dep_id,
        "node_id": f"DE_{dep_id}",
        "sha": sha(name),
        "ref": "main",
        "task": "deploy",
        "payload": {},
        "original_environment": "production",
        "environment": "production",
        "description": None,
        "created_at": created,
        "updated_at": created,
        "statuses_url": f"{API}/deployments/{dep_id}/statuses",
        "repository_url": API,
        **extra,
    }


def status(dep_id: int, status_id: int, state: str, created: str) -> dict[str, Any]:
    return {
        "url": f"{API}/deployments/{dep_id}/statuses/{status_id}",
        "id": status_id,
        "state": state,
        "description": "",
        "environment": "production",
        "created_at": created,
        "updated_at": created,
        "deployment_url": f"{API}/deployments/{dep_id}",
        "repository_url": API,
    }


def write_github(tmp_path: Path) -> tuple[Path, Path, Path]:
    deployments = [
        # statuses embedded; the later `inactive` must not win
        deployment(
            11,
            "c2",
            "2024-03-01T08:00:00Z",
            statuses=[
                status(11, 1, "in_progress", "2024-03-01T08:00:30Z"),
                status(11, 2, "success", "2024-03-01T08:03:00Z"),
                status(11, 5, "inactive", "2024-03-02T09:05:00Z"),
            ],
        ),
        # statuses in the list file, keyed by deployment_url
        deployment(12, "c4", "2024-03-02T09:00:00Z", payload=json.dumps({"version": "1.1"})),
        # statuses in the map file keyed by id; service from the payload
        deployment(13, "c6", "2024-03-03T09:00:00Z", payload={"service": "shop-worker"}),
        # still running: no terminal status
        deployment(14, "c5", "2024-03-03T10:00:00Z"),
        {"id": 15, "environment": "production"},  # no sha, no created_at
    ]
    listed = [
        status(12, 3, "failure", "2024-03-02T09:04:00Z"),
        status(12, 4, "error", "2024-03-02T09:02:00Z"),
        status(14, 9, "queued", "2024-03-03T10:00:05Z"),
        {"state": "success"},
    ]
    keyed = {"13": [status(13, 6, "success", "2024-03-03T09:10:00Z")]}
    paths = (tmp_path / "deployments.json", tmp_path / "statuses.json", tmp_path / "more.json")
    for path, doc in zip(paths, (deployments, listed, keyed), strict=True):
        path.write_text(json.dumps(doc), encoding="utf-8")
    return paths


def deployments(store: GraphStore) -> dict[str, dict[str, Any]]:
    rows = store.query(
        "MATCH (d:Deployment) RETURN d.uid AS uid, d.service AS service, d.status AS status, "
        "d.finished_at AS finished_at, d.version AS version"
    ).rows()
    return {r["uid"]: r for r in rows}


def test_github_deployments_and_statuses(git_store: GraphStore, tmp_path: Path) -> None:
    report = load(git_store, [str(p) for p in write_github(tmp_path)])

    got = deployments(git_store)
    assert set(got) == {
        "deploy:production:shop:11",
        "deploy:production:shop:12",
        "deploy:production:shop-worker:13",
        "deploy:production:shop:14",
    }
    d11 = got["deploy:production:shop:11"]
    assert (d11["status"], d11["finished_at"]) == ("success", datetime(2024, 3, 1, 8, 3))
    d12 = got["deploy:production:shop:12"]
    assert (d12["status"], d12["finished_at"], d12["version"]) == (
        "failure",
        datetime(2024, 3, 2, 9, 4),
        "1.1",
    )
    assert got["deploy:production:shop-worker:13"]["status"] == "success"
    d14 = got["deploy:production:shop:14"]
    assert (d14["status"], d14["finished_at"], d14["version"]) == ("in_progress", None, "main")
    assert {p.position for p in report.skipped} == {"item 5 (deployment 15)", "item 4"}
    ships = git_store.query(
        "MATCH (d:Deployment)-[:SHIPS]->(c:Commit) RETURN d.uid AS d, c.uid AS c"
    ).rows()
    assert ("deploy:production:shop:12", commit_uid("c4")) in {(r["d"], r["c"]) for r in ships}
    precedes = git_store.query(
        "MATCH (a:Deployment)-[:PRECEDES]->(b:Deployment) RETURN a.uid AS a, b.uid AS b"
    ).rows()
    assert sorted((r["a"], r["b"]) for r in precedes) == [
        ("deploy:production:shop:11", "deploy:production:shop:12"),
        ("deploy:production:shop:12", "deploy:production:shop:14"),
    ]


def test_service_option_overrides_repository_name(git_store: GraphStore, tmp_path: Path) -> None:
    load(git_store, [str(p) for p in write_github(tmp_path)], service="storefront")

    assert set(deployments(git_store)) == {
        "deploy:production:storefront:11",
        "deploy:production:storefront:12",
        "deploy:production:shop-worker:13",
        "deploy:production:storefront:14",
    }


def test_github_load_twice_changes_nothing(git_store: GraphStore, tmp_path: Path) -> None:
    paths = [str(p) for p in write_github(tmp_path)]
    load(git_store, paths)
    first = snapshot(git_store)
    load(git_store, paths)
    assert snapshot(git_store) == first
