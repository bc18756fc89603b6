"""Keys, roles and the loopback-only rule when auth is disabled."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api import create_app
from graph_service.api.auth import KeyRing, Role, hash_key, main
from graph_service.api.serve import AUTH_DISABLED_WARNING, check_bind
from graph_service.errors import AuthError, OperatorError
from graph_service.settings import Settings
from tests.graph_service.api.conftest import KEYS, auth

Q = {"query": "MATCH (f:Function) RETURN count(*) AS n"}


def test_no_key_is_401_with_the_error_shape(client: TestClient) -> None:
    r = client.post("/v1/cypher", json=Q)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    assert set(r.json()["error"]) == {"code", "message", "detail"}
    assert r.headers["www-authenticate"] == "Bearer"


def test_wrong_key_is_401(client: TestClient) -> None:
    r = client.post("/v1/cypher", json=Q, headers={"X-API-Key": "nope"})
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "unknown API key"


@pytest.mark.parametrize("role", ["reader", "writer", "admin"])
def test_every_role_can_query(client: TestClient, role: str) -> None:
    r = client.post("/v1/cypher", json=Q, headers=auth(role))
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == [[7]]


def test_x_api_key_header_works(client: TestClient) -> None:
    r = client.post("/v1/cypher", json=Q, headers={"X-API-Key": KEYS["reader"]})
    assert r.status_code == 200


def test_reader_cannot_ingest(client: TestClient) -> None:
    r = client.post("/v1/ingest/traces?filename=x.json", content=b"{}", headers=auth("reader"))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert "needs writer" in r.json()["error"]["message"]


def test_admin_routes_need_admin(client: TestClient) -> None:
    assert client.get("/v1/admin/counts", headers=auth("writer")).status_code == 403
    r = client.get("/v1/admin/counts", headers=auth("admin"))
    assert r.status_code == 200
    assert r.json()["nodes"]["Function"] == 7


def test_health_is_open(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_auth_disabled_serves_local_clients(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "g.lbug", auth_disabled=True)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as c:
        assert c.post("/v1/cypher", json=Q).status_code == 200
    ring = KeyRing([], disabled=True)
    assert ring.authenticate(None, "127.0.0.1").role is Role.admin
    with pytest.raises(AuthError, match="loopback"):
        ring.authenticate(None, "10.1.2.3")


def test_auth_disabled_refuses_public_bind() -> None:
    settings = Settings(auth_disabled=True)
    assert check_bind(settings, "127.0.0.1") == AUTH_DISABLED_WARNING
    assert check_bind(settings, "::1") == AUTH_DISABLED_WARNING
    with pytest.raises(OperatorError, match="loopback"):
        check_bind(settings, "0.0.0.0")
    keyed = Settings(api_keys=[f"reader:{hash_key('k')}"])
    assert check_bind(keyed, "0.0.0.0") is None


@pytest.mark.parametrize(
    "entry", ["reader", "boss:" + "a" * 64, "reader:abc", {"role": "reader", "sha256": "z" * 64}]
)
def test_malformed_key_entries_are_refused(entry: object) -> None:
    with pytest.raises(OperatorError, match="entry 0"):
        KeyRing([entry])  # type: ignore[list-item]


def test_hash_helper_prints_a_usable_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["writer", "s3cret"]) == 0
    out = capsys.readouterr().out
    entry = out.split("entry:")[1].strip()
    assert entry == f"writer:{hash_key('s3cret')}"
    principal = KeyRing([entry]).authenticate("s3cret", None)
    assert principal.role is Role.writer
