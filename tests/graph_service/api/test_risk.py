"""`POST /v1/risk`: 503 model_missing without a model; the stable response shape with one."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import StoreBackend
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
        def score(store: Any, model: Any, arg: Any, history: Any = None) -> _Result:
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
    [
        ({"sha": sha("c2")}, "commit"),
        ({"diff": "--- a/x\n+++ b/x\n"}, "diff"),
        ({"paths": ["app/pay.py", FUNCS["charge"]]}, "paths"),
    ],
)
def test_scores_each_input_kind(
    client: TestClient, fake_scorer: list[tuple[str, Any]], body: dict[str, Any], kind: str
) -> None:
    r = client.post("/v1/risk", json=body, headers=READER)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "target": "",
        "overall": 0.8,
        "label": None,
        "code_change": True,
        "nodes": [
            {
                "uid": FUNCS["charge"],
                "label": "Function",
                "name": "",
                "path": "",
                "score": 0.8,
                "explanation": ["churn: 20 lines"],
            }
        ],
        "explanations": [{"text": f"{kind} scored", "weight": None, "kind": None, "uid": None}],
        "model_version": "gnn-test-1",
        "features": {},
    }
    assert fake_scorer == [(kind, next(iter(body.values())))]


class _Synthetic:
    name = "synthetic"

    def extract(self, report: Any, reader: Any = None) -> Any:
        from models.synthetic import SyntheticSpec, synthetic_batches

        yield from synthetic_batches(SyntheticSpec(functions=200, commits=100))


def test_real_model_end_to_end(tmp_path: Any, caplog: Any, backend: StoreBackend) -> None:
    """Train a small real model, reload it through the admin route, then score over HTTP."""
    from graph_service.api import create_app
    from graph_service.api.auth import hash_key
    from graph_service.ingest import ingest
    from graph_service.settings import Settings
    from models.config import RiskConfig
    from models.train import SMALL_HISTORY, train
    from tests.graph_service.api.conftest import KEYS

    settings = Settings(
        **backend.location,  # the service's store: each backend in turn
        model_dir=tmp_path / "models",
        api_keys=[f"admin:{hash_key(KEYS['admin'])}"],
    )
    with TestClient(create_app(settings)) as c:
        assert c.post("/v1/risk", json={"sha": "0" * 40}, headers=auth("admin")).status_code == 503
        store = c.app.state.service.store  # type: ignore[attr-defined]
        ingest(store, _Synthetic())
        with caplog.at_level("WARNING", logger="models.train"):
            train(store, settings, RiskConfig(epochs=3))
        count_q = "MATCH (c:Commit) WHERE NOT c.is_merge RETURN count(*) AS n"
        commits = store.query(count_q).rows()[0]["n"]
        small = f"{commits} commits to learn from" in caplog.text
        assert small == (commits < SMALL_HISTORY)
        reloaded = c.post("/v1/admin/model/reload", headers=auth("admin")).json()["model"]
        assert reloaded.startswith("loaded: ")
        sha = store.query("MATCH (c:Commit) RETURN c.sha AS s ORDER BY s LIMIT 1").rows()[0]["s"]
        r = c.post("/v1/risk", json={"sha": sha}, headers=auth("admin"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert 0 <= body["overall"] <= 1
        assert body["model_version"] == reloaded.removeprefix("loaded: ")
        assert body["target"] == f"commit:{sha}"
        assert {n["label"] for n in body["nodes"]} >= {"commit"}
        paths = c.post(
            "/v1/risk", json={"paths": [body["nodes"][-1]["uid"]]}, headers=auth("admin")
        )
        assert paths.status_code == 200, paths.text
        ready = c.get("/readyz").json()
        assert ready["checks"]["model"] == reloaded
