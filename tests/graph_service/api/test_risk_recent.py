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


def test_commits_that_touch_no_code_never_enter_the_list(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A docs/tests/CI-only commit has no probability (a label instead) and is left out: the
    list looks further back for code-changing commits."""
    docs_only = {sha(n) for n in COMMITS if int(n[1:]) % 2 == 0}
    asked: list[str] = []

    def fake_score(state: object, body: RiskRequest) -> RiskResponse:
        assert body.sha is not None
        asked.append(body.sha)
        name = next(n for n in COMMITS if sha(n) == body.sha)
        if body.sha in docs_only:
            return RiskResponse(
                target=COMMITS[name],
                overall=None,
                label="no code change: docs/tests/CI only",
                code_change=False,
                nodes=[],
                explanations=[],
                model_version="t",
            )
        return RiskResponse(
            target=COMMITS[name], overall=0.5, nodes=[], explanations=[], model_version="t"
        )

    monkeypatch.setattr(risk_recent, "score", fake_score)
    state = client.app.state.service  # type: ignore[attr-defined]
    monkeypatch.setattr(state, "model", types.SimpleNamespace(version="t"))
    body = client.get("/v1/risk/recent?limit=2", headers=READER).json()
    assert len(body) == 2
    assert all(x["overall"] is not None and x["code_change"] for x in body)
    assert len(asked) > 2 and docs_only & set(asked)  # looked past the docs-only commits
