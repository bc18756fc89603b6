"""`GET /v1/schema`: labels with their uid prefixes, relationship types and property keys."""

from __future__ import annotations

from fastapi.testclient import TestClient

from graph_service import schema
from tests.conftest import StoreBackend
from tests.graph_service.api.conftest import auth


def test_schema_lists_labels_relationships_and_properties(
    client: TestClient, backend: StoreBackend
) -> None:
    r = client.get("/v1/schema", headers=auth("reader"))
    assert r.status_code == 200
    body = r.json()
    assert body["backend"] == backend.name
    assert body["schema_version"] == schema.SCHEMA_VERSION
    labels = {label["label"]: label for label in body["labels"]}
    assert set(labels) == {n.label for n in schema.NODES}
    assert labels["Function"]["key_prefix"] == "fn:"
    assert labels["Service"]["key_prefix"] == "svc:"
    prefixes = [label["key_prefix"] for label in body["labels"]]
    assert len(set(prefixes)) == len(prefixes)  # a uid names its label
    assert {p["name"] for p in labels["Function"]["properties"]} >= {"uid", "qualname", "path"}
    rels = {rel["type"]: rel for rel in body["relationships"]}
    assert set(rels) == {r.type for r in schema.RELS}
    assert ["Service", "Operation"] in rels["EXPOSES"]["pairs"]
    assert "count" in {p["name"] for p in rels["DEPENDS_ON"]["properties"]}
    keys = body["property_keys"]
    assert keys == sorted(set(keys)) and {"uid", "confidence", "risk_score"} <= set(keys)


def test_schema_needs_a_key(client: TestClient) -> None:
    r = client.get("/v1/schema")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
