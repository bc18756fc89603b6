"""GitHub webhooks: HMAC SHA-256 signatures, then the payload goes to its loader."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from graph_service.api import create_app
from graph_service.api.routes.webhooks import loader_document
from graph_service.errors import CallerError
from graph_service.settings import Settings
from tests.graph_service.api.conftest import auth

SECRET = "hook-secret"
DEPLOYMENT_STATUS: dict[str, Any] = {
    "action": "created",
    "deployment_status": {"id": 77, "state": "success", "created_at": "2024-03-01T10:05:00Z"},
    "deployment": {
        "id": 4242,
        "sha": "ab" * 20,
        "ref": "v9.9.9",
        "environment": "prod",
        "created_at": "2024-03-01T10:00:00Z",
        "payload": {"service": "hooked"},
        "repository_url": "https://api.github.com/repos/acme/shop",
    },
    "repository": {"full_name": "acme/shop"},
}


def _post(client: TestClient, event: str, payload: object, secret: str = SECRET) -> Any:
    body = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/v1/webhooks/github",
        content=body,
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": "d-1",
            "X-Hub-Signature-256": sig,
            "Content-Type": "application/json",
        },
    )


def test_deployment_status_is_loaded(client: TestClient) -> None:
    r = _post(client, "deployment_status", DEPLOYMENT_STATUS)
    assert r.status_code == 200, r.text
    assert r.json()["ingested"] is True
    rows = client.post(
        "/v1/cypher",
        headers=auth("reader"),
        json={
            "query": "MATCH (d:Deployment) WHERE d.service = 'hooked' "
            "RETURN d.uid, d.status, d.version"
        },
    ).json()["rows"]
    assert rows == [["deploy:prod:hooked:4242", "success", "v9.9.9"]]
    counts = client.get("/v1/admin/counts", headers=auth("admin")).json()
    assert _post(client, "deployment_status", DEPLOYMENT_STATUS).status_code == 200
    assert client.get("/v1/admin/counts", headers=auth("admin")).json() == counts


def test_bad_or_missing_signature_is_401(client: TestClient) -> None:
    r = _post(client, "deployment_status", DEPLOYMENT_STATUS, secret="wrong")
    assert r.status_code == 401 and "signature" in r.json()["error"]["message"]
    r = client.post("/v1/webhooks/github", json={}, headers={"X-GitHub-Event": "ping"})
    assert r.status_code == 401


def test_no_secret_configured_is_503(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"webhook_secret": SecretStr("")}))) as c:
        r = _post(c, "ping", {"zen": "hi"})
    assert r.status_code == 503 and "PRODGRAPH_WEBHOOK_SECRET" in r.json()["error"]["message"]


def test_ping_and_unhandled_events(client: TestClient) -> None:
    assert _post(client, "ping", {"zen": "hi"}).json() == {"event": "ping", "ingested": False}
    assert _post(client, "star", {"action": "created"}).json()["ingested"] is False


def test_loader_documents() -> None:
    issue = {"number": 5, "title": "boom"}
    doc = loader_document("issues", {"issue": issue, "repository": {"url": "u"}})
    assert doc == [{"number": 5, "title": "boom", "repository_url": "u"}]
    dep = loader_document("deployment_status", DEPLOYMENT_STATUS)
    assert dep[0]["statuses"] == [DEPLOYMENT_STATUS["deployment_status"]]
    with pytest.raises(CallerError):
        loader_document("issues", {"action": "opened"})


def test_issues_event_is_loaded(client: TestClient) -> None:
    issue = {
        "number": 42,
        "title": "Checkout fails on empty cart",
        "state": "open",
        "body": "Traceback in Cart.checkout",
        "created_at": "2024-03-02T08:00:00Z",
        "labels": [{"name": "bug"}],
        "html_url": "https://github.com/acme/shop/issues/42",
    }
    payload = {"action": "opened", "issue": issue, "repository": {"full_name": "acme/shop"}}
    r = _post(client, "issues", payload)
    assert r.status_code == 200, r.text
    assert r.json()["report"]["skipped"] == []
    rows = client.post(
        "/v1/cypher",
        headers=auth("reader"),
        json={"query": "MATCH (t:Ticket {uid: 'ticket:github:42'}) RETURN t.title, t.status"},
    ).json()["rows"]
    assert rows == [["Checkout fails on empty cart", "open"]]
