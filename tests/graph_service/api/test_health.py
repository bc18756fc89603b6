"""Health, readiness (schema mismatch named) and the per-app Prometheus registry."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from graph_service import schema
from graph_service.settings import Settings
from tests.conftest import StoreBackend
from tests.graph_service.api.conftest import auth


def test_readyz_ok(client: TestClient, backend: StoreBackend) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ready"] is True and body["backend"] == backend.name
    assert body["checks"]["schema"] == "ok"
    assert body["checks"]["model"].startswith("absent")


@pytest.mark.embedded_only  # rewrites the stamp through the embedded store's connection
def test_readyz_names_a_schema_mismatch(client: TestClient, settings: Settings) -> None:
    store = client.app.state.service.store  # type: ignore[attr-defined]
    store._write_conn.execute(
        f"MATCH (m:{schema.META_LABEL} {{key: 'schema_version'}}) SET m.value = '999'"
    )
    r = client.get("/readyz")
    assert r.status_code == 503
    err = r.json()["error"]
    assert err["code"] == "not_ready"
    assert "schema" in err["message"] and "999" in err["message"]
    assert err["detail"]["store"] == "ok"


def test_metrics_by_route_template(client: TestClient) -> None:
    for name in ("callers", "no_such_query"):
        client.get(f"/v1/queries/{name}", headers=auth("reader"))
    client.post("/v1/cypher", json={"query": "RETURN 1"}, headers=auth("reader"))
    text = client.get("/metrics").text
    assert 'route="/v1/queries/{name}",status="200"' in text
    assert 'route="/v1/queries/{name}",status="404"' in text
    assert "no_such_query" not in text
    assert 'prodgraph_store_query_duration_seconds_count{kind="cypher"} 1.0' in text


def test_each_app_has_its_own_registry(client: TestClient, settings: Settings) -> None:
    from graph_service.api import create_app

    client.get("/healthz")
    with TestClient(
        create_app(settings.model_copy(update={"db_path": settings.db_path.parent / "other.lbug"}))
    ) as other:
        assert 'route="/healthz"' not in other.get("/metrics").text
    assert 'route="/healthz"' in client.get("/metrics").text


def test_openapi_documents_the_stable_shapes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"RiskResponse", "NodeScore", "Explanation", "ErrorBody", "QueryRows"} <= set(schemas)
    assert set(schemas["RiskResponse"]["required"]) >= {
        "overall",
        "nodes",
        "explanations",
        "model_version",
    }
    assert {
        "/v1/cypher",
        "/v1/queries/{name}",
        "/v1/risk",
        "/v1/traces",
        "/v1/ingest/{source}",
        "/v1/webhooks/github",
    } <= set(spec["paths"])
