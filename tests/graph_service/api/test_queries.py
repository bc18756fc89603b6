"""Named queries over HTTP: list, describe, run with validated parameters."""

from __future__ import annotations

from fastapi.testclient import TestClient

from graph_service.queries import load_library
from tests.fixtures.graph import FUNCS
from tests.graph_service.api.conftest import auth

READER = auth("reader")


def test_list_matches_the_library(client: TestClient) -> None:
    r = client.get("/v1/queries", headers=READER)
    assert r.status_code == 200
    assert [q["name"] for q in r.json()] == sorted(load_library())
    callers = next(q for q in r.json() if q["name"] == "callers")
    assert [p["name"] for p in callers["params"]] == ["uid", "hops"]


def test_describe_and_404(client: TestClient) -> None:
    r = client.get("/v1/queries/callers", headers=READER)
    assert r.json()["params"][1] == {
        "name": "hops",
        "type": "INT",
        "description": r.json()["params"][1]["description"],
        "required": False,
        "default": 1,
    }
    missing = client.get("/v1/queries/nope", headers=READER)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_run_binds_and_answers(client: TestClient) -> None:
    r = client.post(
        "/v1/queries/callers", json={"params": {"uid": FUNCS["charge"]}}, headers=READER
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"][0] == "uid"
    assert [row[0] for row in body["rows"]] == [FUNCS["checkout"]]


def test_run_names_the_bad_parameter(client: TestClient) -> None:
    r = client.post(
        "/v1/queries/callers",
        json={"params": {"uid": FUNCS["charge"], "hops": "many"}},
        headers=READER,
    )
    assert r.status_code == 400
    assert r.json()["error"]["detail"]["param"] == "hops"
    r = client.post("/v1/queries/callers", json={"params": {}}, headers=READER)
    assert r.status_code == 400 and r.json()["error"]["detail"]["param"] == "uid"


def test_run_needs_a_key(client: TestClient) -> None:
    assert client.post("/v1/queries/callers", json={"params": {}}).status_code == 401
