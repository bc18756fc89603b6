"""Deployment times that cannot be true skip the row with a reason, like unreadable ones.

A deployment's start time is its identity and its place in the PRECEDES chain, so a row whose
start (or finish) lies in the future beyond the clock-skew allowance, or before 1970, is not
loaded at all; the load report names the line and says why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph_service.store import GraphStore
from tests.loaders.deployments.deploy_helpers import load, sha

ROW = {
    "service": "api",
    "environment": "prod",
    "version": "1.0",
    "sha": sha("c2"),
    "started_at": "2024-03-01T10:00:00Z",
    "finished_at": "2024-03-01T10:05:00Z",
    "status": "success",
}


def test_future_and_ancient_times_skip_the_row(git_store: GraphStore, tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [
        {**ROW, "id": "ok"},
        {**ROW, "id": "far", "started_at": "2999-01-01T00:00:00Z", "finished_at": ""},
        {**ROW, "id": "late-finish", "finished_at": "2999-01-01T00:05:00+01:00"},
        {**ROW, "id": "ancient", "started_at": "1960-01-01T00:00:00Z", "finished_at": ""},
        {**ROW, "id": "skew", "started_at": soon, "finished_at": "", "status": "in_progress"},
        {**ROW, "id": "huge", "started_at": "0001-01-01T00:00:00+01:00", "finished_at": ""},
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = load(git_store, [str(path)])

    why = {p.position: p.reason for p in report.skipped}
    assert set(why) == {"line 2", "line 3", "line 4", "line 6"}
    assert why["line 2"].startswith(
        "started_at 2999-01-01T00:00:00 is in the future (later than the load time "
    )
    assert why["line 2"].endswith("plus 1 h for clock skew)")
    assert why["line 3"].startswith("finished_at 2998-12-31T23:05:00 is in the future")
    assert why["line 4"] == "started_at 1960-01-01T00:00:00 is before 1970"
    assert "out of range" in why["line 6"]
    ids = git_store.query("MATCH (d:Deployment) RETURN d.uid AS u ORDER BY u").rows()
    assert [r["u"] for r in ids] == ["deploy:prod:api:ok", "deploy:prod:api:skew"]
