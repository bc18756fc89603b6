"""Bad ticket and deployment times sent through `POST /v1/ingest/...` come back in the report."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.graph_service.api.conftest import auth

WRITER = auth("writer")


def test_ticket_with_bad_dates_is_loaded_and_reported(client: TestClient) -> None:
    csv = (
        "id,title,created_at,resolved_at\n"
        "BAD-1,unreadable,notadate,\n"
        "BAD-2,from the future,2999-01-01T00:00:00Z,\n"
        "OK-1,fine,2024-01-01T00:00:00Z,2024-01-02T00:00:00Z\n"
    )
    r = client.post("/v1/ingest/tickets?filename=t.csv", content=csv.encode(), headers=WRITER)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["written"]["Ticket"] == 3
    warned = {w["item"]: w for w in report["warnings"]}
    assert set(warned) == {"ticket:csv:BAD-1", "ticket:csv:BAD-2"}
    assert warned["ticket:csv:BAD-1"]["reason"] == (
        "created_at 'notadate' is not an ISO 8601 time: stored without it"
    )
    assert warned["ticket:csv:BAD-1"]["position"].endswith("t.csv line 2")
    assert "is in the future" in warned["ticket:csv:BAD-2"]["reason"]
    rows = client.post(
        "/v1/cypher",
        headers=auth("reader"),
        json={
            "query": "MATCH (t:Ticket) WHERE t.key IN ['BAD-1', 'BAD-2', 'OK-1'] "
            "RETURN t.key AS k, t.created_at IS NULL AS empty ORDER BY k"
        },
    ).json()["rows"]
    assert rows == [["BAD-1", True], ["BAD-2", True], ["OK-1", False]]


def test_deployment_from_the_future_is_skipped_with_its_reason(client: TestClient) -> None:
    row = {
        "service": "future-svc",
        "environment": "prod",
        "sha": "a" * 40,
        "started_at": "2999-01-01T00:00:00Z",
        "status": "success",
    }
    body = (json.dumps(row) + "\n").encode()
    r = client.post("/v1/ingest/deployments?filename=d.jsonl", content=body, headers=WRITER)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["written"] == {}
    [skipped] = report["skipped"]
    assert skipped["position"] == "line 1"
    assert skipped["reason"].startswith("started_at 2999-01-01T00:00:00 is in the future")
    assert "prodgraph-ingest-" not in r.text and "/tmp" not in r.text  # no server paths
    assert skipped["item"] == "d.jsonl"
