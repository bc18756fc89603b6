"""The triage router through FastAPI's TestClient: triage, similar, error history, auth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api import create_app
from graph_service.api.auth import hash_key
from graph_service.api.routes.triage import get_triage_config
from graph_service.triage import TriageConfig
from graph_service.triage.models import TicketInput
from graph_service.triage.parse import read_ticket
from tests.conftest import StoreBackend
from tests.graph_service.triage.conftest import T0, _ticket, build_graph
from tests.graph_service.triage.test_frames import PYTHON

KEY = "triage-reader"
HEADERS = {"Authorization": f"Bearer {KEY}"}
FP = read_ticket(TicketInput(body=PYTHON)).fingerprint


@pytest.fixture
def client(tmp_path: Path, backend: StoreBackend) -> Iterator[TestClient]:
    store = backend.open()
    build_graph(
        store, [_ticket("ticket:github:1", "qty crash", PYTHON, T0 - timedelta(days=9), FP)]
    )
    store.close()
    settings = backend.with_settings(
        model_dir=tmp_path / "models", api_keys=[f"reader:{hash_key(KEY)}"]
    )
    app = create_app(settings)
    app.dependency_overrides[get_triage_config] = lambda: TriageConfig(
        embedder="hashing", learned=False
    )
    with TestClient(app) as c:
        yield c


def test_triage_endpoint(client: TestClient) -> None:
    body = {
        "title": "Crash parsing quantity",
        "body": PYTHON,
        "created": T0.isoformat(),
        "top_k": 3,
    }
    r = client.post("/v1/triage", json=body, headers=HEADERS)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["functions"][0]["uid"] == "fn:shop:shop/parsing.py:parse_qty"
    assert len(data["functions"]) <= 3
    assert data["functions"][0]["evidence"][0]["cypher"]
    assert data["ticket"]["fingerprint"] == FP
    assert data["similar"][0]["uid"] == "ticket:github:1"
    assert data["seen_before"]["known"] is True
    assert data["commit_method"] == "graph" and data["commit_window"] == ""
    limited = client.post("/v1/triage", json={**body, "commit_since_days": 1.5}, headers=HEADERS)
    assert limited.status_code == 200, limited.text
    assert limited.json()["commit_window"].startswith("only commits authored after 2026-02-28")


def test_similar_endpoint(client: TestClient) -> None:
    r = client.post(
        "/v1/similar", json={"title": "qty crash again", "body": PYTHON, "k": 2}, headers=HEADERS
    )
    assert r.status_code == 200, r.text
    assert r.json()[0]["uid"] == "ticket:github:1"
    assert r.json()[0]["signals"]["fingerprint"] == 1.0


def test_error_history_endpoint(client: TestClient) -> None:
    r = client.get(f"/v1/errors/{FP}/history", headers=HEADERS)
    assert r.status_code == 200, r.text
    assert [t["uid"] for t in r.json()["tickets"]] == ["ticket:github:1"]
    bad = client.get("/v1/errors/not-a-fingerprint/history", headers=HEADERS)
    assert bad.status_code == 400


def test_needs_a_key(client: TestClient) -> None:
    assert client.post("/v1/similar", json={"title": "x"}).status_code == 401
