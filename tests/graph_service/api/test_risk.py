"""`POST /v1/risk`: 503 model_missing without a model; the stable response shape with one."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.graph import FUNCS, sha
from tests.graph_service.api.conftest import auth

READER = auth("reader")


def test_no_model_is_503_model_missing(client: TestClient) -> None:
    r = client.post("/v1/risk", json={"sha": sha("c2")}, headers=READER)
    assert r.status_code == 503
    err = r.json()["error"]
    assert err["code"] == "model_missing"
    assert "prodgraph train" in err["message"]


@pytest.mark.parametrize(
    "body", [{}, {"sha": sha("c2"), "paths": ["app/pay.py"]}, {"paths": []}, {"other": 1}]
)
def test_exactly_one_input(client: TestClient, body: dict[str, Any]) -> None:
    r = client.post("/v1/risk", json=body, headers=READER)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


@dataclass
class _Node:
    uid: str
    label: str
    score: float
    explanation: list[str] = field(default_factory=list)


@dataclass
class _Result:
    overall: float
    nodes: list[_Node]
    explanations: list[str]


@pytest.fixture
def fake_scorer(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """A stand-in model and `models.score` module, recording what the route asked for."""
    calls: list[tuple[str, Any]] = []

    def scorer(kind: str) -> Any:
        def score(store: Any, model: Any, arg: Any) -> _Result:
            calls.append((kind, arg))
            rows = store.query("MATCH (f:Function {uid: $u}) RETURN f.uid", {"u": FUNCS["charge"]})
            node = _Node(rows.rows()[0]["f.uid"], "Function", 0.8, ["churn: 20 lines"])
            return _Result(0.8, [node], [f"{kind} scored"])

        return score

    module = types.ModuleType("models.score")
    module.score_commit = scorer("commit")  # type: ignore[attr-defined]
    module.score_diff = scorer("diff")  # type: ignore[attr-defined]
    module.score_paths = scorer("paths")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "models.score", module)
    state = client.app.state.service  # type: ignore[attr-defined]
    monkeypatch.setattr(state, "model", types.SimpleNamespace(version="gnn-test-1"))
    return calls


@pytest.mark.parametrize(
    ("body", "kind"),
    [({"sha": sha("c2")}, "commit"), ({"diff": "--- a/x\n+++ b/x\n"}, "diff"),
     ({"paths": ["app/pay.py", FUNCS["charge"]]}, "paths")],
)
def test_scores_each_input_kind(
    client: TestClient, fake_scorer: list[tuple[str, Any]], body: dict[str, Any], kind: str
) -> None:
    r = client.post("/v1/risk", json=body, headers=READER)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "target": "",
        "overall": 0.8,
        "nodes": [{"uid": FUNCS["charge"], "label": "Function", "name": "", "path": "",
                   "score": 0.8, "explanation": ["churn: 20 lines"]}],
        "explanations": [{"text": f"{kind} scored", "weight": None, "kind": None, "uid": None}],
        "model_version": "gnn-test-1",
        "features": {},
    }
    assert fake_scorer == [(kind, next(iter(body.values())))]
