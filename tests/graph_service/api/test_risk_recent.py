"""`GET /v1/risk/recent`: the newest commits scored, riskiest first; 503 without a model."""

from __future__ import annotations

import types

import pytest
from fastapi.testclient import TestClient

from graph_service.api.routes import risk_recent
from graph_service.api.schemas import RiskRequest, RiskResponse
from tests.fixtures.graph import COMMITS, sha
from tests.graph_service.api.conftest import auth

READER = auth("reader")


def test_no_model_is_503_model_missing(client: TestClient) -> None:
    r = client.get("/v1/risk/recent", headers=READER)
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "model_missing"


@pytest.fixture
def scored(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A stand-in scorer whose risk grows with the commit's name (c1 < c2 < ... < c6)."""
    asked: list[str] = []

    def fake_score(state: object, body: RiskRequest) -> RiskResponse:
        assert body.sha is not None
        asked.append(body.sha)
        name = next(n for n in COMMITS if sha(n) == body.sha)
        risk = int(name[1:]) / 10
        return RiskResponse(
            target=COMMITS[name], overall=risk, nodes=[], explanations=[], model_version="t"
        )

    monkeypatch.setattr(risk_recent, "score", fake_score)
    state = client.app.state.service  # type: ignore[attr-defined]
    monkeypatch.setattr(state, "model", types.SimpleNamespace(version="t"))
    return asked


def test_recent_commits_ranked_by_risk(client: TestClient, scored: list[str]) -> None:
    newest = client.post(
        "/v1/cypher",
        json={"query": "MATCH (c:Commit) RETURN c.sha AS s ORDER BY c.authored_at DESC LIMIT 3"},
        headers=READER,
    ).json()["rows"]
    r = client.get("/v1/risk/recent?limit=3", headers=READER)
    assert r.status_code == 200
    body = r.json()
    assert sorted(scored) == sorted(row[0] for row in newest)  # the three newest, no others
    overall = [x["overall"] for x in body]
    assert len(body) == 3 and overall == sorted(overall, reverse=True)
    assert {x["target"] for x in body} == {f"commit:{row[0]}" for row in newest}


@pytest.mark.parametrize("limit", ["0", "101", "many"])
def test_limit_is_validated(client: TestClient, scored: list[str], limit: str) -> None:
    r = client.get(f"/v1/risk/recent?limit={limit}", headers=READER)
    assert r.status_code == 422
    assert scored == []
