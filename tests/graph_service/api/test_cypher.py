"""`POST /v1/cypher`: rows, formats, limits, read-only refusal and the one error shape."""

from __future__ import annotations

import io

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from graph_service.api import create_app
from graph_service.settings import Settings
from tests.fixtures.graph import FUNCS
from tests.graph_service.api.conftest import auth

READER = auth("reader")
ALL_FUNCS = "MATCH (f:Function) RETURN f.uid AS uid, f.start_line AS line ORDER BY uid"


def test_json_rows_with_columns_and_params(client: TestClient) -> None:
    r = client.post(
        "/v1/cypher",
        json={
            "query": "MATCH (f:Function {uid: $u}) RETURN f.name AS name, f.path AS path",
            "params": {"u": FUNCS["charge"]},
        },
        headers=READER,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"] == ["name", "path"]
    assert body["rows"] == [["charge", "app/pay.py"]]
    assert body["truncated"] is False
    assert r.headers["x-request-id"]


def test_row_cap_per_request_only_lowers(client: TestClient, settings: Settings) -> None:
    r = client.post("/v1/cypher", json={"query": ALL_FUNCS, "row_cap": 3}, headers=READER)
    assert r.json()["row_count"] == 3 and r.json()["truncated"] is True
    assert r.headers["x-prodgraph-truncated"] == "true"
    capped = settings.model_copy(update={"query_row_cap": 2})
    with TestClient(create_app(capped)) as c:
        r = c.post("/v1/cypher", json={"query": ALL_FUNCS, "row_cap": 5}, headers=READER)
        assert r.json()["row_count"] == 2


@pytest.mark.parametrize(
    "query",
    [
        "CREATE (f:Function {uid: 'x'})",
        "MATCH (f:Function) SET f.name = 'x'",
        "MATCH (f:Function) DETACH DELETE f",
        "MERGE (s:Service {uid: 'svc:x'})",
        "MATCH (f:Function) RETURN f.uid; MATCH (f:Function) DELETE f",
    ],
)
def test_writes_are_refused_with_a_reason(client: TestClient, query: str) -> None:
    r = client.post("/v1/cypher", json={"query": query}, headers=auth("admin"))
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert err["code"] == "read_only"
    assert "read-only" in err["message"] or "one statement" in err["message"]
    count = client.post(
        "/v1/cypher", json={"query": "MATCH (f:Function) RETURN count(*)"}, headers=READER
    )
    assert count.json()["rows"] == [[7]]


def test_arrow_accept_round_trips(client: TestClient) -> None:
    r = client.post(
        "/v1/cypher",
        json={"query": ALL_FUNCS},
        headers={**READER, "Accept": "application/vnd.apache.arrow.stream"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(io.BytesIO(r.content)).read_all()
    assert table.column_names == ["uid", "line"]
    assert table.column("uid").to_pylist() == sorted(FUNCS.values())


def test_csv_accept(client: TestClient) -> None:
    r = client.post(
        "/v1/cypher", json={"query": ALL_FUNCS}, headers={**READER, "Accept": "text/csv"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0] == '"uid","line"'
    assert len(lines) == 1 + len(FUNCS)


def test_unacceptable_accept_is_406(client: TestClient) -> None:
    r = client.post(
        "/v1/cypher", json={"query": ALL_FUNCS}, headers={**READER, "Accept": "image/png"}
    )
    assert r.status_code == 406
    assert r.json()["error"]["code"] == "not_acceptable"


def test_bad_cypher_is_400_query_error(client: TestClient) -> None:
    r = client.post("/v1/cypher", json={"query": "MATCH (f:Nope) RETURN f"}, headers=READER)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "query_error"


def test_validation_error_shape(client: TestClient) -> None:
    r = client.post("/v1/cypher", json={"query": "RETURN 1", "row_cap": 0, "x": 1}, headers=READER)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    assert {tuple(d["loc"]) for d in err["detail"]} == {("body", "row_cap"), ("body", "x")}


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    r = client.get("/v1/nothing-here", headers=READER)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_internal_errors_hide_the_traceback(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as c:

        def boom(*args: object, **kwargs: object) -> None:
            raise RuntimeError("secret internals /etc/passwd")

        app.state.service.store.query = boom
        r = c.post("/v1/cypher", json={"query": "RETURN 1"}, headers=READER)
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["code"] == "internal"
    assert "secret" not in r.text and "Traceback" not in r.text
    assert err["detail"]["request_id"] == r.headers["x-request-id"]
    assert r.headers["x-request-id"] in err["message"]


def test_body_size_limit(settings: Settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 100})
    with TestClient(create_app(small)) as c:
        r = c.post("/v1/cypher", json={"query": "RETURN 1 AS x // " + "y" * 200}, headers=READER)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_timeout_only_lowers(client: TestClient, settings: Settings) -> None:
    state = client.app.state.service  # type: ignore[attr-defined]
    assert state.limits(5.0, None) == (5.0, settings.query_row_cap)
    assert state.limits(10_000.0, 10**9) == (settings.query_timeout_s, settings.query_row_cap)


def test_concurrency_limit_answers_503(settings: Settings) -> None:
    import threading

    one = settings.model_copy(update={"max_concurrent_queries": 1, "query_timeout_s": 0.2})
    with TestClient(create_app(one)) as c:
        state = c.app.state.service  # type: ignore[attr-defined]
        inside, release = threading.Event(), threading.Event()

        def wait_inside() -> bool:
            inside.set()
            return release.wait(5)

        def hold() -> None:
            state.read("cypher", wait_inside)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert inside.wait(5)
            r = c.post("/v1/cypher", json={"query": "RETURN 1"}, headers=READER)
        finally:
            release.set()
            holder.join()
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "unavailable"
        assert c.post("/v1/cypher", json={"query": "RETURN 1"}, headers=READER).status_code == 200
